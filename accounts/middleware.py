"""Session rules of the portal (settings.MIDDLEWARE places them after authentication and messages).

- ``IdleTimeoutMiddleware``: a session unused for ``ZHUBAO_SESSION_IDLE_MINUTES`` (30) is logged out;
  the login page then says why. The last activity is kept in the session, rewritten at most once a
  minute so a busy page does not write the session on every request.
- ``PasswordChangeRequiredMiddleware``: a person whose password someone else set sees only the
  "choose your password" page (and may log out, switch language, load static files) until they
  have chosen their own. The API answers such a person itself (accounts/authentication.py).
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

LAST_ACTIVITY = "zhubao_last_activity"
LOGOUT_REASON = "zhubao_logout_reason"  # request attribute the logout receiver audits
WRITE_EVERY_SECONDS = 60


def idle_seconds() -> int:
    return settings.ZHUBAO_SESSION_IDLE_MINUTES * 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(LAST_ACTIVITY)
            if last is not None and now - int(last) > idle_seconds():
                setattr(request, LOGOUT_REASON, "idle_timeout")
                logout(request)
                messages.info(
                    request,
                    _("You have been logged out after %(minutes)s minutes without activity. Please log in again.")
                    % {"minutes": settings.ZHUBAO_SESSION_IDLE_MINUTES},
                )
            elif last is None or now - int(last) >= WRITE_EVERY_SECONDS:
                request.session[LAST_ACTIVITY] = now
        return self.get_response(request)


def _allowed_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:password-change"),
        reverse("accounts:logout"),
        reverse("set_language"),
        settings.STATIC_URL,
        "/api/",  # DRF answers 403 password_change_required itself
        "/healthz",
        "/favicon.ico",
    )


class PasswordChangeRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(_allowed_paths())
        ):
            return redirect("accounts:password-change")
        return self.get_response(request)
