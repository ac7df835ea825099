"""Writes to the org tree, households and grids, through the services."""

import threading

import pytest
from django.db import connection, connections

from accounts.models import Role, RoleGrant
from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from grid.models import GridBuilding, GridColour, Household, OrgNode, OrgNodeKind, OrgNodeMove
from grid.services import (
    grid_post_create,
    grid_post_fill,
    grid_post_vacate,
    grid_set_buildings,
    grid_set_colour,
    household_create,
    household_deactivate,
    household_update,
    org_node_create,
    org_node_deactivate,
    org_node_move,
    org_node_reactivate,
    org_node_rename,
)
from tests.factories import BuildingFactory, CommunityFactory, CompoundFactory, UserFactory, grant


def test_node_kind_follows_the_parent_down_the_four_levels(db):
    community = org_node_create(actor=None, name="北苑社区")
    compound = org_node_create(actor=None, name="阳光小区党支部", parent=community)
    building = org_node_create(actor=None, name="1号楼党小组", parent=compound)
    hub = org_node_create(actor=None, name="王芳中心户", parent=building)
    assert [n.kind for n in (community, compound, building, hub)] == [
        OrgNodeKind.COMMUNITY,
        OrgNodeKind.COMPOUND,
        OrgNodeKind.BUILDING,
        OrgNodeKind.HUB,
    ]
    assert hub.get_root() == community


def test_a_hub_cannot_have_children(org):
    with pytest.raises(ZhubaoError) as error:
        org_node_create(actor=None, name="下级", parent=org.hub1)
    assert error.value.code == ErrorCode.WRONG_PARENT_KIND
    assert not OrgNode.objects.filter(name="下级").exists()


def test_sibling_names_must_differ_and_nothing_is_written(org):
    before = OrgNode.objects.count()
    with pytest.raises(ZhubaoError) as error:
        org_node_create(actor=None, name="1号楼党小组", parent=org.compound1)
    assert error.value.code == ErrorCode.DUPLICATE
    assert "name" in error.value.fields
    assert OrgNode.objects.count() == before


def test_each_community_is_its_own_tree(org):
    assert org.community.tree_id != org.other_community.tree_id
    other_before = OrgNode.objects.filter(tree_id=org.other_community.tree_id).values_list("lft", "rght")
    other_before = sorted(other_before)
    org_node_create(actor=None, name="新楼党小组", parent=org.compound1)
    assert sorted(OrgNode.objects.filter(tree_id=org.other_community.tree_id).values_list("lft", "rght")) == (
        other_before
    )


def test_rename_is_audited(org):
    org_node_rename(actor=org.users.admin, node=org.building1, name="一号楼党小组")
    org.building1.refresh_from_db()
    assert org.building1.name == "一号楼党小组"
    event = AuditEvent.objects.get(action=AuditEvent.Action.TREE_CHANGED, detail__op="rename")
    assert event.user == org.users.admin and event.detail["from"] == "1号楼党小组"


def test_moving_a_building_to_another_compound_restamps_its_households(org):
    org_node_move(actor=org.users.admin, node=org.building1, new_parent=org.compound2)
    household = Household.objects.get(pk=org.household1.pk)
    assert household.compound_id == org.compound2.pk
    assert household.community_id == org.community.pk
    assert OrgNodeMove.objects.get(node=org.building1).old_parent == org.compound1


def test_moving_a_building_to_another_community_restamps_and_leaves_its_grid(org):
    assert GridBuilding.objects.filter(building=org.building1).exists()
    org_node_move(actor=org.users.admin, node=org.building1, new_parent=org.other_compound)
    household = Household.objects.get(pk=org.household1.pk)
    assert (household.community_id, household.compound_id) == (org.other_community.pk, org.other_compound.pk)
    assert not GridBuilding.objects.filter(building=org.building1).exists()
    moved = OrgNode.objects.get(pk=org.building1.pk)
    assert moved.tree_id == org.other_community.tree_id
    hub = OrgNode.objects.get(pk=org.hub1.pk)
    assert hub.tree_id == org.other_community.tree_id and hub.parent_id == moved.pk


def test_moving_a_compound_to_another_community_restamps_community(org):
    org_node_move(actor=None, node=org.compound1, new_parent=org.other_community)
    assert Household.objects.get(pk=org.household1.pk).community_id == org.other_community.pk


def test_a_node_can_only_move_under_the_level_above(org):
    with pytest.raises(ZhubaoError) as error:
        org_node_move(actor=None, node=org.building1, new_parent=org.building2)
    assert error.value.code == ErrorCode.WRONG_PARENT_KIND
    assert OrgNode.objects.get(pk=org.building1.pk).parent_id == org.compound1.pk


def test_deactivating_a_node_with_active_households_is_refused(org):
    with pytest.raises(ZhubaoError) as error:
        org_node_deactivate(actor=None, node=org.compound1)
    assert error.value.code == ErrorCode.NODE_HAS_ACTIVE_HOUSEHOLDS
    assert OrgNode.objects.get(pk=org.compound1.pk).is_active


def test_deactivating_an_empty_building_deactivates_its_subtree_and_can_be_undone(org):
    household_deactivate(actor=None, household=org.household1)
    org_node_deactivate(actor=None, node=org.building1)
    assert not OrgNode.objects.get(pk=org.building1.pk).is_active
    assert not OrgNode.objects.get(pk=org.hub1.pk).is_active
    assert OrgNode.objects.filter(pk=org.building1.pk).exists()  # never deleted
    org_node_reactivate(actor=None, node=OrgNode.objects.get(pk=org.building1.pk))
    assert OrgNode.objects.get(pk=org.building1.pk).is_active


def test_a_deactivated_building_takes_no_new_households(org):
    household_deactivate(actor=None, household=org.household1)
    org_node_deactivate(actor=None, node=org.building1)
    with pytest.raises(ZhubaoError) as error:
        household_create(actor=None, building=OrgNode.objects.get(pk=org.building1.pk), room="102", head_name="李四")
    assert error.value.code == ErrorCode.NODE_INACTIVE


def test_household_is_stamped_with_compound_and_community(org):
    household = household_create(actor=None, building=org.building2, unit="2", room="302", head_name="赵六")
    assert (household.community_id, household.compound_id) == (org.community.pk, org.compound2.pk)


@pytest.mark.parametrize(
    ("field", "value"),
    [("phone", "12345"), ("id_number", "110105198001010000"), ("resident_count", 0)],
)
def test_bad_household_input_is_refused_with_a_field_error(org, field, value):
    before = Household.objects.count()
    with pytest.raises(ZhubaoError) as error:
        household_create(actor=None, building=org.building1, room="999", head_name="钱七", **{field: value})
    assert field in error.value.fields
    assert Household.objects.count() == before


def test_a_household_hub_must_hang_under_its_building(org):
    with pytest.raises(ZhubaoError) as error:
        household_update(actor=None, household=org.household2, hub=org.hub1)
    assert "hub" in error.value.fields
    assert Household.objects.get(pk=org.household2.pk).hub_id is None


def test_two_active_households_cannot_share_an_address(org):
    with pytest.raises(ZhubaoError) as error:
        household_create(actor=None, building=org.building1, unit="1", room="101", head_name="孙八")
    assert error.value.code == ErrorCode.DUPLICATE


def test_a_moved_out_address_can_take_a_new_household(org):
    household_deactivate(actor=None, household=org.household1)
    newcomer = household_create(actor=None, building=org.building1, unit="1", room="101", head_name="周九")
    assert newcomer.is_active


def test_care_household_needs_a_reason_and_loses_it_when_no_longer_care(org):
    with pytest.raises(ZhubaoError) as error:
        household_update(actor=None, household=org.household1, is_care=True)
    assert "care_reason" in error.value.fields
    household = household_update(actor=None, household=org.household1, is_care=True, care_reason="独居，行动不便")
    assert household.care_reason
    household = household_update(actor=None, household=household, is_care=False)
    assert household.care_reason == ""


def test_grid_colour_other_than_green_needs_a_reason(org):
    with pytest.raises(ZhubaoError):
        grid_set_colour(actor=None, grid=org.grid1, colour=GridColour.RED)
    grid = grid_set_colour(actor=None, grid=org.grid1, colour=GridColour.RED, reason="消防通道堵塞")
    assert grid.colour_set_on is not None


def test_a_building_joins_one_grid_only(org):
    grid_set_buildings(actor=None, grid=org.grid2, buildings=[org.building1, org.building2])
    assert GridBuilding.objects.get(building=org.building1).grid_id == org.grid2.pk


def test_a_grid_cannot_take_buildings_of_another_community(org):
    with pytest.raises(ZhubaoError) as error:
        grid_set_buildings(actor=None, grid=org.grid1, buildings=[org.other_building])
    assert error.value.code == ErrorCode.BUILDING_OUTSIDE_COMMUNITY


def test_filling_a_post_grants_grid_worker_and_vacating_revokes_it(org):
    worker = UserFactory()
    post = grid_post_create(actor=None, grid=org.grid2, post_type="A", title="专职网格员")
    assert post.is_vacant
    grid_post_fill(actor=None, post=post, holder=worker)
    assert RoleGrant.objects.active().filter(user=worker, role=Role.GRID_WORKER, grid=org.grid2).exists()
    grid_post_vacate(actor=None, post=post)
    assert post.is_vacant
    assert not RoleGrant.objects.active().filter(user=worker, grid=org.grid2).exists()


# --- a grid-worker grant exists exactly while its person holds a post of that grid (issue 5) ------


def _sees(user, household) -> bool:
    from accounts.models import User
    from core.access import scope

    return scope(Household.objects.filter(pk=household.pk), User.objects.get(pk=user.pk)).exists()


def test_filling_a_held_post_vacates_it_first_so_the_former_holder_loses_the_grid(org):
    former, successor = UserFactory(), UserFactory()
    post = grid_post_create(actor=None, grid=org.grid2, post_type="A", title="专职网格员", holder=former)
    assert _sees(former, org.household2)
    grid_post_fill(actor=org.users.staff, post=post, holder=successor)
    assert not RoleGrant.objects.active().filter(user=former, role=Role.GRID_WORKER, grid=org.grid2).exists()
    assert not _sees(former, org.household2)
    assert _sees(successor, org.household2)
    post.refresh_from_db()
    assert post.holder == successor


def test_filling_a_post_from_a_stale_copy_still_vacates_the_holder_of_record(org):
    former, successor = UserFactory(), UserFactory()
    stale = grid_post_create(actor=None, grid=org.grid2, post_type="A", title="专职网格员")
    grid_post_fill(actor=None, post=type(stale).objects.get(pk=stale.pk), holder=former)
    assert stale.holder_id is None  # the caller's copy does not know about the former holder
    grid_post_fill(actor=None, post=stale, holder=successor)
    assert not _sees(former, org.household2)


def test_refilling_a_post_with_its_holder_changes_nothing(org):
    holder = UserFactory()
    post = grid_post_create(actor=None, grid=org.grid2, post_type="A", title="专职网格员", holder=holder)
    grants = list(RoleGrant.objects.filter(user=holder).values_list("pk", "revoked_at"))
    events = AuditEvent.objects.count()
    grid_post_fill(actor=org.users.staff, post=post, holder=holder)
    assert list(RoleGrant.objects.filter(user=holder).values_list("pk", "revoked_at")) == grants
    assert AuditEvent.objects.count() == events
    assert _sees(holder, org.household2)


def test_a_replaced_holder_who_holds_another_post_of_the_grid_keeps_its_grant(org):
    former, successor = UserFactory(), UserFactory()
    first = grid_post_create(actor=None, grid=org.grid2, post_type="A", title="专职网格员", holder=former)
    grid_post_create(actor=None, grid=org.grid2, post_type="B", title="兼职网格员", holder=former)
    grid_post_fill(actor=None, post=first, holder=successor)
    assert _sees(former, org.household2)
    assert RoleGrant.objects.active().filter(user=former, role=Role.GRID_WORKER, grid=org.grid2).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_concurrent_new_communities_get_distinct_trees():
    """NOTES.md: concurrent new roots can get the same tree_id unless the tree is locked."""
    errors = []

    def create(name):
        try:
            org_node_create(actor=None, name=name)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(f"并发社区{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    tree_ids = list(OrgNode.objects.filter(name__startswith="并发社区").values_list("tree_id", flat=True))
    assert len(tree_ids) == 6 and len(set(tree_ids)) == 6


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_concurrent_inserts_into_one_tree_keep_it_consistent():
    community = CommunityFactory()
    compound = CompoundFactory(parent=community)
    errors = []

    def create(index):
        try:
            BuildingFactory(name=f"{index}号楼", parent=OrgNode.objects.get(pk=compound.pk))
        except Exception as error:  # pragma: no cover
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    nodes = list(OrgNode.objects.filter(tree_id=community.tree_id).order_by("lft").values_list("lft", "rght"))
    edges = sorted(value for pair in nodes for value in pair)
    assert edges == list(range(1, 2 * len(nodes) + 1))  # a valid nested set: no gaps, no overlaps


def test_moving_a_hub_to_another_building_clears_the_links_of_households_it_no_longer_serves(org):
    org_node_move(actor=None, node=org.hub1, new_parent=org.building2)
    household = Household.objects.get(pk=org.household1.pk)
    assert household.hub_id is None
    household_update(actor=None, household=household, head_name="改名后仍可保存")
    event = AuditEvent.objects.get(detail__op="move")
    assert event.detail["hub_links_cleared"] == 1


def test_only_a_global_admin_may_add_a_community(org):
    local_admin = UserFactory()
    grant(local_admin, Role.SYSTEM_ADMIN, node=org.community)
    with pytest.raises(ZhubaoError) as error:
        org_node_create(actor=local_admin, name="越权社区")
    assert error.value.code == ErrorCode.PERMISSION_DENIED
    assert not OrgNode.objects.filter(name="越权社区").exists()
    assert org_node_create(actor=org.users.admin, name="新社区").kind == OrgNodeKind.COMMUNITY


def test_a_household_is_stamped_from_the_building_as_it_is_now_not_as_the_caller_loaded_it(org):
    stale_building = OrgNode.objects.get(pk=org.building1.pk)
    org_node_move(actor=None, node=org.building1, new_parent=org.compound2)
    household = household_create(actor=None, building=stale_building, room="808", head_name="吴十")
    assert household.compound_id == org.compound2.pk


def test_deactivate_uses_the_tree_as_it_is_after_the_lock(org):
    stale = OrgNode.objects.get(pk=org.compound2.pk)
    org_node_create(actor=None, name="新增小区党支部", parent=org.community)  # shifts lft/rght to the right
    household_deactivate(actor=None, household=org.household2)
    org_node_deactivate(actor=None, node=stale)
    assert not OrgNode.objects.get(pk=org.building2.pk).is_active
    assert OrgNode.objects.get(pk=org.building1.pk).is_active
    assert OrgNode.objects.get(name="新增小区党支部").is_active


def test_a_grid_code_that_means_another_grids_code_is_refused(org):
    """ "1" is what Excel keeps of "01": the import matches it to grid 01, so no second grid may have it."""
    from core.errors import ZhubaoError
    from grid.services import grid_create, grid_update

    with pytest.raises(ZhubaoError) as refused:
        grid_create(actor=org.users.admin, community=org.community, name="又一个", code="1")
    assert refused.value.code == "duplicate" and "01" in refused.value.message
    with pytest.raises(ZhubaoError):
        grid_update(actor=org.users.admin, grid=org.grid2, code="001")
    grid_update(actor=org.users.admin, grid=org.grid2, code="12")  # another number is fine
