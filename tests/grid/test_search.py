"""Addresses as people say them, and household search through indexes (issue 5, defect 5)."""

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from grid import selectors
from grid.exporting import workbook_export
from grid.importing import workbook_import
from grid.importing.layout import SHEET_HOUSEHOLDS, SHEET_TREE
from grid.models import Household, OrgNode
from grid.search import AddressQuery, parse_address
from grid.services import household_create, org_node_rename
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory, grant
from tests.grid.workbooks import household_row, read_sheets, tree_row, write_workbook


@pytest.fixture
def world(org):
    """阳光小区 (compound1) with 1号楼 and 3号楼; a 3号楼 in 和平小区 too, and one in the other community."""
    building3 = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    peace3 = BuildingFactory(name="3号楼党小组", parent=org.compound2)
    south3 = BuildingFactory(name="3号楼党小组", parent=org.other_compound)
    make = household_create
    households = {
        "sun-1-2-502": make(actor=None, building=org.building1, unit="2", room="502", head_name="王秀英"),
        "sun-3-2-402": make(
            actor=None, building=building3, unit="2", room="402", head_name="刘德明", phone="13800005678"
        ),
        "sun-3-1-402": make(actor=None, building=building3, unit="1", room="402", head_name="陈红"),
        "peace-3-2-402": make(actor=None, building=peace3, unit="2", room="402", head_name="赵桂芳"),
        "south-3-2-402": make(
            actor=None, building=south3, unit="2", room="402", head_name="刘德华", phone="13900005678"
        ),
    }
    return households


def found(user, q):
    filters = selectors.HouseholdFilters(q=q, status="active")
    return set(selectors.household_list(user=user, filters=filters).values_list("pk", flat=True))


def test_an_address_reads_as_people_say_it(org, world):
    assert world["sun-1-2-502"].address == "阳光小区1号楼2单元502室"
    household = household_create(actor=None, building=org.building1, room="9", head_name="李")
    assert household.address == "阳光小区1号楼9室"


def test_an_english_page_reads_the_address_with_words(org, world):
    from django.utils import translation

    with translation.override("en"):
        assert world["sun-1-2-502"].address == "阳光小区 1号楼, Unit 2, Room 502"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("3号楼2单元402", AddressQuery(building="3", unit="2", room="402")),
        ("3栋2单元402室", AddressQuery(building="3", unit="2", room="402")),
        ("1-2-502", AddressQuery(building="1", unit="2", room="502")),
        ("１－２－５０２", AddressQuery(building="1", unit="2", room="502")),
        ("3-402", AddressQuery(building="3", room="402")),
        ("阳光小区3号楼", AddressQuery(estate="阳光小区", building="3")),
        ("阳光小区 3号楼 2单元", AddressQuery(estate="阳光小区", building="3", unit="2")),
        ("刘德明", None),
        ("5678", None),
    ],
)
def test_a_query_is_read_as_an_address_where_it_is_one(text, parsed):
    assert parse_address(text) == parsed


def test_search_finds_addresses_names_and_phone_tails_within_scope(org, world):
    staff, ids = org.users.staff, {key: household.pk for key, household in world.items()}
    assert found(staff, "3号楼2单元402") == {ids["sun-3-2-402"], ids["peace-3-2-402"]}
    assert found(staff, "1-2-502") == {ids["sun-1-2-502"]}
    assert found(staff, "3-402") == {ids["sun-3-2-402"], ids["sun-3-1-402"], ids["peace-3-2-402"]}
    assert found(staff, "阳光小区3号楼") == {ids["sun-3-2-402"], ids["sun-3-1-402"]}
    assert found(staff, "阳光小区3号楼2单元402室") == {ids["sun-3-2-402"]}
    assert found(staff, "刘德") == {ids["sun-3-2-402"]}  # 刘德华 lives in the other community
    assert found(staff, "5678") == {ids["sun-3-2-402"]}
    assert found(org.users.other_staff, "5678") == {ids["south-3-2-402"]}
    assert found(org.users.cadre2, "3号楼2单元402") == set()  # a cadre of 2号楼 sees neither


def test_the_api_search_reads_queries_the_same_way(org, world):
    client = APIClient()
    client.force_login(org.users.staff)
    answer = client.get("/api/v1/households/", {"search": "阳光小区3号楼2单元402"}).json()
    results = answer["results"] if isinstance(answer, dict) else answer
    assert [row["id"] for row in results] == [world["sun-3-2-402"].pk]
    assert results[0]["address"] == "阳光小区3号楼2单元402室"


def test_a_renamed_place_changes_the_address_and_what_search_finds(org, world):
    org_node_rename(actor=None, node=org.compound1, name=org.compound1.name, place_name="阳光花园")
    household = Household.objects.select_related("building", "compound").get(pk=world["sun-1-2-502"].pk)
    assert household.address == "阳光花园1号楼2单元502室"
    assert found(org.users.staff, "阳光花园1号楼") == {household.pk, org.household1.pk}


def test_the_household_list_shows_addresses_in_a_constant_number_of_queries(
    org, world, login, django_assert_max_num_queries
):
    client = login(org.users.staff)
    client.get(reverse("grid:household-list"))  # warm the session and the user's scope
    for room in range(20):
        HouseholdFactory(building=org.building1, unit="5", room=f"{room + 1}01")
    with django_assert_max_num_queries(14):
        response = client.get(reverse("grid:household-list"), {"q": "1号楼"})
    content = response.content.decode()
    assert "阳光小区1号楼5单元101室" in content and "党小组2单元" not in content


def test_the_building_filter_lists_the_buildings_of_the_chosen_compound_only(org, world, login):
    client = login(org.users.staff)
    page = client.get(reverse("grid:household-list")).content.decode()
    assert 'name="building" disabled' in page  # a city's thousands of buildings wait for a compound
    page = client.get(reverse("grid:household-list"), {"compound": org.compound2.pk}).content.decode()
    assert f'value="{org.building2.pk}"' in page and f'value="{org.building1.pk}"' not in page


def test_a_building_from_another_compound_is_dropped_when_the_compound_changes(org, world, login):
    response = login(org.users.staff).get(
        reverse("grid:household-list"), {"compound": org.compound2.pk, "building": org.building1.pk}
    )
    assert response.context["filters"].building is None
    assert {row["compound_id"] for row in response.context["rows"]} == {org.compound2.pk}


def test_the_export_writes_the_address(org, world):
    with workbook_export(user=org.users.staff) as target:
        sheets = read_sheets(target.read())
    addresses = {row["地址"] for row in sheets[SHEET_HOUSEHOLDS]}
    assert "阳光小区1号楼2单元502室" in addresses and "阳光小区3号楼2单元402室" in addresses


def test_the_import_matches_compounds_and_buildings_by_their_place_names(org, world, tmp_path):
    before = OrgNode.objects.count()
    path = write_workbook(
        tmp_path / "places.xlsx",
        {
            SHEET_TREE: [tree_row(compound="阳光小区", building="1号楼")],
            SHEET_HOUSEHOLDS: [
                household_row(
                    compound="阳光小区",
                    building="1号楼",
                    unit="2",
                    room="502",
                    head_name="王秀英",
                    phone="138 0000 1234",
                ),
                household_row(compound="阳光小区党支部", building="3号楼", unit="7", room="701", head_name="周红梅"),
            ],
        },
    )
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert OrgNode.objects.count() == before  # no second 阳光小区 and no second 1号楼
    existing = Household.objects.get(pk=world["sun-1-2-502"].pk)
    assert (existing.phone, existing.phone_tail) == ("13800001234", "1234")
    added = Household.objects.get(room="701")
    assert added.building.name == "3号楼党小组" and added.compound_id == org.compound1.pk


# --- through an index at 200,000 households (PostgreSQL) ------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"


@pytest.fixture
def many_households(org, world):
    """3,000 more households in the staff's community, analysed, so the planner prices its
    indexes as it would at 200,000 (with a handful of rows every plan is a sequential scan)."""
    buildings = [BuildingFactory(name=f"{n}号楼党小组", parent=org.compound2) for n in range(11, 14)]
    rows = [
        Household(
            community_id=org.community.pk,
            compound_id=org.compound2.pk,
            building=building,
            unit=str(unit),
            room=str(room),
            head_name=f"{SURNAMES[(unit * room) % len(SURNAMES)]}{unit}{room}",
            phone=f"139{unit:04d}{room:04d}",
            phone_tail=f"{room:04d}",
        )
        for building in buildings
        for unit in range(1, 11)
        for room in range(101, 201)
    ]
    Household.objects.bulk_create(rows, batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE grid_household")
        cursor.execute("ANALYZE grid_orgnode")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="EXPLAIN and operator classes are PostgreSQL's")
@pytest.mark.parametrize(
    ("q", "column"),
    [
        ("3号楼2单元402", ("building_id", "room")),
        ("1-2-502", ("building_id", "room")),
        ("阳光小区3号楼", "building_id"),
        ("刘德", "head_name"),
        ("5678", "phone_tail"),
        ("402", "room"),
    ],
)
def test_each_kind_of_search_is_an_index_lookup_on_its_column(org, many_households, q, column):
    filters = selectors.HouseholdFilters(q=q, status="active")
    plan = selectors.household_list(user=org.users.staff, filters=filters).explain()
    lines = plan.splitlines()
    scans = [index for index, line in enumerate(lines) if " on grid_household " in line]
    assert scans and not [index for index in scans if "Seq Scan" in lines[index]], plan
    columns = column if isinstance(column, tuple) else (column,)
    conditions = [line for line in lines if "Index Cond" in line and any(name in line for name in columns)]
    assert conditions, plan


# --- place names are edited wherever the tree is ------------------------------------------------------


def test_a_new_node_is_named_after_its_place_and_the_portal_edits_the_place_name(org, login):
    client = login(org.users.admin)
    client.post(reverse("grid:node-add-child", args=[org.compound1.pk]), {"name": "5号楼党小组", "code": ""})
    building = OrgNode.objects.get(parent=org.compound1, name="5号楼党小组")
    assert building.place_name == "5号楼"
    client.post(reverse("grid:node-rename", args=[building.pk]), {"name": building.name, "place_name": "五号楼"})
    building.refresh_from_db()
    assert building.place_name == "五号楼"
    form = client.get(reverse("grid:node-rename", args=[org.community.pk])).context["form"]
    assert "place_name" not in form.fields  # a community is not a place of an address


def test_the_api_and_the_admin_edit_the_place_name(org, login):
    client = APIClient()
    client.force_login(org.users.admin)
    created = client.post("/api/v1/org-nodes/", {"name": "6号楼党小组", "parent": org.compound1.pk}, format="json")
    assert created.status_code == 201 and created.json()["place_name"] == "6号楼"
    node_id = created.json()["id"]
    renamed = client.patch(f"/api/v1/org-nodes/{node_id}/", {"place_name": "6栋"}, format="json")
    assert renamed.json()["place_name"] == "6栋"
    admin = login(org.users.admin)
    response = admin.post(
        reverse("admin:grid_orgnode_change", args=[org.building2.pk]),
        {"name": org.building2.name, "parent": org.compound2.pk, "place_name": "二号楼", "code": ""},
    )
    assert response.status_code == 302
    assert OrgNode.objects.get(pk=org.building2.pk).place_name == "二号楼"


# --- at a city's scale: place ids among the visible nodes, a subquery when they are many ---------------


def test_an_address_search_reads_only_the_buildings_the_user_sees(org, world):
    from grid.search import household_search_condition

    staff_condition = household_search_condition(
        "3号楼2单元402", nodes=lambda: selectors.org_node_visible(user=org.users.staff)
    )
    sql = str(Household.objects.filter(staff_condition).query)
    south3 = OrgNode.objects.get(name="3号楼党小组", parent=org.other_compound)
    assert str(south3.pk) not in sql.split("building_id", 1)[1].split(")", 1)[0]  # not in the IN list
    assert found(org.users.staff, "3号楼2单元402") == {world["sun-3-2-402"].pk, world["peace-3-2-402"].pk}


def test_a_city_wide_address_search_with_many_buildings_uses_a_subquery(org, world, monkeypatch):
    from grid import search

    monkeypatch.setattr(search, "LITERAL_IDS_MAX", 1)  # three 3号楼 in the city: more than a literal list
    condition = search.household_search_condition(
        "3号楼2单元402", nodes=lambda: selectors.org_node_visible(user=org.users.admin)
    )
    assert "SELECT" in str(Household.objects.filter(condition).query).split("WHERE", 1)[1]
    assert found(org.users.admin, "3号楼2单元402") == {
        world["sun-3-2-402"].pk,
        world["peace-3-2-402"].pk,
        world["south-3-2-402"].pk,
    }
    assert found(org.users.staff, "3号楼2单元402") == {world["sun-3-2-402"].pk, world["peace-3-2-402"].pk}


def test_a_cadre_may_name_the_estate_of_their_building(org):
    building3 = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    household = household_create(actor=None, building=building3, unit="2", room="402", head_name="刘德明")
    cadre = UserFactory(username="cadre-of-3")
    grant(cadre, Role.CADRE, node=building3)
    place = org.compound1.place_name or "阳光小区"
    assert found(cadre, f"{place}3号楼") == {household.pk}
    assert found(cadre, place) == {household.pk}  # the estate by its place name


def test_a_place_name_many_communities_share_still_finds_the_users_own(org, login, monkeypatch):
    """The places a search names are looked up among the user's nodes, not the city's first few hundred."""
    import grid.search

    monkeypatch.setattr(grid.search, "LITERAL_IDS_MAX", 2)
    from tests.factories import CommunityFactory, CompoundFactory

    for n in range(3):
        CompoundFactory(name="重名小区党支部", place_name="重名小区", parent=CommunityFactory(name=f"别处社区{n}"))
    OrgNode.objects.filter(pk=org.compound2.pk).update(place_name="重名小区")
    response = login(org.users.staff).get(reverse("grid:household-list"), {"q": "重名小区"})
    assert {row["compound_id"] for row in response.context["rows"]} == {org.compound2.pk}
