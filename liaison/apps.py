from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiaisonConfig(AppConfig):
    name = "liaison"
    verbose_name = _("Liaison work")

    def ready(self):
        from . import access
        from .ledger import access as ledger_access
        from .ledger import exporting as ledger_exporting
        from .ledger import health as ledger_health

        access.register()
        ledger_access.register()  # pairing-ledger import jobs (liaison/ledger/)
        ledger_exporting.register()  # the pairing ledger as a background export (core.exports)
        ledger_health.register()  # its import queue in /healthz (core.health)
