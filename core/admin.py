"""Admin for the core app, and the rules every Zhubao ModelAdmin follows.

- The site lets in only users allowed ``Action.MANAGE_TREE`` (core/admin_site.py).
- Every queryset goes through ``core.access.scope()``, so the admin never shows more
  than the portal would; models the access module has no rule for (reference data,
  the heartbeat) are shown to global admins only.
- Permissions come from the access module, not from Django's model permissions.
- Nothing is deleted: nodes, households and grants are deactivated or revoked
  through the services, which keep the history and the audit trail.
- Writes go through the services; ``ServiceErrorsMixin`` turns a service error into
  a message on the page.
"""

from django.contrib import admin, messages
from django.http import HttpResponseRedirect

from core.access import Action, is_global, scope
from core.admin_site import may_use_admin
from core.errors import ZhubaoError

from .models import AuditEvent, Heartbeat
from .text import SafeTextModelForm


def global_only(queryset, user, action: str = Action.MANAGE_TREE):
    """For models without a rule in core.access: everything for a global admin, nothing otherwise."""
    return queryset if is_global(user, action) else queryset.none()


def adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service saved (pk, every field, state)."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


class ScopedAdminMixin:
    """Access-module permissions and scoped querysets for a ModelAdmin or an inline.

    ``scope_action`` is the action the rows are scoped for; ``scoped=False`` marks a
    model core.access has no rule for (global admins only).
    """

    scope_action = Action.MANAGE_TREE
    scoped = True
    allow_add = True
    allow_change = True

    def scope_queryset(self, request, queryset):
        if self.scoped:
            return scope(queryset, request.user, self.scope_action)
        return global_only(queryset, request.user, self.scope_action)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def has_module_permission(self, request):
        return may_use_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return may_use_admin(request.user)

    def has_add_permission(self, request, *args, **kwargs):
        return self.allow_add and may_use_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return self.allow_change and may_use_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceErrorsMixin:
    """A ZhubaoError raised by a service while saving becomes an error message; the
    admin's transaction is rolled back and the page shown again."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ZhubaoError as error:
            self.message_user(request, error.message, level=messages.ERROR)
            for field_messages in error.fields.values():
                for message in field_messages:
                    self.message_user(request, message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ZhubaoModelAdmin(ScopedAdminMixin, ServiceErrorsMixin, admin.ModelAdmin):
    # Text is checked as typed (core.text): an admin with a form of its own keeps the mixin in it.
    form = SafeTextModelForm


class ReadOnlyModelAdmin(ZhubaoModelAdmin):
    allow_add = False
    allow_change = False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("created_at", "user", "action", "object_type", "object_id", "ip_address")
    list_filter = ("action",)
    list_select_related = ("user",)
    search_fields = ("object_type", "object_id", "user__username")
    date_hierarchy = "created_at"


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyModelAdmin):
    scoped = False
    list_display = ("minute", "created_at")
