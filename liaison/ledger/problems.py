"""What can be wrong in a pairing ledger: the codes of grid's import catalogue (the reader's, the cells')
and the ledger's own, each a stable code with an English msgid rendered in the reader's language.

A problem is kept on the job as grid's are (``{"sheet", "row", "column", "value", "code", "params",
"message"}``), so the job page renders ``code`` + ``params`` again in the reader's language.
"""

from django.utils.translation import gettext, gettext_noop

from grid.importing.problems import MESSAGES as GRID_MESSAGES

LEDGER_MESSAGES = {
    "unknown_group": gettext_noop("The team %(team)s has no work group %(name)s. Its groups: %(groups)s."),
    "unknown_cadre": gettext_noop(
        "%(name)s is not a member of any work group of %(team)s. Write the username, the name, "
        "or the name with the username in brackets, as 王建国（cadre1）."
    ),
    "ambiguous_cadre": gettext_noop(
        "Several members of %(team)s are called %(name)s (%(candidates)s). Write the username instead."
    ),
    "not_member": gettext_noop("%(person)s is not a member of %(group)s on %(day)s."),
    "place_required": gettext_noop("Write the building or member-household hub, or the household, of this pairing."),
    "unknown_place": gettext_noop(
        "%(name)s is not a building or member-household hub of %(community)s, the team's community. "
        "Write it as people name it there, for example 阳光小区1号楼 or 阳光小区1号楼/张建国中心户."
    ),
    "ambiguous_place": gettext_noop(
        "%(name)s could be any of %(candidates)s. Write the compound too, for example 阳光小区1号楼."
    ),
    "household_format": gettext_noop(
        "Write the household's address as 阳光小区1号楼2单元502室, or 2单元502室 when the building is written "
        "in its own column."
    ),
    "unknown_household": gettext_noop("No household of %(community)s lives at %(address)s."),
    "household_elsewhere": gettext_noop(
        "The household %(address)s is not in %(building)s, the building written in this row."
    ),
    "place_inactive": gettext_noop("%(name)s is deactivated or has moved out, so it cannot be paired from now on."),
    "date_invalid": gettext_noop(
        "This is not a date. Format the cell as a date, or write the year first, as 2026-03-01, 2026/3/1 "
        "or 2026年3月1日."
    ),
    "date_order": gettext_noop(
        "This date is written day or month first. Write the year first, as 2026-03-01, so it cannot be misread."
    ),
    "date_number": gettext_noop(
        "This cell holds the number %(typed)s, not a date. Format the cell as a date, or write 2026-03-01."
    ),
    "ends_before_start": gettext_noop(
        "The end date must be after the start date (%(starts_on)s): it is the first day without the pairing."
    ),
    "duplicate_pairing": gettext_noop(
        "Row %(other_row)s already pairs %(person)s with this place on some of the same days."
    ),
    "overlapping_pairing": gettext_noop(
        "%(person)s is already paired with this place from %(starts_on)s%(until)s, which overlaps this row. "
        "To end that pairing, write its start date %(starts_on)s and the end date in one row."
    ),
    "group_differs": gettext_noop(
        "This pairing is stored in the work group %(group)s. A pairing does not move to another group: end it, "
        "and pair again from a later date."
    ),
    "end_differs": gettext_noop(
        "This pairing already ended on %(ends_on)s. An end is not moved or removed by the ledger: leave the end "
        "date as stored, or pair again from a later date."
    ),
    "only_ledger_examples": gettext_noop(
        "The workbook holds only the template's example rows (work group %(group)s), which are never imported. "
        "Add your own rows, then upload it again."
    ),
}

MESSAGES = {**GRID_MESSAGES, **LEDGER_MESSAGES}


def render_message(code: str, params: dict | None = None, fallback: str = "") -> str:
    template = MESSAGES.get(code)
    if template is None:
        return fallback or code
    text = gettext(template)
    return text % params if params else text


def problem_dict(problem) -> dict:
    """A grid.importing.problems.ImportProblem as kept on the job, its message from this catalogue."""
    return {**problem.as_dict(), "message": render_message(problem.code, problem.params)}
