"""Export the org tree, households, grids and grid posts as a workbook in the import format.

What a user gets is what ``scope(..., user, Action.EXPORT)`` allows; phone and ID numbers
are masked (an import keeps the stored value where a cell is masked, so an export can be
edited and imported again), and a care reason is written only where the user may reveal the
household's personal data (the rule of the household page's audited reveal). openpyxl's
write-only mode streams rows to a temporary file; the number of queries does not depend on
the number of rows. The page runs it in the background (``grid.export_jobs``, core.exports);
every download is audited.

Every text cell of every workbook written here is a text cell: openpyxl takes a string that
starts with "=" for a formula (a head named ``=HYPERLINK(...)`` would come out live), so text
is written with the cell type set to string and the text number format; and the characters
openpyxl refuses (C0 controls such as U+000B) are written as "U+000B", so one bad stored name
never fails a whole export.

The same module writes the template workbook (``make_import_template``).
"""

import tempfile
from collections import defaultdict
from copy import copy
from pathlib import Path

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.utils import translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.access import Action, has_action, is_global, scope
from core.exports import PHASE_SAVING, export_audit
from core.masking import mask_id_number, mask_phone

from .importing.layout import (
    CARE_REASON_MASK,
    COLOUR_NAMES,
    DATA_SHEETS,
    EXAMPLE_COMMUNITY,
    GRIDS,
    HOUSEHOLDS,
    NO,
    POST_TYPES,
    POSTS,
    README_LINES,
    SHEET_README,
    TREE,
    TREE_LEVELS,
    YES,
    Sheet,
)
from .models import Grid, GridBuilding, GridPost, Household, OrgNode, format_address, id_number_check_character

TEMPLATE_PATH = Path(__file__).resolve().parent / "import_template" / "zhubao-import-template.xlsx"
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B3261E")  # the portal's red
REQUIRED_FILL = PatternFill("solid", fgColor="7F1D1D")
TEXT_FORMAT = "@"


# --- text cells -----------------------------------------------------------------------------------

GRID_WORKBOOK = "grid_workbook"  # the kind of export (core.exports) and of its audit events
PROGRESS_EVERY_ROWS = 1_000


def _unicode_name(match) -> str:
    return f"U+{ord(match.group()):04X}"


def cell_text(value: str) -> str:
    """``value`` with the characters openpyxl cannot write (C0 controls) as their code points, "U+000B"."""
    return ILLEGAL_CHARACTERS_RE.sub(_unicode_name, value)


class _TextCells:
    """Turns a row's strings into write-only cells typed as text (never a formula) in the text format."""

    def __init__(self, worksheet):
        self.worksheet = worksheet
        prototype = WriteOnlyCell(worksheet)
        prototype.number_format = TEXT_FORMAT
        self._style = prototype._style  # the style array of "@", copied onto each cell (no lookup per cell)

    def cell(self, value: str):
        cell = WriteOnlyCell(self.worksheet, value=cell_text(value))
        cell.data_type = "s"  # after the value: openpyxl has made a leading "=" a formula
        cell._style = copy(self._style)
        return cell

    def row(self, values) -> list:
        return [(self.cell(value) if value else None) if isinstance(value, str) else value for value in values]


def set_text_cells(worksheet, min_row: int = 1) -> None:
    """In a normal (not write-only) worksheet: every string cell typed as text, in the text format."""
    for row in worksheet.iter_rows(min_row=min_row):
        for cell in row:
            if isinstance(cell.value, str):
                cell.value = cell_text(cell.value)
                cell.data_type = "s"
                cell.number_format = TEXT_FORMAT


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
    """True for the households whose personal data (here the care reason) the user may see, decided
    in the database for the whole queryset: the rule of the household page's audited reveal
    (``can(user, Action.REVEAL_PERSONAL_DATA, household)``), as one subquery."""
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


def _export_households(user):
    return scope(Household.objects.filter(is_active=True), user, Action.EXPORT)


def _households(user, care_reasons: _CareReasons):
    """Rows of the 居民户 sheet (by column key), masked; two queries whatever the number of households.

    The care reason is written only where the user may reveal the household's personal data;
    elsewhere a masked marker, which an import treats as "keep the stored reason".
    """
    households = _export_households(user)
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
        yield {
            "community": community,
            "compound": compound,
            "building": building,
            "unit": unit,
            "room": room,
            "head_name": head_name,
            "phone": mask_phone(phone),
            "id_number": mask_id_number(id_number),
            "resident_count": resident_count,
            "tags": "、".join(tags.get(household_id, ())),
            "is_care": YES if is_care else NO,
            "care_reason": care_reason,
            "hub": hub or "",
            "address": format_address(
                compound=compound_place or compound, building=building_place or building, unit=unit, room=room
            ),
        }


def _grids(user) -> list[dict]:
    grids = scope(Grid.objects.filter(is_active=True), user, Action.EXPORT)
    buildings = defaultdict(list)
    for grid_id, compound, building in (
        GridBuilding.objects.filter(grid_id__in=grids.values("id"))
        .order_by("building__tree_id", "building__lft")
        .values_list("grid_id", "building__parent__name", "building__name")
    ):
        buildings[grid_id].append(f"{compound}/{building}")
    return [
        {
            "community": community,
            "code": code,
            "name": name,
            "colour": COLOUR_NAMES.get(colour, colour),
            "colour_reason": reason,
            "buildings": "、".join(buildings.get(grid_id, ())),
        }
        for grid_id, community, code, name, colour, reason in grids.order_by("community__tree_id", "code").values_list(
            "id", "community__name", "code", "name", "colour", "colour_reason"
        )
    ]


def _posts(user) -> list[dict]:
    posts = scope(GridPost.objects.filter(grid__is_active=True), user, Action.EXPORT)
    return [
        {"community": community, "code": code, "post_type": post_type, "title": title, "holder": holder or ""}
        for community, code, post_type, title, holder in posts.order_by(
            "grid__community__tree_id", "grid__code", "post_type", "id"
        ).values_list("grid__community__name", "grid__code", "post_type", "title", "holder__username")
    ]


def _header_cells(worksheet, sheet: Sheet, text: _TextCells) -> list:
    cells = []
    for column in sheet.columns:
        cell = text.cell(column.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        cells.append(cell)
    return cells


def _write_only_sheet(workbook, sheet: Sheet, rows, *, progress=None, step=0, steps=0, total=0) -> int:
    """Write ``rows`` (dicts by column key) under the sheet's header; the number of rows written."""
    worksheet = workbook.create_sheet(sheet.name)
    for index, column in enumerate(sheet.columns, start=1):
        dimension = worksheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        if column.text:  # what people type there later stays text too (leading zeros, 18 digits)
            dimension.number_format = TEXT_FORMAT
    worksheet.freeze_panes = "A2"
    text = _TextCells(worksheet)
    worksheet.append(_header_cells(worksheet, sheet, text))
    keys = [column.key for column in sheet.columns]
    if progress is not None:
        progress.phase(sheet.name, step=step, steps=steps, total=total)
    count = 0
    for values in rows:
        worksheet.append(text.row([values.get(key) for key in keys]))
        count += 1
        if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
            progress.advance(PROGRESS_EVERY_ROWS)
    if progress is not None:
        progress.advance(count % PROGRESS_EVERY_ROWS)
    return count


def _readme_rows() -> list[list[str]]:
    rows = [[line] for line in README_LINES]
    rows.append(["表名", "列", "说明"])
    for sheet in DATA_SHEETS:
        rows.append([sheet.name, "", sheet.note])
        for column in sheet.columns:
            note = column.note
            if column.synonyms:  # the other headers the import reads as this column
                note += "（表头也可写作：" + "、".join(column.synonyms) + "）"
            rows.append(["", column.header + ("（必填列）" if column.required else ""), note])
    return rows


def workbook_write(*, user, target, progress=None) -> dict:
    """Write the user's export into ``target`` (a binary file); returns the summary.

    ``progress`` (core.exports.ExportProgress) hears one phase per sheet, with its rows, and
    the saving of the file. The summary: rows per sheet, and how many care reasons are in
    full (also as ``personal_data``, which makes each download a personal-data view too).
    """
    workbook = Workbook(write_only=True)
    readme = workbook.create_sheet(SHEET_README)
    readme.column_dimensions["A"].width = 14
    readme.column_dimensions["B"].width = 22
    readme.column_dimensions["C"].width = 90
    readme_text = _TextCells(readme)
    for row in _readme_rows():
        readme.append(readme_text.row(row))
    care_reasons = _CareReasons()
    steps = len(DATA_SHEETS) + 1
    # The workbook is the Chinese ledger format whatever the user's language (addresses too).
    with translation.override(settings.LANGUAGE_CODE):
        tree = [dict(zip(TREE_LEVELS, path, strict=False)) for path in _tree_rows(user)]
        households_total = _export_households(user).count() if progress is not None else 0
        grids = _grids(user)
        posts = _posts(user)
        sheets = [
            (TREE, tree, len(tree)),
            (HOUSEHOLDS, _households(user, care_reasons), households_total),
            (GRIDS, grids, len(grids)),
            (POSTS, posts, len(posts)),
        ]
        counts = {
            sheet.name: _write_only_sheet(workbook, sheet, rows, progress=progress, step=step, steps=steps, total=total)
            for step, (sheet, rows, total) in enumerate(sheets, start=1)
        }
    if progress is not None:
        progress.phase(PHASE_SAVING, step=steps, steps=steps)
    workbook.save(target)
    summary = {
        "rows": counts,
        "sheets": list(counts),  # the order of the sheets (a JSON column does not keep the keys' order)
        # Whether the file holds care reasons in full (personal data), and how many were masked.
        "care_reasons_included": care_reasons.included > 0,
        "care_reasons_in_full": care_reasons.included,
        "care_reasons_masked": care_reasons.masked,
    }
    if care_reasons.included:
        summary["personal_data"] = {"fields": ["care_reason"], "count": care_reasons.included}
    return summary


def workbook_export(*, user, request=None):
    """The user's export written now, in this process (tests, the benchmark; the page uses a job):
    a temporary file, open at position 0, which the caller closes. Audited as an export."""
    target = tempfile.TemporaryFile(suffix=".xlsx")
    summary = workbook_write(user=user, target=target)
    target.seek(0)
    export_audit(user=user, kind=GRID_WORKBOOK, summary=summary, request=request, via="direct")
    return target


# --- the template -------------------------------------------------------------------------------


def with_check_character(body: str) -> str:
    """A 17-digit ID number body plus its GB 11643 check character."""
    return body + id_number_check_character(body)


# The template's example rows live in an obviously fictional community, which the import skips
# (layout.EXAMPLE_COMMUNITY): importing the template unchanged changes nothing. The compounds are
# fictional too, and no post names a holder (a username in a template would be someone's login).
EXAMPLE_COMPOUND_1 = "示例一小区党支部"
EXAMPLE_COMPOUND_2 = "示例二小区党支部"

TEMPLATE_EXAMPLES = {
    TREE.name: [
        [EXAMPLE_COMMUNITY, EXAMPLE_COMPOUND_1, "1号楼党小组", "张建国中心户"],
        [EXAMPLE_COMMUNITY, EXAMPLE_COMPOUND_1, "2号楼党小组", ""],
        [EXAMPLE_COMMUNITY, EXAMPLE_COMPOUND_2, "5号楼党小组", "李秀兰中心户"],
        [EXAMPLE_COMMUNITY, EXAMPLE_COMPOUND_2, "6号楼党小组", ""],
    ],
    HOUSEHOLDS.name: [
        [
            EXAMPLE_COMMUNITY,
            EXAMPLE_COMPOUND_1,
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
            EXAMPLE_COMMUNITY,
            EXAMPLE_COMPOUND_1,
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
            EXAMPLE_COMMUNITY,
            EXAMPLE_COMPOUND_1,
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
            EXAMPLE_COMMUNITY,
            EXAMPLE_COMPOUND_1,
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
            EXAMPLE_COMMUNITY,
            EXAMPLE_COMPOUND_2,
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
            EXAMPLE_COMMUNITY,
            EXAMPLE_COMPOUND_2,
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
        [
            EXAMPLE_COMMUNITY,
            "01",
            "第一网格",
            "绿",
            "",
            f"{EXAMPLE_COMPOUND_1}/1号楼党小组、{EXAMPLE_COMPOUND_1}/2号楼党小组",
        ],
        [
            EXAMPLE_COMMUNITY,
            "02",
            "第二网格",
            "黄",
            "老旧管网，冬季供暖投诉较多",
            f"{EXAMPLE_COMPOUND_2}/5号楼党小组、{EXAMPLE_COMPOUND_2}/6号楼党小组",
        ],
    ],
    POSTS.name: [
        [EXAMPLE_COMMUNITY, "01", "A", "专职网格员", ""],
        [EXAMPLE_COMMUNITY, "01", "B", "楼栋长", ""],
        [EXAMPLE_COMMUNITY, "02", "A", "专职网格员", ""],
        [EXAMPLE_COMMUNITY, "02", "C", "网格长", ""],
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
    set_text_cells(readme)
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
        set_text_cells(worksheet)
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
