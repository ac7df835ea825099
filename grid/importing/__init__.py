"""Import the org tree, households, grids and grid posts from an Excel workbook.

An import never writes what its uploader has not seen. A job goes through two runs of the
same three phases, each reporting progress to the Django cache (the worker's transaction is
invisible to the web process until it commits):

1. reading    (``reader.read_workbook``)          cells → rows, header problems, what is not read
2. validating (``validation.validate_workbook``)  rows → a plan, every problem with sheet/row/column
3. writing    (``apply.apply_plan``)              the plan → the database, recording a change list

The **check** (``import_job_check``, after the upload) runs all three and rolls the
transaction back: the preview it keeps is what the write did, by the same code. The
**write** (``import_job_apply``, after the uploader confirms) runs them again and commits only
if the change list has the same fingerprint as the preview (else the job is checked again and
says so). The change list is kept (``ImportChange``), so the uploader can **undo** the import
for ``UNDO_WINDOW`` (``import_job_undo_request`` / ``import_job_undo``, in undo.py), unless a
row it wrote was changed since.

Who may confirm and undo is grid.access's rule (``import_job_refusal``). ``workbook_import``
(one step, no preview) is kept for the benchmark and the tests of the phases.
"""

import logging
import os
import time
import uuid
from dataclasses import dataclass, field

from celery.exceptions import SoftTimeLimitExceeded
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
from core.text import UNSAFE_CHARACTERS

from ..access import import_job_refusal
from ..models import ImportJob, OrgNode
from ..services import org_tree_lock
from .apply import apply_plan
from .changes import ChangeLog
from .layout import EXAMPLE_COMMUNITY
from .preview import build_preview, refused_preview
from .problems import ImportProblem, ProblemList, TooManyProblems, render_message
from .reader import ParsedWorkbook, read_workbook
from .validation import SHEET_ORDER, ImportPlan, community_names, validate_workbook

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
PROGRESS_TIMEOUT = 24 * 60 * 60
_XLSX_MAGIC = b"PK\x03\x04"

__all__ = [
    "MAX_UPLOAD_BYTES",
    "checked_upload_name",
    "ImportOutcome",
    "ImportProgress",
    "import_error_rows",
    "import_job_apply",
    "import_job_check",
    "import_job_confirm",
    "import_job_create",
    "import_job_list",
    "import_job_refusal",
    "import_progress",
    "progress_key",
    "workbook_check",
    "workbook_import",
    "workbook_validate",
]


# --- progress ---------------------------------------------------------------------------------


def progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


class ImportProgress:
    """Phase, rows processed and total, in the cache; written at most every ``interval`` seconds."""

    def __init__(self, job_id: int, interval: float = 0.5, *, dry_run: bool = False):
        self.key = progress_key(job_id)
        self.dry_run = dry_run  # the check's write is a trial: its phase is called "trying"
        self.interval = interval
        self.name = ""
        self.total = 0
        self.processed = 0
        self._written_at = 0.0

    def phase(self, name: str, *, total: int) -> None:
        if self.dry_run and name == "writing":
            name = "trying"
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
        try:
            cache.set(
                self.key,
                {"phase": self.name, "processed": processed, "total": self.total},
                timeout=PROGRESS_TIMEOUT,
            )
        except Exception:  # progress is a courtesy: a cache that is down must not fail the import
            logger.warning("Could not write the progress of import job %s", self.key, exc_info=True)


def import_progress(job: ImportJob) -> dict | None:
    """The last progress the worker reported for ``job`` (None before it started, or when the
    cache cannot be read: the page then shows the phase without numbers)."""
    try:
        return cache.get(progress_key(job.pk))
    except Exception:
        logger.warning("Could not read the progress of import job %s", job.pk, exc_info=True)
        return None


# --- the three phases -------------------------------------------------------------------------


@dataclass
class ImportOutcome:
    ok: bool
    total_rows: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    preview: dict = field(default_factory=dict)
    changed: bool = False  # the write found other changes than its check showed (nothing written)

    def error_dicts(self) -> list[dict]:
        ordered = sorted(
            self.problems,
            key=lambda problem: (SHEET_ORDER.get(problem.sheet, -1), problem.row or 0),
        )
        return [problem.as_dict() for problem in ordered]


class _Invalid(Exception):
    """Leaves the transaction (rolling it back) when validation found problems."""


class _RollBack(Exception):
    """Leaves the transaction of a dry run, or of a write whose changes differ from its check."""


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
            _no_rows(parsed, problems)
        if not problems:
            plan = validate_workbook(parsed, actor=actor, problems=problems, progress=progress)
    except TooManyProblems:
        pass
    return parsed, plan, problems


def _no_rows(parsed: ParsedWorkbook, problems: ProblemList) -> None:
    """No data row: say so, and say why when the only rows were the template's examples."""
    skipped = [row for sheet in parsed.sheets.values() for row in getattr(sheet, "skipped_rows", [])]
    if skipped and all(row.get("reason") == "example" for row in skipped):
        problems.add("only_examples", community=EXAMPLE_COMMUNITY)
    else:
        problems.add("no_rows")


def _run(*, actor, source, progress, dry_run: bool, expected: str | None = None, job=None) -> ImportOutcome:
    """Read, check and write in one transaction; roll it back for a dry run, or when the change
    list is not the ``expected`` one (the fingerprint of the preview the user confirmed)."""
    problems = ProblemList()
    parsed = ParsedWorkbook()
    log = ChangeLog()
    result: ImportOutcome | None = None
    try:
        parsed = read_workbook(source, problems, progress)
        if not problems and parsed.total_rows == 0:
            _no_rows(parsed, problems)
        if problems:
            raise _Invalid
        with transaction.atomic():
            if job is not None:  # held until the end: the reaper skips a job a live worker holds
                list(ImportJob.objects.select_for_update().filter(pk=job.pk).values_list("pk"))
            _lock_trees(parsed)
            plan = validate_workbook(parsed, actor=actor, problems=problems, progress=progress)
            if problems:
                raise _Invalid
            sheets = [name for name in SHEET_ORDER if name in parsed.sheets]
            summary = apply_plan(plan, actor=actor, sheets=sheets, progress=progress, log=log)
            summary["rows"] = parsed.total_rows
            preview = build_preview(parsed=parsed, plan=plan, log=log, summary=summary)
            if dry_run:
                result = ImportOutcome(ok=True, total_rows=parsed.total_rows, summary=summary, preview=preview)
                raise _RollBack
            if expected is not None and preview["fingerprint"] != expected:
                result = ImportOutcome(ok=False, total_rows=parsed.total_rows, preview=preview, changed=True)
                raise _RollBack
            summary["complete"] = preview["complete"]
            if job is not None:
                summary["changes"] = log.save(job)
            audit_record(
                user=actor,
                action=AuditEvent.Action.IMPORTED,
                obj=job,
                detail={"file": job.original_name if job else "", **summary},
            )
            if job is not None:
                _finish(job, ImportJob.Status.SUCCEEDED, total_rows=parsed.total_rows, summary=summary, applied=True)
    except _RollBack:
        return result
    except (_Invalid, TooManyProblems):
        return ImportOutcome(
            ok=False,
            total_rows=parsed.total_rows,
            problems=problems,
            preview=refused_preview(parsed=parsed, problems=problems),
        )
    except IntegrityError as error:
        # Someone changed the same data between the check and the write; all was rolled back.
        logger.warning("Import conflicted with a concurrent change: %s", error, exc_info=True)
        return ImportOutcome(ok=False, total_rows=parsed.total_rows, problems=[ImportProblem(code="conflict")])
    except ZhubaoError as error:
        # A service refused a write the rows ask for (e.g. revoking a former holder's grant that is not
        # the user's to revoke): its own message says why; all was rolled back.
        logger.info("An import write was refused: %s", error)
        problem = ImportProblem(code="refused", params={"reason": error.message})
        return ImportOutcome(ok=False, total_rows=parsed.total_rows, problems=[problem])
    return ImportOutcome(ok=True, total_rows=parsed.total_rows, summary=summary, preview=preview)


def workbook_check(*, actor, source, progress=None, job: ImportJob | None = None) -> ImportOutcome:
    """The dry run: what importing ``source`` would do, by doing it and rolling it back."""
    return _run(actor=actor, source=source, progress=progress, dry_run=True, job=job)


def workbook_import(*, actor, source, progress=None, job: ImportJob | None = None, expected: str | None = None):
    """Read, check and, only if every row is valid, write a workbook in one transaction.

    ``source`` is a path or a binary file. With ``job``, its final state and its change list are
    saved in the same transaction as the data, and the audit event points at it. With
    ``expected`` (a preview's fingerprint) nothing is written unless the changes are those.
    """
    return _run(actor=actor, source=source, progress=progress, dry_run=False, expected=expected, job=job)


# --- jobs -------------------------------------------------------------------------------------


def _finish(
    job: ImportJob, status: str, *, total_rows=None, errors=None, summary=None, preview=None, applied=False
) -> None:
    now = timezone.now()
    job.status = status
    fields = ["status", "errors", "finished_at"]
    job.errors = errors or []
    job.finished_at = now
    if total_rows is not None:
        job.total_rows = total_rows
        fields.append("total_rows")
    if summary is not None:
        job.summary = summary
        fields.append("summary")
    if preview is not None:
        job.preview = preview
        fields.append("preview")
    if status == ImportJob.Status.READY:
        job.checked_at = now
        fields.append("checked_at")
    if applied:
        job.applied_at = now
        fields.append("applied_at")
    job.save(update_fields=fields)


def _invalid_file(message: str) -> ZhubaoError:
    return ZhubaoError(ErrorCode.INVALID, message, {"file": [message]})


def checked_upload_name(uploaded_file) -> str:
    """The name to show of an uploaded workbook, once it is known to be an .xlsx under the size limit (else a
    ZhubaoError on ``file``). Every workbook import (households here, the pairing ledger) checks it so.

    The name is shown on pages: control characters and bidi overrides (which could make "xlsx.exe" read
    as "exe.xlsx") go, and a leading formula sign (the name is exported beside the job's rows).
    """
    name = UNSAFE_CHARACTERS.sub("", os.path.basename(uploaded_file.name or "")).lstrip("=+-@ \t")
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
    return name[:200]


@transaction.atomic
def import_job_create(*, actor, uploaded_file) -> ImportJob:
    """Keep an uploaded workbook as a job and enqueue its check once this transaction commits."""
    if not has_action(actor, Action.IMPORT):
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, _("You may not import data."), status_code=403)
    name = checked_upload_name(uploaded_file)
    job = ImportJob(created_by=actor, original_name=name)
    job.file.save(f"{uuid.uuid4().hex}.xlsx", File(uploaded_file), save=False)
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: _enqueue("import_check", job.pk, on_failure=ImportJob.Status.FAILED))
    return job


def _enqueue(task_name: str, job_id: int, *, on_failure: str) -> bool:
    """Send a job's task to the broker. When the broker does not answer, the job is not left
    waiting for ever: it goes to ``on_failure`` with the message ``queue_unavailable``."""
    from .. import tasks

    try:
        getattr(tasks, task_name).delay(job_id)
    except Exception:
        logger.exception("Could not enqueue %s for import job %s", task_name, job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=on_failure,
            errors=[ImportProblem(code="queue_unavailable").as_dict()],
            finished_at=timezone.now(),
        )
        return False
    return True


def _start(job_id: int, waiting: str, active: str) -> ImportJob | None:
    """Move a job from ``waiting`` to ``active`` (a task can arrive twice: only one starts it).

    A job found already ``active`` had its worker die under it (acks_late delivered the task
    again): it is failed as lost (grid.importing.reaping), not run again, so a workbook that
    kills its worker cannot go through every worker in turn. Nothing of that run was committed.
    """
    now = timezone.now()
    if ImportJob.objects.filter(pk=job_id, status=waiting).update(status=active, started_at=now):
        return ImportJob.objects.select_related("created_by").get(pk=job_id)
    if ImportJob.objects.filter(pk=job_id, status=active).exists():
        from .reaping import import_job_fail_lost

        import_job_fail_lost(job_id=job_id)
    return None


def _run_job(job_id: int, *, waiting: str, active: str, body, last_attempt: bool, on_error: str, prefix: str = ""):
    """Run ``body(job)`` for a job that waits in ``waiting``; transient database errors put it back
    for the task's retry (or give up on the last attempt); anything else ends it in ``on_error``.
    ``prefix`` names the step in the failure's code ("undo_": what stopped was the undo, not the import)."""
    job = _start(job_id, waiting, active)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            body(job)
    except OperationalError:
        if last_attempt:
            logger.exception("Import job %s failed: the database stayed unavailable through every retry", job.pk)
            _finish_safely(job, on_error, f"{prefix}database_unavailable")
            raise
        ImportJob.objects.filter(pk=job.pk).update(status=waiting)
        raise
    except SoftTimeLimitExceeded:
        logger.exception("Import job %s took too long", job.pk)
        _finish_safely(job, on_error, f"{prefix}too_slow")
        raise
    except Exception:
        logger.exception("Import job %s failed", job.pk)
        _finish_safely(job, on_error, f"{prefix}unexpected")
        raise
    return job


def _finish_safely(job: ImportJob, status: str, code: str) -> None:
    try:
        _finish(job, status, errors=[ImportProblem(code=code).as_dict()])
    except DatabaseError:
        logger.exception("Could not record the failure of import job %s", job.pk)


def _check_body(job: ImportJob) -> None:
    progress = ImportProgress(job.pk, dry_run=True)
    progress.phase("reading", total=0)
    with job.file.open("rb") as source:
        outcome = workbook_check(actor=job.created_by, source=source, progress=progress, job=job)
    if outcome.ok:
        _finish(job, ImportJob.Status.READY, total_rows=outcome.total_rows, preview=outcome.preview)
    else:
        _finish(
            job,
            ImportJob.Status.FAILED,
            total_rows=outcome.total_rows,
            errors=outcome.error_dicts(),
            preview=outcome.preview,
        )


def import_job_check(*, job_id: int, last_attempt: bool = False) -> ImportJob | None:
    """The check (the Celery task's body): the dry run, kept as the job's preview."""
    return _run_job(
        job_id,
        waiting=ImportJob.Status.PENDING,
        active=ImportJob.Status.CHECKING,
        body=_check_body,
        last_attempt=last_attempt,
        on_error=ImportJob.Status.FAILED,
    )


def _apply_body(job: ImportJob) -> None:
    progress = ImportProgress(job.pk)
    progress.phase("reading", total=0)
    with job.file.open("rb") as source:
        outcome = workbook_import(
            actor=job.created_by, source=source, progress=progress, job=job, expected=job.preview.get("fingerprint")
        )
    if outcome.ok:
        return
    if outcome.changed:
        # Someone changed the data since the check: show the new preview and ask again.
        _finish(job, ImportJob.Status.READY, preview={**outcome.preview, "changed_since_check": True})
    else:
        _finish(
            job,
            ImportJob.Status.FAILED,
            total_rows=outcome.total_rows,
            errors=outcome.error_dicts(),
            preview=outcome.preview or job.preview,
        )


def import_job_apply(*, job_id: int, last_attempt: bool = False) -> ImportJob | None:
    """The write (the Celery task's body) of a job its uploader confirmed."""
    return _run_job(
        job_id,
        waiting=ImportJob.Status.CONFIRMED,
        active=ImportJob.Status.APPLYING,
        body=_apply_body,
        last_attempt=last_attempt,
        on_error=ImportJob.Status.FAILED,
    )


def _queue_step(job: ImportJob, *, waiting: str, queued: str, task_name: str, already: str) -> ImportJob:
    """Move ``job`` from ``waiting`` to ``queued`` (once: a second click is refused with ``already``)
    and enqueue its task on commit; a broker that does not take it puts the job back to ``waiting``."""
    with transaction.atomic():
        if not ImportJob.objects.filter(pk=job.pk, status=waiting).update(
            status=queued,
            errors=[],
            started_at=timezone.now(),  # queued since (healthz, the reaper)
        ):
            raise ZhubaoError(ErrorCode.IMPORT_REFUSED, already, status_code=409)
        transaction.on_commit(lambda: _enqueue(task_name, job.pk, on_failure=waiting))
    job.refresh_from_db()
    return job


def _refuse_unless_allowed(actor, job: ImportJob, what: str) -> None:
    refusal = import_job_refusal(actor, job, what)
    if refusal is not None:
        raise ZhubaoError(ErrorCode.IMPORT_REFUSED, refusal, status_code=409)


def import_job_confirm(*, actor, job: ImportJob) -> ImportJob:
    """The uploader confirms what the check showed: the write is enqueued."""
    _refuse_unless_allowed(actor, job, "confirm")
    return _queue_step(
        job,
        waiting=ImportJob.Status.READY,
        queued=ImportJob.Status.CONFIRMED,
        task_name="import_apply",
        already=_("This import was already confirmed."),
    )


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
