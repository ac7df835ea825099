"""Import the org tree, households, grids and grid posts from an Excel workbook.

The workbook is read whole, every row is checked, and only if there is no error at all is
anything written, in one transaction. Three phases, each reporting progress to the
Django cache (not the database: the worker's transaction is invisible to the web process
until it commits):

1. reading  (``reader.read_workbook``)      cells → rows, header problems
2. validating (``validation.validate_workbook``) rows → a plan, every problem with sheet/row/column
3. writing  (``apply.apply_plan``)          the plan → the database

Services here: ``import_job_create`` (upload → job, enqueued on commit), ``import_job_run``
(the Celery task's body), ``workbook_import`` (the three phases for any file, used by the
job and the benchmark), ``import_job_list`` and ``import_progress`` (reads).
"""

import logging
import os
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import File
from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.access import Action, has_action, scope
from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from core.services import audit_record

from ..models import ImportJob, OrgNode
from ..services import org_tree_lock
from .apply import apply_plan
from .problems import ImportProblem, ProblemList, TooManyProblems, render_message
from .reader import ParsedWorkbook, read_workbook
from .validation import SHEET_ORDER, ImportPlan, community_names, validate_workbook

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROGRESS_TIMEOUT = 24 * 60 * 60
_XLSX_MAGIC = b"PK\x03\x04"

__all__ = [
    "MAX_UPLOAD_BYTES",
    "ImportOutcome",
    "ImportProgress",
    "import_error_rows",
    "import_job_create",
    "import_job_give_up",
    "import_job_list",
    "import_job_run",
    "import_progress",
    "progress_key",
    "workbook_import",
    "workbook_validate",
]


# --- progress ---------------------------------------------------------------------------------


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


class ImportProgress:
    """Phase, rows processed and total, in the cache; written at most every ``interval`` seconds."""

    def __init__(self, job_id: int, interval: float = 0.5):
        self.key = progress_key(job_id)
        self.interval = interval
        self.name = ""
        self.total = 0
        self.processed = 0
        self._written_at = 0.0

    def phase(self, name: str, *, total: int) -> None:
        self.name, self.total, self.processed = name, total, 0
        self._write(force=True)

    def advance(self, count: int = 1) -> None:
        self.processed += count
        self._write()

    def _write(self, force: bool = False) -> None:
        now = time.monotonic()
        finished = self.total and self.processed >= self.total
        if not force and not finished and now - self._written_at < self.interval:
            return
        self._written_at = now
        processed = min(self.processed, self.total) if self.total else self.processed
        cache.set(
            self.key,
            {"phase": self.name, "processed": processed, "total": self.total},
            timeout=PROGRESS_TIMEOUT,
        )


def import_progress(job: ImportJob) -> dict | None:
    """The last progress the worker reported for ``job`` (None before it started)."""
    return cache.get(progress_key(job.pk))


# --- the three phases -------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    ok: bool
    total_rows: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def error_dicts(self) -> list[dict]:
        ordered = sorted(
            self.problems,
            key=lambda problem: (SHEET_ORDER.get(problem.sheet, -1), problem.row or 0),
        )
        return [problem.as_dict() for problem in ordered]


class _Invalid(Exception):
    """Leaves the transaction (rolling it back) when validation found problems."""


def _lock_trees(parsed: ParsedWorkbook) -> None:
    """Lock the tree of every community the workbook names, in id order; and new roots."""
    names = community_names(parsed)
    roots = dict(OrgNode.objects.filter(parent__isnull=True, name__in=names).values_list("name", "tree_id"))
    if set(names) - set(roots):
        org_tree_lock(tree_id=None)
    for tree_id in sorted(set(roots.values())):
        org_tree_lock(tree_id=tree_id)


def workbook_validate(*, actor, source, progress=None) -> tuple[ParsedWorkbook, ImportPlan | None, ProblemList]:
    """Read and check a workbook without writing anything (the benchmark times this)."""
    problems = ProblemList()
    parsed = ParsedWorkbook()
    plan = None
    try:
        parsed = read_workbook(source, problems, progress)
        if not problems and parsed.total_rows == 0:
            problems.add("no_rows")
        if not problems:
            plan = validate_workbook(parsed, actor=actor, problems=problems, progress=progress)
    except TooManyProblems:
        pass
    return parsed, plan, problems


def workbook_import(*, actor, source, progress=None, job: ImportJob | None = None) -> ImportOutcome:
    """Read, check and, only if every row is valid, write a workbook in one transaction.

    ``source`` is a path or a binary file. With ``job``, its final state is saved in the
    same transaction as the data, and the audit event points at it.
    """
    problems = ProblemList()
    parsed = ParsedWorkbook()
    try:
        parsed = read_workbook(source, problems, progress)
        if not problems and parsed.total_rows == 0:
            problems.add("no_rows")
        if problems:
            return ImportOutcome(ok=False, total_rows=parsed.total_rows, problems=problems)
        with transaction.atomic():
            _lock_trees(parsed)
            plan = validate_workbook(parsed, actor=actor, problems=problems, progress=progress)
            if problems:
                raise _Invalid
            sheets = [name for name in SHEET_ORDER if name in parsed.sheets]
            summary = apply_plan(plan, actor=actor, sheets=sheets, progress=progress)
            summary["rows"] = parsed.total_rows
            audit_record(
                user=actor,
                action=AuditEvent.Action.IMPORTED,
                obj=job,
                detail={"file": job.original_name if job else "", **summary},
            )
            if job is not None:
                _finish(job, ImportJob.Status.SUCCEEDED, total_rows=parsed.total_rows, summary=summary)
    except (_Invalid, TooManyProblems):
        return ImportOutcome(ok=False, total_rows=parsed.total_rows, problems=problems)
    except (IntegrityError, ZhubaoError) as error:
        # Someone changed the same data between the check and the write; all was rolled back.
        logger.warning("Import conflicted with a concurrent change: %s", error, exc_info=True)
        return ImportOutcome(ok=False, total_rows=parsed.total_rows, problems=[ImportProblem(code="conflict")])
    return ImportOutcome(ok=True, total_rows=parsed.total_rows, summary=summary)


# --- jobs -------------------------------------------------------------------------------------


def _finish(job: ImportJob, status: str, *, total_rows: int = 0, errors=None, summary=None) -> None:
    job.status = status
    job.total_rows = total_rows
    job.errors = errors or []
    job.summary = summary or {}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "total_rows", "errors", "summary", "finished_at"])


def _invalid_file(message: str) -> ZhubaoError:
    return ZhubaoError(ErrorCode.INVALID, message, {"file": [message]})


@transaction.atomic
def import_job_create(*, actor, uploaded_file) -> ImportJob:
    """Keep an uploaded workbook as a job and enqueue its import once this transaction commits."""
    if not has_action(actor, Action.IMPORT):
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, _("You may not import data."), status_code=403)
    name = os.path.basename(uploaded_file.name or "")
    if not name.lower().endswith(".xlsx"):
        raise _invalid_file(
            _("Please upload an Excel workbook saved as .xlsx. Other files (.xls, .csv, .et) cannot be read.")
        )
    if uploaded_file.size > MAX_UPLOAD_BYTES:
        raise _invalid_file(
            _("The file is %(size)s MB; the limit is %(limit)s MB. Please split it into several workbooks.")
            % {"size": f"{uploaded_file.size / 1024 / 1024:.1f}", "limit": MAX_UPLOAD_BYTES // 1024 // 1024}
        )
    uploaded_file.seek(0)
    magic = uploaded_file.read(4)
    uploaded_file.seek(0)
    if magic != _XLSX_MAGIC:
        raise _invalid_file(_("This file is not an .xlsx workbook. Please open it in Excel and save it as .xlsx."))
    job = ImportJob(created_by=actor, original_name=name[:200])
    job.file.save(f"{uuid.uuid4().hex}.xlsx", File(uploaded_file), save=False)
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from ..tasks import import_run

    import_run.delay(job_id)


def import_job_run(*, job_id: int, last_attempt: bool = False) -> ImportJob | None:
    """Run one job (the Celery task's body). A finished job is left alone (a task can arrive twice).

    A transient database error puts the job back to pending for the task's retry and is raised;
    on the ``last_attempt`` (the task has no retries left) the job fails instead, with a message
    asking to import again later, so it does not stay pending for ever.
    """
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
        return job
    job.status = ImportJob.Status.APPLYING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    progress = ImportProgress(job.pk)
    progress.phase("reading", total=0)
    try:
        with translation.override(settings.LANGUAGE_CODE), job.file.open("rb") as source:
            outcome = workbook_import(actor=job.created_by, source=source, progress=progress, job=job)
    except OperationalError:
        if last_attempt:
            logger.exception("Import job %s failed: the database stayed unavailable through every retry", job.pk)
            import_job_give_up(job=job)
            raise
        # Transient (database restarted, lock timeout): put it back for the task's retry.
        job.status = ImportJob.Status.PENDING
        job.save(update_fields=["status"])
        raise
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        try:
            _finish(job, ImportJob.Status.FAILED, errors=[ImportProblem(code="unexpected").as_dict()])
        except DatabaseError:
            logger.exception("Could not record the failure of import job %s", job.pk)
        raise
    if not outcome.ok:
        _finish(job, ImportJob.Status.FAILED, total_rows=outcome.total_rows, errors=outcome.error_dicts())
    return job


def import_job_give_up(*, job: ImportJob) -> ImportJob:
    """Fail a job whose retries after transient database errors are used up (nothing was written)."""
    if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
        return job
    try:
        _finish(job, ImportJob.Status.FAILED, errors=[ImportProblem(code="database_unavailable").as_dict()])
    except DatabaseError:
        logger.exception("Could not record the failure of import job %s", job.pk)
    return job


def import_job_list(*, user, limit: int = 20):
    """The user's recent import jobs, newest first."""
    return scope(ImportJob.objects.filter(created_by_id=user.pk), user, Action.IMPORT).order_by("-created_at", "-id")[
        :limit
    ]


def import_error_rows(job: ImportJob) -> list[dict]:
    """The job's errors with each message rendered in the reader's language."""
    return [
        {
            **error,
            "message": render_message(error.get("code", ""), error.get("params"), error.get("message", "")),
        }
        for error in job.errors
    ]
