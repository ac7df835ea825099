"""Forms of the pairing pages. They parse input only (liaison.services validates and writes); their
querysets come from the view, already limited to the team's community and people."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import PasswordPairMixin
from core.api import ID_MAX, ID_MIN
from core.text import SafeTextFormMixin
from grid.forms import BootstrapMixin

from .models import NAME_VALIDATORS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def _date_field(label, **kwargs):
    return forms.DateField(label=label, widget=DateInput(), initial=timezone.localdate, **kwargs)


class PersonChoiceField(forms.ModelChoiceField):
    """One person of the (limited) queryset, by id; looked up with ``filter().first()`` (a form with two
    people, as the hand-over, would read as an N+1 to django-zeal), an id no database holds refused first."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        try:
            key = int(str(value).strip())
        except (TypeError, ValueError):
            key = None
        person = self.queryset.filter(pk=key).first() if key is not None and ID_MIN <= key <= ID_MAX else None
        if person is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return person

    def label_from_instance(self, obj):
        if obj.full_name:
            return f"{obj.full_name}（{obj.username}）"
        return obj.username


class PersonMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class DayForm(forms.Form):
    """The "as of" picker of the team page and the coverage view (GET)."""

    on = forms.DateField(label=_("As of"), required=False, widget=DateInput())

    def day(self):
        return (self.cleaned_data.get("on") if self.is_valid() else None) or timezone.localdate()


class TeamRuleForm(BootstrapMixin, forms.Form):
    care_cadres_required = forms.IntegerField(
        label=_("Cadres per care household"),
        min_value=1,
        max_value=20,
        help_text=_("The coverage view lists care households paired with fewer cadres than this."),
    )


class GroupCreateForm(SafeTextFormMixin, BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=64, validators=NAME_VALIDATORS)
    leader = PersonChoiceField(label=_("Group leader"), queryset=None, required=False)
    compound = forms.ModelChoiceField(label=_("Paired compound branch"), queryset=None, required=False)
    starts_on = _date_field(_("Paired from"))

    def __init__(self, *args, people, compounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = people
        self.fields["compound"].queryset = compounds


class GroupLeaderForm(BootstrapMixin, forms.Form):
    leader = PersonChoiceField(label=_("Group leader"), queryset=None, required=False, empty_label=_("(none)"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].queryset = people


class GroupCompoundForm(BootstrapMixin, forms.Form):
    compound = forms.ModelChoiceField(label=_("Compound branch"), queryset=None)
    starts_on = _date_field(_("Paired from"))

    def __init__(self, *args, compounds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["compound"].queryset = compounds


class MemberAddForm(BootstrapMixin, forms.Form):
    cadre = PersonChoiceField(label=_("Cadre"), queryset=None)
    joined_on = _date_field(_("Joins on"))

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].queryset = people


def _password_field(label):
    return forms.CharField(
        label=label, strip=False, max_length=128, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class MemberCreateForm(PasswordPairMixin, SafeTextFormMixin, BootstrapMixin, forms.Form):
    """A new cadre who has no account yet: the account (first password typed twice, changed at the first
    login) and the day they join. The password and text rules are the service's (accounts.user_create)."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        help_text=_("Letters, digits and @/./+/-/_ only; the person logs in with it."),
        widget=forms.TextInput(
            attrs={"autocapitalize": "none", "autocorrect": "off", "spellcheck": "false", "autocomplete": "off"}
        ),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=64, required=False, validators=NAME_VALIDATORS)
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    password = _password_field(_("First password"))
    password_again = _password_field(_("First password again"))
    joined_on = _date_field(_("Joins on"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "id_new_member_%s")  # beside "add a member" on the group page: its own ids
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = _("The person must choose their own password when they first log in.")


class MemberLeaveForm(BootstrapMixin, forms.Form):
    left_on = _date_field(_("Leaves on"))


class PairingEndForm(BootstrapMixin, forms.Form):
    ends_on = _date_field(_("Ends on"), help_text=_("The first day without the pairing."))


class BulkPairForm(BootstrapMixin, forms.Form):
    """Tick buildings, hubs and households of one compound and pair them with one cadre from a day."""

    cadre = PersonChoiceField(label=_("Cadre"), queryset=None)
    starts_on = _date_field(_("Paired from"))
    nodes = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.MultipleHiddenInput)
    households = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.MultipleHiddenInput)

    def __init__(self, *args, cadres, nodes, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cadre"].queryset = cadres
        self.fields["nodes"].queryset = nodes
        self.fields["households"].queryset = households

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not cleaned.get("nodes") and not cleaned.get("households"):
            raise forms.ValidationError(_("Tick at least one building, hub or household."))
        return cleaned


class HandOverForm(BootstrapMixin, forms.Form):
    from_cadre = PersonChoiceField(label=_("Leaving cadre"), queryset=None)
    to_cadre = PersonChoiceField(label=_("Hand over to"), queryset=None)
    on = _date_field(_("Effective on"))

    def __init__(self, *args, from_cadres, to_cadres, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_cadre"].queryset = from_cadres
        self.fields["to_cadre"].queryset = to_cadres
