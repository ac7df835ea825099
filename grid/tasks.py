"""Celery tasks of the grid app: thin, they take ids and call a service."""

from celery import shared_task
from django.db import OperationalError

from .importing import import_job_run


@shared_task(
    name="grid.tasks.import_run",
    ignore_result=True,
    # Only transient database trouble is retried; a workbook with errors is a finished (failed) job.
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    max_retries=3,
)
def import_run(job_id: int) -> None:
    """Import the workbook of one ImportJob (enqueued on commit by ``import_job_create``)."""
    import_job_run(job_id=job_id)
