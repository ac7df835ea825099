"""Exports written in the background, downloadable by the person who asked, for a day.

An export can take a minute for a city-wide scope (213,334 households: 61 s), longer than a web
request may run, so the page starts an ``ExportJob``, a Celery task writes the file, the job page
polls its progress and then offers the download. Each app registers its exports here from its
``AppConfig.ready()``::

    register_export("grid_workbook", label=_("…"), action=Action.EXPORT, write=write_workbook)

``write(job, user, progress)`` writes the file and returns an ``ExportFile`` (the open file, its
download name and a summary; the job page shows ``summary["rows"]``, a count per part of the file,
in the order of ``summary["sheets"]``). It reads only what ``scope(…, user, action)`` allows; ``progress``
takes ``phase(label, step=, steps=, total=)`` and ``advance(count)``. A summary may say it holds
personal data in full (``{"personal_data": {"fields": [...], "count": n}}``): each download is
then also audited as a personal-data view.

The rules, all here:

- starting: the user must hold the kind's action somewhere; the task is enqueued when the
  transaction commits. If the broker does not take it (Redis down), the job fails at once with
  a message asking to try again later, instead of waiting for ever;
- running: pending → running → succeeded or failed, with a soft time limit (``SOFT_TIME_LIMIT``)
  that fails the job with a clear message; a job a dead worker left running is failed by the
  periodic sweep (never run again: a file that kills its worker would kill the next one too);
- progress lives in the cache, and a cache error never fails a job nor breaks a page;
- downloading: the job is reached through core.access with a rule of its own, *the creator
  only* (not even a global admin: the file holds what the creator's grants allow, and it is
  theirs); everyone else gets 404. Every download is audited and sent ``no-store`` as an
  attachment. Files are kept ``EXPORT_KEEP``; the sweep deletes them after that.
"""

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import IO

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.files import File
from django.db import DatabaseError, OperationalError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .access import NOTHING, get_in_scope_or_404, has_action, scope
from .errors import ErrorCode, ZhubaoError
from .health import job_queue_state
from .models import AuditEvent, ExportJob
from .services import audit_record

logger = logging.getLogger(__name__)

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# How long a finished export can be downloaded; then the sweep deletes its file.
EXPORT_KEEP = timedelta(hours=24)
# The task's limits (seconds): at the soft one the job fails with a message; the hard one kills the worker's child.
SOFT_TIME_LIMIT = 30 * 60
TIME_LIMIT = 32 * 60
# A job still running this long after it started lost its worker (the hard limit has passed).
STUCK_AFTER = timedelta(seconds=TIME_LIMIT) + timedelta(minutes=3)
# A job waiting this long was never picked up (its message was lost): failed by the sweep.
GIVE_UP_WAITING_AFTER = EXPORT_KEEP
# Jobs (without their files, long gone) are kept this long for the user's list of exports.
HISTORY_KEEP = timedelta(days=30)
# A job still waiting after this long probably has no worker: the page says so.
STALLED_AFTER = timedelta(minutes=1)
# Starting the same export again within this long of a job still waiting gives that job (a double
# click, a user coming back), not a second one; later, a new job (the first may never be picked up).
REUSE_WAITING_FOR = timedelta(minutes=10)
PROGRESS_TIMEOUT = int(EXPORT_KEEP.total_seconds())
# After a cache error, progress is not written again for this long (a page reads "no progress yet").
CACHE_BACKOFF_SECONDS = 30.0

# A phase label the page translates (a writer's other labels are shown as given: sheet names).
PHASE_SAVING = "saving"
PHASE_LABELS = {PHASE_SAVING: gettext_lazy("Saving the file")}


class Failure:
    """Why a job failed: a stable code, stored on the job, and its message in the reader's language."""

    QUEUE_UNAVAILABLE = "queue_unavailable"
    TIME_LIMIT = "time_limit"
    WORKER_LOST = "worker_lost"
    NEVER_STARTED = "never_started"
    NOT_ALLOWED = "not_allowed"
    UNKNOWN_KIND = "unknown_kind"
    DATABASE_UNAVAILABLE = "database_unavailable"
    UNEXPECTED = "unexpected"


FAILURES = {
    Failure.QUEUE_UNAVAILABLE: gettext_lazy(
        "The export could not be started: the background service is not available at the moment. "
        "Please try again later."
    ),
    Failure.TIME_LIMIT: gettext_lazy(
        "The export took longer than %(minutes)s minutes and was stopped. Please try again later, "
        "when the portal is less busy, or ask your admin for help."
    ),
    Failure.WORKER_LOST: gettext_lazy(
        "The export was interrupted: the background worker stopped while writing it. Please start it again."
    ),
    Failure.NEVER_STARTED: gettext_lazy(
        "The export was never started: the background worker is not running. Please tell your admin."
    ),
    Failure.NOT_ALLOWED: gettext_lazy("You may no longer make this export."),
    Failure.UNKNOWN_KIND: gettext_lazy("This kind of export no longer exists."),
    Failure.DATABASE_UNAVAILABLE: gettext_lazy("The database was not available. Please try again later."),
    Failure.UNEXPECTED: gettext_lazy(
        "The export failed because of an error in the portal. It has been logged; please try again later."
    ),
}


def failure_message(code: str) -> str:
    message = FAILURES.get(code, FAILURES[Failure.UNEXPECTED])
    if code == Failure.TIME_LIMIT:
        return str(message) % {"minutes": SOFT_TIME_LIMIT // 60}
    return str(message)


# --- the registry -----------------------------------------------------------------------------


@dataclass
class ExportFile:
    """What a writer hands back: the written file (any position; core closes it), its download name, a summary."""

    file: IO[bytes]
    name: str
    summary: dict = field(default_factory=dict)
    content_type: str = XLSX_CONTENT_TYPE


@dataclass(frozen=True)
class ExportKind:
    kind: str
    label: str  # lazy: what the page calls this export
    action: str  # the action the user must hold (and the scope the writer reads)
    write: Callable[..., ExportFile]
    start_url: str | None = None  # the URL name of the page that starts it (linked from the job page)


_KINDS: dict[str, ExportKind] = {}


def register_export(
    kind: str, *, label, action: str, write: Callable[..., ExportFile], start_url: str | None = None
) -> ExportKind:
    """Register an export; ``ready()`` may run twice, so the same registration again is fine."""
    entry = ExportKind(kind=kind, label=label, action=action, write=write, start_url=start_url)
    current = _KINDS.get(kind)
    if current is not None and (current.action, current.write) != (action, write):
        raise ValueError(f"Export {kind!r} is already registered differently.")
    _KINDS[kind] = entry
    return entry


def export_kind(kind: str) -> ExportKind:
    try:
        return _KINDS[kind]
    except KeyError:
        raise LookupError(f"No export is registered as {kind!r}.") from None


# --- access -----------------------------------------------------------------------------------


def export_job_rule(user, action: str):
    """An export job is its creator's alone, and only while they may still make that export.

    Not even a global admin reaches another user's job: the file holds what the creator's grants
    allowed (personal data included), and only the person who asked may take it away.
    """
    if not has_action(user, action):
        return NOTHING
    return Q(created_by_id=user.pk)


def export_job_get(*, user, pk) -> ExportJob:
    """The user's own export job, or Http404 (someone else's, missing, or an export they may no longer make)."""
    try:
        kind = ExportJob.objects.filter(pk=pk).values_list("kind", flat=True).first()
    except (ValueError, TypeError, OverflowError):
        raise Http404 from None
    if kind not in _KINDS:
        raise Http404
    return get_in_scope_or_404(ExportJob.objects.select_related("created_by"), user, _KINDS[kind].action, pk=pk)


def export_job_list(*, user, kind: str, limit: int = 10):
    """The user's recent jobs of one kind, newest first."""
    entry = export_kind(kind)
    return scope(ExportJob.objects.filter(created_by_id=user.pk, kind=kind), user, entry.action).order_by(
        "-created_at", "-id"
    )[:limit]


# --- progress (in the cache; never fatal) -------------------------------------------------------


def progress_key(job_id: int) -> str:
    return f"export-progress:{job_id}"


class ExportProgress:
    """Step, label, rows written and total, in the cache; written at most every ``interval`` seconds.

    A cache error is logged and ignored (and progress is not written for a while): the file
    matters, the bar does not.
    """

    def __init__(self, job_id: int, interval: float = 0.5):
        self.key = progress_key(job_id)
        self.interval = interval
        self.label = ""
        self.step = 0
        self.steps = 0
        self.total = 0
        self.processed = 0
        self._written_at = 0.0
        self._quiet_until = 0.0

    def phase(self, label: str, *, step: int, steps: int, total: int = 0) -> None:
        self.label, self.step, self.steps, self.total, self.processed = str(label), step, steps, total, 0
        self._write(force=True)

    def advance(self, count: int = 1) -> None:
        self.processed += count
        self._write()

    def as_dict(self) -> dict:
        processed = min(self.processed, self.total) if self.total else self.processed
        return {
            "label": self.label,
            "step": self.step,
            "steps": self.steps,
            "processed": processed,
            "total": self.total,
        }

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        if now < self._quiet_until or (not force and now - self._written_at < self.interval):
            return
        self._written_at = now
        try:
            cache.set(self.key, self.as_dict(), timeout=PROGRESS_TIMEOUT)
        except Exception:
            logger.warning("Export progress not written to the cache (%s)", self.key, exc_info=True)
            self._quiet_until = now + CACHE_BACKOFF_SECONDS


def export_progress(job: ExportJob) -> dict | None:
    """The last progress the worker reported (None before it started, or when the cache does not answer)."""
    try:
        return cache.get(progress_key(job.pk))
    except Exception:
        logger.warning("Export progress not read from the cache (job %s)", job.pk, exc_info=True)
        return None


# --- starting ---------------------------------------------------------------------------------


def export_job_create(*, user, kind: str, params: dict | None = None) -> ExportJob:
    """Start an export for ``user``: a pending job, its task enqueued once this transaction commits.

    The same export of the same user still running, or waiting since less than
    ``REUSE_WAITING_FOR``, is returned instead of a second one (a double click, or a user who came
    back to the page). If the broker refuses the task,
    the job is failed with ``queue_unavailable`` (the page asks to try again later).
    """
    try:
        entry = export_kind(kind)
    except LookupError:
        raise ZhubaoError(ErrorCode.NOT_FOUND, _("Not found."), status_code=404) from None
    if not has_action(user, entry.action):
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, _("You may not make this export."), status_code=403)
    params = params or {}
    with transaction.atomic():
        # The requester's row, locked: two clicks at once wait for each other here, so the second
        # finds the first's job instead of both finding none and starting the export twice.
        get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
        now = timezone.now()
        unfinished = (
            scope(ExportJob.objects.filter(created_by_id=user.pk, kind=kind), user, entry.action)
            .filter(
                Q(status=ExportJob.Status.PENDING, created_at__gte=now - REUSE_WAITING_FOR)
                | Q(status=ExportJob.Status.RUNNING, started_at__gte=now - STUCK_AFTER)
            )
            .order_by("-created_at")
        )
        for job in unfinished:
            if job.params == params:
                return job
        job = ExportJob(created_by=user, kind=kind, params=params)
        job.full_clean()
        job.save()
        transaction.on_commit(partial(_enqueue, job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from .tasks import export_run

    try:
        export_run.delay(job_id)
    except Exception:  # kombu's OperationalError when Redis is down, or anything else the broker raises
        logger.exception("Export job %s could not be enqueued", job_id)
        _fail(job_id, Failure.QUEUE_UNAVAILABLE, statuses=(ExportJob.Status.PENDING,))


def _fail(job_id: int, code: str, *, statuses=(ExportJob.Status.PENDING, ExportJob.Status.RUNNING)) -> bool:
    """Mark a job failed (only from ``statuses``: a finished job stays as it is); False if it could not be."""
    try:
        return bool(
            ExportJob.objects.filter(pk=job_id, status__in=statuses).update(
                status=ExportJob.Status.FAILED, error_code=code, finished_at=timezone.now()
            )
        )
    except DatabaseError:
        logger.exception("Could not record the failure (%s) of export job %s", code, job_id)
        return False


# --- running (the task's body) ------------------------------------------------------------------


def export_job_run(*, job_id: int, last_attempt: bool = True) -> ExportJob | None:
    """Write one job's file. Claims the job (pending → running) in one UPDATE, so a task that
    arrives twice runs once; a job found running long after it started lost its worker and is
    failed, not run again. A transient database error puts the job back to pending for the
    task's retry (raised), and fails it on the ``last_attempt``.
    """
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.PENDING).update(
        status=ExportJob.Status.RUNNING, started_at=now
    )
    if not claimed:
        # Found running: delivered again because its worker died (acks_late; the broker's visibility
        # timeout is longer than the time limit, so no live run is still going). Fail it rather than
        # run again what killed the worker.
        ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.FAILED, error_code=Failure.WORKER_LOST, finished_at=now
        )
        return None
    job = None
    output = None
    try:
        job = ExportJob.objects.select_related("created_by").get(pk=job_id)
        entry = _KINDS.get(job.kind)
        user = job.created_by
        if entry is None:
            _fail(job_id, Failure.UNKNOWN_KIND)
        elif not user.is_active or not has_action(user, entry.action):
            _fail(job_id, Failure.NOT_ALLOWED)
        else:
            output = entry.write(job, user, ExportProgress(job_id))
            output.file.seek(0)
            stored_name = f"{uuid.uuid4().hex}{os.path.splitext(output.name)[1]}"
            job.file.save(stored_name, File(output.file, name=stored_name), save=False)
            finished = timezone.now()
            job.status = ExportJob.Status.SUCCEEDED
            job.file_name = output.name[:200]
            job.file_size = job.file.size
            job.summary = output.summary
            job.finished_at = finished
            job.expires_at = finished + EXPORT_KEEP
            job.save(update_fields=["status", "file", "file_name", "file_size", "summary", "finished_at", "expires_at"])
    except SoftTimeLimitExceeded:
        logger.error("Export job %s stopped at the time limit (%s s)", job_id, SOFT_TIME_LIMIT)
        _discard_file(job)
        _fail(job_id, Failure.TIME_LIMIT)
    except OperationalError:
        # Also when the job could not even be read after the claim: back to pending for the retry.
        _discard_file(job)
        if last_attempt:
            logger.exception("Export job %s failed: the database stayed unavailable", job_id)
            _fail(job_id, Failure.DATABASE_UNAVAILABLE)
            raise
        ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING).update(
            status=ExportJob.Status.PENDING, started_at=None
        )
        raise
    except Exception:
        logger.exception("Export job %s failed", job_id)
        _discard_file(job)
        _fail(job_id, Failure.UNEXPECTED)
    finally:
        if output is not None:
            output.file.close()
    return ExportJob.objects.select_related("created_by").get(pk=job_id)


def _discard_file(job: ExportJob | None) -> None:
    if job is not None and job.file:
        try:
            job.file.delete(save=False)
        except OSError:
            logger.exception("Could not delete the file of export job %s", job.pk)


# --- downloading ------------------------------------------------------------------------------


def export_job_is_expired(job: ExportJob, *, now=None) -> bool:
    return job.status == ExportJob.Status.SUCCEEDED and (
        not job.file or job.expires_at is None or job.expires_at <= (now or timezone.now())
    )


def export_audit(*, user, kind: str, summary: dict, obj=None, request=None, via: str) -> None:
    """Record that ``user`` received an export (and, when it holds personal data in full, that too).

    The one audit of every export: each download of a job (``via="download"``), and a file
    written for the caller directly (the benchmark, tests: ``via="direct"``).
    """
    audit_record(
        user=user,
        action=AuditEvent.Action.EXPORTED,
        obj=obj,
        detail={"kind": kind, "via": via, **summary},
        request=request,
    )
    personal = summary.get("personal_data") or {}
    if personal.get("count"):
        audit_record(
            user=user,
            action=AuditEvent.Action.PERSONAL_DATA_VIEWED,
            obj=obj,
            detail={"fields": personal.get("fields", []), "count": personal["count"], "via": "export", "kind": kind},
            request=request,
        )


def export_job_download(*, user, job: ExportJob, request=None):
    """The open file of the user's finished, unexpired job, audited; a 404 ZhubaoError otherwise.

    ``job`` comes from ``export_job_get`` (the creator's own); this checks again, as the rule
    is the service's.
    """
    not_found = ZhubaoError(ErrorCode.NOT_FOUND, _("Not found."), status_code=404)
    if job.created_by_id != user.pk or not has_action(user, export_kind(job.kind).action):
        raise not_found
    if job.status != ExportJob.Status.SUCCEEDED or export_job_is_expired(job):
        raise not_found
    try:
        handle = job.file.open("rb")
    except OSError:
        logger.exception("The file of export job %s is missing", job.pk)
        raise not_found from None
    export_audit(user=user, kind=job.kind, summary=job.summary, obj=job, request=request, via="download")
    return handle


# --- the sweep and the queue's state --------------------------------------------------------------


def export_jobs_sweep(*, now=None) -> dict:
    """Fail jobs a dead worker left running or nobody picked up, delete expired files and old jobs.

    Idempotent (beat may run it twice): every step is a conditional UPDATE or DELETE, and a file
    already gone is fine.
    """
    now = now or timezone.now()
    lost = ExportJob.objects.filter(status=ExportJob.Status.RUNNING, started_at__lt=now - STUCK_AFTER).update(
        status=ExportJob.Status.FAILED, error_code=Failure.WORKER_LOST, finished_at=now
    )
    never = ExportJob.objects.filter(
        status=ExportJob.Status.PENDING, created_at__lt=now - GIVE_UP_WAITING_AFTER
    ).update(status=ExportJob.Status.FAILED, error_code=Failure.NEVER_STARTED, finished_at=now)
    deleted_files = 0
    for job in ExportJob.objects.filter(expires_at__lte=now).exclude(file="").only("pk", "file"):
        _discard_file(job)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        deleted_files += 1
    # Failed jobs may have left a partial file behind only if deleting it failed; old rows go, files first.
    old = ExportJob.objects.filter(created_at__lt=now - HISTORY_KEEP)
    for job in old.exclude(file="").only("pk", "file"):
        _discard_file(job)
    deleted_jobs, _detail = old.delete()
    return {"lost": lost, "never_started": never, "files_deleted": deleted_files, "jobs_deleted": deleted_jobs}


def export_queue_state(*, now=None) -> dict:
    """For /healthz (core.health): jobs waiting, running, stuck (running past the task's hard time
    limit, or waiting with no worker to take them), and how long the oldest has waited."""
    return job_queue_state(
        ExportJob.objects.all(),
        running_statuses=[ExportJob.Status.RUNNING],
        waiting_statuses=[ExportJob.Status.PENDING],
        time_limit=timedelta(seconds=TIME_LIMIT),
        now=now,
    )
