"""Reading workbooks as communities keep them: hidden and duplicate sheets, header words of their
own, merged cells, title, sub-header and totals rows, example rows, LibreOffice re-saves, and
files whose XML claims more than it holds."""

import datetime
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import Workbook

from grid.importing import reader as reader_module
from grid.importing import workbook_import
from grid.importing.layout import (
    CLEAR_MARKER,
    DATA_SHEETS,
    EXAMPLE_COMMUNITY,
    HOUSEHOLDS,
    README_LINES,
    SHEET_GRIDS,
    SHEET_HOUSEHOLDS,
    SHEET_POSTS,
    SHEET_README,
    SHEET_TREE,
    is_clear_marker,
    normalise_header,
)
from grid.importing.notes import NOTES, READER_PROBLEMS, render_note, workbook_notes
from grid.importing.problems import ProblemList
from grid.importing.reader import read_workbook
from grid.importing.xlsx import MAX_COLUMNS
from grid.models import Grid, GridPost, Household, OrgNode
from tests.factories import valid_id_number
from tests.grid.hostile_workbooks import dimension_bomb, styled_empty_rows, wide_rows
from tests.grid.workbooks import household_row, row_counts, write_ledger

LEDGERS = Path(__file__).resolve().parent / "ledgers"
HEADERS = HOUSEHOLDS.headers


def read(path):
    problems = ProblemList()
    return read_workbook(path, problems), problems


def codes(problems):
    return {(problem.sheet, problem.row, problem.code) for problem in problems}


def household(**values):
    return household_row(**values)


def stored(head_name):
    return Household.objects.get(head_name=head_name, is_active=True)


# --- sheets ---------------------------------------------------------------------------------------


def test_a_hidden_old_copy_of_a_sheet_is_not_read_and_the_visible_one_is(org, tmp_path):
    path = write_ledger(
        tmp_path / "hidden.xlsx",
        {
            SHEET_HOUSEHOLDS: [
                HEADERS,
                household(room="301", head_name="钱进"),
                household(room="302", head_name="孙华", id_number=valid_id_number(78)),
                household(room="303", head_name="周立", id_number=valid_id_number(79)),
            ],
            SHEET_HOUSEHOLDS + " ": [HEADERS, household(room="301", head_name="旧户主")],
            "居民户（旧）": [HEADERS, household(room="304", head_name="更旧的户主")],
        },
        states={SHEET_HOUSEHOLDS + " ": "hidden", "居民户（旧）": "veryHidden"},
    )
    parsed, problems = read(path)
    assert not problems
    assert parsed.ignored_sheets == [
        {"sheet": "居民户 ", "reason": "hidden"},
        {"sheet": "居民户（旧）", "reason": "hidden"},
    ]
    assert [row[0] for row in parsed.get(SHEET_HOUSEHOLDS).rows] == [2, 3, 4]

    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert stored("钱进").room == "301"
    assert not Household.objects.filter(head_name="旧户主").exists()
    assert Household.objects.filter(head_name__in=["钱进", "孙华", "周立"]).count() == 3


@pytest.mark.parametrize("second", ["居民户 ", "　居民户", " 居民户\u3000"])
def test_two_visible_sheets_meaning_the_same_sheet_are_an_error_and_nothing_is_written(org, tmp_path, second):
    path = write_ledger(
        tmp_path / "twice.xlsx",
        {SHEET_HOUSEHOLDS: [HEADERS, household(room="301")], second: [HEADERS, household(room="302")]},
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert not outcome.ok
    assert codes(outcome.problems) == {(SHEET_HOUSEHOLDS, None, "duplicate_sheet")}
    assert outcome.problems[0].params == {"name": SHEET_HOUSEHOLDS, "sheets": f"“{SHEET_HOUSEHOLDS}”、“{second}”"}
    with translation.override("zh-hans"):
        assert outcome.problems[0].message().startswith("工作簿中有几张可见的表都名为 居民户：“居民户”、“")
    assert row_counts() == before


def test_a_sheet_name_with_spaces_is_read_as_the_data_sheet(tmp_path):
    path = write_ledger(tmp_path / "spaced.xlsx", {" 居民户\u3000": [HEADERS, household()]})
    parsed, problems = read(path)
    assert not problems
    assert parsed.get(SHEET_HOUSEHOLDS).title == " 居民户\u3000"
    assert len(parsed.get(SHEET_HOUSEHOLDS).rows) == 1


def test_sheets_that_are_not_read_say_why(tmp_path):
    path = write_ledger(
        tmp_path / "others.xlsx",
        {SHEET_README: [["说明"]], "统计": [["合计"]], SHEET_HOUSEHOLDS: [HEADERS, household()], "备份": [HEADERS]},
        states={"备份": "hidden"},
    )
    parsed, problems = read(path)
    assert not problems
    assert parsed.ignored_sheets == [
        {"sheet": SHEET_README, "reason": "readme"},
        {"sheet": "统计", "reason": "unknown"},
        {"sheet": "备份", "reason": "hidden"},
    ]


def test_a_workbook_whose_only_data_sheet_is_hidden_has_no_data_sheets(tmp_path):
    path = write_ledger(
        tmp_path / "only-hidden.xlsx",
        {"Sheet1": [["x"]], SHEET_HOUSEHOLDS: [HEADERS, household()]},
        states={SHEET_HOUSEHOLDS: "hidden"},
    )
    parsed, problems = read(path)
    assert [problem.code for problem in problems] == ["no_data_sheets"]
    assert {"sheet": SHEET_HOUSEHOLDS, "reason": "hidden"} in parsed.ignored_sheets


# --- headers ---------------------------------------------------------------------------------------


def test_no_header_word_stands_for_two_columns_of_one_sheet_and_every_word_is_written_normalised():
    for sheet in DATA_SHEETS:
        owner = {}
        for column in sheet.columns:
            assert normalise_header(column.header) == column.header, column.header
            for synonym in column.synonyms:
                assert normalise_header(synonym) == synonym, (sheet.name, synonym)
            for name in column.names:
                assert name not in owner, (sheet.name, name, owner.get(name), column.key)
                owner[name] = column.key
            assert sheet.column_for(column.header) is column


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("手机号", "phone"),
        ("手机号码", "phone"),
        ("联系电话（手机）", "phone"),
        ("电话", "phone"),
        ("身份证号码", "id_number"),
        ("身份证", "id_number"),
        ("公民身份号码", "id_number"),
        ("需关爱对象（是/否）", "is_care"),
        ("是否需关爱", "is_care"),
        ("居住人数（人）", "resident_count"),
        ("人数", "resident_count"),
        ("户主", "head_name"),
        ("姓名", "head_name"),
        ("户主姓名(必填)", "head_name"),
        ("* 户主姓名", "head_name"),
        ("门牌", "room"),
        ("房号", "room"),
        ("室", "room"),
        ("单元号", "unit"),
        ("楼栋", "building"),
        ("楼号", "building"),
        ("小区", "compound"),
        ("社区名称", "community"),
        ("社　区", "community"),
    ],
)
def test_a_header_people_write_for_a_column_is_read_as_that_column(tmp_path, written, key):
    position = HOUSEHOLDS.headers.index(HOUSEHOLDS.column(key).header)
    header = list(HEADERS)
    header[position] = written
    parsed, problems = read(write_ledger(tmp_path / "synonym.xlsx", {SHEET_HOUSEHOLDS: [header, household()]}))
    assert not problems
    assert parsed.get(SHEET_HOUSEHOLDS).columns[key] == position


def test_every_synonym_of_every_column_is_read_as_its_column(tmp_path):
    for sheet in DATA_SHEETS:
        for column in sheet.columns:
            if column.export_only:
                continue
            for synonym in column.synonyms:
                header = [synonym if other is column else other.header for other in sheet.columns]
                path = write_ledger(tmp_path / "each.xlsx", {sheet.name: [header, ["x"] * len(header)]})
                parsed, problems = read(path)
                assert not problems, (sheet.name, synonym, [problem.code for problem in problems])
                assert parsed.get(sheet.name).columns[column.key] == sheet.columns.index(column), synonym


def test_households_under_the_headers_people_write_keep_phone_id_care_and_resident_count(org, tmp_path):
    header = [
        "社区名称",
        "小区",
        "楼栋",
        "单元号",
        "房号",
        "户主",
        "联系电话（手机）",
        "身份证号码",
        "居住人数（人）",
        "需关爱对象（是/否）",
        "关爱原因",
        "备注",
        "地址",
    ]
    row = ["北苑社区", "阳光小区", "1号楼", "2", "502", "钱进", "13900005502", valid_id_number(55), 4, "是", "独居"]
    path = write_ledger(tmp_path / "words.xlsx", {SHEET_HOUSEHOLDS: [header, row + ["新搬来", "阳光小区1号楼"]]})
    parsed, problems = read(path)
    assert not problems
    assert parsed.get(SHEET_HOUSEHOLDS).ignored_columns == [
        {"column": "L", "header": "备注", "reason": "unknown_header"},
        {"column": "M", "header": "地址", "reason": "export_only"},
    ]
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    qian = stored("钱进")
    assert (qian.unit, qian.room, qian.phone, qian.id_number) == ("2", "502", "13900005502", valid_id_number(55))
    assert (qian.resident_count, qian.is_care, qian.care_reason) == (4, True, "独居")


def test_two_headers_for_one_column_are_an_error(tmp_path):
    header = [*HEADERS[:6], "手机号", *HEADERS[7:], "联系电话"]
    parsed, problems = read(write_ledger(tmp_path / "two.xlsx", {SHEET_HOUSEHOLDS: [header, household()]}))
    assert codes(problems) == {(SHEET_HOUSEHOLDS, 1, "synonym_columns")}
    assert problems[0].params == {"columns": "“手机号”、“联系电话”", "name": "联系电话"}
    with translation.override("zh-hans"):
        assert problems[0].message().startswith("“手机号”、“联系电话” 这几列指的都是“联系电话”列")
    with translation.override("en"):  # the msgid's placeholders are the params given (it named another once)
        assert problems[0].message().startswith("The columns “手机号”、“联系电话” all mean the column 联系电话.")
    header = [*HEADERS, "联系电话"]
    parsed, problems = read(write_ledger(tmp_path / "same.xlsx", {SHEET_HOUSEHOLDS: [header, household()]}))
    assert codes(problems) == {(SHEET_HOUSEHOLDS, 1, "duplicate_column")}


def test_a_column_with_values_but_no_header_is_recorded(tmp_path):
    header = [*HEADERS[:13], None, None, "备注"]
    row = [*household()[:13], None, "多出来的值", "备注值"]
    parsed, problems = read(write_ledger(tmp_path / "headless.xlsx", {SHEET_HOUSEHOLDS: [header, row]}))
    assert not problems
    assert parsed.get(SHEET_HOUSEHOLDS).ignored_columns == [
        {"column": "O", "header": "", "reason": "no_header"},
        {"column": "P", "header": "备注", "reason": "unknown_header"},
    ]


# --- merged cells, title, sub-header, totals and example rows ------------------------------------


def test_merged_community_compound_and_building_cells_hold_their_value_in_every_row(org, tmp_path):
    rows = [
        ["北苑社区居民户台账"],
        HEADERS[:9],
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "1", "301", "钱进", "13900003301", valid_id_number(31), 2],
        [None, None, None, "1", "302", "孙华", "13900003302", valid_id_number(32), 1],
        [None, None, None, "2", "401", "周立", "13900003401", valid_id_number(33), 3],
        [None, "和平小区党支部", "2号楼党小组", "1", "501", "郑强", "13900003501", valid_id_number(34), 2],
        [None, None, None, "1", "502", "冯丽", "13900003502", valid_id_number(35), 2],
    ]
    path = write_ledger(
        tmp_path / "merged.xlsx",
        {SHEET_HOUSEHOLDS: rows},
        merged={SHEET_HOUSEHOLDS: ["A1:I1", "A3:A7", "B3:B5", "C3:C5", "B6:B7", "C6:C7"]},
    )
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert sheet.header_row == 2
    assert [row[1][:3] for row in sheet.rows] == [("北苑社区", "阳光小区党支部", "1号楼党小组")] * 3 + [
        ("北苑社区", "和平小区党支部", "2号楼党小组")
    ] * 2
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert stored("周立").building == org.building1
    assert stored("冯丽").building == org.building2


def test_a_merged_cell_running_past_the_last_row_makes_no_row_of_its_own(tmp_path):
    rows = [HEADERS[:6], ["北苑社区", "阳光小区党支部", "1号楼党小组", "1", "301", "钱进"]]
    path = write_ledger(tmp_path / "past.xlsx", {SHEET_HOUSEHOLDS: rows}, merged={SHEET_HOUSEHOLDS: ["A2:A40"]})
    parsed, problems = read(path)
    assert not problems
    assert [row[0] for row in parsed.get(SHEET_HOUSEHOLDS).rows] == [2]


def test_totals_rows_are_skipped_and_recorded(org, tmp_path):
    rows = [
        HEADERS[:9],
        household(room="301", head_name="钱进")[:9],
        ["合计", None, None, None, None, "1户", None, None, 2],
        household(room="302", head_name="孙华", id_number=valid_id_number(78))[:9],
        [None, None, None, None, None, "总 计：", None, None, 4],
        [None, None, None, None, None, None, None, None, "小计（人）"],
    ]
    path = write_ledger(tmp_path / "totals.xlsx", {SHEET_HOUSEHOLDS: rows})
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert [row[0] for row in sheet.rows] == [2, 4]
    assert sheet.skipped_rows == [
        {"row": 3, "reason": "totals"},
        {"row": 5, "reason": "totals"},
        {"row": 6, "reason": "totals"},
    ]
    assert workbook_import(actor=org.users.staff, source=path).ok


def test_a_care_reason_that_starts_with_a_totals_word_is_a_value(tmp_path):
    rows = [HEADERS, household(is_care="是", care_reason="合计：三人需照看")]
    parsed, problems = read(write_ledger(tmp_path / "reason.xlsx", {SHEET_HOUSEHOLDS: rows}))
    assert not problems and len(parsed.get(SHEET_HOUSEHOLDS).rows) == 1


def test_a_two_row_header_with_a_sub_header_row_is_read_without_errors_on_it(org, tmp_path):
    rows = [
        ["社区", "小区党支部", "楼栋党小组", "单元", "门牌号", "户主姓名", "联系方式", None, "身份证号"],
        [None, None, None, None, None, None, "手机", "座机", None],
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "1", "601", "陈立", "13900006601", None, valid_id_number(61)],
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "1", "602", "林芳", "13900006602", "0471-5000001"]
        + [valid_id_number(62)],
    ]
    path = write_ledger(tmp_path / "two-rows.xlsx", {SHEET_HOUSEHOLDS: rows}, merged={SHEET_HOUSEHOLDS: ["G1:H1"]})
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert (sheet.header_row, sheet.columns["phone"], sheet.columns["id_number"]) == (1, 6, 8)
    assert sheet.skipped_rows == [{"row": 2, "reason": "sub_header"}]
    assert sheet.ignored_columns == [{"column": "H", "header": "座机", "reason": "unknown_header"}]
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert stored("林芳").phone == "13900006602"


def test_a_sub_header_reaching_past_the_header_names_its_columns(tmp_path):
    rows = [
        ["社区", "小区", "楼栋", "单元", "房号", "户主", "联系方式"],
        [None, None, None, None, None, None, "手机", "座机", "身份证"],
        ["北苑社区", "阳光小区", "1号楼", "1", "601", "陈立", "13900006601", "0471-5000001", valid_id_number(61)],
    ]
    path = write_ledger(tmp_path / "reaching.xlsx", {SHEET_HOUSEHOLDS: rows}, merged={SHEET_HOUSEHOLDS: ["G1:I1"]})
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert (sheet.columns["phone"], sheet.columns["id_number"]) == (6, 8)
    assert sheet.ignored_columns == [{"column": "H", "header": "座机", "reason": "unknown_header"}]
    assert sheet.skipped_rows == [{"row": 2, "reason": "sub_header"}]


def test_the_header_row_repeated_further_down_is_skipped(tmp_path):
    rows = [HEADERS, household(room="301"), HEADERS, household(room="302")]
    parsed, problems = read(write_ledger(tmp_path / "again.xlsx", {SHEET_HOUSEHOLDS: rows}))
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert [row[0] for row in sheet.rows] == [2, 4]
    assert sheet.skipped_rows == [{"row": 3, "reason": "repeated_header"}]


def test_group_headers_above_the_column_headers_are_read_as_one_header(tmp_path):
    rows = [
        ["基本信息", None, None, None, None, None, "联系方式", "证件"],
        ["社区", "小区", "楼栋", "单元", "房号", "户主", "手机号", "身份证"],
        ["北苑社区", "阳光小区", "1号楼", "1", "601", "陈立", "13900006601", valid_id_number(61)],
    ]
    path = write_ledger(tmp_path / "groups.xlsx", {SHEET_HOUSEHOLDS: rows}, merged={SHEET_HOUSEHOLDS: ["A1:F1"]})
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert sheet.header_row == 2 and sheet.columns["id_number"] == 7 and sheet.ignored_columns == []
    assert [row[0] for row in sheet.rows] == [3]


def test_a_header_split_over_two_unmerged_rows_is_read_as_one(tmp_path):
    rows = [
        ["社区", "地址", None, None, None, "户主姓名"],
        [None, "小区党支部", "楼栋党小组", "单元", "门牌号", None],
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "1", "601", "陈立"],
    ]
    parsed, problems = read(write_ledger(tmp_path / "split.xlsx", {SHEET_HOUSEHOLDS: rows}))
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert sheet.header_row == 2
    assert sheet.columns == {"community": 0, "compound": 1, "building": 2, "unit": 3, "room": 4, "head_name": 5}


def test_rows_of_the_example_community_are_skipped_in_every_sheet(org, tmp_path):
    path = write_ledger(
        tmp_path / "examples.xlsx",
        {
            SHEET_TREE: [
                ["社区", "小区党支部", "楼栋党小组", "党员中心户"],
                [EXAMPLE_COMMUNITY, "示例小区党支部", "1号楼党小组", ""],
            ],
            SHEET_HOUSEHOLDS: [HEADERS, household(community=EXAMPLE_COMMUNITY), household(room="302")],
            SHEET_GRIDS: [["社区", "网格编码", "网格名称"], [EXAMPLE_COMMUNITY, "01", "示例网格"]],
            SHEET_POSTS: [["社区", "网格编码", "岗位类型", "岗位名称"], [f" {EXAMPLE_COMMUNITY} ", "01", "A", "专职"]],
        },
    )
    parsed, problems = read(path)
    assert not problems
    assert parsed.total_rows == 1
    for name in (SHEET_TREE, SHEET_GRIDS, SHEET_POSTS):
        assert parsed.get(name).skipped_rows == [{"row": 2, "reason": "example"}]
    before = (OrgNode.objects.count(), Grid.objects.count(), GridPost.objects.count())
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert (OrgNode.objects.count(), Grid.objects.count(), GridPost.objects.count()) == before
    assert Household.objects.filter(room="302", building=org.building1).exists()


def test_a_row_holding_values_only_in_columns_not_read_is_skipped(tmp_path):
    rows = [["序号", *HEADERS], [1, *household()], [2], [3, None, None, None, None, None, None]]
    parsed, problems = read(write_ledger(tmp_path / "numbered.xlsx", {SHEET_HOUSEHOLDS: rows}))
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert [row[0] for row in sheet.rows] == [2]
    assert sheet.skipped_rows == [{"row": 3, "reason": "no_data"}, {"row": 4, "reason": "no_data"}]


# --- values are passed on raw --------------------------------------------------------------------


def test_numbers_and_dates_are_passed_on_as_the_file_stores_them(tmp_path):
    row = household(unit=1, room=502, phone=13900005502, id_number=110101198000010000, resident_count=2.0)
    row[HOUSEHOLDS.headers.index("门牌号")] = datetime.datetime(2026, 5, 2)
    parsed, problems = read(write_ledger(tmp_path / "raw.xlsx", {SHEET_HOUSEHOLDS: [HEADERS, row]}))
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    values = sheet.rows[0][1]
    assert values[sheet.columns["unit"]] == 1 and type(values[sheet.columns["unit"]]) is int
    assert values[sheet.columns["room"]] == datetime.datetime(2026, 5, 2)
    assert values[sheet.columns["phone"]] == 13900005502
    assert values[sheet.columns["resident_count"]] == 2.0


# --- LibreOffice re-saves -------------------------------------------------------------------------


def _comparable(parsed):
    def value(cell):
        return int(cell) if isinstance(cell, float) and cell.is_integer() else cell

    return {
        "ignored_sheets": parsed.ignored_sheets,
        "sheets": {
            name: {
                "title": sheet.title,
                "header_row": sheet.header_row,
                "columns": sheet.columns,
                "rows": [(number, tuple(value(cell) for cell in row)) for number, row in sheet.rows],
                "ignored_columns": sheet.ignored_columns,
                "skipped_rows": sheet.skipped_rows,
            }
            for name, sheet in parsed.sheets.items()
        },
    }


@pytest.mark.parametrize("ledger", ["community", "standard", "two_row_header"])
def test_a_ledger_saved_by_libreoffice_reads_exactly_like_the_openpyxl_one(ledger):
    ours, our_problems = read(LEDGERS / f"{ledger}.openpyxl.xlsx")
    theirs, their_problems = read(LEDGERS / f"{ledger}.libreoffice.xlsx")
    assert not our_problems and not their_problems
    assert ours.total_rows > 0
    assert _comparable(theirs) == _comparable(ours)


def test_the_libreoffice_file_is_really_libreoffice_s():
    import zipfile

    with zipfile.ZipFile(LEDGERS / "community.libreoffice.xlsx") as archive:
        assert b"LibreOffice" in archive.read("docProps/app.xml")
        assert b"<mergeCell " in archive.read("xl/worksheets/sheet1.xml")


def _households():
    return sorted(
        Household.objects.filter(is_active=True).values_list(
            "community__name",
            "compound__name",
            "building__name",
            "unit",
            "room",
            "head_name",
            "phone",
            "id_number",
            "resident_count",
            "is_care",
            "care_reason",
        )
    )


COMMUNITY_HOUSEHOLDS = [
    (
        "北苑社区",
        "阳光小区党支部",
        "1号楼党小组",
        "1",
        "301",
        "钱进",
        "13900003301",
        "150102196102110007",
        3,
        False,
        "",
    ),
    ("北苑社区", "阳光小区党支部", "1号楼党小组", "1", "302", "孙华", "13900003302", "150102196203120001", 1, True)
    + ("独居，腿脚不便",),
    ("北苑社区", "阳光小区党支部", "1号楼党小组", "2", "401", "周红梅", "13900003401", "150102196304130006", 2, False)
    + ("",),
    (
        "北苑社区",
        "阳光小区党支部",
        "1号楼党小组",
        "2",
        "402",
        "吴敏",
        "13900003402",
        "150102196405140000",
        4,
        False,
        "",
    ),
    (
        "北苑社区",
        "和平小区党支部",
        "2号楼党小组",
        "1",
        "501",
        "郑强",
        "13900003501",
        "150102196506150005",
        2,
        False,
        "",
    ),
    ("北苑社区", "和平小区党支部", "2号楼党小组", "1", "502", "冯丽", "0471-5123456", "15010219660716000X", 1, True)
    + ("空巢老人",),
]


@pytest.mark.parametrize("saved_by", ["openpyxl", "libreoffice"])
def test_the_community_ledger_imports_the_same_households_whoever_saved_it(org, saved_by):
    before = set(_households())
    outcome = workbook_import(actor=org.users.staff, source=LEDGERS / f"community.{saved_by}.xlsx")
    assert outcome.ok, outcome.error_dicts()
    assert sorted(set(_households()) - before) == sorted(COMMUNITY_HOUSEHOLDS)


@pytest.mark.parametrize("saved_by", ["openpyxl", "libreoffice"])
def test_the_standard_workbook_imports_the_same_data_whoever_saved_it(org, saved_by):
    outcome = workbook_import(actor=org.users.staff, source=LEDGERS / f"standard.{saved_by}.xlsx")
    assert outcome.ok, outcome.error_dicts()
    zhou = stored("周红梅")
    assert (zhou.building.name, zhou.unit, zhou.room, zhou.hub.name) == ("3号楼党小组", "2", "202", "周红梅中心户")
    assert not Household.objects.filter(head_name="旧户主").exists()
    grid = Grid.objects.get(community=org.community, code="03")
    assert list(grid.buildings.values_list("name", flat=True)) == ["3号楼党小组"]
    assert GridPost.objects.filter(grid=grid).count() == 2


@pytest.mark.parametrize("saved_by", ["openpyxl", "libreoffice"])
def test_the_two_row_header_ledger_imports_the_same_households_whoever_saved_it(org, saved_by):
    outcome = workbook_import(actor=org.users.staff, source=LEDGERS / f"two_row_header.{saved_by}.xlsx")
    assert outcome.ok, outcome.error_dicts()
    assert {
        (h.building.name, h.unit, h.room, h.phone)
        for h in Household.objects.filter(head_name__in=["陈立", "林芳", "高山"])
    } == {
        ("1号楼党小组", "1", "601", "13900006601"),
        ("1号楼党小组", "1", "602", "13900006602"),
        ("2号楼党小组", "3", "101", "13900006101"),
    }


# --- hostile workbooks ----------------------------------------------------------------------------


def test_a_sheet_claiming_a_million_rows_of_16384_columns_reads_what_it_holds(org, tmp_path):
    path = dimension_bomb(tmp_path / "bomb.xlsx", rows=[household(room="301", head_name="钱进")])
    assert path.stat().st_size < 10_000
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert [row[0] for row in sheet.rows] == [2]
    assert sheet.ignored_columns[-1] == {"column": "XFD", "header": "", "reason": "beyond_last_column"}
    assert {"row": 1_048_576, "reason": "no_data"} in sheet.skipped_rows
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert stored("钱进").room == "301"


def test_a_million_empty_formatted_rows_stop_the_reading_with_a_clear_problem(org, tmp_path):
    path = styled_empty_rows(tmp_path / "styled.xlsx", count=1_000_000)
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert not outcome.ok
    assert [(problem.sheet, problem.code) for problem in outcome.problems] == [(SHEET_HOUSEHOLDS, "sheet_too_large")]
    with translation.override("zh-hans"):
        assert outcome.problems[0].message().startswith("这张表超过 150000 行或 4000000 个单元格")
    assert row_counts() == before


def test_rows_as_wide_as_excel_allows_are_read_in_their_first_columns(tmp_path):
    path = wide_rows(tmp_path / "wide.xlsx", rows=[household(room=f"3{n:02d}") for n in range(3)])
    parsed, problems = read(path)
    assert not problems
    sheet = parsed.get(SHEET_HOUSEHOLDS)
    assert len(sheet.rows) == 3 and all(len(row) <= MAX_COLUMNS for _, row in sheet.rows)
    assert {"column": "BM", "header": "", "reason": "beyond_last_column"} in sheet.ignored_columns
    assert {"column": "O", "header": "", "reason": "no_header"} in sheet.ignored_columns


def test_a_header_beyond_the_last_column_read_is_recorded(tmp_path):
    header = [*HEADERS, *([None] * (MAX_COLUMNS - len(HEADERS))), "备注"]
    parsed, problems = read(write_ledger(tmp_path / "far.xlsx", {SHEET_HOUSEHOLDS: [header, household()]}))
    assert not problems
    assert parsed.get(SHEET_HOUSEHOLDS).ignored_columns[-1] == {
        "column": "BM",
        "header": "备注",
        "reason": "beyond_last_column",
    }


def test_more_data_rows_than_the_limit_are_refused(org, tmp_path, monkeypatch):
    monkeypatch.setattr(reader_module, "MAX_ROWS", 5)
    rows = [household(room=f"{n}01", id_number=valid_id_number(n)) for n in range(1, 8)]
    path = write_ledger(tmp_path / "many.xlsx", {SHEET_HOUSEHOLDS: [HEADERS, *rows]})
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert [(problem.sheet, problem.row, problem.code) for problem in outcome.problems] == [
        (SHEET_HOUSEHOLDS, 7, "too_many_rows")
    ]
    assert outcome.problems[0].params == {"max": 5}
    with translation.override("zh-hans"):
        assert outcome.problems[0].message().startswith("工作簿的数据行超过 5 行")
    assert row_counts() == before


def test_rows_out_of_order_in_the_xml_are_not_a_workbook(tmp_path):
    from tests.grid.hostile_workbooks import rewrite_sheet

    path = write_ledger(tmp_path / "order.xlsx", {SHEET_HOUSEHOLDS: [HEADERS, household()]})
    rewrite_sheet(path, SHEET_HOUSEHOLDS, lambda xml: xml.replace(b'<row r="2"', b'<row r="1"'))
    parsed, problems = read(path)
    assert [problem.code for problem in problems] == ["not_a_workbook"]
    assert parsed.sheets == {}


# --- the format's words -------------------------------------------------------------------------


def test_the_clear_marker_is_written_plain_or_in_brackets():
    assert CLEAR_MARKER == "清空"
    assert all(is_clear_marker(value) for value in ("清空", "（清空）", "(清空)", " 清空 "))
    assert not any(is_clear_marker(value) for value in ("", None, "清空了", "不清空", 0))


def test_the_readme_tells_about_the_dry_run_undo_hidden_sheets_text_format_and_clearing():
    text = "\n".join(README_LINES) + "\n".join(sheet.note for sheet in DATA_SHEETS)
    for words in (
        "试运行",
        "确认之前什么都不写入",
        "24 小时",
        "撤销",
        "隐藏的表不会被读取",
        "文本格式",
        "清空",
        "空白格子",
    ):
        assert words in text, words
    assert EXAMPLE_COMMUNITY in text


def test_every_note_and_reader_problem_has_chinese(tmp_path):
    with translation.override("zh-hans"):
        for reason, msgid in NOTES.items():
            assert render_note(reason) != msgid, reason
        from django.utils.translation import gettext

        for code, msgid in READER_PROBLEMS.items():
            assert gettext(msgid) != msgid, code
    assert render_note("no-such-reason") == "no-such-reason"


def test_workbook_notes_list_every_sheet_column_and_row_not_read(tmp_path):
    path = write_ledger(
        tmp_path / "notes.xlsx",
        {SHEET_HOUSEHOLDS: [[*HEADERS, "备注"], household(), ["合计"]], "统计": [["x"]]},
    )
    parsed, _problems = read(path)
    with translation.override("en"):
        notes = workbook_notes(parsed)
    assert [(note["sheet"], note["row"], note["column"], note["reason"]) for note in notes] == [
        ("统计", None, "", "unknown"),
        (SHEET_HOUSEHOLDS, None, "N", "export_only"),
        (SHEET_HOUSEHOLDS, None, "O", "unknown_header"),
        (SHEET_HOUSEHOLDS, 3, "", "totals"),
    ]
    assert notes[-1]["message"] == "A totals row: not read."


def test_a_plain_workbook_without_a_title_reads_as_before(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_HOUSEHOLDS
    sheet.append(HEADERS)
    sheet.append(household())
    book.save(tmp_path / "plain.xlsx")
    parsed, problems = read(tmp_path / "plain.xlsx")
    assert not problems
    assert parsed.get(SHEET_HOUSEHOLDS).header_row == 1
    assert parsed.get(SHEET_HOUSEHOLDS).skipped_rows == []


def test_a_row_of_more_cells_than_excel_has_columns_is_refused_as_it_arrives(org, tmp_path):
    """A few hundred kilobytes of one row of <c/> once grew to gigabytes before the cell count was checked."""
    from tests.grid.hostile_workbooks import rewrite_sheet

    path = write_ledger(tmp_path / "long-row.xlsx", {SHEET_HOUSEHOLDS: [HEADERS, household()]})
    rewrite_sheet(
        path,
        SHEET_HOUSEHOLDS,
        lambda xml: xml.replace(b"</sheetData>", b'<row r="9">' + b"<c/>" * 20_000 + b"</row></sheetData>"),
    )
    before = row_counts()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert [(problem.sheet, problem.code) for problem in outcome.problems] == [(SHEET_HOUSEHOLDS, "sheet_too_large")]
    assert row_counts() == before


@pytest.mark.parametrize("number", ["inf", "1e400", "-3", "2.5"])
def test_a_row_number_that_is_not_one_is_an_unreadable_workbook_not_an_unexpected_error(org, tmp_path, number):
    from tests.grid.hostile_workbooks import rewrite_sheet

    path = write_ledger(tmp_path / "bad-row.xlsx", {SHEET_HOUSEHOLDS: [HEADERS, household()]})
    rewrite_sheet(path, SHEET_HOUSEHOLDS, lambda xml: xml.replace(b'<row r="2"', f'<row r="{number}"'.encode()))
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert [problem.code for problem in outcome.problems] == ["not_a_workbook"]
