"""Password rules of Zhubao beside Django's own (settings.AUTH_PASSWORD_VALIDATORS lists them all).

等保 asks for passwords of several character classes that do not contain the account's name.
Django checks the length, the similarity to the username and common passwords; these two add
the classes and the plain containment of the username (which the similarity check misses in a
long password, e.g. "cadre1-Spring-2026").
"""

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

CHARACTER_CLASSES = (
    set(string.ascii_lowercase),
    set(string.ascii_uppercase),
    set(string.digits),
)


def character_classes(password: str) -> int:
    """How many of lowercase letters, uppercase letters, digits and symbols (anything else) the password uses."""
    used = sum(1 for characters in CHARACTER_CLASSES if characters & set(password))
    others = set(password) - set().union(*CHARACTER_CLASSES)
    return used + (1 if others else 0)


class CharacterClassesValidator:
    """At least ``min_classes`` of: lowercase letters, uppercase letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if character_classes(password) < self.min_classes:
            raise ValidationError(self.message(), code="password_too_few_character_classes")

    def message(self) -> str:
        return ngettext(
            "Use at least %(count)d kind of character: lowercase letters, uppercase letters, digits, symbols.",
            "Use at least %(count)d kinds of characters: lowercase letters, uppercase letters, digits, symbols.",
            self.min_classes,
        ) % {"count": self.min_classes}

    def get_help_text(self):
        return self.message()


class NotContainingUsernameValidator:
    """The password must not contain the username (whatever the case)."""

    def validate(self, password, user=None):
        username = (getattr(user, "username", "") or "").lower()
        if len(username) >= 3 and username in password.lower():
            raise ValidationError(_("The password must not contain the username."), code="password_contains_username")

    def get_help_text(self):
        return _("The password must not contain the username.")
