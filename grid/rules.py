"""The household field rules: one home for how each typed value is normalised and checked.

The portal form, the API serializer, the Excel import, the Django admin and the model's
``clean()`` (so every service) call these same functions, so a value accepted by one face is
accepted, and stored the same, by every other. Each rule first normalises (core.text), then
checks ASCII only: ``[0-9]``, never ``\\d`` (which accepts full-width and Arabic-Indic digits).

- phone: "138-1234-5678", "138 1234 5678", "+86 13812345678", "0086…", "１３８…" and
  Arabic-Indic digits all become "13812345678"; a landline becomes "0471-1234567" (one dash
  after the area code: three digits for 010 and 02x, four otherwise);
- ID number: full-width digits to ASCII, spaces removed, a lowercase x becomes X;
- unit and room: "2单元" is unit 2 and "502室" room 502 (the address adds the words back); an
  all-digit unit drops its leading zeros ("01" is unit 1), and a room written floor-dash-number
  ("6-02") is the room number (602), so the ways people write a flat are stored, and matched, as
  one address. A room keeps its leading zeros ("0602" may be how a building numbers its flats,
  and a search for the phone tail "0602" must stay four digits);
- a name and a care reason keep the full-width punctuation of Chinese (core.text, ``prose``);
- every text is bounded (``MAX_LENGTH``), a care reason to 500 characters.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.text import normalise_text

MAX_LENGTH = {
    "unit": 16,
    "room": 16,
    "head_name": 32,
    "phone": 20,
    "id_number": 18,
    "care_reason": 500,
}
TEXT_FIELDS = tuple(MAX_LENGTH)
REQUIRED = {"room", "head_name"}

PHONE_PATTERN = re.compile(r"^(1[0-9]{10}|0[0-9]{2,3}-[0-9]{7,8})$")
ID_NUMBER_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")
_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"

_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_.()·]+")
_COUNTRY_PREFIX = re.compile(r"^(\+86|0086)")
_UNIT_WORD = re.compile(r"^第?\s*(?P<unit>.+?)\s*单元$")
_ROOM_WORD = re.compile(r"(室|房|号房)$")
# 6-02, 12-01 (after NFKC, so －, ‐, –, — and − are read as dashes): a floor, a dash, a two-digit number.
_FLOOR_DASH_NUMBER = re.compile(r"^([1-9][0-9]?)\s*[-‐‑‒–—―−]\s*([0-9]{2})$")

PHONE_MESSAGE = _("Enter an 11-digit mobile number or a landline such as 0471-1234567.")
ID_NUMBER_MESSAGE = _("Enter a valid 18-character resident ID number.")


def id_number_check_character(body: str) -> str:
    """The GB 11643 check character of a 17-digit resident ID number body."""
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def id_number_is_valid(value: str) -> bool:
    """A resident ID number (GB 11643): 17 ASCII digits and a check character."""
    if not ID_NUMBER_PATTERN.match(value):
        return False
    return id_number_check_character(value[:17]) == value[17]


def phone_is_valid(value: str) -> bool:
    return bool(PHONE_PATTERN.match(value))


# --- normalisers ------------------------------------------------------------------------------


def normalise_phone(value) -> str:
    """A phone number as the portal stores it: 13812345678 or 0471-1234567.

    Something that is not recognisably a phone number comes back normalised but otherwise as
    typed, so the check that follows can refuse it.
    """
    text = normalise_text(value)
    compact = _PHONE_SEPARATORS.sub("", text)
    compact = _COUNTRY_PREFIX.sub("", compact) if _COUNTRY_PREFIX.match(compact) else compact
    if text.startswith(("+86", "0086")) and compact[:1] not in ("1", "0", ""):
        compact = "0" + compact  # +86 471 1234567: a landline without its trunk zero
    if not compact.isascii() or not compact.isdigit():
        return text
    if len(compact) == 11 and compact.startswith("1"):
        return compact
    if compact.startswith("0"):
        area = 3 if compact[1:2] in ("1", "2") else 4
        local = compact[area:]
        if 7 <= len(local) <= 8:
            return f"{compact[:area]}-{local}"
    return text


def normalise_id_number(value) -> str:
    return re.sub(r"\s+", "", normalise_text(value)).upper()


def _without_leading_zeros(text: str) -> str:
    """ "01" → "1", "0" stays "0"; anything but ASCII digits is unchanged."""
    if text.isascii() and text.isdigit():
        return text.lstrip("0") or "0"
    return text


def normalise_unit(value) -> str:
    """A unit as the portal stores it: "1单元", "第1单元", "01" and "１" are all unit "1"."""
    text = normalise_text(value)
    words = _UNIT_WORD.match(text)
    if words:
        text = words.group("unit")
    return _without_leading_zeros(text.strip())


def normalise_room(value) -> str:
    """A room as the portal stores it: "202室" and "２０２" are 202, and "6-02" is 602."""
    text = _ROOM_WORD.sub("", normalise_text(value)).strip()
    floor_number = _FLOOR_DASH_NUMBER.match(text)
    if floor_number:
        text = floor_number.group(1) + floor_number.group(2)
    return text


def address_key(unit, room) -> tuple[str, str]:
    """The (unit, room) a flat is matched by: stored rows entered before a rule changed match too."""
    return normalise_unit(unit), normalise_room(room)


def grid_code_key(code) -> str:
    """What a grid code is compared by: normalised, and an all-digit code without its leading zeros,
    so "1" (what Excel keeps of a code typed as a number) finds the grid stored as "01"."""
    return _without_leading_zeros(normalise_text(code))


def phone_tail(phone: str) -> str:
    """The last four digits of a stored phone number (the search column), or ""."""
    digits = re.sub(r"[^0-9]", "", phone or "")
    return digits[-4:] if len(digits) >= 4 else ""


NORMALISERS = {
    "unit": normalise_unit,
    "room": normalise_room,
    "head_name": lambda value: normalise_text(value, prose=True),
    "phone": normalise_phone,
    "id_number": normalise_id_number,
    "care_reason": lambda value: normalise_text(value, multiline=True, prose=True),
}


def normalise_household_field(name: str, value):
    """The normalised value of one household text field (other fields pass through)."""
    normaliser = NORMALISERS.get(name)
    if normaliser is None or value is None:
        return value
    return normaliser(value)


# --- checks -----------------------------------------------------------------------------------


def household_field_problem(name: str, value) -> tuple[str, dict] | None:
    """What is wrong with a normalised value, as (code, params), or None. The import reports the
    codes in its own catalogue (grid.importing.problems); the other faces use the messages below."""
    if name not in MAX_LENGTH:
        return None
    if not value:
        return ("required", {}) if name in REQUIRED else None
    if len(value) > MAX_LENGTH[name]:
        return "too_long", {"max": MAX_LENGTH[name], "count": len(value)}
    if name == "phone" and not phone_is_valid(value):
        return "phone_invalid", {}
    if name == "id_number" and not id_number_is_valid(value):
        return "id_number_invalid", {}
    return None


_MESSAGES = {
    "required": _("This field is required."),
    "too_long": _("Please keep this to at most %(max)s characters (it has %(count)s)."),
    "phone_invalid": PHONE_MESSAGE,
    "id_number_invalid": ID_NUMBER_MESSAGE,
}


def household_field_error(name: str, value) -> str | None:
    """The message for a normalised value that breaks its field's rule, or None."""
    problem = household_field_problem(name, value)
    if problem is None:
        return None
    code, params = problem
    return str(_MESSAGES[code] % params) if params else str(_MESSAGES[code])


def clean_household_field(name: str, value):
    """Normalise, then check: the normalised value, or a ValidationError with the field's message."""
    value = normalise_household_field(name, value)
    message = household_field_error(name, value)
    if message is not None:
        raise ValidationError(message, code=name)
    return value


def care_reason_error(is_care: bool, care_reason: str) -> str | None:
    """A care household needs a reason (the reason of any other household is dropped)."""
    if is_care and not (care_reason or "").strip():
        return str(_("Say why this household needs care."))
    return None
