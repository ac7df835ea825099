from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GridConfig(AppConfig):
    name = "grid"
    verbose_name = _("Organisation tree, households and grids")

    def ready(self):
        from . import access

        access.register()
