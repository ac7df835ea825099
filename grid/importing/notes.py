"""What the reader tells about a workbook besides its rows: its own problems and its notes.

``READER_PROBLEMS``: the reader's error codes (the file as a whole or a sheet's header),
merged into the catalogue of ``problems.py``. ``NOTES``: why a sheet, a column or a row was
not read, for the dry run (``ParsedWorkbook.ignored_sheets``, ``ParsedSheet.ignored_columns``,
``ParsedSheet.skipped_rows``; each entry's ``reason`` is a key here). Messages are English
msgids marked with gettext_noop and rendered in the reader's language.
"""

from django.utils.translation import gettext, gettext_noop

READER_PROBLEMS = {
    "duplicate_sheet": gettext_noop(
        "The workbook has several visible sheets named %(name)s: %(sheets)s. Keep one of them, and delete or "
        "rename the others (hidden sheets are not read)."
    ),
    "too_many_rows": gettext_noop(
        "The workbook holds more than %(max)s data rows; the reading stopped here. Please split it into several "
        "workbooks."
    ),
    "sheet_too_large": gettext_noop(
        "The sheet holds more than %(rows)s rows or %(cells)s cells, counting empty cells that only carry "
        "formatting; the reading stopped here. Delete the empty rows and columns after the data, or split the "
        "workbook."
    ),
    "synonym_columns": gettext_noop(
        "The columns %(columns)s all mean the column %(name)s. Keep one of them, or rename the others."
    ),
}

# Why a sheet, a column or a row was not read.
NOTES = {
    # sheets
    "hidden": gettext_noop("Hidden sheet: not read. Unhide it if it holds data to import."),
    "unknown": gettext_noop("Not one of the import format's sheets: not read."),
    "readme": gettext_noop("The template's instructions: not read."),
    # columns
    "unknown_header": gettext_noop("The header names no column of this sheet: not read."),
    "export_only": gettext_noop("Written by the export for people to read: the import does not read it."),
    "no_header": gettext_noop("This column holds values but has no header: not read."),
    "beyond_last_column": gettext_noop("Too far to the right (after the 64th column): not read."),
    # rows
    "totals": gettext_noop("A totals row: not read."),
    "sub_header": gettext_noop("A second header row: not read."),
    "repeated_header": gettext_noop("The header row again: not read."),
    "example": gettext_noop("An example row of the template: not read."),
    "no_data": gettext_noop("No value in any column the import reads: not read."),
}


def render_note(reason: str, params: dict | None = None) -> str:
    """The note for ``reason`` in the active language (the reason itself when it is unknown)."""
    template = NOTES.get(reason)
    if template is None:
        return reason
    text = gettext(template)
    return text % params if params else text


def render_reader_problem(code: str, params: dict | None = None) -> str | None:
    """The message of one of the reader's problem codes, or None for another code."""
    template = READER_PROBLEMS.get(code)
    if template is None:
        return None
    text = gettext(template)
    return text % params if params else text


def workbook_notes(parsed) -> list[dict]:
    """Every sheet, column and row the reader did not read, with its message, in workbook order.

    ``{"sheet", "row", "column", "header", "reason", "message"}``; ``row`` is None for a
    sheet or a column, ``column`` and ``header`` are "" for a sheet or a row.
    """
    notes = [
        {"sheet": entry["sheet"], "row": None, "column": "", "header": "", **_reason(entry["reason"])}
        for entry in parsed.ignored_sheets
    ]
    for name, sheet in parsed.sheets.items():
        notes += [
            {
                "sheet": name,
                "row": None,
                "column": entry["column"],
                "header": entry["header"],
                **_reason(entry["reason"]),
            }
            for entry in sheet.ignored_columns
        ]
        notes += [
            {"sheet": name, "row": entry["row"], "column": "", "header": "", **_reason(entry["reason"])}
            for entry in sheet.skipped_rows
        ]
    return notes


def _reason(reason: str) -> dict:
    return {"reason": reason, "message": render_note(reason)}
