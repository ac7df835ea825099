"""Forms of the portal pages. They parse input only; services validate and write.

Choice fields get their querysets from the view (already scoped by core.access), so a
form never reaches data on its own.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.api import ID_MAX, ID_MIN
from core.errors import ZhubaoError

from .models import GridColour, GridPostType, OrgNodeKind


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


class OrgNodeNameForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    code = forms.CharField(label=_("Code"), max_length=32, required=False)


class OrgNodeMoveForm(BootstrapMixin, forms.Form):
    new_parent = NodeChoiceField(label=_("New parent"), queryset=None)
    # The fingerprint of the plan the user saw and confirmed (MovePlan.token).
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].queryset = targets


# --- households -----------------------------------------------------------------------------


class HouseholdForm(BootstrapMixin, forms.Form):
    building = NodeChoiceField(label=_("Building"), queryset=None)
    unit = forms.CharField(label=_("Unit"), max_length=16, required=False)
    room = forms.CharField(label=_("Room"), max_length=16)
    head_name = forms.CharField(label=_("Head of household"), max_length=32)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    id_number = forms.CharField(
        label=_("ID number"), max_length=18, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    resident_count = forms.IntegerField(label=_("Residents"), min_value=1, max_value=99, initial=1)
    hub = NodeChoiceField(label=_("Member-household hub"), queryset=None, required=False)
    tags = forms.ModelMultipleChoiceField(
        label=_("Tags"), queryset=None, required=False, widget=forms.CheckboxSelectMultiple
    )
    is_care = forms.BooleanField(label=_("Care household"), required=False)
    care_reason = forms.CharField(label=_("Care reason"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, buildings, hubs, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = buildings
        self.fields["hub"].queryset = hubs
        self.fields["tags"].queryset = tags

    def clean(self):
        data = super().clean()
        building, hub = data.get("building"), data.get("hub")
        if building is not None and hub is not None and hub.parent_id != building.pk:
            self.add_error("hub", _("Choose a hub of the household's building."))
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["unit"] = data.get("unit") or ""
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


class GridColourForm(BootstrapMixin, forms.Form):
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


class GridPostForm(BootstrapMixin, forms.Form):
    post_type = forms.ChoiceField(label=_("Post type"), choices=GridPostType.choices)
    title = forms.CharField(label=_("Title"), max_length=32)
    holder = PersonChoiceField(label=_("Holder"), queryset=None, required=False, empty_label=_("Vacant"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = people


class GridPostFillForm(BootstrapMixin, forms.Form):
    holder = PersonChoiceField(label=_("Holder"), queryset=None)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holder"].queryset = people
