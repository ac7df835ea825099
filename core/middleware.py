"""Request middleware of the project (settings.MIDDLEWARE says where each one sits)."""

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

# The Django admin's org-tree list (django-mptt's DraggableMPTTAdmin) indents each row with a
# style="text-indent: …" attribute. Under /admin/ only, style *attributes* are allowed (CSP level 3
# style-src-attr); <style> elements, inline scripts and eval stay refused there as everywhere.
ADMIN_PREFIX = "/admin/"
ADMIN_POLICY_UPDATE = {"style-src-attr": ["'unsafe-inline'"]}


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware with one narrow, path-scoped relaxation for the Django admin."""

    def get_policy_parts(self, request, response, report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(ADMIN_PREFIX) and parts.update is None:
            parts.update = ADMIN_POLICY_UPDATE
        return parts


class DefaultLanguageMiddleware:
    """The portal speaks Chinese unless the user chose another language.

    Django's LocaleMiddleware follows the browser's Accept-Language, so an English browser got
    an English portal although the README promises Chinese. This one, in LocaleMiddleware's
    place, reads only the language cookie that Django's ``set_language`` view writes (the
    language menu) and otherwise uses ``LANGUAGE_CODE``. The API answers in the same language.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = self.language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        # The answer depends on the language cookie, not on Accept-Language.
        patch_vary_headers(response, ("Cookie",))
        return response

    @staticmethod
    def language_for(request) -> str:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if chosen:
            try:
                return translation.get_supported_language_variant(chosen)
            except LookupError:
                pass
        return settings.LANGUAGE_CODE
