"""Celery tasks of the liaison app: thin, they take ids and call the ledger import's bodies (liaison.ledger.jobs).

The check and the write of a pairing-ledger import are separate tasks, each with a time limit; a task
delivered again after its worker died fails the job (it is not run again), and beat's reaper fails a job
whose worker was killed without the task coming back.
"""

from celery import shared_task

from core.tasks import run_with_retries

from .ledger import jobs

_LIMITS = {"soft_time_limit": jobs.SOFT_TIME_LIMIT, "time_limit": jobs.TIME_LIMIT}


@shared_task(bind=True, name="liaison.tasks.ledger_import_check", ignore_result=True, max_retries=3, **_LIMITS)
def ledger_import_check(self, job_id: int) -> None:
    """Check an uploaded pairing ledger (the dry run), enqueued on commit by ``ledger_import_create``."""
    run_with_retries(self, jobs.ledger_import_check, job_id)


@shared_task(bind=True, name="liaison.tasks.ledger_import_apply", ignore_result=True, max_retries=3, **_LIMITS)
def ledger_import_apply(self, job_id: int) -> None:
    """Write a checked pairing ledger its uploader confirmed (``ledger_import_confirm``)."""
    run_with_retries(self, jobs.ledger_import_apply, job_id)


@shared_task(name="liaison.tasks.ledger_import_reap", ignore_result=True)
def ledger_import_reap() -> int:
    """Periodic (zhubao/celery.py): fail ledger imports a dead worker left active. Idempotent."""
    return jobs.ledger_imports_reap()
