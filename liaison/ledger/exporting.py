"""The pairing ledger (包联台账) written as a workbook: the export (a background export of core.exports, kind
``pairing_ledger``) and the template. Both in the import's format (layout.py), so an export imports back
unchanged.

The export holds the team's cadre-tier pairings the user reaches (``scope(…, user, Action.VIEW)``, the
liaison rules): all of them with their dates, history included, or those in force on a day. It holds
nothing personal but the households' addresses (no phones, no ID numbers). Every text cell is written as
text (grid.exporting's text cells: a name starting with "=" never comes out as a formula), dates as real
Excel dates; the query count does not depend on the number of rows.
"""

import datetime
import tempfile

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from core.access import Action, scope
from core.errors import ErrorCode, ZhubaoError
from core.exports import PHASE_SAVING, ExportFile, register_export
from grid.exporting import HEADER_FILL, HEADER_FONT, REQUIRED_FILL, TEXT_FORMAT, _TextCells
from grid.models import OrgNodeKind, format_address

from ..models import Pairing, PairingTier, WorkTeam
from .layout import ENDS_ON_NOTE, EXAMPLE_GROUP, LEDGER, README_LINES
from .validation import person_label

PAIRING_LEDGER = "pairing_ledger"  # the kind of export (core.exports) and of its audit events
DATE_FORMAT = "yyyy-mm-dd"
PROGRESS_EVERY_ROWS = 500
SHEET_README = "说明"


def _place_label(compound, building) -> str:
    return (compound.place_label if compound is not None else "") + building.place_label


def ledger_rows(*, user, team: WorkTeam, on: datetime.date | None = None):
    """The ledger's rows (dicts by column key) of the team's cadre pairings the user reaches, one query."""
    pairings = scope(Pairing.objects.filter(team=team, tier=PairingTier.CADRE), user, Action.VIEW)
    if on is not None:
        pairings = pairings.on(on)
    pairings = pairings.select_related(
        "work_group", "cadre", "node__parent__parent", "household__building", "household__compound"
    ).order_by("work_group__name", "cadre__username", "starts_on", "node__lft", "household_id", "id")
    for pairing in pairings.iterator(chunk_size=2_000):
        if pairing.household_id:
            household = pairing.household
            building = _place_label(household.compound, household.building)
            address = format_address(
                compound=household.compound.place_label,
                building=household.building.place_label,
                unit=household.unit,
                room=household.room,
            )
        else:
            node = pairing.node
            address = ""
            if node.kind == OrgNodeKind.HUB:
                building = f"{_place_label(node.parent.parent, node.parent)}/{node.name}"
            else:
                building = _place_label(node.parent, node)
        yield {
            "work_group": pairing.work_group.name,
            "cadre": person_label(pairing.cadre.full_name, pairing.cadre.username),
            "building": building,
            "household": address,
            "starts_on": pairing.starts_on,
            "ends_on": pairing.ends_on,
        }


def _readme(workbook) -> None:
    readme = workbook.create_sheet(SHEET_README)
    readme.column_dimensions["A"].width = 14
    readme.column_dimensions["B"].width = 90
    text = _TextCells(readme)
    for line in README_LINES:
        readme.append(text.row([line]))
    readme.append(text.row(["列", "说明"]))
    for column in LEDGER.columns:
        note = column.note + ("（表头也可写作：" + "、".join(column.synonyms) + "）" if column.synonyms else "")
        readme.append(text.row([column.header + ("（必填列）" if column.required else ""), note]))
    readme.append(text.row(["", LEDGER.note]))


def _date_cell(worksheet, value):
    if not value:
        return None
    cell = WriteOnlyCell(worksheet, value=value)
    cell.number_format = DATE_FORMAT
    return cell


def _ledger_sheet(workbook, rows, *, progress=None, total: int = 0) -> int:
    worksheet = workbook.create_sheet(LEDGER.name)
    for index, column in enumerate(LEDGER.columns, start=1):
        worksheet.column_dimensions[get_column_letter(index)].width = column.width
    worksheet.freeze_panes = "A2"
    text = _TextCells(worksheet)
    header = []
    for column in LEDGER.columns:
        cell = text.cell(column.header)
        cell.font = HEADER_FONT
        cell.fill = REQUIRED_FILL if column.required else HEADER_FILL
        if column.key == "ends_on":
            cell.comment = Comment(ENDS_ON_NOTE, "筑堡")
        header.append(cell)
    worksheet.append(header)
    if progress is not None:
        progress.phase(LEDGER.name, step=1, steps=2, total=total)
    count = 0
    for values in rows:
        cells = []
        for column in LEDGER.columns:
            value = values.get(column.key)
            if column.key in ("starts_on", "ends_on"):
                cells.append(_date_cell(worksheet, value))
            else:
                cells.append(text.cell(value) if value else None)
        worksheet.append(cells)
        count += 1
        if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
            progress.advance(PROGRESS_EVERY_ROWS)
    if progress is not None:
        progress.advance(count % PROGRESS_EVERY_ROWS)
    return count


def ledger_write(*, user, team: WorkTeam, target, on: datetime.date | None = None, progress=None) -> dict:
    """Write the team's ledger as the user may see it into ``target`` (a binary file); returns the summary."""
    workbook = Workbook(write_only=True)
    with translation.override(settings.LANGUAGE_CODE):  # the Chinese ledger format, addresses too
        _readme(workbook)
        total = 0
        if progress is not None:
            pairings = scope(Pairing.objects.filter(team=team, tier=PairingTier.CADRE), user, Action.VIEW)
            total = (pairings.on(on) if on else pairings).count()
        count = _ledger_sheet(workbook, ledger_rows(user=user, team=team, on=on), progress=progress, total=total)
    if progress is not None:
        progress.phase(PHASE_SAVING, step=2, steps=2)
    workbook.save(target)
    return {
        "rows": {LEDGER.name: count},
        "sheets": [LEDGER.name],
        "team": team.name,
        "on": on.isoformat() if on else "",
    }


def write_ledger(job, user, progress) -> ExportFile:
    """The export job's writer (core.exports): the team and day of its params, read through the user's scope."""
    params = job.params or {}
    team = scope(WorkTeam.objects.select_related("community"), user, Action.VIEW).filter(pk=params.get("team")).first()
    if team is None:
        raise ZhubaoError(ErrorCode.NOT_FOUND, "The team of this export is out of the user's reach.", status_code=404)
    on = datetime.date.fromisoformat(params["on"]) if params.get("on") else None
    target = tempfile.TemporaryFile(suffix=".xlsx")
    try:
        summary = ledger_write(user=user, team=team, target=target, on=on, progress=progress)
    except BaseException:
        target.close()
        raise
    stamp = timezone.localtime(job.created_at).strftime("%Y%m%d-%H%M")
    return ExportFile(file=target, name=f"zhubao-pairing-ledger-{team.pk}-{stamp}.xlsx", summary=summary)


def register() -> None:
    register_export(
        PAIRING_LEDGER,
        label=_("Pairing ledger"),
        action=Action.VIEW,
        write=write_ledger,
        start_url="ledger:export",
    )


# --- the template ---------------------------------------------------------------------------------

# The example rows name a fictional work group (layout.EXAMPLE_GROUP), which the import skips, and people
# by name only (a username in a template would be someone's login).
TEMPLATE_EXAMPLES = (
    {
        "work_group": EXAMPLE_GROUP,
        "cadre": "王建国",
        "building": "示例小区1号楼",
        "starts_on": datetime.date(2026, 3, 1),
    },
    {
        "work_group": EXAMPLE_GROUP,
        "cadre": "王建国",
        "building": "示例小区1号楼",
        "household": "示例小区1号楼2单元502室",
        "starts_on": datetime.date(2026, 3, 1),
    },
    {
        "work_group": EXAMPLE_GROUP,
        "cadre": "李秀兰",
        "building": "示例小区2号楼/张建国中心户",
        "starts_on": datetime.date(2025, 9, 1),
        "ends_on": datetime.date(2026, 3, 1),
    },
)


def template_write(target) -> None:
    """The template: 说明 and the ledger sheet with its header (the end date's note as a comment) and examples."""
    workbook = Workbook(write_only=True)
    _readme(workbook)
    _ledger_sheet(workbook, TEMPLATE_EXAMPLES)
    workbook.save(target)


__all__ = ["PAIRING_LEDGER", "TEXT_FORMAT", "ledger_rows", "ledger_write", "register", "template_write"]
