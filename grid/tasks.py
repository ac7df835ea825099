"""Celery tasks of the grid app: thin, they take ids and call a service."""

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import OperationalError

from .importing import import_job_run

RETRY_BACKOFF_SECONDS = 5
RETRY_BACKOFF_MAX_SECONDS = 600


@shared_task(bind=True, name="grid.tasks.import_run", ignore_result=True, max_retries=3)
def import_run(self, job_id: int) -> None:
    """Import the workbook of one ImportJob (enqueued on commit by ``import_job_create``).

    Only transient database trouble (OperationalError) is retried, with exponential backoff; a
    workbook with errors is a finished (failed) job. When the last retry fails too, the service
    marks the job failed rather than leaving it pending.
    """
    last_attempt = self.request.retries >= self.max_retries
    try:
        import_job_run(job_id=job_id, last_attempt=last_attempt)
    except OperationalError as error:
        if last_attempt:
            raise
        countdown = get_exponential_backoff_interval(
            factor=RETRY_BACKOFF_SECONDS,
            retries=self.request.retries,
            maximum=RETRY_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
        raise self.retry(exc=error, countdown=countdown) from error
