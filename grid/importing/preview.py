"""What a check shows before anything is written: the dry run's preview.

Built from the change list of the rolled-back write (changes.py), the reader's notes (sheets,
columns and rows it did not read) and the problems. JSON-able: it is kept on the job, and the
job page renders it in the reader's language. Each list that needs attention is capped (the
counts are not), so a 20,000-row workbook gives a page, not a dump.
"""

import re
from collections import Counter
from difflib import SequenceMatcher

from ..models import default_place_name, format_address
from .apply import place_label
from .changes import ChangeLog, Kind, Operation
from .validation import SHEET_ORDER

LIST_CAP = 200
SAMPLE_CAP = 50
# Household values whose loss is called out as "clears a stored value".
CLEARABLE = ("phone", "id_number", "care_reason", "hub", "tags", "is_care")
CLOSE_RATIO = 0.8
_KINDS = {2: "compound", 3: "building", 4: "hub"}
_DIGITS = re.compile(r"[0-9]+")


def _sheet_notes(parsed) -> dict:
    sheets = getattr(parsed, "ignored_sheets", []) or []
    columns, rows = [], []
    for name, sheet in parsed.sheets.items():
        columns += [{"sheet": name, **column} for column in getattr(sheet, "ignored_columns", []) or []]
        rows += [{"sheet": name, **row} for row in getattr(sheet, "skipped_rows", []) or []]
    return {"sheets": list(sheets), "columns": columns, "rows": rows[:LIST_CAP], "rows_total": len(rows)}


# What was left unread that holds no data: the template's instructions, the export's 地址
# column (read from 小区/楼栋/单元/门牌号), totals, second header and example rows. Anything else
# left unread may hold data, so "everything in the workbook was written" is not said.
NOT_DATA = {"readme", "export_only", "totals", "sub_header", "repeated_header", "example"}


def _complete(parsed, notes: dict) -> bool:
    rows = [row for sheet in parsed.sheets.values() for row in getattr(sheet, "skipped_rows", []) or []]
    entries = [*notes["sheets"], *notes["columns"], *rows]
    return all(entry.get("reason") in NOT_DATA for entry in entries)


def _place(name: str, kind: str) -> str:
    return default_place_name(name, kind) or name


def _close_existing(name: str, siblings: list[str], kind: str) -> str | None:
    """An existing sibling whose name is close to ``name`` (same place name, one inside the other,
    or nearly the same letters), as people mean "the same place". Numbers are never close:
    1号楼 and 12号楼 are two buildings."""
    place = _place(name, kind)
    for other in siblings:
        if _DIGITS.findall(other) != _DIGITS.findall(name):
            continue
        other_place = _place(other, kind)
        if place == other_place or place in other or other_place in name:
            return other
        if SequenceMatcher(None, name, other).ratio() >= CLOSE_RATIO:
            return other
    return None


def _person(side: dict) -> str:
    """A post holder as the page names them: 王建国（gridworker）, or "" for none."""
    username = side.get("holder") or ""
    name = side.get("holder_name") or ""
    return f"{name}（{username}）" if name and name != username else username


def _address(plan, key: str) -> str:
    """A household's change key (社区/小区/楼栋|单元|门牌号) as people say it: 阳光小区1号楼2单元502室."""
    path, unit, room = key.split("|")
    path = tuple(path.split("/"))
    compound = place_label(plan, path[:2])
    building = place_label(plan, path)[len(compound) :]
    return format_address(compound=compound, building=building, unit=unit, room=room)


def _capped(items: list) -> dict:
    return {"items": items[:LIST_CAP], "total": len(items)}


def _masked(field: str, value):
    """What the page may show of a value (the preview is kept on the job): phones and ID numbers masked."""
    from core.masking import mask_id_number, mask_phone

    if not value:
        return value
    if field == "phone":
        return mask_phone(value)
    if field == "id_number":
        return mask_id_number(value)
    if field == "care_reason":
        return "******"
    return value


def build_preview(*, parsed, plan, log: ChangeLog, summary: dict) -> dict:
    """The preview of a clean check (no problems): counts, what needs attention, what was not read."""
    posts_taken, grid_buildings, cleared, close_names, sample = [], [], [], [], []
    siblings: dict[tuple, list[str]] = {}
    for path in plan.existing_nodes:
        siblings.setdefault(path[:-1], []).append(path[-1])
    for change in log:
        where = {"sheet": change.sheet, "row": change.row}
        if change.kind == Kind.POST and change.operation == Operation.UPDATED and change.before.get("holder"):
            posts_taken.append(
                {
                    **where,
                    "post": change.key.rsplit("|", 1)[0].replace("|", " "),
                    "from": _person(change.before),
                    "from_username": change.before["holder"],
                    "to": _person(change.after),
                }
            )
        elif change.kind == Kind.GRID and change.operation == Operation.UPDATED:
            if change.before.get("buildings") != change.after.get("buildings"):
                grid_buildings.append(
                    {
                        **where,
                        "grid": f"{change.after.get('name', '')}（{change.key.rsplit('|', 1)[-1]}）",
                        "before": change.before.get("buildings", []),
                        "after": change.after.get("buildings", []),
                    }
                )
        elif change.kind == Kind.HOUSEHOLD and change.operation == Operation.UPDATED:
            fields = [
                name
                for name in CLEARABLE
                if name in change.before and change.before[name] not in ("", None, [], False) and not change.after[name]
            ]
            address = _address(plan, change.key)
            if fields:
                cleared.append({**where, "address": address, "fields": fields})
            if len(sample) < SAMPLE_CAP:
                sample.append(
                    {
                        **where,
                        "address": address,
                        "fields": [
                            {"field": name, "before": _masked(name, value), "after": _masked(name, change.after[name])}
                            for name, value in change.before.items()
                            if not name.startswith("_")
                        ],
                    }
                )
        elif change.kind == Kind.NODE and change.operation == Operation.CREATED:
            path = tuple(change.key.split("/"))
            close = _close_existing(path[-1], siblings.get(path[:-1], []), _KINDS.get(len(path), ""))
            if close is not None:
                close_names.append({**where, "path": " / ".join(path), "close_to": close})
    sheets = sorted(summary.get("sheets", []), key=lambda sheet: SHEET_ORDER.get(sheet["sheet"], 99))
    for sheet in sheets:
        sheet.setdefault("refused", 0)
    notes = _sheet_notes(parsed)
    return {
        "fingerprint": log.fingerprint(),
        "rows": parsed.total_rows,
        "sheets": sheets,
        "changes": len(log),
        "posts_taken": _capped(posts_taken),
        "grid_buildings": _capped(grid_buildings),
        "cleared": _capped(cleared),
        "close_names": _capped(close_names),
        "changed_sample": sample,
        "not_read": notes,
        "complete": _complete(parsed, notes),
    }


def refused_preview(*, parsed, problems) -> dict:
    """The preview of a check that found problems: rows refused per sheet, and what was not read."""
    refused = Counter()
    seen = set()
    for problem in problems:
        if problem.sheet and problem.row and (problem.sheet, problem.row) not in seen:
            seen.add((problem.sheet, problem.row))
            refused[problem.sheet] += 1
    sheets = [
        {"sheet": name, "rows": len(sheet.rows), "refused": refused.get(name, 0)}
        for name, sheet in sorted(parsed.sheets.items(), key=lambda item: SHEET_ORDER.get(item[0], 99))
    ]
    notes = _sheet_notes(parsed)
    return {"rows": parsed.total_rows, "sheets": sheets, "not_read": notes, "complete": False}
