"""Selectors behind the portal pages: scoped reads and counts computed in the database."""

import pytest

from accounts.models import RoleGrant
from accounts.services import role_grant_revoke
from grid import selectors
from grid.models import OrgNode
from grid.services import grid_post_create, grid_set_colour, household_deactivate, org_node_deactivate
from tests.factories import BuildingFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


def counted(node):
    return selectors.with_node_counts(OrgNode.objects.filter(pk=node.pk)).get()


def test_node_counts_follow_the_kind_of_each_node(org):
    community = counted(org.community)
    assert (community.household_count, community.grid_count, community.people_count) == (2, 2, 4)
    building = counted(org.building1)
    assert (building.household_count, building.grid_count, building.people_count) == (1, 1, 1)
    hub = counted(org.hub1)
    assert (hub.household_count, hub.grid_count, hub.people_count) == (1, None, 0)


def test_moved_out_households_and_revoked_grants_are_not_counted(org):
    household_deactivate(actor=None, household=org.household1)
    role_grant_revoke(actor=None, grant=RoleGrant.objects.get(user=org.users.cadre1))
    compound = counted(org.compound1)
    assert (compound.household_count, compound.people_count) == (0, 0)


def test_a_person_with_two_grants_in_a_subtree_counts_once(org):
    from accounts.models import Role
    from tests.factories import grant

    grant(org.users.cadre1, Role.CADRE, node=org.building2)
    assert counted(org.community).people_count == 4


def test_grid_worker_tree_starts_at_the_buildings_of_their_grid(org):
    assert [node.pk for node in selectors.org_tree_roots(user=org.users.gridworker)] == [org.building1.pk]


def test_tree_roots_of_a_user_with_grants_in_two_places_lists_both(org):
    from accounts.models import Role
    from tests.factories import grant

    grant(org.users.cadre1, Role.CADRE, node=org.compound2)
    roots = [node.pk for node in selectors.org_tree_roots(user=org.users.cadre1)]
    assert roots == [org.building1.pk, org.compound2.pk]


def test_move_targets_are_active_nodes_of_the_level_above_except_the_current_parent(org):
    targets = selectors.org_node_move_targets(user=org.users.admin, node=org.building1)
    assert {node.pk for node in targets} == {org.compound2.pk, org.other_compound.pk}
    empty = BuildingFactory(name="空楼党小组", parent=org.compound2)
    org_node_deactivate(actor=None, node=empty)
    assert empty.pk not in {node.pk for node in selectors.org_node_move_targets(user=org.users.admin, node=org.hub1)}
    assert list(selectors.org_node_move_targets(user=org.users.staff, node=org.building1)) == []


def test_household_filter_by_a_node_out_of_scope_finds_nothing(org):
    filters = selectors.HouseholdFilters(node=org.other_compound.pk)
    assert list(selectors.household_list(user=org.users.staff, filters=filters)) == []


def test_the_building_filter_offers_only_the_buildings_of_the_chosen_compound(org):
    choices = selectors.household_filter_choices(user=org.users.staff)
    assert [compound.pk for compound in choices["compounds"]] == [org.compound1.pk, org.compound2.pk]
    # No compound chosen: no building list (a city has thousands), but a hint to choose one.
    assert choices["buildings"] == [] and choices["needs_compound"]
    chosen = selectors.household_filter_choices(user=org.users.staff, compound=org.compound2.pk)
    assert [building.pk for building in chosen["buildings"]] == [org.building2.pk]
    # A cadre of one building sees no compound, and their buildings at once.
    cadre_choices = selectors.household_filter_choices(user=org.users.cadre1)
    assert cadre_choices["compounds"] == [] and [b.pk for b in cadre_choices["buildings"]] == [org.building1.pk]


def test_home_counts_for_a_grid_worker(org):
    grid_set_colour(actor=None, grid=org.grid1, colour="yellow", reason="空岗")
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员")
    HouseholdFactory(building=org.building1, room="102")
    counts = selectors.home_counts(user=org.users.gridworker)
    assert counts == {
        "communities": 0,
        "compounds": 0,
        "buildings": 1,
        "households": 2,
        "care_households": 0,
        "grids": 1,
        "red_grids": 0,
        "yellow_grids": 1,
        "posts": 1,
        "vacant_posts": 1,
    }


def test_grid_list_counts_posts_and_vacancies(org):
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    grids = {grid.pk: grid for grid in selectors.grid_list(user=org.users.staff, filters=selectors.GridFilters())}
    assert (grids[org.grid1.pk].post_count, grids[org.grid1.pk].vacant_post_count) == (2, 1)
    assert (grids[org.grid2.pk].post_count, grids[org.grid2.pk].vacant_post_count) == (0, 0)
    assert org.other_grid.pk not in grids


def test_post_holders_are_people_the_user_may_see(org):
    people = {person.pk for person in selectors.grid_post_holder_choices(user=org.users.staff)}
    assert {org.users.cadre1.pk, org.users.gridworker.pk} <= people
    assert org.users.other_staff.pk not in people and org.users.nobody.pk not in people


@pytest.fixture
def grid_across_compounds(org):
    """grid1 holding building1 (compound1, cadre1's) and building2 (compound2, cadre2's), and a post of gridworker's."""
    from grid.services import grid_set_buildings

    grid_set_buildings(actor=None, grid=org.grid1, buildings=[org.building1, org.building2])
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    return org.grid1


@pytest.mark.parametrize(
    "username, buildings, households",
    [("cadre1", {"building1"}, 1), ("cadre2", {"building2"}, 1), ("staff", {"building1", "building2"}, 2)],
)
def test_grid_buildings_and_counts_cover_only_what_the_user_sees(
    org, grid_across_compounds, username, buildings, households
):
    user = getattr(org.users, username)
    grid = selectors.grid_detail(user=user, pk=grid_across_compounds.pk)
    shown = selectors.grid_buildings(user=user, grid=grid)
    assert {node.pk for node in shown} == {getattr(org, name).pk for name in buildings}
    assert (grid.building_count, grid.household_count) == (len(buildings), households)
    assert sum(node.household_count for node in shown) == households


def test_a_post_holder_is_shown_to_everyone_who_sees_the_grid(org, grid_across_compounds):
    def holders(user):
        return [post.holder for post in selectors.grid_posts(user=user, grid=grid_across_compounds)]

    # Defect 7 of issue 5: a cadre must be able to find their grid worker.
    for user in (org.users.staff, org.users.admin, org.users.gridworker, org.users.cadre1, org.users.leader):
        assert holders(user) == [org.users.gridworker]


def test_a_sibling_cadre_gets_404_on_a_grid_without_their_buildings(org):
    from django.http import Http404

    with pytest.raises(Http404):
        selectors.grid_detail(user=org.users.cadre2, pk=org.grid1.pk)


def test_hub_choices_keep_the_households_deactivated_hub_only(org):
    other_hub = OrgNode.objects.create(name="另一中心户", kind="hub", parent=org.building1)
    org_node_deactivate(actor=None, node=org.hub1)
    org_node_deactivate(actor=None, node=other_hub)
    staff = org.users.staff
    assert org.hub1.pk not in {hub.pk for hub in selectors.household_edit_hubs(user=staff)}
    kept = {hub.pk for hub in selectors.household_edit_hubs(user=staff, household=org.household1)}
    assert org.hub1.pk in kept and other_hub.pk not in kept
    assert not selectors.household_edit_hubs(user=org.users.cadre2, household=org.household1).exists()
