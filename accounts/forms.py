from django import forms

from .models import Role


class PeopleFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=50)
    role = forms.ChoiceField(required=False, choices=[("", ""), *Role.choices])
