"""Admin for people, departments and role grants.

Grants are added and revoked through accounts.services (never edited or deleted),
so who could see what stays on record and in the audit trail. Django's groups and
model permissions are not used (access comes from grants), so the Group admin is removed.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.access import Action, scope
from core.admin import ScopedAdminMixin, ServiceErrorsMixin, ZhubaoModelAdmin, adopt
from core.errors import ErrorCode, ZhubaoError
from core.masking import mask_phone
from core.text import SafeTextModelForm
from grid.models import Grid, OrgNode

from . import forms as identity_forms
from . import services
from .access import GLOBAL_ONLY_ROLES, grant_refusal, is_global_admin, managed_users, may_manage_user
from .models import Department, RoleGrant, User

if admin.site.is_registered(Group):
    admin.site.unregister(Group)


def grant_place(grant: RoleGrant):
    return grant.org_node or grant.grid or grant.department or _("all communities")


# Who may manage whom is accounts' people policy in the access module (accounts/access.py):
# the admin uses it to offer and check, and the services enforce it again.


class GrantRulesFormMixin:
    """Checks a new grant against grant_refusal; the form class is made per request (``actor``)."""

    actor = None
    target_user = None

    def clean(self):
        cleaned = super().clean()
        if self.actor is None or not cleaned.get("role"):
            return cleaned
        user = cleaned.get("user") if "user" in self.fields else self.target_user
        message = grant_refusal(
            self.actor,
            user=user,
            role=cleaned["role"],
            org_node=cleaned.get("org_node"),
            grid=cleaned.get("grid"),
            department=cleaned.get("department"),
        )
        if message:
            raise forms.ValidationError(message)
        return cleaned


def _role_choices_for(actor, field):
    if field is not None and not is_global_admin(actor):
        field.choices = [(value, label) for value, label in field.choices if value not in GLOBAL_ONLY_ROLES]


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
            kwargs["queryset"] = managed_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        field = super().formfield_for_choice_field(db_field, request, **kwargs)
        if db_field.name == "role":
            _role_choices_for(request.user, field)
        return field


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

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and may_manage_user(request.user, obj)


class NewGrantForm(GrantRulesFormMixin, forms.ModelForm):
    class Meta:
        model = RoleGrant
        fields = ("role", "org_node", "grid", "department")


class NewGrantInline(GrantPlaceChoicesMixin, ScopedAdminMixin, admin.TabularInline):
    """Rows to give the user a new role at a place (added through role_grant_add)."""

    model = RoleGrant
    fk_name = "user"
    scope_action = Action.MANAGE_PEOPLE
    verbose_name = _("new role grant")
    verbose_name_plural = _("new role grants")
    form = NewGrantForm
    fields = ("role", "org_node", "grid", "department")
    extra = 1
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and may_manage_user(request.user, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class ActorGrantForm(formset.form):
            actor = request.user
            target_user = obj

        formset.form = ActorGrantForm
        return formset


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
    form = identity_forms.UserAdminChangeForm
    add_form = identity_forms.UserAdminCreationForm
    change_password_form = identity_forms.AdminPasswordSetForm  # saved through accounts.services.user_set_password
    actions = ["unlock_logins"]

    @admin.display(description=_("phone"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_global_admin(request.user):
            actions.pop("unlock_logins", None)  # lockouts are lifted by admins of all communities only
        return actions

    @admin.action(description=_("Unlock the logins of the selected people"))
    def unlock_logins(self, request, queryset):
        people = list(queryset)
        for person in people:
            services.user_unlock(actor=request.user, user=person, request=request)
        self.message_user(
            request, _("The logins of %(count)s people were unlocked.") % {"count": len(people)}, messages.SUCCESS
        )

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def has_change_permission(self, request, obj=None):
        # People with any grant outside the admin's scope are shown read-only.
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or may_manage_user(request.user, obj)

    def get_readonly_fields(self, request, obj=None):
        readonly = ["last_login", "date_joined"]
        if not is_global_admin(request.user):
            # Only an admin of all communities may set the flags (a superuser is a global admin).
            readonly += ["is_staff", "is_superuser"]
        return readonly if obj is not None else []

    def user_change_password(self, request, id, form_url=""):
        # Someone the admin may not manage is "not found" here, whatever their grants inside.
        user = self.get_object(request, unquote(id))
        if user is None or not may_manage_user(request.user, user):
            raise Http404
        with identity_forms.password_set_by(request.user):  # the form saves through user_set_password, as this admin
            return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        if change:
            if not may_manage_user(request.user, obj):
                raise ZhubaoError(
                    ErrorCode.PERMISSION_DENIED,
                    gettext("You may change only people who work wholly inside your part of the organisation."),
                    status_code=403,
                )
            # There is no user_update service yet; the form has validated the fields.
            super().save_model(request, obj, form, change)
            if "is_active" in form.changed_data and not obj.is_active:
                services.user_deactivated(actor=request.user, user=obj)  # their API tokens end at once
            return None
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
                    if not may_manage_user(request.user, user):
                        raise ZhubaoError(
                            ErrorCode.PERMISSION_DENIED,
                            gettext("You may change only people who work wholly inside your part of the organisation."),
                            status_code=403,
                        )
                    services.role_grant_revoke(actor=request.user, grant=grant_form.instance)
                    formset.changed_objects.append((grant_form.instance, ["revoked_at"]))
                continue
            # role_grant_add refuses what grant_refusal refuses (shown by ServiceErrorsMixin).
            added = services.role_grant_add(
                actor=request.user,
                user=user,
                role=data["role"],
                org_node=data.get("org_node"),
                grid=data.get("grid"),
                department=data.get("department"),
            )
            formset.new_objects.append(added)


class RoleGrantAdminForm(GrantRulesFormMixin, forms.ModelForm):
    class Meta:
        model = RoleGrant
        fields = ("user", "role", "org_node", "grid", "department")


@admin.register(RoleGrant)
class RoleGrantAdmin(GrantPlaceChoicesMixin, ZhubaoModelAdmin):
    """Grants are added here or on the user page, and revoked with the action; never edited."""

    scope_action = Action.MANAGE_PEOPLE
    form = RoleGrantAdminForm
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class ActorRoleGrantForm(form_class):
            actor = request.user

        return ActorRoleGrantForm

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
        # Only grants of people the admin manages wholly (a grant of someone who also works
        # elsewhere is left alone and counted as skipped).
        selected = queryset.active()
        allowed = selected.filter(user__in=managed_users(request.user).values("pk"))
        skipped = selected.count() - allowed.count()
        for grant in allowed.select_related("user"):
            services.role_grant_revoke(actor=request.user, grant=grant)
            count += 1
        self.message_user(request, _("%(count)s grants were revoked.") % {"count": count}, level=messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                _(
                    "%(count)s grants were not revoked: they belong to people who also work outside your part "
                    "of the organisation."
                )
                % {"count": skipped},
                level=messages.WARNING,
            )


@admin.register(Department)
class DepartmentAdmin(ZhubaoModelAdmin):
    """Departments are reference data: created through the service, renamed or deactivated here."""

    form = SafeTextModelForm
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
