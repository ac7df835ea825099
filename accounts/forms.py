from contextlib import contextmanager
from contextvars import ContextVar

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AdminPasswordChangeForm, AuthenticationForm, PasswordChangeForm
from django.utils.translation import gettext_lazy as _

from core.text import SafeTextFormMixin
from grid.forms import BootstrapMixin, NodeChoiceField

from . import services
from .access import GLOBAL_ONLY_ROLES
from .models import Role, User


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=50)
    role = forms.ChoiceField(required=False, choices=[("", ""), *Role.choices])


# --- The people pages' forms (accounts/views.py): they parse; accounts.services decide and write ----
# Querysets come from the view (accounts.selectors, scoped by core.access); a form never queries.

# Given on the pairing pages (liaison), where a cadre's buildings and households come from.
ROLES_GIVEN_BY_PAIRING = frozenset({Role.CADRE, Role.WORK_GROUP_LEADER})
PAIRING_HELP = _("Liaison cadres get their buildings and households on the pairing pages.")


def grantable_role_choices(*, global_admin: bool) -> list[tuple[str, str]]:
    """The roles the people pages offer: not those of pairing, nor (to a community admin) the global ones."""
    return [
        (value, label)
        for value, label in Role.choices
        if value not in ROLES_GIVEN_BY_PAIRING and (global_admin or value not in GLOBAL_ONLY_ROLES)
    ]


class GridChoiceField(NodeChoiceField):
    """One grid of the (scoped) queryset, by id: '北苑社区 · 01 · 第01网格'."""

    def label_from_instance(self, obj):
        return f"{obj.community.name} · {obj.code} · {obj.name}"


class DepartmentChoiceField(NodeChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class RoleGrantForm(SafeTextFormMixin, BootstrapMixin, forms.Form):
    """A role at a place: an org node (its subtree), a grid (grid worker) or a department (handler).

    ``places`` (accounts.selectors.grant_places) gives each picker what it accepts and what it
    lists first. Only the place the role is held at is kept; the others are ignored."""

    role = forms.ChoiceField(label=_("Role"), help_text=PAIRING_HELP)
    org_node = NodeChoiceField(
        label=_("Place in the organisation"),
        queryset=None,
        required=False,
        help_text=_("For a bureau leader, community staff or a system admin: the role covers this place and below."),
    )
    grid = GridChoiceField(label=_("Grid"), queryset=None, required=False, help_text=_("For a grid worker."))
    department = DepartmentChoiceField(
        label=_("Department"), queryset=None, required=False, help_text=_("For a department handler.")
    )
    everywhere = forms.BooleanField(label=_("A system admin of every community (no place)"), required=False)

    role_required = True

    def __init__(self, *args, places: dict, global_admin: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = places
        choices = grantable_role_choices(global_admin=global_admin)
        if not self.role_required:
            choices = [("", _("No role yet")), *choices]
        self.fields["role"].choices = choices
        self.fields["role"].required = self.role_required
        for name in ("org_node", "grid", "department"):
            self.fields[name].queryset = places[name].queryset
        if not global_admin:
            del self.fields["everywhere"]
            del self.fields["department"]
        self._list_options()

    def _list_options(self, chosen: dict | None = None) -> None:
        """The picker lists its first options (and the chosen place, found by a search) instead of all."""
        for name in ("org_node", "grid", "department"):
            if name not in self.fields:
                continue
            field = self.fields[name]
            options = list(self.places[name].options)
            picked = (chosen or {}).get(name)
            if picked is not None and picked not in options:
                options.insert(0, picked)
            field.widget.choices = [("", _("Choose…"))] + [(obj.pk, field.label_from_instance(obj)) for obj in options]

    def truncated(self, name: str) -> bool:
        return self.places[name].truncated

    def clean(self):
        cleaned = super().clean()
        self._list_options(cleaned)
        role = cleaned.get("role")
        if not role:
            return cleaned
        if role == Role.GRID_WORKER:
            if not cleaned.get("grid"):
                self.add_error("grid", _("A grid worker needs a grid."))
        elif role == Role.DEPARTMENT_HANDLER:
            if not cleaned.get("department"):
                self.add_error("department", _("A department handler needs a department."))
        elif role == Role.SYSTEM_ADMIN:
            if not cleaned.get("org_node") and not cleaned.get("everywhere"):
                self.add_error("org_node", _("Choose a place, or make the person a system admin of every community."))
            elif cleaned.get("org_node") and cleaned.get("everywhere"):
                self.add_error("everywhere", _("Choose a place or every community, not both."))
        elif not cleaned.get("org_node"):
            self.add_error("org_node", _("This role is held at a place in the organisation tree."))
        return cleaned

    def grant_data(self) -> dict | None:
        """What ``role_grant_add`` takes (``grant`` of ``user_create_with_grant``); None without a role."""
        role = self.cleaned_data.get("role")
        if not role:
            return None
        data = {"role": role, "org_node": None, "grid": None, "department": None}
        if role == Role.GRID_WORKER:
            data["grid"] = self.cleaned_data["grid"]
        elif role == Role.DEPARTMENT_HANDLER:
            data["department"] = self.cleaned_data["department"]
        else:
            data["org_node"] = self.cleaned_data.get("org_node")
        return data


def place_options(field_name: str, places) -> list[tuple[int, str]]:
    """(id, label) of places as the picker ``field_name`` of RoleGrantForm labels them (its search answers)."""
    field = RoleGrantForm.base_fields[field_name]
    return [(place.pk, field.label_from_instance(place)) for place in places]


class PasswordPairMixin:
    """A password typed twice. Its rules (settings.AUTH_PASSWORD_VALIDATORS) are the service's."""

    def clean_password_again(self):
        password = self.cleaned_data.get("password")
        again = self.cleaned_data.get("password_again")
        if password and again and password != again:
            raise forms.ValidationError(_("The two passwords differ."))
        return again


def _password_field(label):
    return forms.CharField(
        label=label,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class PersonCreateForm(PasswordPairMixin, RoleGrantForm):
    """A new person, their first password (changed at the first login) and their first role at a place."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Letters, digits and @/./+/-/_ only; the person logs in with it."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false"}),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=64, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    password = _password_field(_("First password"))
    password_again = _password_field(_("First password again"))

    field_order = ["username", "full_name", "phone", "password", "password_again", "role"]

    def __init__(self, *args, global_admin: bool, **kwargs):
        self.role_required = not global_admin  # only an admin of every community creates a person without a role
        super().__init__(*args, global_admin=global_admin, **kwargs)
        self.fields["password"].help_text = _("The person must choose their own password when they first log in.")

    def person_data(self) -> dict:
        data = self.cleaned_data
        return {
            "username": data["username"],
            "full_name": data.get("full_name", ""),
            "phone": data.get("phone", ""),
            "password": data["password"],
        }


class PersonPasswordForm(PasswordPairMixin, BootstrapMixin, forms.Form):
    """A new first password someone else sets: the person must change it at the next login."""

    password = _password_field(_("New password"))
    password_again = _password_field(_("New password again"))


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
