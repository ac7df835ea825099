"""Admin for the work team, its work groups and their members.

Teams, groups and memberships are created through liaison.services. The services
have no update yet, so existing rows are read-only here.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.access import Action, scope
from core.admin import ReadOnlyModelAdmin, ScopedAdminMixin, ZhubaoModelAdmin, adopt
from core.text import SafeTextModelForm
from grid.models import OrgNode, OrgNodeKind

from . import services
from .models import Pairing, WorkGroup, WorkGroupMembership, WorkTeam


class CreateOnlyMixin:
    """Fields editable while adding; read-only once the row exists."""

    create_fields: tuple = ()

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return (*self.create_fields, "created_at", "updated_at")

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.create_fields
        return (*self.create_fields, "created_at", "updated_at")


def _people(request):
    return scope(User.objects.all(), request.user, Action.MANAGE_PEOPLE)


@admin.register(WorkTeam)
class WorkTeamAdmin(CreateOnlyMixin, ZhubaoModelAdmin):
    scope_action = Action.VIEW_PEOPLE
    form = SafeTextModelForm
    create_fields = ("bureau_name", "name", "community", "leader")
    list_display = ("name", "bureau_name", "community", "leader")
    list_select_related = ("community", "leader")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "community":
            kwargs["queryset"] = scope(OrgNode.objects.all(), request.user, Action.MANAGE_TREE).filter(
                kind=OrgNodeKind.COMMUNITY, is_active=True
            )
        elif db_field.name == "leader":
            kwargs["queryset"] = _people(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        team = services.work_team_create(
            actor=request.user,
            bureau_name=obj.bureau_name,
            name=obj.name,
            community=obj.community,
            leader=obj.leader,
        )
        adopt(obj, team)


class MembershipForm(forms.ModelForm):
    class Meta:
        model = WorkGroupMembership
        fields = ["cadre", "joined_on"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.changed_data:
            raise forms.ValidationError(_("An existing membership cannot be changed here."))
        return cleaned


class MembershipInline(ScopedAdminMixin, admin.TabularInline):
    """Current and past members; new rows are added through work_group_member_add."""

    model = WorkGroupMembership
    form = MembershipForm
    scope_action = Action.VIEW_PEOPLE
    extra = 1
    can_delete = False

    def scope_queryset(self, request, queryset):
        groups = scope(WorkGroup.objects.all(), request.user, self.scope_action)
        return queryset.filter(group__in=groups)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("cadre")

    def get_readonly_fields(self, request, obj=None):
        return ("left_on",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cadre":
            kwargs["queryset"] = _people(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(WorkGroup)
class WorkGroupAdmin(CreateOnlyMixin, ZhubaoModelAdmin):
    scope_action = Action.VIEW_PEOPLE
    form = SafeTextModelForm
    create_fields = ("team", "name", "leader")
    list_display = ("name", "team", "leader")
    list_select_related = ("team", "leader")
    inlines = [MembershipInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "team":
            kwargs["queryset"] = scope(WorkTeam.objects.all(), request.user, self.scope_action)
        elif db_field.name == "leader":
            kwargs["queryset"] = _people(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return
        group = services.work_group_create(actor=request.user, team=obj.team, name=obj.name, leader=obj.leader)
        adopt(obj, group)

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for member_form in formset.forms:
            if member_form.instance.pk is None and member_form.has_changed():
                membership = services.work_group_member_add(
                    actor=request.user,
                    group=form.instance,
                    cadre=member_form.cleaned_data["cadre"],
                    joined_on=member_form.cleaned_data.get("joined_on"),
                )
                formset.new_objects.append(membership)


@admin.register(WorkGroupMembership)
class WorkGroupMembershipAdmin(ReadOnlyModelAdmin):
    scope_action = Action.VIEW_PEOPLE
    list_display = ("cadre", "group", "joined_on", "left_on")
    list_select_related = ("cadre", "group")
    search_fields = ("cadre__username", "cadre__full_name")

    def scope_queryset(self, request, queryset):
        # Memberships are reached through their work group's rule.
        groups = scope(WorkGroup.objects.all(), request.user, self.scope_action)
        return queryset.filter(group__in=groups)


@admin.register(Pairing)
class PairingAdmin(ReadOnlyModelAdmin):
    """The pairing ledger, read-only: pairings are made, ended and handed over on the pairing pages."""

    scope_action = Action.VIEW
    list_display = ("tier", "cadre", "work_group", "node", "household", "starts_on", "ends_on")
    list_select_related = ("cadre", "work_group", "node", "household")
    list_filter = ("tier",)
    search_fields = ("cadre__username", "cadre__full_name")
