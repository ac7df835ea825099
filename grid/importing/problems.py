"""What can be wrong in a workbook: one catalogue of messages, each with a stable code.

A problem is stored on the ImportJob as ``{"sheet", "row", "column", "value", "code", "params",
"message"}`` (``value``: what the cell held, short and with personal data masked, so the error
table can repeat it): ``message`` is rendered in the worker's language when the job runs, and the
job page renders ``code`` + ``params`` again in the reader's language. The msgids are
marked with gettext_noop so makemessages finds them.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext, gettext_noop

from .notes import READER_PROBLEMS
from .reaping import MESSAGES as REAPER_PROBLEMS

MESSAGES = {
    # The file as a whole
    "not_a_workbook": gettext_noop("The file could not be read as an Excel workbook (.xlsx). Please save it as .xlsx."),
    "no_data_sheets": gettext_noop("The workbook has none of the sheets %(sheets)s. Please start from the template."),
    "no_header": gettext_noop(
        "No header row was found in the first %(rows)s rows. The sheet needs the columns %(columns)s."
    ),
    "missing_columns": gettext_noop("The sheet is missing the required columns %(columns)s."),
    "duplicate_column": gettext_noop("The column %(column)s appears twice in the header row."),
    "no_rows": gettext_noop("The sheets hold no data rows."),
    "too_many_errors": gettext_noop("The check stopped after %(count)s errors. Please correct these and import again."),
    # One cell
    "required": gettext_noop("This cell is required."),
    "too_long": gettext_noop("This cell is too long: at most %(max)s characters."),
    "level_gap": gettext_noop("Fill in this cell too: a lower level to its right is filled in."),
    "phone_invalid": gettext_noop("Enter an 11-digit mobile number or a landline such as 0471-1234567."),
    "id_number_invalid": gettext_noop(
        "This is not a valid 18-character resident ID number (the length or the check character is wrong)."
    ),
    "id_number_as_number": gettext_noop(
        "Excel stored this ID number as a number and lost its last digits. "
        "Please format the column as text and enter the number again."
    ),
    "date_cell": gettext_noop(
        "The office suite turned what was typed here into the date %(date)s (it reads 5-02 as 2 May, "
        "1-1 as 1 January and 3/1 as a date too). Please format the column as text, then type the value again."
    ),
    "unsafe_characters": gettext_noop(
        "This text holds invisible control characters (%(characters)s), which are not allowed. "
        "Please type it again instead of pasting it."
    ),
    "formula": gettext_noop("A name cannot start with =, +, - or @: spreadsheets would read it as a formula."),
    "clear_not_allowed": gettext_noop(
        "%(marker)s cannot be used in this column: it clears only a phone, an ID number, tags, a care reason, "
        "a member-household hub, a grid's buildings and a post's holder."
    ),
    "clear_resident_count": gettext_noop(
        "A household has at least one resident, so this cell cannot be cleared with %(marker)s. "
        "Write the number of residents, or leave the cell blank to keep the stored number."
    ),
    "clear_is_care": gettext_noop(
        "Write %(no)s instead of %(marker)s to say the household needs no care, "
        "or leave the cell blank to keep what is stored."
    ),
    "clear_care_reason": gettext_noop(
        "A care household needs a reason, so %(marker)s cannot clear it here. "
        "Write %(no)s in the column %(care_column)s too, or write the reason."
    ),
    "masked_for_new": gettext_noop(
        "This value is masked (it comes from an export). A new household needs the full value."
    ),
    "whole_number": gettext_noop("Enter a whole number from %(min)s to %(max)s."),
    "yes_no": gettext_noop("Enter %(yes)s or %(no)s."),
    "colour": gettext_noop("Enter one of %(colours)s."),
    "colour_reason_required": gettext_noop("Say why the grid is red or yellow."),
    "care_reason_required": gettext_noop("Say why this household needs care."),
    "post_type": gettext_noop("Enter one of %(types)s."),
    "unknown_tags": gettext_noop("Unknown tags: %(tags)s. The portal knows: %(known)s."),
    "building_format": gettext_noop(
        "Write each building as compound/building, for example %(example)s, and separate buildings with 、. "
        "This part could not be read: %(item)s."
    ),
    # References
    "out_of_scope": gettext_noop(
        "You may not import into %(name)s: it is outside your part of the organisation tree. "
        "Only a system admin may add a new community."
    ),
    "node_inactive": gettext_noop("%(name)s is deactivated in the portal. Reactivate it first or use another name."),
    "unknown_building": gettext_noop(
        "The building %(building)s of %(compound)s is neither in the sheet %(source_sheet)s nor in the portal."
    ),
    "unknown_community": gettext_noop(
        "The community %(community)s is neither in the sheet %(source_sheet)s nor in the portal."
    ),
    "unknown_hub": gettext_noop(
        "The member-household hub %(hub)s is not under this building, neither in the sheet %(source_sheet)s "
        "nor in the portal."
    ),
    "unknown_grid": gettext_noop(
        "The grid %(code)s of %(community)s is neither in the sheet %(source_sheet)s nor in the portal."
    ),
    "ambiguous_node": gettext_noop(
        "%(name)s could be any of the existing %(candidates)s. Please write the full name of the one you mean."
    ),
    "ambiguous_grid_code": gettext_noop(
        "The grid code %(code)s could be any of the stored codes %(codes)s of %(community)s. "
        "Please write the code exactly as stored, or correct the codes in the portal first."
    ),
    "ambiguous_household": gettext_noop(
        "More than one household is stored at this address (%(addresses)s). Please correct them in the portal first."
    ),
    "unknown_user": gettext_noop("No active user with the username %(username)s is among the people you may see."),
    # Duplicates inside the file
    "duplicate_household": gettext_noop("The same address (building, unit and room) is already in row %(other_row)s."),
    "duplicate_grid": gettext_noop("The grid code %(code)s of %(community)s is already in row %(other_row)s."),
    "building_in_two_grids": gettext_noop(
        "The building %(building)s is already listed for grid %(code)s in row %(other_row)s; "
        "a building belongs to one grid only."
    ),
    # While writing (someone changed the data between the check and the write)
    "conflict": gettext_noop(
        "The data changed while the import was running, so nothing was written. Please import the file again."
    ),
    "database_unavailable": gettext_noop(
        "The database could not be reached during the import, even after several attempts, so nothing was "
        "written. Please import the file again later."
    ),
    "unexpected": gettext_noop(
        "An unexpected error stopped the import, so nothing was written. Please tell your admin."
    ),
    "queue_unavailable": gettext_noop(
        "The background service is not available at the moment, so this step did not start and nothing was "
        "written. Please try again in a few minutes."
    ),
    "undo_too_slow": gettext_noop(
        "The undo took longer than its time limit and was stopped, so nothing was undone: the imported data is "
        "as it was. You may start the undo again."
    ),
    "undo_unexpected": gettext_noop(
        "An unexpected error stopped the undo, so nothing was undone: the imported data is as it was. "
        "Please tell your admin."
    ),
    "undo_database_unavailable": gettext_noop(
        "The database could not be reached during the undo, even after several attempts, so nothing was undone. "
        "You may start the undo again later."
    ),
    "refused": gettext_noop("Nothing was written: the portal refused one of the changes. %(reason)s"),
    "too_slow": gettext_noop(
        "The import took longer than its time limit and was stopped, so nothing was written. Please split the "
        "workbook into smaller files."
    ),
    "undo_conflict": gettext_noop(
        "The import cannot be undone: %(count)s of the rows it wrote were changed since. Nothing was undone. "
        "Please change those rows by hand."
    ),
    "only_examples": gettext_noop(
        "The workbook holds only the template's example rows (community %(community)s), which are never "
        "imported. Add your own rows, then upload it again."
    ),
}

# The reader's own codes (a sheet twice, too many rows …), kept beside the reader, and the
# reaper's (a job its worker left behind).
MESSAGES.update(READER_PROBLEMS)
MESSAGES.update(REAPER_PROBLEMS)

# Stop collecting after this many: the page stays usable and the point is made.
MAX_PROBLEMS = 5_000


@dataclass
class ImportProblem:
    """One error: where (sheet, Excel row number, column header) and what."""

    code: str
    sheet: str = ""
    row: int | None = None
    column: str = ""
    params: dict = field(default_factory=dict)
    value: str = ""  # the cell as read (cells.describe_value): short, personal data masked

    def message(self) -> str:
        return render_message(self.code, self.params)

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "params": self.params,
            "message": self.message(),
        }


def render_message(code: str, params: dict | None = None, fallback: str = "") -> str:
    """The message for ``code`` in the active language, or ``fallback`` for an unknown code."""
    template = MESSAGES.get(code)
    if template is None:
        return fallback or code
    text = gettext(template)
    return text % params if params else text


class TooManyProblems(Exception):
    """Raised by ProblemList when MAX_PROBLEMS is reached; the check stops there."""


class ProblemList(list):
    def add(
        self, code: str, /, *, sheet: str = "", row: int | None = None, column: str = "", value: str = "", **params
    ) -> None:
        self.append(ImportProblem(code=code, sheet=sheet, row=row, column=column, params=params, value=value))
        if len(self) >= MAX_PROBLEMS:
            self.append(ImportProblem(code="too_many_errors", params={"count": MAX_PROBLEMS}))
            raise TooManyProblems
