"""Masking (脱敏) of personal data for lists, exports and API list answers."""

import re

MASK_CHARACTER = "*"
_MASKED = re.compile(r"\*{2,}")


def mask_phone(value: str) -> str:
    """138****1234: keep the first three and last four digits."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) <= 7:
        return MASK_CHARACTER * len(value)
    return value[:3] + MASK_CHARACTER * (len(value) - 7) + value[-4:]


def mask_id_number(value: str) -> str:
    """1101**********1234: keep the first four and last four characters."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) <= 8:
        return MASK_CHARACTER * len(value)
    return value[:4] + MASK_CHARACTER * (len(value) - 8) + value[-4:]


def mask_name(value: str) -> str:
    """张*明: keep the family name and, for three or more characters, the last one."""
    value = (value or "").strip()
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + MASK_CHARACTER
    return value[0] + MASK_CHARACTER * (len(value) - 2) + value[-1]


def is_masked(value) -> bool:
    """True for a value that came out of a masked export (so an import must not store it)."""
    return bool(value) and bool(_MASKED.search(str(value)))
