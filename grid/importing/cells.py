"""Turn raw cell values (str, int, float, datetime, None) into text the way a person meant them,
and describe a cell's value for the error table."""

import datetime
import re
import unicodedata

from core.masking import mask_id_number, mask_phone

from .layout import CARE_REASON_MASK, is_clear_marker

# How much of a cell the error table repeats.
VALUE_MAX_LENGTH = 50
# Characters that do not show on a page: shown as U+XXXX in the error table.
_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


# How Excel writes a character XML cannot hold (a control character) into a cell's text: _x000B_.
# openpyxl leaves the escape as it is; Excel, WPS and LibreOffice show the character.
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def ooxml_unescape(text: str) -> str:
    """The text as an office suite shows it: "_x000B_" is U+000B ("_x005F_" escapes an underscore)."""
    if "_x" not in text:
        return text
    return _OOXML_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), text)


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
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value).replace("\u00a0", " ").strip()


def is_date_cell(value) -> bool:
    """True for a cell the office suite stored as a date or time (5-02 typed into a General cell)."""
    return isinstance(value, datetime.date | datetime.time)


def is_number_cell(value) -> bool:
    """True for a cell stored as a number (not text); a 是/否 checkbox is not a number."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _visible(text: str) -> str:
    return "".join(f"U+{ord(char):04X}" if unicodedata.category(char) in _INVISIBLE else char for char in text)


def describe_value(key: str, value) -> str:
    """What a cell held, short enough for the error table: at most ``VALUE_MAX_LENGTH`` characters,
    invisible characters as U+XXXX, and a phone, an ID number or a care reason masked as an export
    masks them (the error list is kept on the job; it must not hold personal data in full)."""
    if value is None:
        return ""
    text = ooxml_unescape(value).strip() if isinstance(value, str) else cell_text(value)
    if not text:
        return ""
    if is_clear_marker(text):
        pass
    elif key == "phone":
        text = mask_phone(text)
    elif key == "id_number":
        text = mask_id_number(text)
    elif key == "care_reason":
        text = CARE_REASON_MASK
    text = _visible(text)
    if len(text) > VALUE_MAX_LENGTH:
        text = text[: VALUE_MAX_LENGTH - 1] + "…"
    return text
