from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self):
        # core's own models: the audit log is read by global admins only; an export job by its
        # creator only (core.exports). The other apps register their rules and actions from their
        # own access.py (core imports none).
        from . import access, exports, health
        from .models import AuditEvent, ExportJob

        access.register_rule(AuditEvent, access.global_only_rule)
        access.register_rule(ExportJob, exports.export_job_rule)
        # The export queue's state in /healthz: waiting, running, stuck, the oldest wait.
        health.register_queue_check("exports", exports.export_queue_state)
