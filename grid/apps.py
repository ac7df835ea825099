from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    verbose_name = _("Organisation tree, households and grids")

    def ready(self):
        from . import access, export_jobs, receivers
        from .importing import health

        access.register()
        receivers.connect()  # the tree version (grid.caching) follows node and tag writes
        export_jobs.register()  # the workbook export as a background export job (core.exports)
        health.register()  # the import queue's state in /healthz (core.health)
