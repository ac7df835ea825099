"""What the household list keeps between requests (grid.caching) stops being used when the tree changes."""

from django.urls import reverse

from grid.caching import tree_version
from grid.importing import workbook_import
from grid.importing.layout import SHEET_TREE
from grid.models import OrgNode
from grid.services import org_node_create
from tests.grid.workbooks import tree_row


def _compound_options(client) -> set[str]:
    return {node.name for node in client.get(reverse("grid:household-list")).context["choices"]["compounds"]}


def test_a_compound_created_through_the_service_is_offered_at_once(org, login):
    client = login(org.users.staff)
    before = _compound_options(client)
    org_node_create(actor=org.users.admin, name="新建小区党支部", parent=org.community)
    assert _compound_options(client) == before | {"新建小区党支部"}


def test_a_compound_an_import_writes_in_bulk_is_offered_at_once(org, login, workbook):
    client = login(org.users.staff)
    before = _compound_options(client)
    version = tree_version()
    path = workbook({SHEET_TREE: [tree_row(compound="导入小区党支部")]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert tree_version() != version
    assert _compound_options(client) == before | {"导入小区党支部"}


def test_a_renamed_place_and_a_deactivated_compound_show_at_once(org, login):
    client = login(org.users.staff)
    _compound_options(client)
    node = OrgNode.objects.get(pk=org.compound2.pk)
    node.place_name = "和平新村"
    node.save()
    places = {node.place_name for node in client.get(reverse("grid:household-list")).context["choices"]["compounds"]}
    assert "和平新村" in places


def test_two_users_of_the_same_grants_share_the_options_and_others_do_not(org, login):
    staff = _compound_options(login(org.users.staff))
    assert _compound_options(login(org.users.other_staff)) != staff  # another community's compounds


def test_a_grid_workers_buildings_follow_the_grids_buildings_at_once(org, login):
    from grid.services import grid_set_buildings

    client = login(org.users.gridworker)  # reaches buildings through grid1's links only
    buildings = lambda: {node.pk for node in client.get(reverse("grid:household-list")).context["choices"]["buildings"]}  # noqa: E731
    assert buildings() == {org.building1.pk}
    grid_set_buildings(actor=org.users.admin, grid=org.grid1, buildings=[org.building2])
    assert buildings() == {org.building2.pk}


def test_a_renamed_compound_whose_place_came_from_its_name_gets_the_new_place(org):
    from grid.services import org_node_rename

    node = OrgNode.objects.get(pk=org.compound2.pk)
    assert node.place_name in ("", "和平小区") or node.place_name == node.name
    OrgNode.objects.filter(pk=node.pk).update(place_name="和平小区")
    node.refresh_from_db()
    org_node_rename(actor=org.users.admin, node=node, name="朝阳小区党支部")  # the API's PATCH of the name only
    assert OrgNode.objects.get(pk=node.pk).place_name == "朝阳小区"
    org_node_rename(actor=org.users.admin, node=node, name="朝阳小区党支部", place_name="朝阳新村")
    org_node_rename(actor=org.users.admin, node=OrgNode.objects.get(pk=node.pk), name="东风小区党支部")
    assert OrgNode.objects.get(pk=node.pk).place_name == "朝阳新村"  # written by someone: it stays


def test_renaming_in_the_portal_without_touching_the_place_name_moves_a_derived_one(org, login):
    OrgNode.objects.filter(pk=org.compound2.pk).update(name="金桂小区党支部", place_name="金桂小区")
    client = login(org.users.admin)
    url = reverse("grid:node-rename", kwargs={"pk": org.compound2.pk})
    response = client.post(url, {"name": "朝阳小区党支部", "place_name": "金桂小区", "code": ""})
    assert response.status_code == 302
    assert OrgNode.objects.get(pk=org.compound2.pk).place_name == "朝阳小区"
