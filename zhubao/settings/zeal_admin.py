"""Test-only middleware (zhubao.settings.test): let the Django admin's forms call get().

Django's admin resolves every choice field of a posted form with ``queryset.get()``
and loads the object with another one; django-zeal counts two ``get()`` of a model
from one caller as an N+1. In /admin/ requests only ``get()`` is allowed this way;
related-field N+1s (a changelist without select_related) still fail the tests.
"""

from zeal import zeal_ignore


def admin_forms_allow_gets(get_response):
    def middleware(request):
        if request.path.startswith("/admin/"):
            with zeal_ignore([{"model": "*", "field": "get()"}]):
                return get_response(request)
        return get_response(request)

    return middleware
