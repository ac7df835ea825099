"""The admin app config: makes ``core.admin_site.ZhubaoAdminSite`` the default site.

It replaces ``django.contrib.admin`` in INSTALLED_APPS. Kept apart from the site
module, which imports forms and models that cannot load while apps are populated.
"""

from django.contrib.admin.apps import AdminConfig


class ZhubaoAdminConfig(AdminConfig):
    default_site = "core.admin_site.ZhubaoAdminSite"
