from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and roles")

    def ready(self):
        # Roles, role grants and the people rules of the access module (core imports no app).
        from . import access

        access.register()
        # Logins, failures, lockouts and logouts in the audit log.
        from . import receivers  # noqa: F401
