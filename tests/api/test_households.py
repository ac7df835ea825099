"""/api/v1/households/: scoped lists, masked personal data, the audited reveal, writes through services."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.masking import mask_phone
from core.models import AuditEvent
from grid.models import Household, OrgNode, Tag
from grid.services import household_update
from tests.api.helpers import ids, results
from tests.factories import BuildingFactory, HubFactory, valid_id_number

LIST = "/api/v1/households/"


def detail(household, suffix=""):
    return f"{LIST}{household.pk}/{suffix}"


def new_household(place, **extra):
    payload = {
        "building": place.pk,
        "unit": "2",
        "room": "302",
        "head_name": "刘桂兰",
        "phone": "13912345678",
        "id_number": valid_id_number(77),
        "resident_count": 2,
    }
    payload.update(extra)
    return payload


def every_household_secret():
    """The full phone and ID number of every household in the database."""
    values = []
    for phone, id_number in Household.objects.values_list("phone", "id_number"):
        values += [phone, id_number]
    return [value for value in values if value]


# --- Who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "username, expected",
    [
        ("admin", {"household1", "household2", "other_household"}),
        ("leader", {"household1", "household2"}),
        ("staff", {"household1", "household2"}),
        ("cadre1", {"household1"}),
        ("cadre2", {"household2"}),
        ("gridworker", {"household1"}),
        ("other_staff", {"other_household"}),
        ("dept", set()),
        ("nobody", set()),
    ],
)
def test_each_role_lists_exactly_the_households_of_its_subtree(org, api, username, expected):
    response = api(getattr(org.users, username)).get(LIST)
    assert ids(response) == {getattr(org, name).pk for name in expected}


def test_cadre_gets_404_for_the_household_of_another_compound(org, api):
    response = api(org.users.cadre2).get(detail(org.household1))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": response.json()["message"], "fields": {}}


def test_staff_of_the_sibling_community_gets_404_for_this_communitys_household(org, api):
    assert api(org.users.other_staff).get(detail(org.household1)).status_code == 404
    assert api(org.users.other_staff).get(detail(org.household1, "personal-data/")).status_code == 404


def test_anonymous_callers_are_refused(org, api):
    assert api().get(LIST).status_code in {401, 403}
    assert api().get(detail(org.household1)).status_code in {401, 403}


# --- Masking ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "staff", "leader", "cadre1", "gridworker"])
def test_list_and_detail_never_contain_a_full_phone_or_id_number(org, api, username):
    client = api(getattr(org.users, username))
    secrets = every_household_secret()
    for response in (client.get(LIST), client.get(detail(org.household1))):
        assert response.status_code == 200
        body = response.content.decode()
        assert not [secret for secret in secrets if secret in body]
    row = client.get(detail(org.household1)).json()
    assert row["phone"] == org.household1.masked_phone
    assert row["id_number"] == org.household1.masked_id_number
    assert row["phone"].count("*") == 4


@pytest.mark.parametrize("username", ["admin", "staff", "cadre1", "gridworker", "leader"])
def test_lists_and_details_never_show_the_care_reason_and_audit_nothing(org, api, username):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居老人，行动不便")
    client = api(getattr(org.users, username))
    listed = client.get(LIST)
    row = client.get(detail(org.household1)).json()
    assert "care_reason" not in row and row["is_care"] is True
    assert all("care_reason" not in listed_row for listed_row in results(listed))
    assert "行动不便" not in listed.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


def test_the_care_reason_comes_only_from_the_audited_personal_data_answer(org, api):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居老人，行动不便")
    response = api(org.users.cadre1).get(detail(org.household1, "personal-data/"))
    assert response.json()["care_reason"] == "独居老人，行动不便"
    event = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_VIEWED)
    assert "care_reason" in event.detail["fields"]


def test_a_write_may_set_the_care_reason_but_its_answer_does_not_show_it(org, api):
    response = api(org.users.staff).patch(
        detail(org.household1), {"is_care": True, "care_reason": "低保户"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert "care_reason" not in response.json() and "低保户" not in response.content.decode()
    assert Household.objects.get(pk=org.household1.pk).care_reason == "低保户"


def test_the_schema_of_a_household_has_no_care_reason(client, db):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert "care_reason" not in schema["components"]["schemas"]["Household"]["properties"]
    assert "care_reason" in schema["components"]["schemas"]["HouseholdPersonalData"]["properties"]


@pytest.mark.parametrize("name", ["building", "compound", "community", "hub"])
@pytest.mark.parametrize("value", ["99999999999999999999", "-99999999999999999999", "0"])
def test_an_id_filter_out_of_the_id_range_is_a_400_on_that_field(org, api, name, value):
    response = api(org.users.staff).get(LIST, {name: value})
    assert response.status_code == 400, response.content
    assert name in response.json()["fields"]


# --- The audited reveal ----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["admin", "staff", "cadre1", "gridworker"])
def test_personal_data_gives_the_full_values_and_is_audited_once_per_call(org, api, username):
    user = getattr(org.users, username)
    client = api(user)
    for call in (1, 2):
        response = client.get(detail(org.household1, "personal-data/"))
        assert response.status_code == 200
        assert response.json()["phone"] == org.household1.phone
        assert response.json()["id_number"] == org.household1.id_number
        assert "no-store" in response["Cache-Control"]
        events = AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED, user=user)
        assert events.count() == call
    event = events.first()
    assert (event.object_type, event.object_id) == ("grid.household", str(org.household1.pk))


@pytest.mark.parametrize("username", ["leader", "cadre2", "other_staff", "dept", "nobody"])
def test_personal_data_is_404_and_unaudited_for_everyone_else(org, api, username):
    response = api(getattr(org.users, username)).get(detail(org.household1, "personal-data/"))
    assert response.status_code == 404
    assert org.household1.phone not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


# --- Writes -------------------------------------------------------------------------------------------


def test_staff_creates_a_household_and_the_answer_is_masked(org, api):
    response = api(org.users.staff).post(
        LIST, new_household(org.building1, tags=["elderly-alone", "veteran"]), format="json"
    )
    assert response.status_code == 201, response.content
    household = Household.objects.get(pk=response.json()["id"])
    assert (household.community_id, household.compound_id) == (org.community.pk, org.compound1.pk)
    assert household.phone == "13912345678"
    assert response.json()["phone"] == "139****5678"
    assert "13912345678" not in response.content.decode()
    assert sorted(response.json()["tags"]) == ["elderly-alone", "veteran"]


def test_grid_worker_creates_households_only_in_the_buildings_of_their_grid(org, api):
    client = api(org.users.gridworker)
    assert client.post(LIST, new_household(org.building1), format="json").status_code == 201
    response = client.post(LIST, new_household(org.building2), format="json")
    assert response.status_code == 400
    assert "building" in response.json()["fields"]
    assert not Household.objects.filter(building=org.building2, room="302").exists()


def test_a_role_that_may_not_edit_households_cannot_create_one(org, api):
    response = api(org.users.cadre1).post(LIST, new_household(org.building1), format="json")
    assert response.status_code == 403
    assert set(response.json()) == {"code", "message", "fields"}
    assert not Household.objects.filter(room="302").exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"building": 999_999}, "building"),
        ({"building": "other_building"}, "building"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "139****5678"}, "phone"),
        ({"id_number": "110105198001010001"}, "id_number"),
        ({"room": "101", "unit": "1"}, "room"),  # household1's address
        ({"is_care": True, "care_reason": ""}, "care_reason"),
        ({"hub": "hub_of_building2"}, "hub"),
        ({"tags": ["no-such-tag"]}, "tags"),
        ({"resident_count": 0}, "resident_count"),
    ],
)
def test_a_bad_household_payload_is_a_400_with_field_errors_and_changes_nothing(org, api, change, field):
    hub_of_building2 = HubFactory(name="和平中心户", parent=org.building2)
    named = {"other_building": org.other_building.pk, "hub_of_building2": hub_of_building2.pk}
    change = {key: named.get(value, value) if isinstance(value, str) else value for key, value in change.items()}
    before = Household.objects.count()
    response = api(org.users.staff).post(LIST, new_household(org.building1, **change), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert field in body["fields"]
    assert Household.objects.count() == before


def test_staff_updates_a_household_with_patch(org, api):
    response = api(org.users.staff).patch(
        detail(org.household1), {"phone": "0471-1234567", "tags": ["party-member"], "resident_count": 5}, format="json"
    )
    assert response.status_code == 200, response.content
    org.household1.refresh_from_db()
    assert org.household1.phone == "0471-1234567"
    assert org.household1.resident_count == 5
    assert list(org.household1.tags.values_list("code", flat=True)) == ["party-member"]
    assert response.json()["phone"] == mask_phone("0471-1234567") != "0471-1234567"


def test_moving_a_household_to_another_building_keeps_the_hub_rule(org, api):
    client = api(org.users.staff)
    response = client.patch(detail(org.household1), {"building": org.building2.pk}, format="json")
    assert response.status_code == 400  # household1's hub hangs under building1
    assert "hub" in response.json()["fields"]
    response = client.patch(detail(org.household1), {"building": org.building2.pk, "hub": None}, format="json")
    assert response.status_code == 200, response.content
    org.household1.refresh_from_db()
    assert (org.household1.building_id, org.household1.compound_id) == (org.building2.pk, org.compound2.pk)


@pytest.mark.parametrize("username", ["cadre2", "other_staff", "leader", "cadre1", "nobody"])
def test_a_write_on_a_household_the_user_may_not_edit_is_404_and_changes_nothing(org, api, username):
    client = api(getattr(org.users, username))
    assert client.patch(detail(org.household1), {"head_name": "改名"}, format="json").status_code == 404
    assert client.post(detail(org.household1, "move-out/")).status_code == 404
    org.household1.refresh_from_db()
    assert org.household1.head_name != "改名"
    assert org.household1.is_active


def test_staff_records_a_move_out(org, api):
    response = api(org.users.staff).post(detail(org.household1, "move-out/"))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    org.household1.refresh_from_db()
    assert not org.household1.is_active


def test_households_cannot_be_deleted_or_replaced(org, api):
    client = api(org.users.admin)
    assert client.delete(detail(org.household1)).status_code == 405
    assert client.put(detail(org.household1), new_household(org.building1), format="json").status_code == 405
    assert Household.objects.filter(pk=org.household1.pk).exists()


# --- Filters, search, ordering, pagination ---------------------------------------------------


def test_households_filter_by_place_care_tag_and_activity(org, api):
    household_update(
        actor=None,
        household=org.household2,
        is_care=True,
        care_reason="低保",
        tags=Tag.objects.filter(code="low-income"),
    )
    client = api(org.users.staff)
    assert ids(client.get(LIST, {"building": org.building1.pk})) == {org.household1.pk}
    assert ids(client.get(LIST, {"compound": org.compound2.pk})) == {org.household2.pk}
    assert ids(client.get(LIST, {"community": org.community.pk})) == {org.household1.pk, org.household2.pk}
    assert ids(client.get(LIST, {"hub": org.hub1.pk})) == {org.household1.pk}
    assert ids(client.get(LIST, {"is_care": "true"})) == {org.household2.pk}
    assert ids(client.get(LIST, {"tag": "low-income"})) == {org.household2.pk}
    assert ids(client.get(LIST, {"tag": "veteran,low-income"})) == {org.household2.pk}
    assert ids(client.get(LIST, {"is_active": "false"})) == set()


def test_a_filter_on_a_place_outside_the_scope_finds_nothing(org, api):
    assert ids(api(org.users.staff).get(LIST, {"community": org.other_community.pk})) == set()


def test_households_search_by_head_name_and_room(org, api):
    client = api(org.users.staff)
    assert ids(client.get(LIST, {"search": org.household2.head_name})) == {org.household2.pk}
    assert ids(client.get(LIST, {"search": "101"})) == {org.household1.pk}


def test_households_order_by_room(org, api):
    rows = results(api(org.users.staff).get(LIST, {"ordering": "-room"}))
    assert [row["room"] for row in rows] == ["201", "101"]


def test_an_invalid_filter_value_is_a_400(org, api):
    response = api(org.users.staff).get(LIST, {"building": "abc"})
    assert response.status_code == 400
    assert "building" in response.json()["fields"]


def _bulk_households(building_count: int, per_building: int) -> None:
    """Buildings through the service, then households in bulk (with a hub and tags)."""
    compound = OrgNode.objects.get(name="阳光小区党支部")
    buildings = [BuildingFactory(parent=compound) for _ in range(building_count)]
    hubs = {building.pk: HubFactory(parent=building) for building in buildings}
    rows = [
        Household(
            community_id=compound.parent_id,
            compound=compound,
            building=building,
            hub=hubs[building.pk],
            unit="1",
            room=str(1000 + n),
            head_name=f"住户{building.pk}-{n}",
            phone=f"139{building.pk:04d}{n:04d}",
            id_number=valid_id_number(n),
        )
        for building in buildings
        for n in range(per_building)
    ]
    created = Household.objects.bulk_create(rows, batch_size=500)
    tag = Tag.objects.get(code="elderly-alone")
    links = [Household.tags.through(household_id=household.pk, tag_id=tag.pk) for household in created]
    Household.tags.through.objects.bulk_create(links, batch_size=500)


# session, user, grants (role grants, pairings), count, page, tags; the same for any number of rows.
HOUSEHOLD_LIST_QUERIES = 7


def _list_queries(client, **params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, {"page_size": 200, **params})
    assert response.status_code == 200
    return len(captured.captured_queries), len(response.json()["results"])


def test_household_list_runs_a_constant_number_of_queries_for_10_and_1000_households(
    org, api, django_assert_max_num_queries
):
    client = api(org.users.staff)
    _bulk_households(building_count=2, per_building=4)  # 10 households in all
    few_queries, few_rows = _list_queries(client)
    assert few_rows == 10
    _bulk_households(building_count=10, per_building=99)  # 1,000 households in all
    many_queries, many_rows = _list_queries(client)
    assert many_rows == 200  # page_size is capped at 200
    assert few_queries == many_queries
    with django_assert_max_num_queries(HOUSEHOLD_LIST_QUERIES):
        response = client.get(LIST, {"page_size": 1000, "tag": "elderly-alone", "ordering": "head_name"})
    assert response.json()["count"] == 998  # the two fixture households have no tag
    assert len(response.json()["results"]) == 200


def test_household_pages_follow_page_and_page_size(org, api):
    _bulk_households(building_count=1, per_building=8)
    client = api(org.users.staff)
    first = client.get(LIST, {"page_size": 3}).json()
    assert first["count"] == 10 and len(first["results"]) == 3 and first["next"]
    last = client.get(LIST, {"page_size": 3, "page": 4}).json()
    assert len(last["results"]) == 1 and last["next"] is None
    seen = set()
    for page in (1, 2, 3, 4):
        seen |= ids(client.get(LIST, {"page_size": 3, "page": page}))
    assert len(seen) == 10
    assert client.get(LIST, {"page_size": 3, "page": 5}).status_code == 404


def test_an_admin_gets_a_capped_count_and_next_links_past_it(org, api, monkeypatch, django_assert_max_num_queries):
    from core import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    _bulk_households(building_count=1, per_building=8)
    client = api(org.users.admin)
    with django_assert_max_num_queries(HOUSEHOLD_LIST_QUERIES):
        body = client.get(LIST, {"page_size": 4}).json()
    assert body["count"] == 5 and body["count_capped"] is True and body["next"]
    total = Household.objects.count()
    pages, seen, url = 0, [], LIST + "?page_size=4"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert len(seen) == len(set(seen)) == total
    assert client.get(LIST, {"page_size": 4, "page": pages + 1}).status_code == 404


def test_community_staff_get_an_exact_count_in_the_api(org, api, monkeypatch):
    from core import paging

    monkeypatch.setattr(paging, "COUNT_CAP", 5)
    _bulk_households(building_count=1, per_building=8)
    body = api(org.users.staff).get(LIST).json()
    assert body["count_capped"] is False
    assert body["count"] == Household.objects.filter(community=org.community).count() > 5


def test_the_list_answer_is_what_the_household_serializer_writes_field_for_field(org, api):
    """The list is built from tuples for speed (grid.serializers.household_list_data): it must not drift."""
    from grid.serializers import HouseholdSerializer
    from grid.services import household_update

    household_update(actor=None, household=org.household1, phone="13812345678", id_number=valid_id_number(7))
    org.household1.tags.set(Tag.objects.all()[:2])
    Household.objects.filter(pk=org.household2.pk).update(unit="", hub=None)
    answer = api(org.users.staff).get(LIST, {"page_size": 200}).json()
    ids = [row["id"] for row in answer["results"]]
    expected = HouseholdSerializer(
        Household.objects.select_related("building", "compound").prefetch_related("tags").in_bulk(ids).values(),
        many=True,
    ).data
    assert sorted(answer["results"], key=lambda row: row["id"]) == sorted(
        (dict(row) for row in expected), key=lambda row: row["id"]
    )
    assert any(row["tags"] for row in answer["results"]) and any(not row["unit"] for row in answer["results"])
