"""The import of a pairing ledger as a job: upload → check (the dry run) → the uploader confirms → write.

1. ``ledger_import_create`` keeps the upload (refused unless the uploader keeps the team: MANAGE_PAIRING) and
   enqueues the check on commit; a broker that does not take it fails the job with ``queue_unavailable``.
2. ``ledger_import_check`` (the task's body) reads the workbook with grid's streaming reader (its caps, its
   notes of what was not read), checks every row and keeps the plan as the preview. Nothing is written.
3. ``ledger_import_confirm``: only the uploader (``liaison.access.ledger_import_refusal``), once.
4. ``ledger_import_apply`` (the task's body) reads and checks again inside one transaction holding the team's
   lock, and writes only if the plan's fingerprint is the preview's, through ``liaison.services``
   (``pairing_create`` / ``pairing_end``: their rules and audit). A plan that changed meanwhile rolls back
   and the job is ready again with the new preview; a refused write rolls back and fails the job with the
   service's reason.

Progress (phase, rows, total) goes to the cache, as the grid import's does, for the page's htmx poll.
"""

import logging
import uuid

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import File
from django.db import DatabaseError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.access import scope
from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from core.services import audit_record
from grid.importing import ImportProgress, checked_upload_name
from grid.importing.notes import workbook_notes
from grid.importing.problems import ImportProblem, ProblemList, TooManyProblems
from grid.importing.reader import ParsedWorkbook, read_workbook
from grid.models import Household, OrgNode

from ..access import MANAGE_PAIRING, ledger_import_refusal, team_refusal
from ..models import Pairing, PairingTier, WorkTeam
from ..services import pairing_create, pairing_end
from ..services.teams import lock_team
from .layout import EXAMPLE_GROUP, SHEETS
from .models import LedgerImportJob
from .problems import problem_dict
from .validation import LedgerPlan, validate_ledger

logger = logging.getLogger(__name__)

# Seconds: a ledger of a few thousand rows is checked in a second or two.
SOFT_TIME_LIMIT = 10 * 60
TIME_LIMIT = 11 * 60
# A job still active this long after its hard limit has lost its worker (more than beat's five minutes).
REAP_MARGIN = timezone.timedelta(minutes=5)
# Sheets, columns and rows not read that the preview lists.
NOTES_CAP = 200
# Stopped for a reason outside the workbook: the page says so instead of asking to correct the file.
JOB_FAILURES = {"worker_lost", "queue_unavailable", "too_slow", "unexpected", "database_unavailable", "refused"}

Status = LedgerImportJob.Status


class LedgerProgress(ImportProgress):
    """grid's import progress under the ledger job's own key (the two kinds of job have their own ids)."""

    def __init__(self, job_id: int, **kwargs):
        super().__init__(job_id, **kwargs)
        self.key = progress_key(job_id)


def progress_key(job_id: int) -> str:
    return f"ledger-import-progress:{job_id}"


def ledger_import_progress(job: LedgerImportJob) -> dict | None:
    from django.core.cache import cache

    try:
        return cache.get(progress_key(job.pk))
    except Exception:  # a cache that is down: the page shows the phase without numbers
        logger.warning("Could not read the progress of ledger import %s", job.pk, exc_info=True)
        return None


# --- reading and checking -------------------------------------------------------------------------


def _read(source, problems: ProblemList, progress) -> ParsedWorkbook:
    parsed = read_workbook(source, problems, progress, sheets=SHEETS, example=("work_group", EXAMPLE_GROUP))
    if not problems and parsed.total_rows == 0:
        skipped = [row for sheet in parsed.sheets.values() for row in sheet.skipped_rows]
        if skipped and all(row.get("reason") == "example" for row in skipped):
            problems.add("only_ledger_examples", group=EXAMPLE_GROUP)
        else:
            problems.add("no_rows")
    return parsed


def ledger_check(*, actor, team: WorkTeam, source, progress=None) -> tuple[ParsedWorkbook, LedgerPlan | None, list]:
    """Read and check a ledger without writing anything: (what was read, the plan or None, the problems)."""
    problems = ProblemList()
    parsed = ParsedWorkbook()
    plan = None
    try:
        parsed = _read(source, problems, progress)
        if not problems:
            plan = validate_ledger(parsed, team=team, actor=actor, problems=problems, progress=progress)
    except TooManyProblems:
        pass
    ordered = sorted(problems, key=lambda problem: problem.row or 0)  # by row; within a row, as found
    return parsed, (plan if not problems else None), ordered


def _preview(parsed: ParsedWorkbook, plan: LedgerPlan | None) -> dict:
    preview = plan.preview() if plan is not None else {}
    preview["rows"] = parsed.total_rows
    notes = workbook_notes(parsed)
    preview["not_read"] = notes[:NOTES_CAP]  # a hostile sheet may skip thousands of rows
    preview["not_read_total"] = len(notes)
    return preview


# --- jobs -----------------------------------------------------------------------------------------


@transaction.atomic
def ledger_import_create(*, actor, team: WorkTeam, uploaded_file) -> LedgerImportJob:
    """Keep an uploaded ledger of ``team`` as a job and enqueue its check once this transaction commits."""
    refusal = team_refusal(actor, team)
    if refusal:
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, refusal, status_code=403)
    name = checked_upload_name(uploaded_file)
    job = LedgerImportJob(team=team, created_by=actor, original_name=name)
    job.file.save(f"{uuid.uuid4().hex}.xlsx", File(uploaded_file), save=False)
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: _enqueue("ledger_import_check", job.pk, on_failure=Status.FAILED))
    return job


def _enqueue(task_name: str, job_id: int, *, on_failure: str) -> bool:
    from .. import tasks

    try:
        getattr(tasks, task_name).delay(job_id)
    except Exception:
        logger.exception("Could not enqueue %s for ledger import %s", task_name, job_id)
        LedgerImportJob.objects.filter(pk=job_id).update(
            status=on_failure,
            errors=[problem_dict(ImportProblem(code="queue_unavailable"))],
            finished_at=timezone.now(),
        )
        return False
    return True


def _finish(job: LedgerImportJob, status: str, *, errors=None, preview=None, summary=None, applied=False) -> None:
    now = timezone.now()
    job.status = status
    job.errors = errors or []
    job.finished_at = now
    fields = ["status", "errors", "finished_at"]
    if preview is not None:
        job.preview = preview
        job.total_rows = preview.get("rows", 0)
        fields += ["preview", "total_rows"]
    if summary is not None:
        job.summary = summary
        fields.append("summary")
    if status == Status.READY:
        job.checked_at = now
        fields.append("checked_at")
    if applied:
        job.applied_at = now
        fields.append("applied_at")
    job.save(update_fields=fields)


def _start(job_id: int, waiting: str, active: str) -> LedgerImportJob | None:
    """Move a job from ``waiting`` to ``active`` (a task may arrive twice: one starts it). A job found
    already active lost its worker (acks_late delivered the task again): it fails, and is not run again."""
    if LedgerImportJob.objects.filter(pk=job_id, status=waiting).update(status=active, started_at=timezone.now()):
        return LedgerImportJob.objects.select_related("created_by", "team__community").get(pk=job_id)
    LedgerImportJob.objects.filter(pk=job_id, status=active).update(
        status=Status.FAILED,
        errors=[problem_dict(ImportProblem(code="worker_lost"))],
        finished_at=timezone.now(),
    )
    return None


def _run_job(job_id: int, *, waiting: str, active: str, body, last_attempt: bool):
    job = _start(job_id, waiting, active)
    if job is None:
        return LedgerImportJob.objects.filter(pk=job_id).first()
    try:
        with translation.override(settings.LANGUAGE_CODE):
            body(job)
    except OperationalError:
        if last_attempt:
            logger.exception("Ledger import %s failed: the database stayed unavailable", job.pk)
            _finish_safely(job, "database_unavailable")
            raise
        LedgerImportJob.objects.filter(pk=job.pk).update(status=waiting)
        raise
    except SoftTimeLimitExceeded:
        logger.exception("Ledger import %s took too long", job.pk)
        _finish_safely(job, "too_slow")
        raise
    except Exception:
        logger.exception("Ledger import %s failed", job.pk)
        _finish_safely(job, "unexpected")
        raise
    job.refresh_from_db()
    return job


def _finish_safely(job: LedgerImportJob, code: str) -> None:
    try:
        _finish(job, Status.FAILED, errors=[problem_dict(ImportProblem(code=code))])
    except DatabaseError:
        logger.exception("Could not record the failure of ledger import %s", job.pk)


def _check_body(job: LedgerImportJob) -> None:
    progress = LedgerProgress(job.pk, dry_run=True)
    progress.phase("reading", total=0)
    with job.file.open("rb") as source:
        parsed, plan, problems = ledger_check(actor=job.created_by, team=job.team, source=source, progress=progress)
    if plan is not None:
        _finish(job, Status.READY, preview=_preview(parsed, plan))
    else:
        _finish(job, Status.FAILED, errors=[problem_dict(p) for p in problems], preview=_preview(parsed, None))


def ledger_import_check(*, job_id: int, last_attempt: bool = False) -> LedgerImportJob | None:
    """The check (the Celery task's body): the plan, kept as the job's preview; nothing written."""
    return _run_job(job_id, waiting=Status.PENDING, active=Status.CHECKING, body=_check_body, last_attempt=last_attempt)


def ledger_import_confirm(*, actor, job: LedgerImportJob) -> LedgerImportJob:
    """The uploader confirms the plan the check showed: the write is enqueued (a second click is refused)."""
    refusal = ledger_import_refusal(actor, job)
    if refusal:
        raise ZhubaoError(ErrorCode.IMPORT_REFUSED, refusal, status_code=409)
    with transaction.atomic():
        if not LedgerImportJob.objects.filter(pk=job.pk, status=Status.READY).update(
            status=Status.CONFIRMED, errors=[], started_at=timezone.now()
        ):
            raise ZhubaoError(ErrorCode.IMPORT_REFUSED, _("This import was already confirmed."), status_code=409)
        transaction.on_commit(lambda: _enqueue("ledger_import_apply", job.pk, on_failure=Status.READY))
    job.refresh_from_db()
    return job


class _Changed(Exception):
    """Leaves the write's transaction when the plan is not the one the uploader confirmed."""


def _write(job: LedgerImportJob, plan: LedgerPlan, progress) -> dict:
    actor, team = job.created_by, job.team
    progress.phase("writing", total=plan.changes)
    groups = {group.pk: group for group in team.groups.all()}
    people = User.objects.in_bulk({item.cadre_id for item in plan.to_create})
    nodes = OrgNode.objects.in_bulk({item.node_id for item in plan.to_create if item.node_id})
    households = Household.objects.in_bulk({item.household_id for item in plan.to_create if item.household_id})
    for item in plan.to_create:
        pairing_create(
            actor=actor,
            team=team,
            tier=PairingTier.CADRE,
            cadre=people[item.cadre_id],
            work_group=groups[item.work_group_id],
            node=nodes.get(item.node_id),
            household=households.get(item.household_id),
            starts_on=item.starts_on,
            ends_on=item.ends_on,
            _locked=True,
        )
        progress.advance()
    ending = Pairing.objects.select_related("team", "cadre", "work_group__leader").in_bulk(
        [item.pairing_id for item in plan.to_end]
    )
    for item in plan.to_end:
        pairing_end(actor=actor, pairing=ending[item.pairing_id], ends_on=item.ends_on)
        progress.advance()
    return {"created": len(plan.to_create), "ended": len(plan.to_end), "unchanged": len(plan.unchanged)}


def _apply_body(job: LedgerImportJob) -> None:
    progress = LedgerProgress(job.pk)
    progress.phase("reading", total=0)
    expected = job.preview.get("fingerprint")
    fresh = None
    try:
        with transaction.atomic():
            # Held until the end: the reaper skips a job a live worker holds.
            list(LedgerImportJob.objects.select_for_update().filter(pk=job.pk).values_list("pk"))
            job.team = lock_team(job.team)  # two writes of the team's pairings wait for each other
            with job.file.open("rb") as source:
                parsed, plan, problems = ledger_check(
                    actor=job.created_by, team=job.team, source=source, progress=progress
                )
            if plan is None or plan.fingerprint() != expected:
                fresh = (parsed, plan, problems)
                raise _Changed
            summary = _write(job, plan, progress)
            audit_record(
                user=job.created_by,
                action=AuditEvent.Action.IMPORTED,
                obj=job,
                detail={"kind": "pairing_ledger", "file": job.original_name, "team": job.team_id, **summary},
            )
            _finish(job, Status.SUCCEEDED, summary=summary, applied=True)
    except _Changed:
        parsed, plan, problems = fresh
        if plan is not None:
            _finish(job, Status.READY, preview={**_preview(parsed, plan), "changed_since_check": True})
        else:
            _finish(job, Status.FAILED, errors=[problem_dict(p) for p in problems], preview=_preview(parsed, None))
    except ZhubaoError as error:
        logger.info("A ledger import write was refused: %s", error)
        problem = ImportProblem(code="refused", params={"reason": error.message})
        _finish(job, Status.FAILED, errors=[problem_dict(problem)])


def ledger_import_apply(*, job_id: int, last_attempt: bool = False) -> LedgerImportJob | None:
    """The write (the Celery task's body) of a ledger import its uploader confirmed."""
    return _run_job(
        job_id, waiting=Status.CONFIRMED, active=Status.APPLYING, body=_apply_body, last_attempt=last_attempt
    )


def ledger_imports_reap(*, now=None) -> int:
    """Fail every job left checking or writing by a worker that died (killed at its hard time limit, or the
    machine stopped): active for longer than the hard limit and ``REAP_MARGIN``; how many. The write ran in
    one transaction, which the database rolled back, so nothing of it was written. A job whose row a live
    write holds is skipped. Idempotent (beat may run it twice): a reaped job is no longer active."""
    now = now or timezone.now()
    cutoff = now - timezone.timedelta(seconds=TIME_LIMIT) - REAP_MARGIN
    with transaction.atomic():
        lost = list(
            LedgerImportJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=LedgerImportJob.ACTIVE_STATUSES, started_at__lt=cutoff)
            .values_list("pk", flat=True)
        )
        if lost:
            LedgerImportJob.objects.filter(pk__in=lost).update(
                status=Status.FAILED, errors=[problem_dict(ImportProblem(code="worker_lost"))], finished_at=now
            )
    for pk in lost:
        logger.warning("Ledger import %s was left active by a worker that is gone: failed", pk)
    return len(lost)


def ledger_import_list(*, user, limit: int = 20):
    """The user's own recent ledger imports, newest first."""
    return (
        scope(LedgerImportJob.objects.filter(created_by_id=user.pk), user, MANAGE_PAIRING)
        .select_related("team")
        .order_by("-created_at", "-id")[:limit]
    )
