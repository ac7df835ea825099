"""Exporting a workbook: the import format, only what the user may see, personal data masked."""

import tempfile
import zipfile

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from accounts.models import Role
from core.access import Action, can
from core.models import AuditEvent
from grid.exporting import (
    TEMPLATE_EXAMPLES,
    TEMPLATE_PATH,
    cell_text,
    workbook_export,
    workbook_write,
)
from grid.importing import workbook_import
from grid.importing.layout import (
    CARE_REASON_MASK,
    DATA_SHEETS,
    EXAMPLE_COMMUNITY,
    HOUSEHOLDS,
    POSTS,
    SHEET_GRIDS,
    SHEET_HOUSEHOLDS,
    SHEET_POSTS,
    SHEET_README,
    SHEET_TREE,
)
from grid.models import Grid, Household, OrgNode, Tag
from grid.services import grid_post_create, grid_set_buildings, household_update, org_node_deactivate
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory, grant
from tests.grid.workbooks import data_snapshot, read_sheets


def export_sheets(user, tmp_path=None):
    with workbook_export(user=user) as target:
        return read_sheets(target.read())


def all_cells(sheets) -> set:
    return {value for rows in sheets.values() for row in rows for value in row.values() if value not in (None, "")}


def test_the_export_has_the_import_format(org):
    with workbook_export(user=org.users.staff) as target:
        workbook = load_workbook(target, read_only=True)
        assert workbook.sheetnames == [SHEET_README, *(sheet.name for sheet in DATA_SHEETS)]
        for sheet in DATA_SHEETS:
            header = next(workbook[sheet.name].iter_rows(max_row=1, values_only=True))
            assert list(header) == sheet.headers


def test_the_export_masks_every_phone_and_id_number(org):
    sheets = export_sheets(org.users.staff)
    households = sheets[SHEET_HOUSEHOLDS]
    assert len(households) == 2
    for row in households:
        assert "****" in row["联系电话"] and "**********" in row["身份证号"]
    stored = set(Household.objects.values_list("phone", flat=True)) | set(
        Household.objects.values_list("id_number", flat=True)
    )
    assert not stored & all_cells(sheets)
    first = next(row for row in households if row["门牌号"] == "101")
    assert first["联系电话"] == org.household1.phone[:3] + "****" + org.household1.phone[-4:]


def test_the_export_holds_only_the_users_subtree(org):
    staff = export_sheets(org.users.staff)
    assert {row["社区"] for rows in staff.values() for row in rows} == {"北苑社区"}
    assert {row["门牌号"] for row in staff[SHEET_HOUSEHOLDS]} == {"101", "201"}
    other = export_sheets(org.users.other_staff)
    assert {row["社区"] for rows in other.values() for row in rows} == {"南湖社区"}
    assert not {"北苑社区", "阳光小区党支部", "和平小区党支部", org.household1.head_name} & all_cells(other)
    assert [row["门牌号"] for row in other[SHEET_HOUSEHOLDS]] == ["901"]


def test_a_compound_level_grant_exports_full_paths_of_its_compound_only(org):
    keeper = UserFactory(username="compoundstaff")
    grant(keeper, Role.COMMUNITY_STAFF, node=org.compound1)
    sheets = export_sheets(keeper)
    assert [list(row.values()) for row in sheets[SHEET_TREE]] == [
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "张建国中心户"]
    ]
    assert [row["门牌号"] for row in sheets[SHEET_HOUSEHOLDS]] == ["101"]


def test_a_user_without_the_export_action_exports_nothing(org):
    sheets = export_sheets(org.users.cadre1)
    assert all(rows == [] for rows in sheets.values())


def test_tree_rows_are_the_leaves_of_the_tree(org):
    rows = [[cell or "" for cell in row.values()] for row in export_sheets(org.users.staff)[SHEET_TREE]]
    assert rows == [
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "张建国中心户"],
        ["北苑社区", "和平小区党支部", "2号楼党小组", ""],
    ]


def test_grids_and_posts_are_exported_with_their_buildings_and_holders(org):
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    sheets = export_sheets(org.users.staff)
    grids = {row["网格编码"]: row for row in sheets[SHEET_GRIDS]}
    assert grids["01"]["包含楼栋"] == "阳光小区党支部/1号楼党小组"
    assert grids["01"]["颜色"] == "绿"
    assert [(row["网格编码"], row["岗位类型"], row["在岗人员用户名"]) for row in sheets[SHEET_POSTS]] == [
        ("01", "A", "gridworker"),
        ("01", "B", None),
    ]


def test_an_export_is_audited(org):
    with workbook_export(user=org.users.staff):
        pass
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORTED)
    assert event.user == org.users.staff
    assert event.detail["rows"][SHEET_HOUSEHOLDS] == 2


def test_an_export_runs_the_same_number_of_queries_for_ten_times_the_households(org):
    def count_queries():
        with CaptureQueriesContext(connection) as context, workbook_export(user=org.users.staff):
            pass
        return len(context.captured_queries)

    count_queries()  # the user's scope is read once and kept on the user object
    few = count_queries()
    for number in range(20):
        HouseholdFactory(building=org.building2, room=f"3{number:02d}", tags=Tag.objects.filter(code="veteran"))
    assert count_queries() == few


def test_round_trip_export_then_import_changes_nothing(org, tmp_path):
    household_update(
        actor=None,
        household=org.household1,
        tags=Tag.objects.filter(name__in=["独居老人", "低保户"]),
        is_care=True,
        care_reason="独居，需每周联系",
    )
    HouseholdFactory(building=org.building1, unit="", room="0102", resident_count=1)
    grid_post_create(actor=None, grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长")
    grid_post_create(actor=None, grid=org.grid1, post_type="B", title="楼栋长", holder=org.users.cadre1)
    before = data_snapshot()
    path = tmp_path / "export.xlsx"
    with workbook_export(user=org.users.staff) as target:
        path.write_bytes(target.read())
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert data_snapshot() == before
    assert all(entry["created"] == 0 and entry["updated"] == 0 for entry in outcome.summary["sheets"])


def test_round_trip_keeps_a_deactivated_hub_and_a_deactivated_building_of_a_grid(org, tmp_path):
    spare = BuildingFactory(name="空楼党小组", parent=org.compound1)
    grid_set_buildings(actor=None, grid=org.grid1, buildings=[org.building1, spare])
    org_node_deactivate(actor=None, node=spare)
    org_node_deactivate(actor=None, node=org.hub1)  # household1 still points at it
    before = data_snapshot()
    path = tmp_path / "export.xlsx"
    with workbook_export(user=org.users.staff) as target:
        path.write_bytes(target.read())
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert data_snapshot() == before


def test_round_trip_works_for_a_compound_level_grant_too(org, tmp_path):
    keeper = UserFactory(username="compoundstaff")
    grant(keeper, Role.COMMUNITY_STAFF, node=org.compound1)
    before = data_snapshot()
    path = tmp_path / "export.xlsx"
    with workbook_export(user=keeper) as target:
        path.write_bytes(target.read())
    outcome = workbook_import(actor=keeper, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert data_snapshot() == before


# --- the template -------------------------------------------------------------------------------


def test_the_shipped_template_has_the_readme_and_the_four_sheets_with_examples():
    workbook = load_workbook(TEMPLATE_PATH)
    assert workbook.sheetnames == [SHEET_README, *(sheet.name for sheet in DATA_SHEETS)]
    readme = "\n".join(str(cell) for row in workbook[SHEET_README].iter_rows(values_only=True) for cell in row if cell)
    for sheet in DATA_SHEETS:
        assert [cell.value for cell in workbook[sheet.name][1]] == sheet.headers
        assert workbook[sheet.name].max_row >= 3
        for header in sheet.headers:
            assert header in readme


def test_the_command_writes_the_template(tmp_path):
    target = tmp_path / "template.xlsx"
    call_command("make_import_template", output=str(target))
    written = load_workbook(target)
    shipped = load_workbook(TEMPLATE_PATH)
    for name in shipped.sheetnames:
        assert list(written[name].values) == list(shipped[name].values)


# --- care reasons only for those who may reveal personal data ------------------------------------------


def _with_care_reasons(org):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居，需每周联系")
    household_update(actor=None, household=org.household2, is_care=True, care_reason="低保，腿脚不便")


def test_the_bureau_leaders_export_holds_no_care_reason(org):
    _with_care_reasons(org)
    sheets = export_sheets(org.users.leader)
    rows = sheets[SHEET_HOUSEHOLDS]
    assert len(rows) == 2
    assert {row["需关爱对象"] for row in rows} == {"是"}
    assert {row["关爱原因"] for row in rows} == {CARE_REASON_MASK}
    assert not {"独居，需每周联系", "低保，腿脚不便"} & all_cells(sheets)
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORTED)
    assert event.detail["care_reasons_included"] is False
    assert event.detail["care_reasons_masked"] == 2


def test_staff_export_care_reasons_in_full_and_the_audit_says_so(org):
    _with_care_reasons(org)
    sheets = export_sheets(org.users.staff)
    assert {row["关爱原因"] for row in sheets[SHEET_HOUSEHOLDS]} == {"独居，需每周联系", "低保，腿脚不便"}
    event = AuditEvent.objects.get(action=AuditEvent.Action.EXPORTED)
    assert event.detail["care_reasons_included"] is True
    assert (event.detail["care_reasons_in_full"], event.detail["care_reasons_masked"]) == (2, 0)


def test_mixed_grants_reveal_the_care_reason_only_where_the_user_may(org):
    _with_care_reasons(org)
    mixed = UserFactory(username="mixedexporter")
    grant(mixed, Role.BUREAU_LEADER, node=org.community)
    grant(mixed, Role.COMMUNITY_STAFF, node=org.compound1)
    rows = {row["门牌号"]: row for row in export_sheets(mixed)[SHEET_HOUSEHOLDS]}
    assert rows["101"]["关爱原因"] == "独居，需每周联系"
    assert rows["201"]["关爱原因"] == CARE_REASON_MASK


def test_another_communitys_staff_export_holds_none_of_our_care_reasons(org):
    _with_care_reasons(org)
    assert not {"独居，需每周联系", "低保，腿脚不便"} & all_cells(export_sheets(org.users.other_staff))


def test_a_leaders_export_imported_by_staff_keeps_the_stored_care_reasons(org, tmp_path):
    _with_care_reasons(org)
    before = data_snapshot()
    path = tmp_path / "leader-export.xlsx"
    with workbook_export(user=org.users.leader) as target:
        path.write_bytes(target.read())
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert data_snapshot() == before


def test_the_leaders_export_runs_the_same_number_of_queries_for_more_households(org):
    mixed = UserFactory(username="mixedexporter")
    grant(mixed, Role.BUREAU_LEADER, node=org.community)
    grant(mixed, Role.COMMUNITY_STAFF, node=org.compound1)

    def count_queries():
        with CaptureQueriesContext(connection) as context, workbook_export(user=mixed):
            pass
        return len(context.captured_queries)

    count_queries()
    few = count_queries()
    for number in range(10):
        HouseholdFactory(building=org.building2, room=f"4{number:02d}", is_care=True, care_reason="独居")
    assert count_queries() == few


# --- every text cell is text (defect 11), no character fails an export (defect 12) -----------------

FORMULA_NAME = '=HYPERLINK("http://x.cn","点")'


def _cells(path):
    """Every cell of every sheet, loaded as an editor would (formulas as formulas, not results)."""
    workbook = load_workbook(path)
    return [cell for worksheet in workbook.worksheets for row in worksheet.iter_rows() for cell in row]


def _export_to(path, user):
    with workbook_export(user=user) as target:
        path.write_bytes(target.read())
    return path


def test_a_name_that_looks_like_a_formula_is_exported_as_text_and_imports_back_unchanged(org, tmp_path):
    # Stored before names were checked (an old row, the admin's raw SQL): the export must not make it live.
    Household.objects.filter(pk=org.household1.pk).update(head_name=FORMULA_NAME)
    Grid.objects.filter(pk=org.grid1.pk).update(name="+1格", colour_reason="@SUM(A1)")
    path = _export_to(tmp_path / "export.xlsx", org.users.staff)

    with zipfile.ZipFile(path) as archive:
        sheets_xml = b"".join(archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/"))
    assert b"<f>" not in sheets_xml and b"<f " not in sheets_xml, "the workbook holds a formula"
    cells = _cells(path)
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    formula_cells = [cell for cell in cells if cell.value == FORMULA_NAME]
    assert len(formula_cells) == 1
    assert formula_cells[0].data_type == "s" and formula_cells[0].number_format == "@"
    households = read_sheets(path.read_bytes())[SHEET_HOUSEHOLDS]
    assert FORMULA_NAME in {row["户主姓名"] for row in households}
    assert {row["网格名称"] for row in read_sheets(path.read_bytes())[SHEET_GRIDS]} >= {"+1格"}

    before = data_snapshot()
    outcome = workbook_import(actor=org.users.staff, source=path)
    assert outcome.ok, outcome.error_dicts()
    assert data_snapshot() == before
    assert Household.objects.get(pk=org.household1.pk).head_name == FORMULA_NAME


def test_every_text_cell_of_the_export_is_a_text_cell_in_the_text_format(org, tmp_path):
    path = _export_to(tmp_path / "export.xlsx", org.users.staff)
    text_cells = [cell for cell in _cells(path) if isinstance(cell.value, str)]
    assert len(text_cells) > 50
    assert {cell.data_type for cell in text_cells} == {"s"}
    assert {cell.number_format for cell in text_cells} == {"@"}
    # Columns that must stay text when someone types in them later (leading zeros) carry the format too.
    worksheet = load_workbook(path)[SHEET_HOUSEHOLDS]
    for index, column in enumerate(HOUSEHOLDS.columns, start=1):
        if column.text:
            assert worksheet.column_dimensions[get_column_letter(index)].number_format == "@", column.header


def test_a_control_character_in_a_stored_name_never_fails_the_export(org, tmp_path):
    # Defect 12: one \u000b in a head's name answered 500 (IllegalCharacterError) for the whole community.
    Household.objects.filter(pk=org.household1.pk).update(head_name="张\u000b建国")
    Grid.objects.filter(pk=org.grid2.pk).update(colour="yellow", colour_reason="\x1b[31m老旧管网")
    OrgNode.objects.filter(pk=org.hub1.pk).update(name="张建国\x01中心户")
    sheets = export_sheets(org.users.staff)
    households = {row["门牌号"]: row for row in sheets[SHEET_HOUSEHOLDS]}
    assert households["101"]["户主姓名"] == "张U+000B建国"
    assert households["201"]["户主姓名"] == org.household2.head_name
    assert households["101"]["党员中心户"] == "张建国U+0001中心户"
    assert {row["颜色原因"] for row in sheets[SHEET_GRIDS]} >= {"U+001B[31m老旧管网"}
    assert ["北苑社区", "阳光小区党支部", "1号楼党小组", "张建国U+0001中心户"] in [
        list(row.values()) for row in sheets[SHEET_TREE]
    ]


def test_cell_text_writes_each_character_openpyxl_refuses_as_its_code_point():
    assert cell_text("a\x00b\x08c\x0bd\x0ce\x1ff") == "aU+0000bU+0008cU+000BdU+000CeU+001Ff"
    assert cell_text("换行\n制表\t回车\r") == "换行\n制表\t回车\r"  # Excel keeps these


# --- care reasons: the audit says when they are in full (defect 13) --------------------------------------


def test_an_export_with_care_reasons_in_full_is_audited_as_a_personal_data_view_with_the_count(org):
    _with_care_reasons(org)
    with workbook_export(user=org.users.staff):
        pass
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_VIEWED)
    assert viewed.user == org.users.staff
    assert viewed.detail == {"fields": ["care_reason"], "count": 2, "via": "export", "kind": "grid_workbook"}


def test_an_export_with_every_care_reason_masked_is_no_personal_data_view(org):
    _with_care_reasons(org)
    with workbook_export(user=org.users.leader):
        pass
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


def test_the_export_reveals_a_care_reason_exactly_where_the_household_page_may(org):
    """One rule for both: the export's per-household decision is ``can(user, reveal, household)``."""
    _with_care_reasons(org)
    mixed = UserFactory(username="mixedexporter")
    grant(mixed, Role.BUREAU_LEADER, node=org.community)
    grant(mixed, Role.COMMUNITY_STAFF, node=org.compound1)
    rows = {row["门牌号"]: row for row in export_sheets(mixed)[SHEET_HOUSEHOLDS]}
    for household in (org.household1, org.household2):
        household.refresh_from_db()
        revealed = rows[household.room]["关爱原因"] == household.care_reason
        assert revealed == can(mixed, Action.REVEAL_PERSONAL_DATA, household)


# --- progress ---------------------------------------------------------------------------------------


class _Progress:
    def __init__(self):
        self.phases = []
        self.advanced = {}

    def phase(self, label, *, step, steps, total=0):
        self.phases.append((label, step, steps, total))
        self.advanced[label] = 0

    def advance(self, count=1):
        self.advanced[self.phases[-1][0]] += count


def test_the_writer_reports_one_phase_per_sheet_with_its_rows_then_the_saving(org):
    progress = _Progress()
    with tempfile.TemporaryFile() as target:
        summary = workbook_write(user=org.users.staff, target=target, progress=progress)
    assert progress.phases == [
        (SHEET_TREE, 1, 5, 2),
        (SHEET_HOUSEHOLDS, 2, 5, 2),
        (SHEET_GRIDS, 3, 5, 2),
        (SHEET_POSTS, 4, 5, 0),
        ("saving", 5, 5, 0),
    ]
    assert progress.advanced[SHEET_HOUSEHOLDS] == 2
    assert summary["rows"] == {SHEET_TREE: 2, SHEET_HOUSEHOLDS: 2, SHEET_GRIDS: 2, SHEET_POSTS: 0}
    assert summary["sheets"] == [SHEET_TREE, SHEET_HOUSEHOLDS, SHEET_GRIDS, SHEET_POSTS]
    assert "personal_data" not in summary  # no care reasons in this world


# --- the template's examples ------------------------------------------------------------------------------


def test_the_template_examples_live_in_the_fictional_example_community_with_no_holder():
    workbook = load_workbook(TEMPLATE_PATH)
    for sheet in DATA_SHEETS:
        rows = list(workbook[sheet.name].iter_rows(min_row=2, values_only=True))
        assert rows and {row[0] for row in rows} == {EXAMPLE_COMMUNITY}, sheet.name
    holders = [
        row[POSTS.headers.index("在岗人员用户名")]
        for row in workbook[SHEET_POSTS].iter_rows(min_row=2, values_only=True)
    ]
    assert holders and not any(holders)
    names = {value for row in TEMPLATE_EXAMPLES[SHEET_TREE] for value in row[1:2]}
    assert all(name.startswith("示例") for name in names)


def test_every_text_cell_of_the_template_is_a_text_cell():
    text_cells = [cell for cell in _cells(TEMPLATE_PATH) if isinstance(cell.value, str)]
    assert {cell.data_type for cell in text_cells} == {"s"}


def test_importing_the_template_unchanged_changes_nothing(org):
    before = data_snapshot()
    workbook_import(actor=org.users.admin, source=TEMPLATE_PATH)
    assert data_snapshot() == before
    assert not OrgNode.objects.filter(name=EXAMPLE_COMMUNITY).exists()
