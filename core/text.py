"""One way to clean what people type (or paste, or write in Excel), before any rule looks at it.

``normalise_text``: Unicode NFKC (full-width letters, digits and punctuation become their
ordinary forms: "１３８" → "138", "－" → "-"), then every Unicode decimal digit becomes its ASCII
digit (Arabic-Indic "١٣٨", Devanagari … which NFKC keeps), control and format characters go
(NUL, zero-width spaces, BOM, bidi marks; a long text keeps its line breaks), and runs of
whitespace become one space. Rules that follow check ASCII only (``[0-9]``, never ``\\d``).

``prose=True`` is for Chinese text people write (a name, a care reason): NFC instead of NFKC,
so the full-width punctuation of Chinese (，。：（）) stays as written, while full-width
letters and digits and the ideographic space still become ASCII.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

_SPACES = re.compile(r"[^\S\n]+")  # whitespace other than a line break
_ANY_SPACE = re.compile(r"\s+")
_MANY_BREAKS = re.compile(r"\n{3,}")


def ascii_digits(value: str) -> str:
    """Every Unicode decimal digit (category Nd) as its ASCII digit; other characters unchanged."""
    if value.isascii():
        return value
    return "".join(str(unicodedata.decimal(char)) if unicodedata.category(char) == "Nd" else char for char in value)


def _keep(char: str) -> bool:
    if char in "\t\n\r\f\v":  # whitespace controls: folded below
        return True
    return unicodedata.category(char) not in {"Cc", "Cf", "Cs", "Co"}


def _fold_width(text: str) -> str:
    """Full-width letters and digits (Ａ, １) and the ideographic space as ASCII; punctuation kept."""
    return "".join(
        unicodedata.normalize("NFKC", char)
        if char == "\u3000" or ("\uff01" <= char <= "\uff5e" and char.isalnum())
        else char
        for char in text
    )


def normalise_text(value, *, multiline: bool = False, prose: bool = False) -> str:
    """NFKC (NFC and width folding for ``prose``), ASCII digits, no control characters,
    whitespace collapsed and stripped.

    ``multiline`` keeps line breaks (at most one blank line in a row) for long texts such as a
    care reason; elsewhere a line break is a space.
    """
    if value is None:
        return ""
    text = str(value)
    text = _fold_width(unicodedata.normalize("NFC", text)) if prose else unicodedata.normalize("NFKC", text)
    text = ascii_digits(text)
    text = "".join(char for char in text if _keep(char))
    if not multiline:
        return _ANY_SPACE.sub(" ", text).strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_BREAKS.sub("\n\n", "\n".join(lines)).strip()


# --- what no input may hold -------------------------------------------------------------------
#
# Refused (not silently cleaned) on every face that stores text: C0 controls other than tab,
# line feed and carriage return (an ANSI escape starts with ESC, one of them), DEL and the C1
# controls, and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
# U+2066–U+2069), which make a name read in another order than it is stored. openpyxl cannot
# write the C0 ones at all, so one such name would break every export that holds it.
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# A cell starting with one of these is read as a formula by Excel, WPS and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "＝", "＋", "－", "＠")


def unsafe_characters(value) -> list[str]:
    """The refused characters in ``value``, each once and as "U+000B", in order of appearance."""
    if not value or not isinstance(value, str):
        return []
    found = dict.fromkeys(f"U+{ord(char):04X}" for char in UNSAFE_CHARACTERS.findall(value))
    return list(found)


def looks_like_formula(value) -> bool:
    """True when ``value`` (leading spaces ignored) starts as a spreadsheet formula would."""
    return isinstance(value, str) and value.lstrip(" \t\r\n\u3000").startswith(FORMULA_STARTS)


UNSAFE_MESSAGE = gettext_lazy(
    "This text holds invisible control characters (%(characters)s), which are not allowed. "
    "Please type it again instead of pasting it."
)
FORMULA_MESSAGE = gettext_lazy("A name cannot start with =, +, - or @: spreadsheets would read it as a formula.")


def validate_safe_text(value) -> None:
    """Django validator: refuses the characters of ``UNSAFE_CHARACTERS`` (code ``unsafe_characters``)."""
    found = unsafe_characters(value)
    if found:
        raise ValidationError(UNSAFE_MESSAGE, code="unsafe_characters", params={"characters": ", ".join(found)})


def validate_no_formula(value) -> None:
    """Django validator for names: refuses a leading =, +, - or @ (code ``formula``)."""
    if looks_like_formula(value):
        raise ValidationError(FORMULA_MESSAGE, code="formula")
