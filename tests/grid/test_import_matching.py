"""How an import's rows find the stored data and what a cell may say (issue 6, defects 1, 4-9, 11, 12).

Rows find existing nodes by the names people use, grid codes and addresses after the same
normalisation as the portal's; a blank cell keeps what is stored and clearing takes 清空; dates,
numbers where text belongs, control characters and formulas are refused with the bad value.
"""

import datetime

import pytest
from django.utils import translation
from openpyxl.utils import get_column_letter

from accounts.models import Role, RoleGrant
from grid.importing import workbook_import, workbook_validate
from grid.importing.cells import describe_value
from grid.importing.layout import CLEAR_MARKER, HOUSEHOLDS, SHEET_GRIDS, SHEET_HOUSEHOLDS, SHEET_POSTS, SHEET_TREE
from grid.models import Grid, GridPost, Household, OrgNode, Tag
from grid.rules import id_number_is_valid
from grid.services import grid_post_create, household_create, household_update, org_node_rename
from tests.factories import BuildingFactory, make_grid, valid_id_number
from tests.grid.workbooks import (
    data_snapshot,
    grid_row,
    household_row,
    post_row,
    row_counts,
    store_as_text,
    store_number_as_written,
    tree_row,
)


def codes(outcome) -> set[tuple]:
    return {(problem.sheet, problem.row, problem.column, problem.code) for problem in outcome.problems}


def _problem(outcome, code):
    return next(problem for problem in outcome.problems if problem.code == code)


# --- 1a: the names people use -------------------------------------------------------------------


@pytest.fixture
def sunny_building(org):
    """The portal's building is 阳光小区1号楼党小组 (place 1号楼), as a community may have named it."""
    org_node_rename(actor=None, node=org.building1, name="阳光小区1号楼党小组", place_name="1号楼")
    return OrgNode.objects.get(pk=org.building1.pk)


def test_a_building_written_by_its_place_or_a_short_party_name_is_the_stored_building(org, sunny_building, workbook):
    path = workbook(
        {
            SHEET_TREE: [
                tree_row(compound="阳光小区", building="1号楼"),
                tree_row(compound="阳光小区党支部", building="1号楼党小组", hub="张建国中心户"),
            ],
            SHEET_HOUSEHOLDS: [
                household_row(compound="阳光小区", building="1号楼党小组", room="101", head_name="新户主", hub=""),
                household_row(compound="阳光小区党支部", building="1号楼", room="102", head_name="新住户"),
            ],
            SHEET_GRIDS: [grid_row(code="01", name="第01网格", buildings="阳光小区/1号楼党小组")],
        }
    )
    nodes_before = OrgNode.objects.count()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert OrgNode.objects.count() == nodes_before
    assert Household.objects.get(pk=org.household1.pk).head_name == "新户主"
    assert Household.objects.get(head_name="新住户").building_id == sunny_building.pk
    assert list(org.grid1.buildings.values_list("pk", flat=True)) == [sunny_building.pk]


def test_a_name_that_could_be_two_stored_buildings_is_refused_and_creates_nothing(org, workbook):
    BuildingFactory(name="1号楼东党小组", parent=org.compound1, place_name="1号楼")
    path = workbook(
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="1号楼", hub="新中心户")],
            SHEET_HOUSEHOLDS: [household_row(building="1号楼", room="105")],
            SHEET_GRIDS: [grid_row(code="01", name="第01网格", buildings="阳光小区党支部/1号楼")],
        }
    )
    before = data_snapshot()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {
        (SHEET_TREE, 2, "楼栋党小组", "ambiguous_node"),
        (SHEET_HOUSEHOLDS, 2, "楼栋党小组", "ambiguous_node"),
        (SHEET_GRIDS, 2, "包含楼栋", "ambiguous_node"),
    }
    problem = outcome.problems[0]
    assert problem.params == {"name": "1号楼", "candidates": "1号楼东党小组、1号楼党小组"}
    assert problem.value == "1号楼"
    assert "1号楼东党小组" in problem.message()
    assert data_snapshot() == before


def test_the_exact_name_wins_over_a_place_two_buildings_share(org, workbook):
    BuildingFactory(name="1号楼东党小组", parent=org.compound1, place_name="1号楼")
    path = workbook({SHEET_HOUSEHOLDS: [household_row(building="1号楼党小组", room="101", head_name="改名")]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert Household.objects.get(pk=org.household1.pk).head_name == "改名"


def test_a_building_new_in_the_tree_sheet_is_found_by_its_place_in_the_same_sheet(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [
                tree_row(compound="阳光小区党支部", building="5号楼党小组"),
                tree_row(compound="阳光小区党支部", building="5号楼"),
            ],
            SHEET_HOUSEHOLDS: [household_row(building="5号楼", room="501")],
        }
    )
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert list(
        OrgNode.objects.filter(parent=org.compound1, name__startswith="5号楼").values_list("name", flat=True)
    ) == ["5号楼党小组"]


# --- 1b: buildings and holders change only when the sheet says so -----------------------------


def test_a_blank_building_list_keeps_the_grids_buildings_and_the_clear_marker_removes_them(org, workbook):
    keep = workbook({SHEET_GRIDS: [grid_row(code="01", name="第01网格", buildings="")]})
    outcome = workbook_import(actor=org.users.staff, source=keep)
    assert outcome.ok, outcome.error_dicts()
    assert list(org.grid1.buildings.values_list("pk", flat=True)) == [org.building1.pk]
    _, plan, _ = workbook_validate(actor=org.users.staff, source=keep)
    assert plan.grids[0].building_paths is None
    clear = workbook({SHEET_GRIDS: [grid_row(code="01", name="第01网格", buildings=CLEAR_MARKER)]})
    _, plan, _ = workbook_validate(actor=org.users.staff, source=clear)
    assert plan.grids[0].building_paths == []
    assert workbook_import(actor=org.users.staff, source=clear).ok
    assert not org.grid1.buildings.exists()


def test_a_blank_holder_keeps_the_post_holder_and_the_clear_marker_vacates_the_post(org, workbook):
    post = grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    keep = workbook({SHEET_POSTS: [post_row(code="01", holder="")]})
    assert workbook_import(actor=org.users.staff, source=keep).ok
    assert GridPost.objects.get(pk=post.pk).holder == org.users.gridworker
    assert RoleGrant.objects.active().filter(user=org.users.gridworker, role=Role.GRID_WORKER, grid=org.grid1).exists()

    vacate = workbook({SHEET_POSTS: [post_row(code="01", holder=CLEAR_MARKER)]})
    _, plan, _ = workbook_validate(actor=org.users.staff, source=vacate)
    assert plan.posts[0].holder == ""
    assert workbook_import(actor=org.users.staff, source=vacate).ok
    assert GridPost.objects.get(pk=post.pk).holder is None

    fill = workbook({SHEET_POSTS: [post_row(code="01", holder="cadre1")]})
    assert workbook_import(actor=org.users.staff, source=fill).ok
    assert GridPost.objects.get(pk=post.pk).holder == org.users.cadre1


# --- 4: dates where text belongs ----------------------------------------------------------------


def test_a_date_cell_in_a_text_column_is_refused_with_what_happened_and_how_to_fix_it(org, workbook):
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                household_row(room=datetime.datetime(2026, 5, 2)),
                household_row(room="311", unit=datetime.datetime(2026, 1, 1)),
                household_row(room="312", head_name=datetime.date(2026, 3, 1)),
                household_row(room="313", phone=datetime.datetime(2026, 3, 1)),
                household_row(room="314", id_number=datetime.time(5, 2)),
            ],
            SHEET_GRIDS: [grid_row(code=datetime.datetime(2026, 1, 3))],
        }
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {
        (SHEET_HOUSEHOLDS, 2, "门牌号", "date_cell"),
        (SHEET_HOUSEHOLDS, 3, "单元", "date_cell"),
        (SHEET_HOUSEHOLDS, 4, "户主姓名", "date_cell"),
        (SHEET_HOUSEHOLDS, 5, "联系电话", "date_cell"),
        (SHEET_HOUSEHOLDS, 6, "身份证号", "date_cell"),
        (SHEET_GRIDS, 2, "网格编码", "date_cell"),
    }
    room = _problem(outcome, "date_cell")
    assert room.params == {"date": "2026-05-02"} and room.value == "2026-05-02"
    with translation.override("en"):
        assert "2026-05-02" in room.message() and "format the column as text" in room.message()
    assert "2026-05-02" in room.message()
    assert row_counts() == before


# --- 5: grid codes ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", [1, 1.0, "1", "１", "001"])
def test_a_grid_code_without_its_leading_zero_is_the_stored_grid(org, workbook, typed):
    path = workbook(
        {
            SHEET_GRIDS: [grid_row(code=typed, name="改名网格", buildings="阳光小区党支部/1号楼党小组")],
            SHEET_POSTS: [post_row(code=typed, holder="cadre1")],
        }
    )
    grids_before = Grid.objects.count()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert Grid.objects.count() == grids_before
    grid = Grid.objects.get(pk=org.grid1.pk)
    assert (grid.code, grid.name) == ("01", "改名网格")
    assert list(grid.buildings.values_list("pk", flat=True)) == [org.building1.pk]
    assert GridPost.objects.get(grid=grid).holder == org.users.cadre1


def test_a_code_two_stored_grids_share_after_normalisation_is_refused(org, workbook):
    # The services refuse such a code now; a grid stored before that rule may still have it.
    Grid.objects.filter(pk=make_grid(community=org.community, code="13").pk).update(code="1")
    path = workbook({SHEET_GRIDS: [grid_row(code="01", name="改名")], SHEET_POSTS: [post_row(code=1)]})
    before = data_snapshot()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {
        (SHEET_GRIDS, 2, "网格编码", "ambiguous_grid_code"),
        (SHEET_POSTS, 2, "网格编码", "ambiguous_grid_code"),
    }
    assert outcome.problems[0].params["codes"] == "01、1"
    assert data_snapshot() == before


def test_a_new_grid_in_the_sheet_is_found_by_a_post_row_that_drops_its_leading_zero(org, workbook):
    path = workbook({SHEET_GRIDS: [grid_row(code="07", name="第七网格")], SHEET_POSTS: [post_row(code=7)]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert GridPost.objects.filter(grid__code="07").count() == 1
    assert not Grid.objects.filter(code="7").exists()


def test_the_same_code_twice_in_the_grid_sheet_is_a_duplicate_even_without_its_zero(org, workbook):
    path = workbook({SHEET_GRIDS: [grid_row(code="08"), grid_row(code=8)]})
    assert codes(workbook_import(actor=org.users.staff, source=path)) == {
        (SHEET_GRIDS, 3, "网格编码", "duplicate_grid")
    }


# --- 6: a blank cell keeps, 清空 clears --------------------------------------------------------


@pytest.fixture
def full_household(org):
    household_update(
        actor=None,
        household=org.household1,
        tags=Tag.objects.filter(name="独居老人"),
        resident_count=5,
        is_care=True,
        care_reason="独居",
    )
    return Household.objects.get(pk=org.household1.pk)


def _blank_row(**values):
    blank = dict.fromkeys(("phone", "id_number", "resident_count", "tags", "is_care", "care_reason", "hub"), "")
    return household_row(**{**blank, "room": "101", "head_name": "张建国", **values})


def test_blank_cells_leave_every_stored_value_of_a_household_as_it_is(org, full_household, workbook):
    path = workbook({SHEET_HOUSEHOLDS: [_blank_row(head_name=full_household.head_name)]})
    before = data_snapshot()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert data_snapshot() == before
    household = Household.objects.get(pk=full_household.pk)
    assert (household.phone, household.id_number) == (full_household.phone, full_household.id_number)
    assert (household.resident_count, household.is_care, household.care_reason) == (5, True, "独居")
    assert household.hub_id == org.hub1.pk
    assert list(household.tags.values_list("name", flat=True)) == ["独居老人"]


def test_the_clear_marker_clears_a_stored_value_and_the_plan_says_so_explicitly(org, full_household, workbook):
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                _blank_row(
                    phone=CLEAR_MARKER,
                    id_number=CLEAR_MARKER,
                    tags=CLEAR_MARKER,
                    hub=CLEAR_MARKER,
                    is_care="否",
                    care_reason=CLEAR_MARKER,
                )
            ]
        }
    )
    _, plan, problems = workbook_validate(actor=org.users.staff, source=path)
    assert not problems
    op = plan.households[0]
    assert (op.values["phone"], op.values["id_number"], op.values["care_reason"]) == ("", "", "")
    assert (op.tag_ids, op.hub, op.values["is_care"]) == (set(), "", False)
    assert "resident_count" not in op.values
    assert workbook_import(actor=org.users.staff, source=path).ok
    household = Household.objects.get(pk=full_household.pk)
    assert (household.phone, household.phone_tail, household.id_number, household.hub_id) == ("", "", "", None)
    assert (household.is_care, household.care_reason, household.resident_count) == (False, "", 5)
    assert not household.tags.exists()


def test_a_new_household_with_blank_cells_gets_the_defaults(org, workbook):
    path = workbook({SHEET_HOUSEHOLDS: [_blank_row(room="990", head_name="新户")]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    household = Household.objects.get(room="990")
    assert (household.resident_count, household.is_care, household.phone, household.hub_id) == (1, False, "", None)
    assert not household.tags.exists()


def test_the_clear_marker_is_refused_where_a_value_cannot_be_cleared(org, full_household, workbook):
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                _blank_row(room="104", resident_count=CLEAR_MARKER),
                _blank_row(room="102", is_care=CLEAR_MARKER),
                _blank_row(room="101", care_reason=CLEAR_MARKER),  # a care household keeps needing a reason
                _blank_row(room="103", head_name=CLEAR_MARKER),
                _blank_row(room=CLEAR_MARKER),
            ],
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building=CLEAR_MARKER)],
            SHEET_GRIDS: [grid_row(code="01", name=CLEAR_MARKER)],
        }
    )
    before = data_snapshot()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {
        (SHEET_HOUSEHOLDS, 2, "居住人数", "clear_resident_count"),
        (SHEET_HOUSEHOLDS, 3, "需关爱对象", "clear_is_care"),
        (SHEET_HOUSEHOLDS, 4, "关爱原因", "clear_care_reason"),
        (SHEET_HOUSEHOLDS, 5, "户主姓名", "clear_not_allowed"),
        (SHEET_HOUSEHOLDS, 6, "门牌号", "clear_not_allowed"),
        (SHEET_TREE, 2, "楼栋党小组", "clear_not_allowed"),
        (SHEET_GRIDS, 2, "网格名称", "clear_not_allowed"),
    }
    assert all(problem.value == CLEAR_MARKER for problem in outcome.problems)
    assert data_snapshot() == before


def test_a_blank_colour_keeps_a_red_grid_red(org, workbook):
    from grid.services import grid_set_colour

    grid_set_colour(actor=None, grid=org.grid1, colour="red", reason="电线老化")
    path = workbook({SHEET_GRIDS: [grid_row(code="01", name="第01网格", colour="", colour_reason="")]})
    assert workbook_import(actor=org.users.staff, source=path).ok
    grid = Grid.objects.get(pk=org.grid1.pk)
    assert (grid.colour, grid.colour_reason) == ("red", "电线老化")


# --- 7: the ways people write a flat ----------------------------------------------------------


STORED_FLATS = ("202", "301", "302", "601", "602")


@pytest.fixture
def flats(org):
    return {
        room: household_create(actor=None, building=org.building1, unit="1", room=room, head_name=f"住户{room}")
        for room in STORED_FLATS
    }


@pytest.mark.parametrize(
    ("unit", "room", "stored"),
    [
        ("1", "202室", "202"),
        ("1单元", "301", "301"),
        ("1", "３０２", "302"),
        ("01", "601", "601"),
        ("1", "6-02", "602"),
        ("第1单元", "６－０２室", "602"),
        (1, 202, "202"),
    ],
)
def test_an_address_variant_updates_the_stored_flat_instead_of_adding_a_second(
    org, flats, workbook, unit, room, stored
):
    path = workbook({SHEET_HOUSEHOLDS: [household_row(unit=unit, room=room, head_name="新名字")]})
    households = Household.objects.count()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert Household.objects.count() == households
    assert Household.objects.get(pk=flats[stored].pk).head_name == "新名字"


def test_a_flat_stored_before_the_rule_is_found_by_its_normalised_address(org, flats, workbook):
    Household.objects.filter(pk=flats["202"].pk).update(unit="01", room="202室")  # legacy data, as once stored
    path = workbook({SHEET_HOUSEHOLDS: [household_row(unit="1", room="202", head_name="新名字")]})
    households = Household.objects.count()
    assert workbook_import(actor=org.users.staff, source=path).ok
    assert Household.objects.count() == households
    assert Household.objects.get(pk=flats["202"].pk).head_name == "新名字"


def test_two_stored_flats_at_one_normalised_address_are_refused_not_guessed(org, flats, workbook):
    Household.objects.filter(pk=flats["301"].pk).update(room="202室")  # a duplicate the old import made
    path = workbook({SHEET_HOUSEHOLDS: [household_row(unit="1", room="202", head_name="新名字")]})
    before = data_snapshot()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {(SHEET_HOUSEHOLDS, 2, "门牌号", "ambiguous_household")}
    assert "202室" in outcome.problems[0].params["addresses"]
    assert data_snapshot() == before


# --- 8: an ID number stored as a number -----------------------------------------------------------


@pytest.mark.parametrize("number", ["110101198000010000", "1.10101198000010E+17", "110101198000010019", "12345"])
def test_an_id_number_stored_as_a_number_is_refused(org, workbook, number):
    assert id_number_is_valid("110101198000010000")  # the lost digits happen to check
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room="920", id_number="")]})
    id_column = get_column_letter(HOUSEHOLDS.headers.index("身份证号") + 1)
    store_number_as_written(path, SHEET_HOUSEHOLDS, f"{id_column}2", number)  # as LibreOffice and Excel write it
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {(SHEET_HOUSEHOLDS, 2, "身份证号", "id_number_as_number")}
    assert "110101198000010" not in outcome.problems[0].value
    assert not Household.objects.filter(room="920").exists()


# --- 9: the error table repeats the bad value -------------------------------------------------------


def test_every_problem_carries_the_bad_value_masked_where_it_is_personal(org, workbook):
    wrong_id = valid_id_number(3)[:17] + ("1" if valid_id_number(3)[17] != "1" else "2")
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                household_row(room="931", phone="13912345678x"),
                household_row(room="932", id_number=wrong_id),
                household_row(room="933", is_care="可能"),
                household_row(room="934", head_name="长" * 60),
            ]
        }
    )
    outcome = workbook_import(actor=org.users.staff, source=path)
    values = {problem.code: problem.value for problem in outcome.problems}
    assert values["phone_invalid"] == "139*****678x"
    assert values["id_number_invalid"] == wrong_id[:4] + "*" * 10 + wrong_id[-4:]
    assert values["yes_no"] == "可能"
    assert values["too_long"] == "长" * 49 + "…"
    assert all("value" in problem.as_dict() for problem in outcome.problems)
    assert outcome.error_dicts()[0]["value"] == "139*****678x"


def test_a_described_value_shows_invisible_characters_and_masks_a_care_reason():
    assert describe_value("head_name", "张\u202e三") == "张U+202E三"
    assert describe_value("head_name", "张_x000B_三") == "张U+000B三"
    assert describe_value("care_reason", "独居，腿脚不便") == "******"
    assert describe_value("phone", 13912345678) == "139****5678"
    assert describe_value("room", datetime.datetime(2026, 5, 2)) == "2026-05-02"
    assert describe_value("room", None) == ""


# --- 11/12: control characters and formulas -----------------------------------------------------


def test_a_cell_with_control_characters_or_bidi_overrides_is_refused_naming_them(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="3号楼\u202e党小组")],
            SHEET_HOUSEHOLDS: [
                household_row(room="941", head_name="张_x000B_三"),  # how Excel writes U+000B into a cell
                household_row(room="942", care_reason="_x001B_[31m独居", is_care="是"),
                household_row(room="943", phone="139\u00850001111"),
            ],
            SHEET_POSTS: [post_row(title="专职\u2066网格员")],
        }
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {
        (SHEET_TREE, 2, "楼栋党小组", "unsafe_characters"),
        (SHEET_HOUSEHOLDS, 2, "户主姓名", "unsafe_characters"),
        (SHEET_HOUSEHOLDS, 3, "关爱原因", "unsafe_characters"),
        (SHEET_HOUSEHOLDS, 4, "联系电话", "unsafe_characters"),
        (SHEET_POSTS, 2, "岗位名称", "unsafe_characters"),
    }
    characters = {
        problem.row: problem.params["characters"] for problem in outcome.problems if problem.sheet == SHEET_HOUSEHOLDS
    }
    assert characters == {2: "U+000B", 3: "U+001B", 4: "U+0085"}
    assert _problem(outcome, "unsafe_characters").value == "3号楼U+202E党小组"
    assert row_counts() == before


def test_a_name_that_reads_as_a_formula_is_refused_but_a_phone_with_plus_is_not(org, workbook):
    path = workbook(
        {
            SHEET_TREE: [
                tree_row(compound="阳光小区党支部", building="+3号楼党小组"),
                tree_row(compound="阳光小区党支部", building="1号楼党小组", hub="@中心户"),
            ],
            SHEET_HOUSEHOLDS: [
                household_row(room="951", head_name='=HYPERLINK("http://x.cn","点")'),
                household_row(room="952", phone="+86 139 0000 1111"),
            ],
            SHEET_GRIDS: [grid_row(code="09", name="－九网格")],
            SHEET_POSTS: [post_row(title="-岗位")],
        }
    )
    head_name = get_column_letter(HOUSEHOLDS.headers.index("户主姓名") + 1)
    store_as_text(path, SHEET_HOUSEHOLDS, [f"{head_name}2"])  # typed into a text cell, as the export writes it
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert codes(outcome) == {
        (SHEET_TREE, 2, "楼栋党小组", "formula"),
        (SHEET_TREE, 3, "党员中心户", "formula"),
        (SHEET_HOUSEHOLDS, 2, "户主姓名", "formula"),
        (SHEET_GRIDS, 2, "网格名称", "formula"),
        (SHEET_POSTS, 2, "岗位名称", "formula"),
    }
    assert _problem(outcome, "formula").value == "+3号楼党小组"


def test_a_formula_like_name_the_portal_already_holds_is_not_entered_again_and_imports_back(org, workbook):
    # Stored before names were checked: the export writes it as text, and importing that export changes nothing.
    Household.objects.filter(pk=org.household1.pk).update(head_name="=1+1")
    Grid.objects.filter(pk=org.grid1.pk).update(name="+1格")
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    GridPost.objects.filter(grid=org.grid1).update(title="-楼栋长")
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [household_row(room="101", head_name="=1+1", hub="张建国中心户")],
            SHEET_GRIDS: [grid_row(code="01", name="+1格", buildings="")],
            SHEET_POSTS: [post_row(code="01", post_type="B", title="-楼栋长")],
        }
    )
    head_name = get_column_letter(HOUSEHOLDS.headers.index("户主姓名") + 1)
    store_as_text(path, SHEET_HOUSEHOLDS, [f"{head_name}2"])
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    renamed = workbook({SHEET_HOUSEHOLDS: [household_row(room="101", head_name="+张建国")]})
    assert codes(workbook_import(actor=org.users.staff, source=renamed)) == {
        (SHEET_HOUSEHOLDS, 2, "户主姓名", "formula")
    }
