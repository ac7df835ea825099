from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        # core's own model: the audit log is read by global admins only. The other apps
        # register their rules and actions from their own access.py (core imports none).
        from . import access
        from .models import AuditEvent

        access.register_rule(AuditEvent, access.global_only_rule)
