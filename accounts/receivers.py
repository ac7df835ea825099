"""Logins, failed logins, lockouts and logouts in core's audit log (connected in AccountsConfig.ready).

Django sends ``user_logged_in`` / ``user_login_failed`` / ``user_logged_out`` for every login face
(the login page, the admin's, test clients); axes sends ``user_locked_out`` when a username gets
locked. The token endpoint audits its own logins (``accounts.services.user_api_token_issue``).
"""

import time

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from core.models import AuditEvent
from core.services import audit_record

from .lockout import locked_until
from .middleware import LAST_ACTIVITY, LOGOUT_REASON
from .models import User


def _username(credentials) -> str:
    return str((credentials or {}).get("username") or "")[:150]


@receiver(user_logged_in, dispatch_uid="zhubao_audit_login")
def audit_login(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[LAST_ACTIVITY] = int(time.time())
    audit_record(
        user=user,
        action=AuditEvent.Action.LOGIN_SUCCEEDED,
        obj=user,
        detail={"via": "session", "path": getattr(request, "path", "")},
        request=request,
    )


@receiver(user_login_failed, dispatch_uid="zhubao_audit_login_failed")
def audit_login_failed(sender, credentials, request=None, **kwargs):
    username = _username(credentials)
    person = User.objects.filter(username=username).first() if username else None
    audit_record(
        user=None,
        action=AuditEvent.Action.LOGIN_FAILED,
        obj=person,
        detail={
            "username": username,
            "path": getattr(request, "path", ""),
            # Refused while the username was locked (the password was not even checked).
            "locked_out": bool(getattr(request, "axes_locked_out", False)),
        },
        request=request,
    )


@receiver(user_locked_out, dispatch_uid="zhubao_audit_locked_out")
def audit_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    # axes also sends this for each attempt refused during a lock: only the failure that locks is
    # recorded here (the refused ones are LOGIN_FAILED with locked_out).
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    until = locked_until(username or "")
    person = User.objects.filter(username=username).first() if username else None
    audit_record(
        user=None,
        action=AuditEvent.Action.LOCKED_OUT,
        obj=person,
        detail={"username": username or "", "until": until.isoformat() if until else None},
        request=request,
    )


@receiver(user_logged_out, dispatch_uid="zhubao_audit_logout")
def audit_logout(sender, request, user, **kwargs):
    if user is None:
        return
    audit_record(
        user=user,
        action=AuditEvent.Action.LOGOUT,
        obj=user,
        detail={"reason": getattr(request, LOGOUT_REASON, "logout")},
        request=request,
    )
