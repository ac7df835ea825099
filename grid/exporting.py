"""Export the org tree, households, grids and grid posts as a workbook in the import format.

What a user gets is what ``scope(..., user, Action.EXPORT)`` allows; phone and ID numbers
are masked (an import keeps the stored value where a cell is masked, so an export can be
edited and imported again). openpyxl's write-only mode streams rows to a temporary file;
the number of queries does not depend on the number of rows. Every export is audited.

The same module writes the template workbook (``make_import_template``).
"""

import tempfile
from collections import defaultdict
from pathlib import Path

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.access import Action, has_action, is_global, scope
from core.masking import mask_id_number, mask_phone
from core.models import AuditEvent
from core.services import audit_record

from .importing.layout import (
    CARE_REASON_MASK,
    COLOUR_NAMES,
    DATA_SHEETS,
    GRIDS,
    HOUSEHOLDS,
    NO,
    POST_TYPES,
    POSTS,
    README_LINES,
    SHEET_README,
    TREE,
    YES,
    Sheet,
)
from .models import Grid, GridBuilding, GridPost, Household, OrgNode, format_address, id_number_check_character

TEMPLATE_PATH = Path(__file__).resolve().parent / "import_template" / "zhubao-import-template.xlsx"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B3261E")  # the portal's red
REQUIRED_FILL = PatternFill("solid", fgColor="7F1D1D")
TEXT_FORMAT = "@"


# --- the export ---------------------------------------------------------------------------------


def _tree_rows(user) -> list[list[str]]:
    """One row per leaf of the visible active tree, as a path of names from the community down."""
    nodes = {
        node_id: (name, parent_id)
        for node_id, name, parent_id in scope(OrgNode.objects.filter(is_active=True), user, Action.EXPORT)
        .order_by("tree_id", "lft")
        .values_list("id", "name", "parent_id")
    }
    visible = list(nodes)
    names = dict(nodes)
    # Ancestors above the user's grant (a compound's community) name the path but are not rows.
    for _level in range(3):
        missing = {parent for _, parent in names.values() if parent is not None and parent not in names}
        if not missing:
            break
        names.update(
            {
                node_id: (name, parent_id)
                for node_id, name, parent_id in OrgNode.objects.filter(id__in=missing).values_list(
                    "id", "name", "parent_id"
                )
            }
        )
    parents = {parent for _, parent in nodes.values() if parent is not None}
    rows = []
    for node_id in visible:
        if node_id in parents:
            continue
        path = []
        current = node_id
        while current is not None:
            name, current = names[current]
            path.append(name)
        rows.append(list(reversed(path)))
    return rows


def _may_reveal_expression(user):
    """True for the households whose personal data (here the care reason) the user may see,
    decided in the database for the whole queryset."""
    if not has_action(user, Action.REVEAL_PERSONAL_DATA):
        return Value(False, output_field=BooleanField())
    if is_global(user, Action.REVEAL_PERSONAL_DATA):
        return Value(True, output_field=BooleanField())
    revealable = scope(Household.objects.all(), user, Action.REVEAL_PERSONAL_DATA).values("pk")
    return ExpressionWrapper(Q(pk__in=revealable), output_field=BooleanField())


class _CareReasons:
    """Counts the care reasons written in full and masked, for the audit event."""

    def __init__(self):
        self.included = 0
        self.masked = 0


def _households(user, care_reasons: _CareReasons):
    """Rows of the 居民户 sheet, masked; two queries whatever the number of households.

    The care reason is written only where the user may reveal the household's personal data;
    elsewhere a masked marker, which an import treats as "keep the stored reason".
    """
    households = scope(Household.objects.filter(is_active=True), user, Action.EXPORT)
    tags = defaultdict(list)
    for household_id, tag_name in (
        Household.tags.through.objects.filter(household_id__in=households.values("id"))
        .order_by("tag__sort_order", "tag__code")
        .values_list("household_id", "tag__name")
    ):
        tags[household_id].append(tag_name)
    rows = (
        households.annotate(may_reveal=_may_reveal_expression(user))
        .order_by("building__tree_id", "building__lft", "unit", "room", "id")
        .values_list(
            "id",
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
            "hub__name",
            "may_reveal",
            "compound__place_name",
            "building__place_name",
        )
    )
    for (
        household_id,
        community,
        compound,
        building,
        unit,
        room,
        head_name,
        phone,
        id_number,
        resident_count,
        is_care,
        care_reason,
        hub,
        may_reveal,
        compound_place,
        building_place,
    ) in rows.iterator(chunk_size=2_000):
        if care_reason and not may_reveal:
            care_reason = CARE_REASON_MASK
            care_reasons.masked += 1
        elif care_reason:
            care_reasons.included += 1
        yield [
            community,
            compound,
            building,
            unit,
            room,
            head_name,
            mask_phone(phone),
            mask_id_number(id_number),
            resident_count,
            "、".join(tags.get(household_id, ())),
            YES if is_care else NO,
            care_reason,
            hub or "",
            format_address(
                compound=compound_place or compound, building=building_place or building, unit=unit, room=room
            ),
        ]


def _grids(user) -> list[list]:
    grids = scope(Grid.objects.filter(is_active=True), user, Action.EXPORT)
    buildings = defaultdict(list)
    for grid_id, compound, building in (
        GridBuilding.objects.filter(grid_id__in=grids.values("id"))
        .order_by("building__tree_id", "building__lft")
        .values_list("grid_id", "building__parent__name", "building__name")
    ):
        buildings[grid_id].append(f"{compound}/{building}")
    return [
        [community, code, name, COLOUR_NAMES.get(colour, colour), reason, "、".join(buildings.get(grid_id, ()))]
        for grid_id, community, code, name, colour, reason in grids.order_by("community__tree_id", "code").values_list(
            "id", "community__name", "code", "name", "colour", "colour_reason"
        )
    ]


def _posts(user) -> list[list]:
    posts = scope(GridPost.objects.filter(grid__is_active=True), user, Action.EXPORT)
    return [
        list(values[:4]) + [values[4] or ""]
        for values in posts.order_by("grid__community__tree_id", "grid__code", "post_type", "id").values_list(
            "grid__community__name", "grid__code", "post_type", "title", "holder__username"
        )
    ]


def _header_cells(worksheet, sheet: Sheet) -> list:
    cells = []
    for column in sheet.columns:
        cell = WriteOnlyCell(worksheet, value=column.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cells.append(cell)
    return cells


def _write_only_sheet(workbook, sheet: Sheet, rows) -> int:
    worksheet = workbook.create_sheet(sheet.name)
    for index, column in enumerate(sheet.columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = column.width
    worksheet.freeze_panes = "A2"
    worksheet.append(_header_cells(worksheet, sheet))
    count = 0
    for row in rows:
        worksheet.append(row)
        count += 1
    return count


def _readme_rows() -> list[list[str]]:
    rows = [[line] for line in README_LINES]
    rows.append(["表名", "列", "说明"])
    for sheet in DATA_SHEETS:
        rows.append([sheet.name, "", sheet.note])
        for column in sheet.columns:
            rows.append(["", column.header + ("（必填列）" if column.required else ""), column.note])
    return rows


def workbook_export(*, user, request=None):
    """A temporary file (open, at position 0) holding the user's export; the caller closes it."""
    workbook = Workbook(write_only=True)
    readme = workbook.create_sheet(SHEET_README)
    readme.column_dimensions["A"].width = 14
    readme.column_dimensions["B"].width = 22
    readme.column_dimensions["C"].width = 90
    for row in _readme_rows():
        readme.append(row)
    care_reasons = _CareReasons()
    # The workbook is the Chinese ledger format whatever the user's language (addresses too).
    with translation.override(settings.LANGUAGE_CODE):
        counts = _write_data_sheets(workbook, user, care_reasons)
    target = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(target)
    target.seek(0)
    audit_record(
        user=user,
        action=AuditEvent.Action.EXPORTED,
        detail={
            "rows": counts,
            # Whether the file holds care reasons in full (personal data), and how many were masked.
            "care_reasons_included": care_reasons.included > 0,
            "care_reasons_in_full": care_reasons.included,
            "care_reasons_masked": care_reasons.masked,
        },
        request=request,
    )
    return target


def _write_data_sheets(workbook, user, care_reasons: _CareReasons) -> dict:
    return {
        TREE.name: _write_only_sheet(workbook, TREE, _tree_rows(user)),
        HOUSEHOLDS.name: _write_only_sheet(workbook, HOUSEHOLDS, _households(user, care_reasons)),
        GRIDS.name: _write_only_sheet(workbook, GRIDS, _grids(user)),
        POSTS.name: _write_only_sheet(workbook, POSTS, _posts(user)),
    }


# --- the template -------------------------------------------------------------------------------


def with_check_character(body: str) -> str:
    """A 17-digit ID number body plus its GB 11643 check character."""
    return body + id_number_check_character(body)


TEMPLATE_EXAMPLES = {
    TREE.name: [
        ["北苑社区", "阳光小区党支部", "1号楼党小组", "张建国中心户"],
        ["北苑社区", "阳光小区党支部", "2号楼党小组", ""],
        ["北苑社区", "和平小区党支部", "5号楼党小组", "李秀兰中心户"],
        ["北苑社区", "和平小区党支部", "6号楼党小组", ""],
    ],
    HOUSEHOLDS.name: [
        [
            "北苑社区",
            "阳光小区党支部",
            "1号楼党小组",
            "1",
            "101",
            "张建国",
            "13800001001",
            with_check_character("15010219580312003"),
            3,
            "党员户",
            NO,
            "",
            "张建国中心户",
        ],
        [
            "北苑社区",
            "阳光小区党支部",
            "1号楼党小组",
            "1",
            "102",
            "王秀英",
            "13800001002",
            with_check_character("15010219410705002"),
            1,
            "独居老人",
            YES,
            "独居，行动不便，每周电话联系一次",
            "张建国中心户",
        ],
        [
            "北苑社区",
            "阳光小区党支部",
            "1号楼党小组",
            "2",
            "201",
            "刘德明",
            "0471-5123456",
            with_check_character("15010219660921001"),
            2,
            "残疾人、低保户",
            YES,
            "肢体残疾，低保户",
            "",
        ],
        [
            "北苑社区",
            "阳光小区党支部",
            "2号楼党小组",
            "1",
            "301",
            "陈红",
            "13800001004",
            with_check_character("15010219850214002"),
            4,
            "",
            NO,
            "",
            "",
        ],
        [
            "北苑社区",
            "和平小区党支部",
            "5号楼党小组",
            "1",
            "101",
            "李秀兰",
            "13800001005",
            with_check_character("15010219620808004"),
            2,
            "党员户、退役军人",
            NO,
            "",
            "李秀兰中心户",
        ],
        [
            "北苑社区",
            "和平小区党支部",
            "6号楼党小组",
            "3",
            "502",
            "赵桂芳",
            "",
            "",
            1,
            "空巢老人",
            YES,
            "子女在外地，高血压",
            "",
        ],
    ],
    GRIDS.name: [
        ["北苑社区", "01", "第一网格", "绿", "", "阳光小区党支部/1号楼党小组、阳光小区党支部/2号楼党小组"],
        [
            "北苑社区",
            "02",
            "第二网格",
            "黄",
            "老旧管网，冬季供暖投诉较多",
            "和平小区党支部/5号楼党小组、和平小区党支部/6号楼党小组",
        ],
    ],
    POSTS.name: [
        ["北苑社区", "01", "A", "专职网格员", ""],
        ["北苑社区", "01", "B", "楼栋长", ""],
        ["北苑社区", "02", "A", "专职网格员", ""],
        ["北苑社区", "02", "C", "网格长", ""],
    ],
}

# Drop-down lists Excel offers in these columns (header → allowed values).
_CHOICES = {
    "需关爱对象": [YES, NO],
    "颜色": ["红", "黄", "绿"],
    "岗位类型": list(POST_TYPES),
}


def write_template(path) -> None:
    """The template workbook: 说明 plus the four sheets with headers and a believable example."""
    workbook = Workbook()
    readme = workbook.active
    readme.title = SHEET_README
    for row in _readme_rows():
        readme.append(row)
    readme["A1"].font = Font(bold=True, size=14)
    table_header = len(README_LINES) + 1
    for cell in readme[table_header]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for row in readme.iter_rows(min_row=table_header + 1):
        if row[0].value:
            row[0].font = Font(bold=True)
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    readme.column_dimensions["A"].width = 14
    readme.column_dimensions["B"].width = 22
    readme.column_dimensions["C"].width = 90
    for sheet in DATA_SHEETS:
        worksheet = workbook.create_sheet(sheet.name)
        worksheet.append(sheet.headers)
        for cell, column in zip(worksheet[1], sheet.columns, strict=True):
            cell.font = HEADER_FONT
            cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        for example in TEMPLATE_EXAMPLES[sheet.name]:
            worksheet.append(example)
        for index, column in enumerate(sheet.columns, start=1):
            letter = get_column_letter(index)
            worksheet.column_dimensions[letter].width = column.width
            if column.text:  # what people type later stays text (leading zeros, 18-digit numbers)
                worksheet.column_dimensions[letter].number_format = TEXT_FORMAT
                for (cell,) in worksheet.iter_rows(min_row=2, min_col=index, max_col=index):
                    cell.number_format = TEXT_FORMAT
            choices = _CHOICES.get(column.header)
            if choices:
                validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                worksheet.add_data_validation(validation)
                validation.add(f"{letter}2:{letter}1000")
        worksheet.freeze_panes = "A2"
    workbook.save(path)
