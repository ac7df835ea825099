"""Import jobs left running by a worker that died, and the time limits of the import tasks.

A job is in one of ``ImportJob.ACTIVE_STATUSES`` (checking, applying, undoing) only while a
worker runs it. Each import task gets the limits below: at ``IMPORT_SOFT_TIME_LIMIT`` Celery
raises ``SoftTimeLimitExceeded`` inside the task, which rolls back and records why (the import's
``too_slow``); at ``IMPORT_TIME_LIMIT`` it kills the process, and then no code of
the job runs to record anything. The same happens when a worker is killed (out of memory, a
deploy, the machine stopped), and the solo pool of ``run_portal`` enforces no limit at all.

So beat runs ``import_jobs_reap`` every five minutes (``zhubao/celery.py``): a job still
active ``IMPORT_TIME_LIMIT + REAP_MARGIN`` after its ``started_at`` has lost its worker.
Every phase writes in one transaction, which the database rolled back when the worker's
connection went away, so:

- a checking or applying job wrote nothing: it fails with ``worker_lost`` (upload it again);
- an undoing job undid nothing: it goes back to succeeded (its data is as the import left it)
  with ``undo_lost`` in its errors, and the undo may be started again.

A job whose row a live transaction holds (``SELECT … FOR UPDATE``) is skipped: its worker is
still there. Reaping is idempotent (a reaped job is no longer active), so beat running it twice
does no harm. A job waiting for a worker (``ImportJob.QUEUED_STATUSES``) is never reaped:
/healthz reports it when it waits too long (``grid/importing/health.py``).
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from ..models import ImportJob

logger = logging.getLogger(__name__)

# Seconds. 20,000 households are checked and written in well under a minute; the largest upload
# (20 MB) in a few. At the soft limit the task records why it stopped; the hard limit, a minute
# later, kills a task that could not.
IMPORT_SOFT_TIME_LIMIT = 10 * 60
IMPORT_TIME_LIMIT = 11 * 60
# A job still active this long after its hard limit has lost its worker. More than beat's period,
# so that a job killed at its hard limit is found by the next run or the one after.
REAP_MARGIN = timedelta(minutes=5)

# Codes stored in ImportJob.errors, in the shape of grid.importing.problems.ImportProblem.as_dict().
WORKER_LOST = "worker_lost"
UNDO_LOST = "undo_lost"
MESSAGES = {
    WORKER_LOST: gettext_noop(
        "The import stopped before it finished (it ran too long, or the server running it stopped), so "
        "nothing was written. Please import the file again; if it stops again, split the workbook into "
        "smaller files or tell your admin."
    ),
    UNDO_LOST: gettext_noop(
        "The undo stopped before it finished (it ran too long, or the server running it stopped), so "
        "nothing was undone: the imported data is as it was. You may start the undo again."
    ),
}


def problem(code: str, **params) -> dict:
    """One entry of ``ImportJob.errors`` for ``code``, its message in the portal's language."""
    with translation.override(settings.LANGUAGE_CODE):
        message = gettext(MESSAGES[code])
        if params:
            message %= params
    return {"sheet": "", "row": None, "column": "", "code": code, "params": params, "message": message}


def lost_before(now: datetime) -> datetime:
    """An active job that started before this has lost its worker."""
    return now - timedelta(seconds=IMPORT_TIME_LIMIT) - REAP_MARGIN


def import_jobs_reap(*, now: datetime | None = None) -> int:
    """Fail (or, when undoing, put back) every active job whose worker was lost; how many.

    The body of the beat task ``grid.tasks.import_reap``.
    """
    now = now or timezone.now()
    cutoff = lost_before(now)
    started_long_ago = Q(started_at__lt=cutoff) | Q(started_at__isnull=True, created_at__lt=cutoff)
    with transaction.atomic():
        jobs = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(started_long_ago, status__in=ImportJob.ACTIVE_STATUSES)
            .order_by("pk")
            .values_list("pk", "status", "started_at")
        )
        if not jobs:
            return 0
        _mark_lost(jobs, now=now)
    for pk, status, started_at in jobs:
        logger.warning(
            "Import job %s was %s since %s with no worker left (killed at its time limit, or its worker stopped): %s",
            pk,
            status,
            started_at.isoformat() if started_at else "?",
            "put back to succeeded" if status == ImportJob.Status.UNDOING else "failed",
        )
    return len(jobs)


def import_job_fail_lost(*, job_id: int, now: datetime | None = None) -> bool:
    """Fail one job now as ``worker_lost`` if it is still in an active status; True if it was.

    For the import task when it finds its job already active: the message was delivered again
    after the worker running it died (``CELERY_TASK_REJECT_ON_WORKER_LOST``), and running the job a
    second time would kill the next worker the same way. An undoing job goes back to succeeded.
    """
    now = now or timezone.now()
    with transaction.atomic():
        status = (
            ImportJob.objects.select_for_update()
            .filter(pk=job_id, status__in=ImportJob.ACTIVE_STATUSES)
            .values_list("status", flat=True)
            .first()
        )
        if status is None:
            return False
        _mark_lost([(job_id, status)], now=now)
    logger.warning("Import job %s was found %s when its task arrived again after its worker died", job_id, status)
    return True


def _mark_lost(jobs: list[tuple], *, now: datetime) -> None:
    """``jobs``: (pk, status, …) of active jobs locked by the caller's transaction."""
    undoing = [job[0] for job in jobs if job[1] == ImportJob.Status.UNDOING]
    running = [job[0] for job in jobs if job[1] != ImportJob.Status.UNDOING]
    if running:
        ImportJob.objects.filter(pk__in=running).update(
            status=ImportJob.Status.FAILED, errors=[problem(WORKER_LOST)], finished_at=now
        )
    if undoing:
        ImportJob.objects.filter(pk__in=undoing).update(status=ImportJob.Status.SUCCEEDED, errors=[problem(UNDO_LOST)])
