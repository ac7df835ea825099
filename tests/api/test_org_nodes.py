"""/api/v1/org-nodes/: the tree as each role sees it, and tree writes for admins only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from core.models import AuditEvent
from grid.models import Household, OrgNode, OrgNodeMove
from grid.services import org_node_create
from tests.api.helpers import ids, results
from tests.factories import UserFactory, grant

LIST = "/api/v1/org-nodes/"


def detail(node, suffix=""):
    return f"{LIST}{node.pk}/{suffix}"


def names(*nodes):
    return {node.pk for node in nodes}


@pytest.mark.parametrize(
    "username, expected",
    [
        ("staff", ["community", "compound1", "compound2", "building1", "building2", "hub1"]),
        ("leader", ["community", "compound1", "compound2", "building1", "building2", "hub1"]),
        ("cadre1", ["building1", "hub1"]),
        ("cadre2", ["building2"]),
        ("gridworker", ["building1", "hub1"]),
        ("other_staff", ["other_community", "other_compound", "other_building"]),
        ("dept", []),
        ("nobody", []),
    ],
)
def test_each_role_lists_exactly_its_part_of_the_tree(org, api, username, expected):
    response = api(getattr(org.users, username)).get(LIST)
    assert ids(response) == {getattr(org, name).pk for name in expected}


def test_admin_sees_every_community(org, api):
    assert ids(api(org.users.admin).get(LIST)) == set(OrgNode.objects.values_list("pk", flat=True))


def test_a_node_carries_its_kind_level_parent_and_the_names_above_it(org, api):
    row = api(org.users.cadre1).get(detail(org.hub1)).json()
    assert row["kind"] == "hub"
    assert row["level"] == 3
    assert row["parent"] == org.building1.pk
    assert row["path"] == ["北苑社区", "阳光小区党支部", "1号楼党小组"]
    assert row["is_active"] is True


@pytest.mark.parametrize("username", ["cadre2", "other_staff", "nobody", "dept"])
def test_a_node_outside_the_subtree_is_404(org, api, username):
    client = api(getattr(org.users, username))
    assert client.get(detail(org.building1)).status_code == 404
    assert client.get(detail(org.hub1)).status_code == 404


def test_nodes_filter_by_kind_parent_tree_and_activity(org, api):
    client = api(org.users.staff)
    assert ids(client.get(LIST, {"kind": "building"})) == names(org.building1, org.building2)
    assert ids(client.get(LIST, {"parent": org.community.pk})) == names(org.compound1, org.compound2)
    assert ids(client.get(LIST, {"tree": org.compound1.pk})) == names(org.compound1, org.building1, org.hub1)
    assert ids(client.get(LIST, {"tree": org.other_community.pk})) == set()
    assert ids(client.get(LIST, {"is_active": "false"})) == set()
    assert client.get(LIST, {"kind": "street"}).status_code == 400


def test_nodes_come_in_tree_order_and_search_by_name(org, api):
    rows = results(api(org.users.staff).get(LIST))
    assert [row["name"] for row in rows][:4] == ["北苑社区", "阳光小区党支部", "1号楼党小组", "张建国中心户"]
    assert ids(api(org.users.staff).get(LIST, {"search": "和平"})) == names(org.compound2)


# --- Writes: admins only ----------------------------------------------------------------------


def test_admin_adds_a_node_whose_kind_follows_the_parent(org, api):
    response = api(org.users.admin).post(LIST, {"name": "3号楼党小组", "parent": org.compound1.pk}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "building"
    assert response.json()["path"] == ["北苑社区", "阳光小区党支部"]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.TREE_CHANGED, object_id=str(response.json()["id"])
    ).exists()


def test_admin_of_every_community_adds_a_community(org, api):
    response = api(org.users.admin).post(LIST, {"name": "西城社区"}, format="json")
    assert response.status_code == 201
    assert response.json()["kind"] == "community"


def test_an_admin_of_one_community_adds_nodes_only_inside_it(org, api):
    local_admin = UserFactory(username="localadmin")
    grant(local_admin, Role.SYSTEM_ADMIN, node=org.community)
    client = api(local_admin)
    created = client.post(LIST, {"name": "新小区党支部", "parent": org.community.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["kind"] == "compound"
    outside = client.post(LIST, {"name": "越界", "parent": org.other_community.pk}, format="json")
    assert outside.status_code == 400
    assert "parent" in outside.json()["fields"]
    root = client.post(LIST, {"name": "新社区"}, format="json")
    assert root.status_code == 400
    assert "parent" in root.json()["fields"]
    assert not OrgNode.objects.filter(name__in=["越界", "新社区"]).exists()


@pytest.mark.parametrize("username", ["staff", "leader", "cadre1", "nobody"])
def test_only_admins_may_add_nodes(org, api, username):
    response = api(getattr(org.users, username)).post(LIST, {"name": "x", "parent": org.compound1.pk}, format="json")
    assert response.status_code == 403
    assert not OrgNode.objects.filter(name="x").exists()


def test_a_hub_cannot_get_children(org, api):
    response = api(org.users.admin).post(LIST, {"name": "x", "parent": org.hub1.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_parent_kind"
    assert "parent" in response.json()["fields"]


def test_admin_renames_a_node(org, api):
    response = api(org.users.admin).patch(detail(org.building1), {"name": "一号楼党小组"}, format="json")
    assert response.status_code == 200
    org.building1.refresh_from_db()
    assert org.building1.name == "一号楼党小组"


def test_a_duplicate_name_under_one_parent_is_a_400(org, api):
    response = api(org.users.admin).patch(detail(org.building1), {"name": "1号楼党小组 "}, format="json")
    assert response.status_code == 200  # same name, same node
    org_node = api(org.users.admin).post(LIST, {"name": "1号楼党小组", "parent": org.compound1.pk}, format="json")
    assert org_node.status_code == 400
    assert org_node.json()["code"] == "duplicate" and org_node.json()["message"]
    assert org_node.json()["fields"]["name"]
    assert OrgNode.objects.filter(name="1号楼党小组").count() == 1


def test_moving_a_building_to_another_compound_restamps_its_households(org, api):
    response = api(org.users.admin).post(detail(org.building1, "move/"), {"parent": org.compound2.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["parent"] == org.compound2.pk
    assert response.json()["path"] == ["北苑社区", "和平小区党支部"]
    org.household1.refresh_from_db()
    assert org.household1.compound_id == org.compound2.pk
    assert OrgNodeMove.objects.filter(node=org.building1, new_parent=org.compound2).exists()


@pytest.mark.parametrize("target", ["building2", "hub1", "compound1_itself"])
def test_a_move_to_a_parent_of_the_wrong_level_is_a_400_and_moves_nothing(org, api, target):
    parent = {"building2": org.building2, "hub1": org.hub1, "compound1_itself": org.compound1}[target]
    node = org.compound1 if target == "compound1_itself" else org.building1
    response = api(org.users.admin).post(detail(node, "move/"), {"parent": parent.pk}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}
    node.refresh_from_db()
    assert node.parent_id == (org.community.pk if node == org.compound1 else org.compound1.pk)
    assert not OrgNodeMove.objects.exists()


def test_moving_under_a_building_names_the_parent_field(org, api):
    response = api(org.users.admin).post(detail(org.building1, "move/"), {"parent": org.building2.pk}, format="json")
    assert response.json()["code"] == "wrong_parent_kind"
    assert "parent" in response.json()["fields"]


def test_a_move_to_an_unknown_parent_is_a_400(org, api):
    response = api(org.users.admin).post(detail(org.building1, "move/"), {"parent": 999_999}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]


def test_deactivation_is_refused_while_households_live_under_the_node(org, api):
    response = api(org.users.admin).post(detail(org.building1, "deactivate/"))
    assert response.status_code == 400
    assert response.json()["code"] == "node_has_active_households"
    org.building1.refresh_from_db()
    assert org.building1.is_active


def test_admin_deactivates_and_reactivates_a_node(org, api):
    client = api(org.users.admin)
    response = client.post(detail(org.hub1, "deactivate/"))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.post(detail(org.hub1, "reactivate/")).json()["is_active"] is True


@pytest.mark.parametrize("username", ["staff", "cadre1", "cadre2", "other_staff", "nobody"])
def test_tree_writes_by_anyone_but_an_admin_are_404_and_change_nothing(org, api, username):
    client = api(getattr(org.users, username))
    assert client.patch(detail(org.building1), {"name": "改名"}, format="json").status_code == 404
    assert client.post(detail(org.building1, "move/"), {"parent": org.compound2.pk}, format="json").status_code == 404
    assert client.post(detail(org.hub1, "deactivate/")).status_code == 404
    assert client.post(detail(org.hub1, "reactivate/")).status_code == 404
    org.building1.refresh_from_db()
    org.hub1.refresh_from_db()
    assert (org.building1.name, org.building1.parent_id, org.hub1.is_active) == ("1号楼党小组", org.compound1.pk, True)


def test_nodes_cannot_be_deleted(org, api):
    assert api(org.users.admin).delete(detail(org.hub1)).status_code == 405
    assert OrgNode.objects.filter(pk=org.hub1.pk).exists()
    assert Household.objects.filter(pk=org.household1.pk).exists()


def test_a_field_the_endpoint_does_not_take_is_a_400_not_silently_dropped(org, api):
    response = api(org.users.admin).patch(detail(org.building1), {"parent": org.compound2.pk}, format="json")
    assert response.status_code == 400
    assert "parent" in response.json()["fields"]
    org.building1.refresh_from_db()
    assert org.building1.parent_id == org.compound1.pk


# session, user, grants (role grants, pairings), count, page (with the ancestors' names joined in).
ORG_NODE_LIST_QUERIES = 6


def test_org_node_list_runs_a_constant_number_of_queries_however_many_nodes(org, api, django_assert_max_num_queries):
    client = api(org.users.staff)

    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"page_size": 200})
        assert response.status_code == 200
        return len(captured.captured_queries)

    few = list_queries()
    for index in range(30):
        compound = org.compound1 if index % 2 else org.compound2
        # re-read the parent: each insert shifts the tree fields
        org_node_create(actor=None, name=f"批量{index}号楼党小组", parent=OrgNode.objects.get(pk=compound.pk))
    assert list_queries() == few
    with django_assert_max_num_queries(ORG_NODE_LIST_QUERIES):
        response = client.get(LIST, {"page_size": 200})
    assert response.json()["count"] >= 36


def test_a_city_wide_org_node_list_counts_up_to_the_cap(org, api, monkeypatch):
    from core import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 3)
    body = api(org.users.admin).get(LIST, {"page_size": 2}).json()
    assert (body["count"], body["count_capped"]) == (3, True)
    assert body["next"] and len(body["results"]) == 2
    staff = api(org.users.staff).get(LIST).json()
    assert staff["count_capped"] is False and staff["count"] > 3


@pytest.mark.parametrize("username", ["staff", "cadre1", "admin"])
def test_the_list_answer_is_what_the_node_serializer_writes_field_for_field(org, api, username):
    """The list is built from tuples for speed (grid.serializers.org_node_list_data): it must not drift."""
    from grid.serializers import OrgNodeSerializer
    from grid.services import org_node_deactivate

    org_node_deactivate(actor=org.users.admin, node=OrgNode.objects.get(pk=org.hub1.pk))
    user = getattr(org.users, username)
    answer = api(user).get(LIST, {"page_size": 200}).json()["results"]
    nodes = OrgNode.objects.select_related("parent__parent__parent").in_bulk([row["id"] for row in answer])
    expected = OrgNodeSerializer([nodes[row["id"]] for row in answer], many=True).data
    assert answer == [dict(row) for row in expected]
    assert any(row["deactivated_at"] for row in answer) or username == "cadre1"
    assert any(len(row["path"]) == 3 for row in answer) or username == "cadre1"
