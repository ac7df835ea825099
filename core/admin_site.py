"""The Django admin site of Zhubao: only for people who may manage the org tree.

Django's default admin lets in anyone with ``is_staff``; here the access module
decides (``Action.MANAGE_TREE``: system admins), so a grant revoked in the portal
closes the admin too. ``/admin/`` stays the URL: ``core.admin_config.ZhubaoAdminConfig``
replaces ``django.contrib.admin`` in INSTALLED_APPS and makes this class the default site.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def may_use_admin(user) -> bool:
    from core.access import Action, has_action

    return bool(user and user.is_active and user.is_authenticated and has_action(user, Action.MANAGE_TREE))


class ZhubaoAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login form, with the access module (not ``is_staff``) deciding who may enter."""

    def confirm_login_allowed(self, user):
        if not user.is_active:
            raise ValidationError(self.error_messages["inactive"], code="inactive")
        if not may_use_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class ZhubaoAdminSite(AdminSite):
    site_header = _("Zhubao administration")
    site_title = _("Zhubao administration")
    index_title = _("Organisation tree, people and data")
    login_form = ZhubaoAdminAuthenticationForm

    def has_permission(self, request):
        return may_use_admin(request.user)
