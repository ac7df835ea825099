from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data (seed_demo). It sits above every other app: it may import them all, none imports it."""

    name = "demo"
    verbose_name = _("Demo data")
