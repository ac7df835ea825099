"""The team leader pairs a building with a cadre on the bulk page (plan, then confirm), found through the
coverage view; then the cadre, on a phone, finds that building's households in their household list."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from liaison.models import Pairing
from liaison.services import work_group_member_add
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory
from tests.liaison import pairing_world

from .conftest import DESKTOP, PHONE, log_in, no_sideways_scroll, open_menu_item

pytestmark = pytest.mark.browser

team_world = pairing_world.team_world  # the fixture


def screenshot(page, name):
    folder = os.environ.get("ZHUBAO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


def test_the_leader_pairs_a_building_and_the_cadre_finds_its_households_on_a_phone(
    team_world, live_server, page, password
):
    world = team_world
    building = BuildingFactory(name="3号楼党小组", parent=world.compound1)
    households = [HouseholdFactory(building=building, room=room) for room in ("301", "302")]
    cadre = UserFactory(username="newcadre", full_name="李新")
    work_group_member_add(actor=None, group=world.group1, cadre=cadre, joined_on=pairing_world.START)
    problems = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))

    # The team leader, on a desktop: the menu's 包联 entry opens the team.
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, world.users.leader.username, password)
    open_menu_item(page, "/pairing/")
    page.wait_for_url(f"**/pairing/teams/{world.team.pk}/")
    expect(page.locator(f"[data-group='{world.group1.pk}']")).to_contain_text(world.building1.name)
    expect(page.locator("[data-cadre='newcadre']")).to_contain_text("李新")
    screenshot(page, "pairing-team.png")

    # The coverage view lists the new building without a cadre, and the new cadre without a pairing.
    page.click(f"a[href='/pairing/teams/{world.team.pk}/coverage/']")
    page.click("[data-section='buildings']")
    gap = page.locator(f"[data-coverage-section='buildings'] tr[data-row='{building.pk}']")
    expect(gap).to_contain_text(building.name)
    screenshot(page, "pairing-coverage.png")
    gap.locator("a").click()

    # The bulk page, the building ticked already: choose the cadre, see the plan, confirm.
    page.wait_for_url(f"**/pairing/teams/{world.team.pk}/pair/**")
    expect(page.locator(f"input[name=nodes][value='{building.pk}']")).to_be_checked()
    page.select_option("#id_cadre", str(cadre.pk))
    screenshot(page, "pairing-bulk.png")
    page.click("#pair-form button[type=submit]")
    expect(page.locator("[data-plan='create']")).to_contain_text("1")
    expect(page.locator("[data-plan-rows]")).to_contain_text(building.name)
    assert not Pairing.objects.filter(cadre=cadre).exists()  # the plan writes nothing
    screenshot(page, "pairing-plan.png")
    page.click("button[name=confirm]")
    page.wait_for_url(f"**/pairing/teams/{world.team.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("李新")
    expect(page.locator("[data-cadre='newcadre']")).to_contain_text(building.name)
    assert Pairing.objects.filter(cadre=cadre, node=building, ends_on=None).count() == 1
    assert not problems, problems

    # The cadre, on a phone: their household list holds that building's households, and no others.
    page.context.clear_cookies()
    page.set_viewport_size(PHONE)
    log_in(page, live_server, cadre.username, password)
    open_menu_item(page, "/households/")
    cards = page.locator(".zb-cards a[href^='/households/']")
    expect(cards).to_have_count(2)
    for household in households:
        expect(page.locator(f".zb-cards a[href='/households/{household.pk}/']")).to_be_visible()
    assert world.household1.head_name not in page.content()
    assert no_sideways_scroll(page)
    screenshot(page, "pairing-cadre-phone.png")
    assert not problems, problems
