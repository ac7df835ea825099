"""An admin moves a member-household hub in the portal: the plan comes first, the move only on confirming."""

import pytest
from playwright.sync_api import expect

from grid.models import Household, OrgNode

from .conftest import DESKTOP, log_in

pytestmark = pytest.mark.browser


def test_admin_sees_which_households_a_hub_move_unlinks_before_confirming(hub_world, live_server, page, password):
    org, neighbour, other_building = hub_world
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, org.users.admin.username, password)
    page.goto(f"{live_server.url}/tree/{org.hub1.pk}/move/")
    page.select_option("#id_new_parent", str(other_building.pk))
    page.click("main button[type=submit]")

    plan = page.locator("[data-move-plan] li")
    expect(plan.first).to_contain_text(org.hub1.name)
    expect(page.locator("[data-hub-links-dropped]")).to_contain_text(neighbour.head_name)
    page.screenshot(path="/tmp/shots/move-confirm.png", full_page=True)
    assert OrgNode.objects.get(pk=org.hub1.pk).parent_id == org.building1.pk  # nothing moved yet

    page.click("button[name=confirm]")
    page.wait_for_url(f"**/tree/{org.hub1.pk}/")
    assert OrgNode.objects.get(pk=org.hub1.pk).parent_id == other_building.pk
    assert not Household.objects.filter(hub=org.hub1).exists()
