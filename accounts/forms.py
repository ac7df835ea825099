from contextlib import contextmanager
from contextvars import ContextVar

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AdminPasswordChangeForm, AuthenticationForm, PasswordChangeForm

from core.text import SafeTextFormMixin

from . import services
from .models import Role, User


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=50)
    role = forms.ChoiceField(required=False, choices=[("", ""), *Role.choices])


# --- The admin's forms of a person ---------------------------------------------------------------
# Django's, refusing control characters and bidi overrides as typed (core.text), before the
# fields strip them; the model's validators refuse a username or name that starts as a formula.


class UserAdminCreationForm(SafeTextFormMixin, auth_forms.AdminUserCreationForm):
    class Meta(auth_forms.AdminUserCreationForm.Meta):
        model = User


class UserAdminChangeForm(SafeTextFormMixin, auth_forms.UserChangeForm):
    class Meta(auth_forms.UserChangeForm.Meta):
        model = User


# --- Logging in and passwords ---------------------------------------------------------------------


class LoginForm(AuthenticationForm):
    """Django's login form; the username field is not capitalised or corrected by phones (iOS)."""

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {
                "class": "form-control form-control-lg",
                "autocapitalize": "none",
                "autocorrect": "off",
                "spellcheck": "false",
                "autocomplete": "username",
            }
        )
        self.fields["password"].widget.attrs.update({"class": "form-control form-control-lg"})


class OwnPasswordChangeForm(PasswordChangeForm):
    """A person changes their own password (required after someone else set it), through the service."""

    def __init__(self, user, *args, request=None, **kwargs):
        self.request = request
        super().__init__(user, *args, **kwargs)

    def save(self, commit=True):
        return services.user_set_password(
            actor=self.user, user=self.user, password=self.cleaned_data["new_password1"], request=self.request
        )


_admin_actor: ContextVar = ContextVar("admin_password_actor", default=None)


@contextmanager
def password_set_by(actor):
    """The admin whose password form is being saved (the admin's view builds the form itself)."""
    reset = _admin_actor.set(actor)
    try:
        yield
    finally:
        _admin_actor.reset(reset)


class AdminPasswordSetForm(AdminPasswordChangeForm):
    """The admin's "change password" form, saved through ``user_set_password``: the person must
    change a password an admin set at their next login, and loses their API tokens."""

    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password", True) else None
        actor = _admin_actor.get()
        if actor is None:
            raise RuntimeError("Save the admin's password form inside password_set_by(request.user).")
        # The form has validated the password against the same rules.
        return services.user_set_password(actor=actor, user=self.user, password=password, check_password=False)
