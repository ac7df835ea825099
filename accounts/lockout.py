"""Login lockout with django-axes: 5 failed logins of a username within 10 minutes lock it for 10 minutes.

axes keeps one ``AccessAttempt`` row per username, address and browser, adds each failure to its
count and moves its time to the latest failure, and forgets the row 10 minutes (``AXES_COOLOFF_TIME``)
after that. So five failures three minutes apart, twelve minutes in all, would lock: axes' window
runs from the last failure, not over the last 10 minutes. ``SlidingWindowHandler`` keeps axes' rows
and its lock check but, before axes counts a new failure, sets the username's count to the failures
of the last 10 minutes (one ``AccessFailureLog`` row each), counting none from before the last lock
or an admin's unlock. Thus:

- a username is locked when its 5th failure falls within 10 minutes of the 1st it counts;
- the lock ends 10 minutes after that 5th failure; attempts meanwhile (even with the right
  password) are refused and not counted (``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``);
- a global admin unlocks with ``accounts.services.user_unlock`` (the action on the admin's people
  page), which starts the count afresh.

Only the username is locked (``AXES_LOCKOUT_PARAMETERS``), never an address. The lockout answer is
``lockout_response``: the Chinese page ``accounts/locked_out.html`` or, under /api/,
``{"code": "locked_out", "message", "fields"}``; both 429 with ``Retry-After``.
"""

import math
from datetime import datetime, timedelta

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import time_format
from django.utils.translation import gettext as _

LOCKED_OUT = "locked_out"  # the API's error code


def lock_window() -> timedelta:
    return get_cool_off() or timedelta(minutes=10)


def locked_until(username: str) -> datetime | None:
    """When the username's lock ends (None when it is not locked)."""
    if not username:
        return None
    since = timezone.now() - lock_window()
    attempts = AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
    totals = attempts.aggregate(failures=Max("failures_since_start"), last=Max("attempt_time"))
    if not totals["last"] or (totals["failures"] or 0) < settings.AXES_FAILURE_LIMIT:
        return None
    return totals["last"] + lock_window()


class SlidingWindowHandler(AxesDatabaseHandler):
    """axes' database handler counting only the failures of the last ``AXES_COOLOFF_TIME`` (see above)."""

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is not None and not getattr(request, "axes_locked_out", False):
            self.count_only_recent_failures(request, credentials)
        return super().user_login_failed(sender, credentials, request, **kwargs)

    def count_only_recent_failures(self, request, credentials) -> None:
        """Before axes adds this failure: the username's one row holds the failures still in the window."""
        username = get_client_username(request, credentials)
        if not username:
            return
        now = request.axes_attempt_time
        since = now - lock_window()
        with transaction.atomic():
            attempts = list(
                AccessAttempt.objects.select_for_update().filter(username=username).order_by("-attempt_time")
            )
            current = [a for a in attempts if a.attempt_time > since]
            if not current:
                # Nothing in the window (or an admin's unlock removed the rows): axes starts at 1.
                AccessAttempt.objects.filter(pk__in=[a.pk for a in attempts]).delete()
                return
            failures = AccessFailureLog.objects.filter(username=username, attempt_time__gt=since)
            fresh_start = self.fresh_start(username)
            if fresh_start is not None:
                failures = failures.filter(attempt_time__gt=fresh_start)
            count = failures.count()
            keep = next(
                (
                    a
                    for a in current
                    if a.ip_address == request.axes_ip_address and a.user_agent == request.axes_user_agent
                ),
                current[0],
            )
            AccessAttempt.objects.filter(username=username).exclude(pk=keep.pk).delete()
            if count == 0:
                keep.delete()
                return
            # axes' get_or_create (username, address, browser) finds this row and adds the new failure.
            AccessAttempt.objects.filter(pk=keep.pk).update(
                ip_address=request.axes_ip_address, user_agent=request.axes_user_agent, failures_since_start=count
            )

    @staticmethod
    def fresh_start(username: str):
        """The last lock or unlock of the username: failures before it no longer count."""
        from core.models import AuditEvent

        last_lock = AccessFailureLog.objects.filter(username=username, locked_out=True).aggregate(
            last=Max("attempt_time")
        )["last"]
        last_unlock = AuditEvent.objects.filter(action=AuditEvent.Action.UNLOCKED, detail__username=username).aggregate(
            last=Max("created_at")
        )["last"]
        moments = [moment for moment in (last_lock, last_unlock) if moment is not None]
        return max(moments) if moments else None


def lockout_message(until: datetime | None) -> str:
    if until is None:
        return _("Too many failed logins: this username is locked for a while. Please try again later.")
    # Rounded up to the minute, so "after 14:36" is never a minute early.
    shown = timezone.localtime(until + timedelta(seconds=59)).replace(second=0, microsecond=0)
    minutes = max(1, math.ceil((until - timezone.now()).total_seconds() / 60))
    return _(
        "Too many failed logins: this username is locked for %(minutes)s more minutes. Please try again "
        "after %(time)s, or ask an administrator to unlock it."
    ) % {"minutes": minutes, "time": time_format(shown, "H:i")}


def lockout_response(request, original_response=None, credentials=None):
    """axes' AXES_LOCKOUT_CALLABLE: the lockout page, or the API's error body; 429 with Retry-After."""
    username = get_client_username(request, credentials) or ""
    until = locked_until(username)
    message = lockout_message(until)
    retry_after = max(1, int((until - timezone.now()).total_seconds())) if until else int(lock_window().total_seconds())
    if request.path.startswith("/api/"):
        response = JsonResponse({"code": LOCKED_OUT, "message": message, "fields": {}}, status=429)
    else:
        response = render(
            request, "accounts/locked_out.html", {"message": message, "until": until, "username": username}, status=429
        )
    response["Retry-After"] = str(retry_after)
    return response


class RequestOptionalAxesBackend(AxesStandaloneBackend):
    """Test settings only: Django's test ``Client.login()`` authenticates without a request, which axes
    refuses. Logins through the pages and the token endpoint always carry one and are checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
