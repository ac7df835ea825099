"""Turn raw cell values (str, int, float, datetime, None) into text the way a person meant them."""

import datetime


def cell_text(value) -> str:
    """'101' for 101 or 101.0, '' for None, stripped text otherwise (full-width spaces too)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


def number_lost_digits(value) -> bool:
    """True for a float that held a long digit string (Excel keeps 15 significant digits)."""
    return isinstance(value, float) and abs(value) >= 1e15
