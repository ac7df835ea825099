"""Forms of the portal pages. They parse input only; services validate and write.

Choice fields get their querysets from the view (already scoped by core.access), so a
form never reaches data on its own. Every form that stores text refuses control characters and
bidi overrides as typed (``SafeTextFormMixin``, before a field strips or normalises them), and a
name that starts as a spreadsheet formula (``validate_no_formula``).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.api import ID_MAX, ID_MIN
from core.errors import ZhubaoError
from core.text import SafeTextFormMixin, validate_no_formula

from . import rules
from .models import HOUSEHOLD_FIELDS, PLACE_KINDS, GridColour, GridPostType, OrgNodeKind, hub_error


def apply_service_error(form: forms.Form, error: ZhubaoError) -> None:
    """Put a service error on the form: per-field messages where the field exists, the message on top."""
    placed = False
    for field, messages in error.fields.items():
        if field in form.fields:
            for message in messages:
                form.add_error(field, message)
            placed = True
    non_field = [str(message) for message in form.non_field_errors()]
    if not placed or error.message not in non_field:
        form.add_error(None, error.message)


class BootstrapMixin:
    """Bootstrap classes on every widget, so templates render fields with ``{{ field }}``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


class NodeLabelMixin:
    """Choice labels that show where a node is: '阳光小区党支部 / 1号楼党小组'."""

    def label_from_instance(self, obj):
        if obj.kind in {OrgNodeKind.BUILDING, OrgNodeKind.HUB, OrgNodeKind.COMPOUND} and obj.parent_id:
            label = f"{obj.parent.name} / {obj.name}"
        else:
            label = obj.name
        if not obj.is_active:
            # Only offered where a record still points at it (a household's current hub).
            return _("%(name)s (deactivated)") % {"name": label}
        return label


class NodeChoiceField(NodeLabelMixin, forms.ModelChoiceField):
    """One node of the (scoped) queryset, by id.

    Looked up with ``filter().first()`` rather than ``get()``: a form with two node fields
    (building and hub) would otherwise read as an N+1 to django-zeal. An id outside the
    range of a database id is an invalid choice before it reaches a query.
    """

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        if isinstance(value, self.queryset.model):
            value = value.pk
        try:
            key = int(str(value).strip())
        except (TypeError, ValueError):
            key = None
        node = self.queryset.filter(pk=key).first() if key is not None and ID_MIN <= key <= ID_MAX else None
        if node is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return node


class NodeMultipleChoiceField(NodeLabelMixin, forms.ModelMultipleChoiceField):
    pass


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.full_name:
            return f"{obj.full_name} ({obj.username})"
        return obj.username


# --- tree -----------------------------------------------------------------------------------


class OrgNodeNameForm(SafeTextFormMixin, BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, validators=[validate_no_formula])
    place_name = forms.CharField(
        label=_("Place name"),
        max_length=100,
        required=False,
        validators=[validate_no_formula],
        help_text=_(
            "For a compound branch the estate (阳光小区), for a building group the building (1号楼), as addresses "
            "name them. Left empty, it is the name without 党支部, 党小组 or 党总支."
        ),
    )
    code = forms.CharField(label=_("Code"), max_length=32, required=False)

    def __init__(self, *args, kind: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if kind not in PLACE_KINDS:  # communities and hubs are not places of an address
            del self.fields["place_name"]


class OrgNodeMoveForm(BootstrapMixin, forms.Form):
    new_parent = NodeChoiceField(label=_("New parent"), queryset=None)
    # The fingerprint of the plan the user saw and confirmed (MovePlan.token).
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = targets


# --- households -----------------------------------------------------------------------------


class RuleTextField(forms.CharField):
    """A household text field: typed text normalised by its rule (grid.rules) before any check.

    Bounded by the rule, not by the field, so the form, the API and the import refuse the same
    values with the same message; the browser still gets ``maxlength``. The form's
    ``clean_<field>`` runs the rule's check.
    """

    def __init__(self, *, rule: str, textarea: bool = False, **kwargs):
        self.rule = rule
        attrs = {"maxlength": rules.MAX_LENGTH[rule], **kwargs.pop("attrs", {})}
        widget = forms.Textarea(attrs={"rows": 3, **attrs}) if textarea else forms.TextInput(attrs=attrs)
        super().__init__(widget=widget, required=False, **kwargs)

    def to_python(self, value):
        return rules.normalise_household_field(self.rule, super().to_python(value))


class HouseholdForm(SafeTextFormMixin, BootstrapMixin, forms.Form):
    """Every check of one household in one round: each field's rule in ``clean_<field>``, the hub
    and care-reason rules in ``clean()`` (the functions the model and services use), so a
    submit shows all errors at once. Only what needs the database (a duplicate address, a
    building deactivated meanwhile) comes back from the service."""

    building = NodeChoiceField(label=_("Building"), queryset=None)
    unit = RuleTextField(label=_("Unit"), rule="unit")
    room = RuleTextField(label=_("Room"), rule="room")
    head_name = RuleTextField(label=_("Head of household"), rule="head_name", validators=[validate_no_formula])
    phone = RuleTextField(label=_("Phone"), rule="phone", attrs={"inputmode": "tel", "autocomplete": "off"})
    id_number = RuleTextField(label=_("ID number"), rule="id_number", attrs={"autocomplete": "off"})
    resident_count = forms.IntegerField(label=_("Residents"), min_value=1, max_value=99, initial=1)
    hub = NodeChoiceField(label=_("Member-household hub"), queryset=None, required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    is_care = forms.BooleanField(label=_("Care household"), required=False)
    care_reason = RuleTextField(label=_("Care reason"), rule="care_reason", textarea=True)

    def __init__(self, *args, buildings, hubs, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["hub"].queryset = hubs
        self.fields["tags"].queryset = tags
        for name in rules.REQUIRED:
            self.fields[name].required = True

    def clean_unit(self):
        return rules.clean_household_field("unit", self.cleaned_data["unit"])

    def clean_room(self):
        return rules.clean_household_field("room", self.cleaned_data["room"])

    def clean_head_name(self):
        return rules.clean_household_field("head_name", self.cleaned_data["head_name"])

    def clean_phone(self):
        return rules.clean_household_field("phone", self.cleaned_data["phone"])

    def clean_id_number(self):
        return rules.clean_household_field("id_number", self.cleaned_data["id_number"])

    def clean_care_reason(self):
        return rules.clean_household_field("care_reason", self.cleaned_data["care_reason"])

    def clean(self):
        data = super().clean()
        message = hub_error(data.get("hub"), data.get("building"))
        if message and "hub" not in self.errors:
            self.add_error("hub", message)
        message = rules.care_reason_error(data.get("is_care", False), data.get("care_reason", ""))
        if message and "care_reason" not in self.errors:
            self.add_error("care_reason", message)
        return data

    @staticmethod
    def initial_for(household) -> dict:
        """The form's initial values for an existing household."""
        initial = {name: getattr(household, name) for name in HOUSEHOLD_FIELDS}
        initial.update(building=household.building_id, hub=household.hub_id)
        initial["tags"] = [tag.pk for tag in household.tags.all()]
        return initial

    def service_data(self) -> dict:
        data = {name: self.cleaned_data.get(name) for name in HOUSEHOLD_FIELDS if name in self.cleaned_data}
        data["unit"] = data.get("unit") or ""
        data["tags"] = self.cleaned_data.get("tags") or []
        return data


def _id_field() -> forms.IntegerField:
    """An optional id filter, bounded to the range of a database id (a larger number overflows the driver)."""
    return forms.IntegerField(required=False, min_value=ID_MIN, max_value=ID_MAX)


class HouseholdFilterForm(forms.Form):
    """The household list's filters. A value that does not parse is left out (and reported), never a 500."""

    compound = _id_field()
    building = _id_field()
    node = _id_field()
    tag = forms.SlugField(required=False)
    care = forms.ChoiceField(required=False, choices=[("", ""), ("yes", "yes"), ("no", "no")])
    q = forms.CharField(required=False, max_length=50)
    status = forms.ChoiceField(
        required=False, choices=[("active", "active"), ("moved_out", "moved_out"), ("all", "all")]
    )


# --- grids ----------------------------------------------------------------------------------


class GridFilterForm(forms.Form):
    colour = forms.ChoiceField(required=False, choices=[("", ""), *GridColour.choices])
    q = forms.CharField(required=False, max_length=50)


class GridColourForm(SafeTextFormMixin, BootstrapMixin, forms.Form):
    colour = forms.ChoiceField(label=_("Colour"), choices=GridColour.choices, widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
    set_on = forms.DateField(
        label=_("Set on"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        if data.get("colour") in {GridColour.RED, GridColour.YELLOW} and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the grid is red or yellow."))
        return data


class GridBuildingsForm(BootstrapMixin, forms.Form):
    buildings = NodeMultipleChoiceField(
        label=_("Buildings"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["buildings"].queryset = choices


class GridPostForm(SafeTextFormMixin, BootstrapMixin, forms.Form):
    post_type = forms.ChoiceField(label=_("Post type"), choices=GridPostType.choices)
    title = forms.CharField(label=_("Title"), max_length=32, validators=[validate_no_formula])
    holder = PersonChoiceField(label=_("Holder"), queryset=None, required=False, empty_label=_("Vacant"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = people


class GridPostFillForm(BootstrapMixin, forms.Form):
    holder = PersonChoiceField(label=_("Holder"), queryset=None)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = people
