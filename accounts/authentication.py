"""How the API knows who calls: a session (the portal's login) or an expiring token.

- ``ExpiringTokenAuthentication``: DRF's ``Authorization: Token …``, refused with ``token_expired``
  (401) once ``ZHUBAO_TOKEN_TTL_HOURS`` have passed since the token was issued. A token is issued by
  POST /api/v1/auth/token/ (a fresh one when the old expired), revoked by
  POST /api/v1/auth/token/revoke/, by a password change and by deactivation (accounts.services).
- Both classes refuse a user who must first change a password someone else set
  (``password_change_required``, 403), except on views marked ``allowed_before_password_change``
  (revoking one's token): the new password is chosen on the portal's page.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular import authentication as drf_spectacular_authentication
from rest_framework import authentication, exceptions, status

TOKEN_EXPIRED = "token_expired"
PASSWORD_CHANGE_REQUIRED = "password_change_required"


def token_lifetime() -> timedelta:
    return timedelta(hours=settings.ZHUBAO_TOKEN_TTL_HOURS)


def token_has_expired(token, *, now=None) -> bool:
    return token.created <= (now or timezone.now()) - token_lifetime()


class TokenExpired(exceptions.AuthenticationFailed):
    default_detail = _("Your API token has expired. Ask for a new one with your username and password.")
    default_code = TOKEN_EXPIRED


class PasswordChangeRequired(exceptions.APIException):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("Someone else set your password. Log in on the portal and choose your own before using the API.")
    default_code = PASSWORD_CHANGE_REQUIRED


def refuse_before_password_change(request, user) -> None:
    view = (request.parser_context or {}).get("view")
    if getattr(user, "must_change_password", False) and not getattr(view, "allowed_before_password_change", False):
        raise PasswordChangeRequired()


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            refuse_before_password_change(request, result[0])
        return result


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_has_expired(token):
            token.delete()
            raise TokenExpired()
        return user, token

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            refuse_before_password_change(request, result[0])
        return result


class SessionScheme(drf_spectacular_authentication.SessionScheme):
    """The OpenAPI schema's cookie scheme for our session class (drf-spectacular matches the exact class)."""

    target_class = SessionAuthentication
