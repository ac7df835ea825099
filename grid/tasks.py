"""Celery tasks of the grid app: thin, they take ids and call a service.

An import's check, write and undo are separate tasks (grid.importing): each has a time limit,
so a hostile or huge workbook cannot hold a worker; a job whose worker died is failed by
``import_reap`` (grid.importing.reaping), which beat runs every few minutes.
"""

from celery import shared_task

from core.tasks import run_with_retries

from .importing import import_job_apply, import_job_check
from .importing.reaping import IMPORT_SOFT_TIME_LIMIT, IMPORT_TIME_LIMIT, import_jobs_reap
from .importing.undo import import_job_undo

_LIMITS = {"soft_time_limit": IMPORT_SOFT_TIME_LIMIT, "time_limit": IMPORT_TIME_LIMIT}


@shared_task(bind=True, name="grid.tasks.import_check", ignore_result=True, max_retries=3, **_LIMITS)
def import_check(self, job_id: int) -> None:
    """Check an uploaded workbook (the dry run), enqueued on commit by ``import_job_create``."""
    run_with_retries(self, import_job_check, job_id)


@shared_task(bind=True, name="grid.tasks.import_apply", ignore_result=True, max_retries=3, **_LIMITS)
def import_apply(self, job_id: int) -> None:
    """Write a checked workbook its uploader confirmed (``import_job_confirm``)."""
    run_with_retries(self, import_job_apply, job_id)


@shared_task(bind=True, name="grid.tasks.import_undo", ignore_result=True, max_retries=3, **_LIMITS)
def import_undo(self, job_id: int) -> None:
    """Undo an applied import (``import_job_undo_request``)."""
    run_with_retries(self, import_job_undo, job_id)


@shared_task(bind=True, name="grid.tasks.import_run", ignore_result=True, max_retries=3, **_LIMITS)
def import_run(self, job_id: int) -> None:
    """The one-step task of earlier versions, for messages still in a queue: now the check."""
    run_with_retries(self, import_job_check, job_id)


@shared_task(name="grid.tasks.import_reap", ignore_result=True)
def import_reap() -> int:
    """Periodic (zhubao/celery.py): fail import jobs a dead worker left active. Idempotent."""
    return import_jobs_reap()
