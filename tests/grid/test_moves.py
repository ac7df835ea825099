"""Moving a node says what it will do before it does it, and a hub moved back gets its households back.

Defect 3 of issue 5: moving a member-household hub silently unlinked its households (in the
admin's drag-and-drop, with no confirmation), and moving it back did not relink them.
"""

import pytest
from django.urls import reverse

from core.errors import ErrorCode, ZhubaoError
from grid.models import Household, OrgNodeMove
from grid.services import org_node_create, org_node_move, org_node_move_plan
from tests.factories import HouseholdFactory


def test_the_plan_of_a_hub_move_names_the_households_it_unlinks_and_writes_nothing(hub_world):
    org, neighbour, other_building = hub_world
    plan = org_node_move_plan(node=org.hub1, new_parent=other_building)
    assert set(plan.hub_links_dropped) == {org.household1.pk, neighbour.pk}
    assert plan.households_restamped == 0
    assert any("2" in line for line in plan.describe()[1:])
    assert Household.objects.filter(hub=org.hub1).count() == 2
    assert not OrgNodeMove.objects.exists()


def test_moving_a_hub_records_the_links_it_drops_and_moving_it_back_restores_them(hub_world):
    org, neighbour, other_building = hub_world
    org_node_move(actor=org.users.admin, node=org.hub1, new_parent=other_building)
    assert not Household.objects.filter(hub=org.hub1).exists()
    first = OrgNodeMove.objects.get(node=org.hub1)
    assert set(first.dropped_hub_links) == {org.household1.pk, neighbour.pk}

    back = org_node_move_plan(node=org.hub1, new_parent=org.building1)
    assert set(back.hub_links_restored) == {org.household1.pk, neighbour.pk}
    org_node_move(actor=org.users.admin, node=org.hub1, new_parent=org.building1)
    assert set(Household.objects.filter(hub=org.hub1).values_list("pk", flat=True)) == {
        org.household1.pk,
        neighbour.pk,
    }
    assert set(OrgNodeMove.objects.filter(node=org.hub1).first().restored_hub_links) == {
        org.household1.pk,
        neighbour.pk,
    }


def test_moving_a_hub_back_leaves_alone_a_household_linked_to_another_hub_meanwhile(hub_world):
    from grid.services import household_update

    org, neighbour, other_building = hub_world
    org_node_move(actor=None, node=org.hub1, new_parent=other_building)
    second_hub = org_node_create(actor=None, name="李梅中心户", parent=org.building1)
    household_update(actor=None, household=Household.objects.get(pk=neighbour.pk), hub=second_hub)
    org_node_move(actor=None, node=org.hub1, new_parent=org.building1)
    assert Household.objects.get(pk=neighbour.pk).hub_id == second_hub.pk
    assert Household.objects.get(pk=org.household1.pk).hub_id == org.hub1.pk


def test_a_move_with_a_token_of_another_plan_is_refused_and_changes_nothing(hub_world):
    org, neighbour, other_building = hub_world
    token = org_node_move_plan(node=org.hub1, new_parent=other_building).token
    HouseholdFactory(building=org.building1, room="103", hub=org.hub1)  # the plan changes
    with pytest.raises(ZhubaoError) as error:
        org_node_move(actor=None, node=org.hub1, new_parent=other_building, expected_token=token)
    assert error.value.code == ErrorCode.MOVE_CHANGED
    org.hub1.refresh_from_db()
    assert org.hub1.parent_id == org.building1.pk


def test_the_plan_of_a_building_move_to_another_community_names_the_grid_it_leaves(org):
    plan = org_node_move_plan(node=org.building1, new_parent=org.other_compound)
    assert plan.households_restamped == 1
    assert [(grid_id, count) for grid_id, _name, count in plan.grids_left] == [(org.grid1.pk, 1)]
    assert plan.grants_moving == 1  # cadre1's grant at building1 moves with it


def test_the_portal_shows_the_plan_and_moves_only_when_confirmed(hub_world, login):
    org, neighbour, other_building = hub_world
    client = login(org.users.admin)
    url = reverse("grid:node-move", args=[org.hub1.pk])
    preview = client.post(url, {"new_parent": other_building.pk})
    assert preview.status_code == 200
    assert preview.templates[0].name == "grid/node_move_confirm.html"
    page = preview.content.decode()
    assert "data-hub-links-dropped" in page and neighbour.head_name in page
    org.hub1.refresh_from_db()
    assert org.hub1.parent_id == org.building1.pk

    token = preview.context["preview"].plan.token
    done = client.post(url, {"new_parent": other_building.pk, "token": token, "confirm": "1"})
    assert done.status_code == 302
    org.hub1.refresh_from_db()
    assert org.hub1.parent_id == other_building.pk


def test_the_portal_shows_the_new_plan_when_the_confirmed_one_is_stale(hub_world, login):
    org, neighbour, other_building = hub_world
    url = reverse("grid:node-move", args=[org.hub1.pk])
    response = login(org.users.admin).post(url, {"new_parent": other_building.pk, "token": "stale", "confirm": "1"})
    assert response.status_code == 409
    assert response.context["changed"]
    org.hub1.refresh_from_db()
    assert org.hub1.parent_id == org.building1.pk
