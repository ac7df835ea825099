"""Admin for people, departments and role grants.

Grants are added and revoked through accounts.services (never edited or deleted),
so who could see what stays on record and in the audit trail. Django's groups and
model permissions are not used (access comes from grants), so the Group admin is removed.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from core.access import Action, scope
from core.admin import ScopedAdminMixin, ServiceErrorsMixin, ZhubaoModelAdmin, adopt
from core.masking import mask_phone
from grid.models import Grid, OrgNode

from . import services
from .models import Department, RoleGrant, User

if admin.site.is_registered(Group):
    admin.site.unregister(Group)


def grant_place(grant: RoleGrant):
    return grant.org_node or grant.grid or grant.department or _("all communities")


class GrantPlaceChoicesMixin:
    """Org nodes and grids offered for a grant: only those in the admin's own scope."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "org_node":
            kwargs["queryset"] = (
                scope(OrgNode.objects.all(), request.user, Action.MANAGE_PEOPLE)
                .filter(is_active=True)
                .order_by("tree_id", "lft")
            )
        elif db_field.name == "grid":
            kwargs["queryset"] = scope(Grid.objects.all(), request.user, Action.MANAGE_PEOPLE).filter(is_active=True)
        elif db_field.name == "department":
            kwargs["queryset"] = scope(Department.objects.all(), request.user, Action.MANAGE_PEOPLE).filter(
                is_active=True
            )
        elif db_field.name == "user":
            kwargs["queryset"] = scope(User.objects.all(), request.user, Action.MANAGE_PEOPLE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class GrantRevokeForm(forms.ModelForm):
    revoke = forms.BooleanField(label=_("revoke"), required=False)

    class Meta:
        model = RoleGrant
        fields = []


class ActiveGrantInline(ScopedAdminMixin, admin.TabularInline):
    """The user's grants, read-only; tick 'revoke' to revoke one through the service."""

    model = RoleGrant
    fk_name = "user"
    form = GrantRevokeForm
    scope_action = Action.MANAGE_PEOPLE
    verbose_name_plural = _("role grants")
    fields = ("role", "place", "created_at", "created_by", "revoked_at", "revoke")
    readonly_fields = ("role", "place", "created_at", "created_by", "revoked_at")
    extra = 0
    max_num = 0
    can_delete = False
    allow_add = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("org_node", "grid", "department", "created_by")

    @admin.display(description=_("place"))
    def place(self, obj):
        return grant_place(obj)


class NewGrantInline(GrantPlaceChoicesMixin, ScopedAdminMixin, admin.TabularInline):
    """Rows to give the user a new role at a place (added through role_grant_add)."""

    model = RoleGrant
    fk_name = "user"
    scope_action = Action.MANAGE_PEOPLE
    verbose_name = _("new role grant")
    verbose_name_plural = _("new role grants")
    fields = ("role", "org_node", "grid", "department")
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()


# Django's own (already translated) section titles: "Personal info", "Permissions", "Important dates".
_PERSONAL, _PERMISSIONS, _DATES = (title for title, _options in DjangoUserAdmin.fieldsets[1:4])


@admin.register(User)
class UserAdmin(ScopedAdminMixin, ServiceErrorsMixin, DjangoUserAdmin):
    scope_action = Action.MANAGE_PEOPLE
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_PERSONAL, {"fields": ("full_name", "phone", "email")}),
        (_PERMISSIONS, {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_DATES, {"fields": ("last_login", "date_joined")}),
    )
    list_display = ("username", "full_name", "masked_phone", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser")
    search_fields = ("username", "full_name", "email")
    filter_horizontal = ()
    inlines = [ActiveGrantInline, NewGrantInline]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if not request.user.is_superuser:
            # Only a superuser may make someone a superuser (a global system admin).
            readonly += ["is_staff", "is_superuser"]
        return readonly if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            # There is no user_update service yet; the form has validated the fields.
            return super().save_model(request, obj, form, change)
        password = form.cleaned_data.get("password1") if form.cleaned_data.get("set_usable_password") else None
        created = services.user_create(
            actor=request.user, username=obj.username, password=password or None, check_password=False
        )
        adopt(obj, created)

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleGrant:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        # What the admin's change message reads (Django's formset.save() would set these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for grant_form in formset.forms:
            if not grant_form.has_changed():
                continue
            data = grant_form.cleaned_data
            if grant_form.instance.pk is not None:
                if data.get("revoke"):
                    services.role_grant_revoke(actor=request.user, grant=grant_form.instance)
                    formset.changed_objects.append((grant_form.instance, ["revoked_at"]))
                continue
            added = services.role_grant_add(
                actor=request.user,
                user=user,
                role=data["role"],
                org_node=data.get("org_node"),
                grid=data.get("grid"),
                department=data.get("department"),
            )
            formset.new_objects.append(added)


@admin.register(RoleGrant)
class RoleGrantAdmin(GrantPlaceChoicesMixin, ZhubaoModelAdmin):
    """Grants are added here or on the user page, and revoked with the action; never edited."""

    scope_action = Action.MANAGE_PEOPLE
    allow_change = False
    list_display = ("user", "role", "place", "created_at", "created_by", "revoked_at")
    list_select_related = ("user", "org_node", "grid", "department", "created_by")
    list_filter = ("role",)
    search_fields = ("user__username", "user__full_name")
    fields = ("user", "role", "org_node", "grid", "department")
    actions = ["revoke_grants"]

    @admin.display(description=_("place"))
    def place(self, obj):
        return grant_place(obj)

    def save_model(self, request, obj, form, change):
        grant = services.role_grant_add(
            actor=request.user,
            user=obj.user,
            role=obj.role,
            org_node=obj.org_node,
            grid=obj.grid,
            department=obj.department,
        )
        adopt(obj, grant)

    @admin.action(description=_("Revoke the selected grants"))
    def revoke_grants(self, request, queryset):
        count = 0
        for grant in queryset.active().select_related("user"):
            services.role_grant_revoke(actor=request.user, grant=grant)
            count += 1
        self.message_user(request, _("%(count)s grants were revoked.") % {"count": count}, level=messages.SUCCESS)


@admin.register(Department)
class DepartmentAdmin(ZhubaoModelAdmin):
    """Departments are reference data: created through the service, renamed or deactivated here."""

    list_display = ("name", "code", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("code", "created_at", "updated_at") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        department = services.department_create(actor=request.user, name=obj.name, code=obj.code)
        adopt(obj, department)
