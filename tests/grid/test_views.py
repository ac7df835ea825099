"""Portal pages of the org tree, households and grids: who sees what, what changes, how many queries."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from grid.models import Grid, GridColour, GridPost, Household, OrgNode, OrgNodeKind, Tag
from grid.services import household_update
from tests.factories import BuildingFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(client):
    """Assertions read English messages, whatever translations are compiled."""
    # The portal ignores Accept-Language (Chinese by default); the language menu's cookie picks English.
    client.cookies["django_language"] = "en"


def pks(objects):
    """The ids of model objects, or of the household list's rows (dicts)."""
    return {obj["id"] if isinstance(obj, dict) else obj.pk for obj in objects}


# --- home -------------------------------------------------------------------------------------


def test_home_shows_the_counts_of_the_staff_members_community(org, login):
    response = login(org.users.staff).get(reverse("home"))
    assert response.status_code == 200
    counts = response.context["counts"]
    assert counts["communities"] == 1
    assert counts["compounds"] == 2
    assert counts["buildings"] == 2
    assert counts["households"] == 2
    assert counts["grids"] == 2


def test_home_of_a_cadre_counts_only_their_building(org, login):
    counts = login(org.users.cadre1).get(reverse("home")).context["counts"]
    assert counts["communities"] == 0 and counts["buildings"] == 1
    assert counts["households"] == 1 and counts["grids"] == 1


def test_home_of_a_user_without_grant_shows_no_figures_and_a_hint(org, login):
    response = login(org.users.nobody).get(reverse("home"))
    assert response.status_code == 200
    assert "counts" not in response.context  # figures only for roles in the tree (tests/grid/test_home.py)
    assert "has no role yet" in response.content.decode()


def test_pages_need_a_login(org, client):
    for url in [reverse("home"), reverse("grid:tree"), reverse("grid:household-list"), reverse("grid:grid-list")]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- org tree ---------------------------------------------------------------------------------


def test_tree_of_community_staff_starts_at_their_community(org, login):
    response = login(org.users.staff).get(reverse("grid:tree"))
    assert pks(response.context["nodes"]) == {org.community.pk}
    assert "南湖社区" not in response.content.decode()


def test_tree_of_a_cadre_starts_at_their_building(org, login):
    response = login(org.users.cadre1).get(reverse("grid:tree"))
    assert pks(response.context["nodes"]) == {org.building1.pk}
    assert org.community.name not in response.content.decode()


def test_tree_of_the_system_admin_shows_every_community(org, login):
    response = login(org.users.admin).get(reverse("grid:tree"))
    assert pks(response.context["nodes"]) == {org.community.pk, org.other_community.pk}


def test_tree_of_a_user_without_grant_is_empty(org, login):
    assert list(login(org.users.nobody).get(reverse("grid:tree")).context["nodes"]) == []


def test_tree_nodes_carry_household_grid_and_people_counts(org, login):
    response = login(org.users.staff).get(reverse("grid:tree-children", kwargs={"pk": org.community.pk}))
    nodes = {node.pk: node for node in response.context["nodes"]}
    assert set(nodes) == {org.compound1.pk, org.compound2.pk}
    compound1 = nodes[org.compound1.pk]
    assert (compound1.household_count, compound1.grid_count, compound1.people_count) == (1, 1, 1)
    root = login(org.users.staff).get(reverse("grid:tree")).context["nodes"][0]
    # staff, leader, cadre1 and cadre2 hold grants inside the community
    assert (root.household_count, root.grid_count, root.people_count) == (2, 2, 4)
    assert 'hx-trigger="toggle once"' in response.content.decode()


def test_node_detail_breadcrumbs_show_only_ancestors_the_user_may_see(org, login):
    response = login(org.users.cadre1).get(reverse("grid:node-detail", kwargs={"pk": org.hub1.pk}))
    assert response.status_code == 200
    assert [node.pk for node in response.context["breadcrumbs"]] == [org.building1.pk]
    staff_view = login(org.users.staff).get(reverse("grid:node-detail", kwargs={"pk": org.hub1.pk}))
    assert [node.pk for node in staff_view.context["breadcrumbs"]] == [
        org.community.pk,
        org.compound1.pk,
        org.building1.pk,
    ]


def test_node_detail_links_to_the_households_of_the_node(org, login):
    response = login(org.users.staff).get(reverse("grid:node-detail", kwargs={"pk": org.compound1.pk}))
    assert f"?compound={org.compound1.pk}" in response.content.decode()


TREE_MANAGE_URLS = [
    "grid:node-add-child",
    "grid:node-rename",
    "grid:node-move",
    "grid:node-deactivate",
    "grid:node-reactivate",
]


@pytest.mark.parametrize("name", ["grid:node-detail", "grid:tree-children", *TREE_MANAGE_URLS])
def test_cadre_gets_404_on_the_nodes_of_another_cadre(org, login, name):
    client = login(org.users.cadre2)
    assert client.get(reverse(name, kwargs={"pk": org.building1.pk})).status_code == 404
    assert client.post(reverse(name, kwargs={"pk": org.building1.pk}), {"name": "x"}).status_code == 404


@pytest.mark.parametrize("name", ["grid:node-detail", "grid:tree-children"])
def test_staff_of_a_sibling_community_gets_404_on_the_community(org, login, name):
    assert login(org.users.other_staff).get(reverse(name, kwargs={"pk": org.community.pk})).status_code == 404


@pytest.mark.parametrize("name", TREE_MANAGE_URLS)
def test_community_staff_cannot_manage_the_tree(org, login, name):
    client = login(org.users.staff)
    assert client.post(reverse(name, kwargs={"pk": org.compound1.pk}), {"name": "新名字"}).status_code == 404
    assert OrgNode.objects.get(pk=org.compound1.pk).name == org.compound1.name


def test_only_a_system_admin_may_add_a_community(org, login):
    assert login(org.users.staff).post(reverse("grid:community-create"), {"name": "东城社区"}).status_code == 404
    response = login(org.users.admin).post(reverse("grid:community-create"), {"name": "东城社区", "code": "DC"})
    community = OrgNode.objects.get(name="东城社区")
    assert community.kind == OrgNodeKind.COMMUNITY and community.parent_id is None
    assert response["Location"] == reverse("grid:node-detail", kwargs={"pk": community.pk})


def test_admin_adds_a_building_under_a_compound(org, login):
    login(org.users.admin).post(
        reverse("grid:node-add-child", kwargs={"pk": org.compound1.pk}), {"name": "3号楼党小组"}
    )
    building = OrgNode.objects.get(name="3号楼党小组")
    assert building.parent_id == org.compound1.pk and building.kind == OrgNodeKind.BUILDING


def test_adding_a_duplicate_name_shows_the_error_and_adds_nothing(org, login):
    before = OrgNode.objects.count()
    response = login(org.users.admin).post(
        reverse("grid:node-add-child", kwargs={"pk": org.compound1.pk}), {"name": org.building1.name}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert OrgNode.objects.count() == before


def test_admin_renames_a_node(org, login):
    login(org.users.admin).post(
        reverse("grid:node-rename", kwargs={"pk": org.compound1.pk}), {"name": "朝阳小区党支部"}
    )
    assert OrgNode.objects.get(pk=org.compound1.pk).name == "朝阳小区党支部"


def test_moving_building1_to_compound2_through_the_page_restamps_its_households(org, login):
    client = login(org.users.admin)
    page = client.get(reverse("grid:node-move", kwargs={"pk": org.building1.pk}))
    assert org.compound2.pk in pks(page.context["form"].fields["new_parent"].queryset)
    assert org.compound1.pk not in pks(page.context["form"].fields["new_parent"].queryset)
    url = reverse("grid:node-move", kwargs={"pk": org.building1.pk})
    preview = client.post(url, {"new_parent": org.compound2.pk})
    assert preview.status_code == 200 and Household.objects.get(pk=org.household1.pk).compound_id == org.compound1.pk
    token = preview.context["preview"].plan.token
    response = client.post(url, {"new_parent": org.compound2.pk, "token": token, "confirm": "1"})
    assert response.status_code == 302
    household = Household.objects.get(pk=org.household1.pk)
    assert household.compound_id == org.compound2.pk
    assert OrgNode.objects.get(pk=org.building1.pk).parent_id == org.compound2.pk
    detail = client.get(reverse("grid:node-detail", kwargs={"pk": org.building1.pk}))
    assert [(move.old_parent_id, move.new_parent_id) for move in detail.context["moves"]] == [
        (org.compound1.pk, org.compound2.pk)
    ]


def test_moving_to_a_node_of_the_wrong_kind_is_refused_and_changes_nothing(org, login):
    response = login(org.users.admin).post(
        reverse("grid:node-move", kwargs={"pk": org.building1.pk}), {"new_parent": org.community.pk}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert OrgNode.objects.get(pk=org.building1.pk).parent_id == org.compound1.pk


def test_deactivating_a_node_with_households_shows_the_reason_and_changes_nothing(org, login):
    response = login(org.users.admin).post(reverse("grid:node-deactivate", kwargs={"pk": org.building1.pk}))
    assert response.status_code == 400
    assert "active households" in response.context["error"]
    assert OrgNode.objects.get(pk=org.building1.pk).is_active


def test_admin_deactivates_and_reactivates_an_empty_node(org, login):
    client = login(org.users.admin)
    empty = BuildingFactory(name="空楼党小组", parent=org.compound1)
    assert client.get(reverse("grid:node-deactivate", kwargs={"pk": empty.pk})).status_code == 200
    assert OrgNode.objects.get(pk=empty.pk).is_active, "a GET only asks for confirmation"
    client.post(reverse("grid:node-deactivate", kwargs={"pk": empty.pk}))
    assert not OrgNode.objects.get(pk=empty.pk).is_active
    client.post(reverse("grid:node-reactivate", kwargs={"pk": empty.pk}))
    assert OrgNode.objects.get(pk=empty.pk).is_active


# --- households ------------------------------------------------------------------------------


def test_staff_sees_the_households_of_their_community_only(org, login):
    response = login(org.users.staff).get(reverse("grid:household-list"))
    assert pks(response.context["rows"]) == {org.household1.pk, org.household2.pk}


def test_cadre_sees_the_households_of_their_building_only(org, login):
    response = login(org.users.cadre1).get(reverse("grid:household-list"))
    assert pks(response.context["rows"]) == {org.household1.pk}


def test_user_without_grant_sees_an_empty_household_list(org, login):
    response = login(org.users.nobody).get(reverse("grid:household-list"))
    assert response.status_code == 200 and list(response.context["rows"]) == []


def test_household_list_shows_masked_phone_and_id_number_never_the_full_values(org, login):
    content = login(org.users.staff).get(reverse("grid:household-list")).content.decode()
    assert org.household1.masked_phone in content
    assert org.household1.phone not in content
    assert org.household1.id_number not in content
    assert org.household1.masked_id_number in content


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"compound": "compound1"}, {"household1"}),
        ({"building": "building2"}, {"household2"}),
        ({"node": "hub1"}, {"household1"}),
        ({"care": "yes"}, {"household2"}),
        ({"care": "no"}, {"household1"}),
        ({"tag": "veteran"}, {"household1"}),
        ({"q": "201"}, {"household2"}),
        ({"status": "moved_out"}, set()),
    ],
)
def test_household_list_filters(org, login, params, expected):
    veteran = Tag.objects.get_or_create(code="veteran", defaults={"name": "退役军人"})[0]
    household_update(actor=None, household=org.household1, tags=[veteran])
    household_update(actor=None, household=org.household2, is_care=True, care_reason="独居，行动不便")
    query = {
        key: getattr(org, value).pk if key in {"compound", "building", "node"} else value
        for key, value in params.items()
    }
    response = login(org.users.staff).get(reverse("grid:household-list"), query)
    assert pks(response.context["rows"]) == {getattr(org, name).pk for name in expected}


def test_household_search_by_head_name(org, login):
    response = login(org.users.staff).get(reverse("grid:household-list"), {"q": org.household2.head_name})
    assert org.household2.pk in pks(response.context["rows"])


def test_household_list_pages_by_25(org, login):
    for number in range(30):
        HouseholdFactory(building=org.building1, room=f"5{number:02d}")
    client = login(org.users.staff)
    first = client.get(reverse("grid:household-list"))
    assert len(first.context["rows"]) == 25
    assert first.context["page"].paginator.num_pages == 2
    assert len(client.get(reverse("grid:household-list"), {"page": 2}).context["rows"]) == 7


def test_household_detail_masks_phone_and_id_and_hides_the_care_reason(org, login):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居老人，心脏病")
    content = (
        login(org.users.staff).get(reverse("grid:household-detail", kwargs={"pk": org.household1.pk})).content.decode()
    )
    assert org.household1.masked_phone in content
    assert org.household1.phone not in content
    assert org.household1.id_number not in content
    assert "心脏病" not in content
    assert reverse("grid:household-reveal", kwargs={"pk": org.household1.pk}) in content


def test_reveal_returns_the_full_values_and_writes_exactly_one_audit_event(org, login):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居老人，心脏病")
    client = login(org.users.cadre1)
    response = client.post(
        reverse("grid:household-reveal", kwargs={"pk": org.household1.pk}), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert org.household1.phone in content and org.household1.id_number in content and "心脏病" in content
    events = AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED)
    assert events.count() == 1
    event = events.get()
    assert (event.user_id, event.object_type, event.object_id) == (
        org.users.cadre1.pk,
        "grid.household",
        str(org.household1.pk),
    )


def test_reveal_without_htmx_shows_the_detail_page_with_the_full_values(org, login):
    response = login(org.users.staff).post(reverse("grid:household-reveal", kwargs={"pk": org.household1.pk}))
    assert response.status_code == 200
    assert org.household1.phone in response.content.decode()
    assert response.templates[0].name == "grid/household_detail.html"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).count() == 1


def test_reveal_needs_a_post(org, login):
    response = login(org.users.cadre1).get(reverse("grid:household-reveal", kwargs={"pk": org.household1.pk}))
    assert response.status_code == 405
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


def test_bureau_leader_sees_the_household_but_may_not_reveal_it(org, login):
    client = login(org.users.leader)
    detail = client.get(reverse("grid:household-detail", kwargs={"pk": org.household1.pk}))
    assert detail.status_code == 200
    assert reverse("grid:household-reveal", kwargs={"pk": org.household1.pk}) not in detail.content.decode()
    assert client.post(reverse("grid:household-reveal", kwargs={"pk": org.household1.pk})).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


HOUSEHOLD_URLS = ["grid:household-detail", "grid:household-reveal", "grid:household-edit", "grid:household-move-out"]


@pytest.mark.parametrize("name", HOUSEHOLD_URLS)
def test_cadre_gets_404_on_the_household_of_another_cadre(org, login, name):
    client = login(org.users.cadre2)
    assert client.get(reverse(name, kwargs={"pk": org.household1.pk})).status_code == 404
    assert client.post(reverse(name, kwargs={"pk": org.household1.pk}), {"room": "999"}).status_code == 404
    assert Household.objects.get(pk=org.household1.pk).is_active
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


@pytest.mark.parametrize("name", HOUSEHOLD_URLS)
def test_staff_of_a_sibling_community_gets_404_on_its_households(org, login, name):
    assert login(org.users.other_staff).post(reverse(name, kwargs={"pk": org.household1.pk})).status_code == 404


@pytest.mark.parametrize("name", ["grid:household-edit", "grid:household-move-out"])
def test_cadre_may_not_edit_households(org, login, name):
    assert login(org.users.cadre1).get(reverse(name, kwargs={"pk": org.household1.pk})).status_code == 404


def household_form_data(household, **changes):
    data = {
        "building": household.building_id,
        "unit": household.unit,
        "room": household.room,
        "head_name": household.head_name,
        "phone": household.phone,
        "id_number": household.id_number,
        "resident_count": household.resident_count,
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_staff_adds_a_household_in_a_building_of_their_community(org, login):
    response = login(org.users.staff).post(
        reverse("grid:household-create"),
        household_form_data(org.household1, room="102", head_name="王秀兰", phone="13912345678", id_number=""),
    )
    household = Household.objects.get(building=org.building1, room="102")
    assert response["Location"] == reverse("grid:household-detail", kwargs={"pk": household.pk})
    assert household.compound_id == org.compound1.pk and household.community_id == org.community.pk


def test_a_household_cannot_be_added_in_a_building_outside_the_users_scope(org, login):
    response = login(org.users.staff).post(
        reverse("grid:household-create"),
        household_form_data(org.household1, building=org.other_building.pk, room="902", head_name="李四"),
    )
    assert response.status_code == 200 and "building" in response.context["form"].errors
    assert not Household.objects.filter(room="902").exists()


def test_cadre_may_not_add_households(org, login):
    assert login(org.users.cadre1).get(reverse("grid:household-create")).status_code == 404


def test_opening_the_edit_form_is_audited(org, login):
    response = login(org.users.staff).get(reverse("grid:household-edit", kwargs={"pk": org.household1.pk}))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).count() == 1


def test_editing_with_a_bad_phone_shows_the_message_and_changes_nothing(org, login):
    before = Household.objects.get(pk=org.household1.pk)
    response = login(org.users.staff).post(
        reverse("grid:household-edit", kwargs={"pk": org.household1.pk}),
        household_form_data(org.household1, phone="12345", head_name="改了名字"),
    )
    assert response.status_code == 200
    assert "Enter an 11-digit mobile number" in response.content.decode()
    after = Household.objects.get(pk=org.household1.pk)
    assert (after.phone, after.head_name, after.updated_at) == (before.phone, before.head_name, before.updated_at)


def test_editing_to_a_taken_address_shows_the_message_and_changes_nothing(org, login):
    HouseholdFactory(building=org.building1, unit="1", room="102")
    response = login(org.users.staff).post(
        reverse("grid:household-edit", kwargs={"pk": org.household1.pk}),
        household_form_data(org.household1, room="102"),
    )
    assert response.status_code == 200
    assert "already lives at this address" in response.content.decode()
    assert Household.objects.get(pk=org.household1.pk).room == "101"


def test_grid_worker_edits_a_household_of_their_grid(org, login):
    response = login(org.users.gridworker).post(
        reverse("grid:household-edit", kwargs={"pk": org.household1.pk}),
        household_form_data(org.household1, resident_count=5),
    )
    assert response.status_code == 302
    assert Household.objects.get(pk=org.household1.pk).resident_count == 5


def test_move_out_asks_first_then_records_it(org, login):
    client = login(org.users.staff)
    url = reverse("grid:household-move-out", kwargs={"pk": org.household1.pk})
    assert client.get(url).status_code == 200
    assert Household.objects.get(pk=org.household1.pk).is_active
    client.post(url)
    assert not Household.objects.get(pk=org.household1.pk).is_active


# --- grids -----------------------------------------------------------------------------------


def test_grid_list_shows_the_grids_in_scope_with_their_counts(org, login):
    client = login(org.users.staff)
    client.post(
        reverse("grid:grid-post-create", kwargs={"pk": org.grid1.pk}), {"post_type": "A", "title": "专职网格员"}
    )
    response = client.get(reverse("grid:grid-list"))
    grids = {grid.pk: grid for grid in response.context["grids"]}
    assert set(grids) == {org.grid1.pk, org.grid2.pk}
    grid1 = grids[org.grid1.pk]
    assert (grid1.building_count, grid1.household_count, grid1.post_count, grid1.vacant_post_count) == (1, 1, 1, 1)


def test_cadre_sees_only_the_grid_of_their_building(org, login):
    assert pks(login(org.users.cadre1).get(reverse("grid:grid-list")).context["grids"]) == {org.grid1.pk}


def test_user_without_grant_sees_no_grids(org, login):
    assert list(login(org.users.nobody).get(reverse("grid:grid-list")).context["grids"]) == []


def test_grid_list_filters_by_colour(org, login):
    client = login(org.users.staff)
    client.post(reverse("grid:grid-colour", kwargs={"pk": org.grid2.pk}), {"colour": "red", "reason": "楼体老化"})
    assert pks(client.get(reverse("grid:grid-list"), {"colour": "red"}).context["grids"]) == {org.grid2.pk}


def test_grid_detail_lists_buildings_and_posts_with_vacant_ones(org, login):
    client = login(org.users.staff)
    client.post(
        reverse("grid:grid-post-create", kwargs={"pk": org.grid1.pk}), {"post_type": "A", "title": "专职网格员"}
    )
    response = client.get(reverse("grid:grid-detail", kwargs={"pk": org.grid1.pk}))
    assert pks(response.context["buildings"]) == {org.building1.pk}
    assert [post.is_vacant for post in response.context["posts"]] == [True]
    assert "Vacant" in response.content.decode()


def test_red_colour_needs_a_reason(org, login):
    client = login(org.users.staff)
    response = client.post(reverse("grid:grid-colour", kwargs={"pk": org.grid1.pk}), {"colour": "red", "reason": ""})
    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert Grid.objects.get(pk=org.grid1.pk).colour == GridColour.GREEN
    client.post(reverse("grid:grid-colour", kwargs={"pk": org.grid1.pk}), {"colour": "red", "reason": "独居老人多"})
    grid = Grid.objects.get(pk=org.grid1.pk)
    assert (grid.colour, grid.colour_reason) == (GridColour.RED, "独居老人多")
    assert grid.colour_set_on is not None


def test_staff_sets_the_buildings_of_a_grid(org, login):
    extra = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    client = login(org.users.staff)
    page = client.get(reverse("grid:grid-buildings", kwargs={"pk": org.grid1.pk}))
    assert str(org.building1.pk) in page.context["selected"]
    client.post(
        reverse("grid:grid-buildings", kwargs={"pk": org.grid1.pk}), {"buildings": [org.building1.pk, extra.pk]}
    )
    assert set(Grid.objects.get(pk=org.grid1.pk).buildings.values_list("pk", flat=True)) == {org.building1.pk, extra.pk}


def test_a_building_of_another_community_cannot_join_the_grid(org, login):
    response = login(org.users.admin).post(
        reverse("grid:grid-buildings", kwargs={"pk": org.grid1.pk}), {"buildings": [org.other_building.pk]}
    )
    assert response.status_code == 200
    assert set(Grid.objects.get(pk=org.grid1.pk).buildings.values_list("pk", flat=True)) == {org.building1.pk}


def test_staff_fills_and_vacates_a_post(org, login):
    client = login(org.users.staff)
    client.post(reverse("grid:grid-post-create", kwargs={"pk": org.grid1.pk}), {"post_type": "B", "title": "楼栋长"})
    post = GridPost.objects.get(grid=org.grid1)
    people = (
        client.get(reverse("grid:grid-post-fill", kwargs={"pk": post.pk})).context["form"].fields["holder"].queryset
    )
    assert org.users.cadre1.pk in pks(people) and org.users.other_staff.pk not in pks(people)
    client.post(reverse("grid:grid-post-fill", kwargs={"pk": post.pk}), {"holder": org.users.cadre1.pk})
    assert GridPost.objects.get(pk=post.pk).holder_id == org.users.cadre1.pk
    client.post(reverse("grid:grid-post-vacate", kwargs={"pk": post.pk}))
    assert GridPost.objects.get(pk=post.pk).holder_id is None


def test_a_person_out_of_scope_cannot_fill_a_post(org, login):
    client = login(org.users.staff)
    client.post(reverse("grid:grid-post-create", kwargs={"pk": org.grid1.pk}), {"post_type": "B", "title": "楼栋长"})
    post = GridPost.objects.get(grid=org.grid1)
    response = client.post(reverse("grid:grid-post-fill", kwargs={"pk": post.pk}), {"holder": org.users.other_staff.pk})
    assert response.status_code == 200 and "holder" in response.context["form"].errors
    assert GridPost.objects.get(pk=post.pk).holder_id is None


GRID_URLS = ["grid:grid-detail", "grid:grid-colour", "grid:grid-buildings", "grid:grid-post-create"]
POST_URLS = ["grid:grid-post-fill", "grid:grid-post-vacate"]


@pytest.fixture
def post1(org):
    from grid.services import grid_post_create

    return grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)


@pytest.mark.parametrize("name", GRID_URLS + POST_URLS)
def test_cadre_gets_404_on_the_grid_of_another_cadre(org, login, post1, name):
    pk = post1.pk if name in POST_URLS else org.grid1.pk
    client = login(org.users.cadre2)
    assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 404
    assert client.post(reverse(name, kwargs={"pk": pk}), {"colour": "red", "reason": "x"}).status_code == 404
    assert Grid.objects.get(pk=org.grid1.pk).colour == GridColour.GREEN
    assert GridPost.objects.get(pk=post1.pk).holder_id == org.users.gridworker.pk


@pytest.mark.parametrize("name", GRID_URLS + POST_URLS)
def test_staff_of_a_sibling_community_gets_404_on_its_grids(org, login, post1, name):
    pk = post1.pk if name in POST_URLS else org.grid1.pk
    assert login(org.users.other_staff).get(reverse(name, kwargs={"pk": pk})).status_code == 404


@pytest.mark.parametrize("name", GRID_URLS[1:] + POST_URLS)
def test_cadre_may_see_their_grid_but_not_manage_it(org, login, post1, name):
    client = login(org.users.cadre1)
    assert client.get(reverse("grid:grid-detail", kwargs={"pk": org.grid1.pk})).status_code == 200
    pk = post1.pk if name in POST_URLS else org.grid1.pk
    assert client.get(reverse(name, kwargs={"pk": pk})).status_code == 404


@pytest.fixture
def grid_across_compounds(org):
    """grid1 holding building1 (compound1, cadre1's) and building2 (compound2, cadre2's), and a filled post."""
    from grid.services import grid_post_create, grid_set_buildings
    from tests.factories import UserFactory

    grid_set_buildings(actor=None, grid=org.grid1, buildings=[org.building1, org.building2])
    holder = UserFactory(username="holder", full_name="甄网格员")
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="楼栋长", holder=holder)
    return org.grid1


def test_a_cadre_sees_only_their_own_buildings_and_households_of_a_grid_across_compounds(
    org, login, grid_across_compounds
):
    client = login(org.users.cadre1)
    response = client.get(reverse("grid:grid-detail", kwargs={"pk": grid_across_compounds.pk}))
    assert pks(response.context["buildings"]) == {org.building1.pk}
    assert [building.household_count for building in response.context["buildings"]] == [1]
    grid = response.context["grid"]
    assert (grid.building_count, grid.household_count, grid.post_count, grid.vacant_post_count) == (1, 1, 1, 0)
    content = response.content.decode()
    assert org.building2.name not in content and org.compound2.name not in content
    # A cadre must find their grid worker (issue 5, defect 7): the holder is named, the phone masked.
    assert "甄网格员" in content
    listed = {g.pk: g for g in client.get(reverse("grid:grid-list")).context["grids"]}[grid_across_compounds.pk]
    assert (listed.building_count, listed.household_count) == (1, 1)


def test_staff_sees_every_building_household_and_holder_of_a_grid_across_compounds(org, login, grid_across_compounds):
    response = login(org.users.staff).get(reverse("grid:grid-detail", kwargs={"pk": grid_across_compounds.pk}))
    assert pks(response.context["buildings"]) == {org.building1.pk, org.building2.pk}
    assert (response.context["grid"].building_count, response.context["grid"].household_count) == (2, 2)
    assert "甄网格员" in response.content.decode()


def test_the_holder_of_a_post_sees_their_own_name(org, login, grid_across_compounds):
    from accounts.models import User

    response = login(User.objects.get(username="holder")).get(
        reverse("grid:grid-detail", kwargs={"pk": grid_across_compounds.pk})
    )
    assert "甄网格员" in response.content.decode()


@pytest.mark.parametrize("value", ["99999999999999999999", "-99999999999999999999", "0", "abc", "\x00"])
@pytest.mark.parametrize("name", ["building", "compound", "node"])
def test_a_household_filter_that_cannot_be_read_is_left_out_and_reported(org, login, name, value):
    response = login(org.users.staff).get(reverse("grid:household-list"), {name: value, "care": "no"})
    assert response.status_code == 200
    assert pks(response.context["rows"]) == {org.household1.pk, org.household2.pk} - {
        h.pk for h in (org.household1, org.household2) if h.is_care
    }
    assert "could not be read" in response.content.decode()


def test_a_readable_household_filter_reports_nothing(org, login):
    response = login(org.users.staff).get(reverse("grid:household-list"), {"building": org.building1.pk})
    assert pks(response.context["rows"]) == {org.household1.pk}
    assert "could not be read" not in response.content.decode()


def test_editing_a_household_keeps_its_deactivated_hub_unless_the_user_changes_it(org, login):
    from grid.services import org_node_deactivate

    other_hub = org.hub1.__class__.objects.create(name="停用前中心户", kind=OrgNodeKind.HUB, parent=org.building1)
    org_node_deactivate(actor=None, node=other_hub)
    org_node_deactivate(actor=None, node=org.hub1)
    client = login(org.users.staff)
    url = reverse("grid:household-edit", kwargs={"pk": org.household1.pk})
    hub_field = client.get(url).context["form"]["hub"]
    assert str(org.hub1.pk) in str(hub_field) and "(deactivated)" in str(hub_field)
    assert other_hub.name not in str(hub_field)  # another deactivated hub is not offered
    response = client.post(url, household_form_data(org.household1, hub=org.hub1.pk, head_name="改了名字"))
    assert response.status_code == 302, response.context["form"].errors
    household = Household.objects.get(pk=org.household1.pk)
    assert (household.hub_id, household.head_name) == (org.hub1.pk, "改了名字")
    response = client.post(url, household_form_data(org.household1, hub=other_hub.pk))
    assert response.status_code == 200 and "hub" in response.context["form"].errors
    client.post(url, household_form_data(org.household1, head_name="改了名字"))  # hub left empty on purpose
    assert Household.objects.get(pk=org.household1.pk).hub_id is None


def test_a_new_household_is_not_offered_a_deactivated_hub(org, login):
    from grid.services import org_node_deactivate

    org_node_deactivate(actor=None, node=org.hub1)
    hubs = login(org.users.staff).get(reverse("grid:household-create")).context["form"].fields["hub"].queryset
    assert org.hub1.pk not in pks(hubs)


# --- query budgets: the same number of queries at 10 and at 1,000 households ----------------------

TREE_QUERIES = 5
CHILDREN_QUERIES = 6
HOUSEHOLD_LIST_QUERIES = 9
GRID_LIST_QUERIES = 6


def _grow(org, total: int) -> None:
    """Bring the community to ``total`` households: buildings through services, households in bulk."""
    buildings = [org.building1, org.building2]
    for number in range(3, 11):
        parent = org.compound1 if number % 2 else org.compound2
        buildings.append(BuildingFactory(name=f"{number}号楼党小组", parent=parent))
    tags = list(Tag.objects.all()[:3])
    existing = Household.objects.filter(community=org.community).count()
    households = [
        Household(
            community_id=org.community.pk,
            compound_id=buildings[n % len(buildings)].parent_id,
            building=buildings[n % len(buildings)],
            unit=str(n % 6 + 1),
            room=f"{n:04d}",
            head_name=f"住户{n}",
            phone=f"139{n:08d}",
            id_number="",
            resident_count=n % 5 + 1,
            is_care=n % 7 == 0,
            care_reason="需关爱" if n % 7 == 0 else "",
        )
        for n in range(total - existing)
    ]
    created = Household.objects.bulk_create(households, batch_size=500)
    if tags:
        Household.tags.through.objects.bulk_create(
            [Household.tags.through(household_id=h.pk, tag_id=tags[i % len(tags)].pk) for i, h in enumerate(created)]
        )
    assert Household.objects.filter(community=org.community).count() == total


@pytest.mark.parametrize("total", [10, 1000])
def test_tree_page_and_children_run_a_constant_number_of_queries(org, login, django_assert_max_num_queries, total):
    _grow(org, total)
    client = login(org.users.staff)
    with django_assert_max_num_queries(TREE_QUERIES):
        response = client.get(reverse("grid:tree"))
    assert response.context["nodes"][0].household_count == total
    with django_assert_max_num_queries(CHILDREN_QUERIES):
        response = client.get(reverse("grid:tree-children", kwargs={"pk": org.compound1.pk}))
    assert sum(node.household_count for node in response.context["nodes"]) > 0


@pytest.mark.parametrize("total", [10, 1000])
def test_household_list_runs_a_constant_number_of_queries(org, login, django_assert_max_num_queries, total):
    _grow(org, total)
    client = login(org.users.staff)
    with django_assert_max_num_queries(HOUSEHOLD_LIST_QUERIES):
        response = client.get(reverse("grid:household-list"))
    assert response.context["page"].paginator.count == total
    assert len(response.context["rows"]) == min(total, 25)


@pytest.mark.parametrize("total", [10, 1000])
def test_grid_list_runs_a_constant_number_of_queries(org, login, django_assert_max_num_queries, total):
    _grow(org, total)
    client = login(org.users.staff)
    with django_assert_max_num_queries(GRID_LIST_QUERIES):
        response = client.get(reverse("grid:grid-list"))
    assert {grid.pk for grid in response.context["grids"]} == {org.grid1.pk, org.grid2.pk}


def test_every_form_page_renders_for_a_role_that_may_use_it(org, login, post1):
    admin = login(org.users.admin)
    for name, pk in [
        ("grid:node-add-child", org.compound1.pk),
        ("grid:node-rename", org.compound1.pk),
        ("grid:node-move", org.building1.pk),
        ("grid:node-deactivate", org.hub1.pk),
        ("grid:node-reactivate", org.hub1.pk),
        ("grid:household-edit", org.household1.pk),
        ("grid:household-move-out", org.household1.pk),
        ("grid:grid-colour", org.grid1.pk),
        ("grid:grid-buildings", org.grid1.pk),
        ("grid:grid-post-create", org.grid1.pk),
        ("grid:grid-post-fill", post1.pk),
        ("grid:grid-post-vacate", post1.pk),
    ]:
        assert admin.get(reverse(name, kwargs={"pk": pk})).status_code == 200, name
    assert admin.get(reverse("grid:community-create")).status_code == 200
    assert admin.get(reverse("grid:household-create")).status_code == 200


def test_a_deactivated_node_says_so_and_offers_reactivation(org, login):
    from grid.services import org_node_deactivate

    org_node_deactivate(actor=None, node=org.hub1)
    response = login(org.users.admin).get(reverse("grid:node-detail", kwargs={"pk": org.hub1.pk}))
    content = response.content.decode()
    assert "Deactivated on" in content
    assert reverse("grid:node-reactivate", kwargs={"pk": org.hub1.pk}) in content
