"""One way to clean what people type (or paste, or write in Excel), before any rule looks at it.

``normalise_text``: Unicode NFKC (full-width letters, digits and punctuation become their
ordinary forms: "１３８" → "138", "－" → "-"), then every Unicode decimal digit becomes its ASCII
digit (Arabic-Indic "١٣٨", Devanagari … which NFKC keeps), control and format characters go
(NUL, zero-width spaces, BOM, bidi marks; a long text keeps its line breaks), and runs of
whitespace become one space. Rules that follow check ASCII only (``[0-9]``, never ``\\d``).

``prose=True`` is for Chinese text people write (a name, a care reason): NFC instead of NFKC,
so the full-width punctuation of Chinese (，。：（）) stays as written, while full-width
letters and digits and the ideographic space still become ASCII.

What no input may hold (``UNSAFE_CHARACTERS``) is refused, never cleaned away silently, on every
face, and checked on the text as it was typed, before any stripping or normalising removes it:

- models: ``validate_safe_text`` on every text field people type into, ``validate_no_formula`` on
  every name as well (ModelForms, so the Django admin, and every service's ``full_clean()``);
- forms: ``SafeTextFormMixin`` checks what was typed into each text field before the field strips
  it or its rule normalises it;
- the API: ``SafeTextSerializerMixin`` does the same for a serializer's text fields;
- services that normalise what they are handed call ``typed_text_error`` first.
"""

import re
import unicodedata
from collections.abc import Mapping

from django import forms
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
    error = unsafe_text_error(value)
    if error is not None:
        raise error


def validate_no_formula(value) -> None:
    """Django validator for names: refuses a leading =, +, - or @ (code ``formula``)."""
    if looks_like_formula(value):
        raise ValidationError(FORMULA_MESSAGE, code="formula")


def unsafe_text_error(value) -> ValidationError | None:
    """The error ``validate_safe_text`` raises for ``value`` (a list's items checked too), or None."""
    values = value if isinstance(value, (list, tuple)) else [value]
    found = list(dict.fromkeys(code for item in values for code in unsafe_characters(item)))
    if not found:
        return None
    return ValidationError(UNSAFE_MESSAGE, code="unsafe_characters", params={"characters": ", ".join(found)})


def typed_text_error(**values) -> ValidationError | None:
    """One ValidationError naming each keyword whose value holds refused characters, or None.

    For services that normalise what they are handed (which would drop the characters
    silently): ``error = typed_text_error(head_name=head_name, …)`` before normalising.
    """
    errors = {name: [error] for name, value in values.items() if (error := unsafe_text_error(value)) is not None}
    return ValidationError(errors) if errors else None


def refuse_unsafe_text(**values) -> None:
    """For services: a ``ZhubaoError`` (code ``invalid``, the message on each field) when a value
    handed in holds refused characters. Called before the service strips or normalises."""
    error = typed_text_error(**values)
    if error is not None:
        from core.errors import ZhubaoError  # DRF-based; not imported while the models load

        raise ZhubaoError.from_validation_error(error)


def _typed_by_people(field) -> bool:
    """A form's text field whose typed value is checked (a password is never stored as text)."""
    return isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput)


class SafeTextFormMixin:
    """A form (or ModelForm) that refuses ``UNSAFE_CHARACTERS`` in what was typed into any text field.

    Checked on the submitted value, before the field strips it (``str.strip()`` removes a
    trailing U+000B) or its rule normalises it (grid.rules drops control characters), so the
    person sees why instead of finding the text silently changed. The refusal replaces any other
    error of that field (a required field that normalising would have left empty).
    """

    def _clean_fields(self):
        refused = {}
        for name, bound_field in self._bound_items():
            if bound_field.field.disabled or not _typed_by_people(bound_field.field):
                continue
            error = unsafe_text_error(bound_field.data)
            if error is not None:
                refused[name] = error
        super()._clean_fields()
        for name, error in refused.items():
            self._errors.pop(name, None)
            self.add_error(name, error)


class SafeTextSerializerMixin:
    """A DRF serializer that refuses ``UNSAFE_CHARACTERS`` in the text fields of a payload, as sent:
    before a field trims it or its rule normalises it. Reported beside the payload's other errors."""

    def to_internal_value(self, data):
        from rest_framework import serializers
        from rest_framework.exceptions import ErrorDetail

        refused = {}
        if isinstance(data, Mapping):
            for name, field in self.fields.items():
                if field.read_only or not isinstance(field, serializers.CharField):
                    continue
                if field.style.get("input_type") == "password" or name not in data:
                    continue
                error = unsafe_text_error(data[name])
                if error is not None:
                    refused[name] = [ErrorDetail(message, code=error.code) for message in error.messages]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if not refused or not isinstance(error.detail, dict):
                raise
            raise serializers.ValidationError({**error.detail, **refused}) from error
        if refused:
            raise serializers.ValidationError(refused)
        return value


class SafeTextModelForm(SafeTextFormMixin, forms.ModelForm):
    """The Django admin's form for a model without a form of its own (``ModelAdmin.form``)."""
