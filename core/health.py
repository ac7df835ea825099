"""Checks of background queues that /healthz reports: each app registers its own.

A check is a callable without arguments returning a JSON-able dict about one queue, at least::

    {"waiting": 3, "running": 1, "stuck": 0, "oldest_waiting_seconds": 42}

- ``waiting``: jobs queued for a worker; ``oldest_waiting_seconds`` how long the oldest has
  waited (None when none waits);
- ``running``: jobs a worker runs now;
- ``stuck``: running jobs past their task's hard time limit (their worker died: the app's reaper
  will fail them), plus waiting jobs no worker seems to take — waiting longer than
  ``WAITING_STUCK_AFTER`` while the heartbeat is older than ``HEARTBEAT_STALE_AFTER`` (no worker or
  no beat), or longer than ``WAITING_LOST_AFTER`` whatever the heartbeat says (the message was
  lost, or the workers cannot keep up).

``job_queue_state`` computes that dict for a table of jobs in one aggregate query (plus one for
the heartbeat). ``queue_checks`` runs every registered check and adds ``"status"``: "ok",
"stuck" (when ``stuck`` > 0), or "error" for a check that raised (logged; /healthz still answers).
"""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

logger = logging.getLogger(__name__)

# The heartbeat is written every minute (zhubao/celery.py); older than this, beat or every worker stopped.
HEARTBEAT_STALE_AFTER = timedelta(minutes=5)
# A job waiting this long while the heartbeat is stale has no worker to run it.
WAITING_STUCK_AFTER = timedelta(minutes=10)
# A job waiting this long is stuck even while the heartbeat is fresh.
WAITING_LOST_AFTER = timedelta(hours=1)

QueueCheck = Callable[[], dict]
_CHECKS: dict[str, QueueCheck] = {}


def register_queue_check(name: str, check: QueueCheck) -> None:
    """Report ``check()`` as the queue ``name`` in /healthz (see the module's docstring)."""
    _CHECKS[name] = check


def queue_checks() -> dict:
    """Every registered queue's state, by name; a check that raises is reported as an error."""
    states = {}
    for name, check in _CHECKS.items():
        try:
            state = dict(check())
        except Exception:
            logger.exception("Health check: the check of the %s queue failed", name)
            states[name] = {"status": "error"}
            continue
        state["status"] = "stuck" if state.get("stuck") else "ok"
        states[name] = state
    return states


def heartbeat_last() -> datetime | None:
    """The minute of the last heartbeat (None when there is none)."""
    from .models import Heartbeat

    return Heartbeat.objects.order_by("-minute").values_list("minute", flat=True).first()


def heartbeat_is_stale(now: datetime) -> bool:
    last = heartbeat_last()
    return last is None or now - last > HEARTBEAT_STALE_AFTER


def job_queue_state(
    jobs: QuerySet,
    *,
    running_statuses: Iterable[str],
    waiting_statuses: Iterable[str],
    time_limit: timedelta,
    now: datetime | None = None,
) -> dict:
    """The check's dict for a job model with ``status``, ``started_at`` and ``created_at``.

    A running job's age counts from ``started_at``; a waiting one's from ``started_at`` when set
    (queued again) or else ``created_at``. One aggregate over the rows in those statuses (an index
    leading with ``status`` keeps it to them), and the heartbeat only when a job waits long.
    """
    now = now or timezone.now()
    running_statuses, waiting_statuses = list(running_statuses), list(waiting_statuses)
    since = Coalesce("started_at", "created_at")
    running, waiting = Q(status__in=running_statuses), Q(status__in=waiting_statuses)
    totals = (
        jobs.filter(status__in=running_statuses + waiting_statuses)
        .annotate(since=since)
        .aggregate(
            running=Count("pk", filter=running),
            running_too_long=Count("pk", filter=running & Q(since__lt=now - time_limit)),
            waiting=Count("pk", filter=waiting),
            waiting_long=Count("pk", filter=waiting & Q(since__lt=now - WAITING_STUCK_AFTER)),
            waiting_lost=Count("pk", filter=waiting & Q(since__lt=now - WAITING_LOST_AFTER)),
            oldest_waiting=Min("since", filter=waiting),
        )
    )
    stuck_waiting = totals["waiting_lost"]
    if totals["waiting_long"] > totals["waiting_lost"] and heartbeat_is_stale(now):
        stuck_waiting = totals["waiting_long"]
    oldest = totals["oldest_waiting"]
    return {
        "waiting": totals["waiting"],
        "running": totals["running"],
        "stuck": totals["running_too_long"] + stuck_waiting,
        "oldest_waiting_seconds": max(0, int((now - oldest).total_seconds())) if oldest else None,
    }
