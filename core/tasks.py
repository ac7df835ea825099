from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import OperationalError

from .exports import SOFT_TIME_LIMIT, TIME_LIMIT, export_job_run, export_jobs_sweep
from .services import heartbeat_record

RETRY_BACKOFF_SECONDS = 5
RETRY_BACKOFF_MAX_SECONDS = 600


def run_with_retries(task, body, job_id: int) -> None:
    """Run a job's task body; only transient database trouble (OperationalError) is retried, with
    exponential backoff. ``body(job_id=, last_attempt=)`` ends the job itself on the last attempt,
    so it does not stay waiting (every app's job tasks use this: exports here, imports in grid)."""
    last_attempt = task.request.retries >= task.max_retries
    try:
        body(job_id=job_id, last_attempt=last_attempt)
    except OperationalError as error:
        if last_attempt:
            raise
        countdown = get_exponential_backoff_interval(
            factor=RETRY_BACKOFF_SECONDS,
            retries=task.request.retries,
            maximum=RETRY_BACKOFF_MAX_SECONDS,
            full_jitter=True,
        )
        raise task.retry(exc=error, countdown=countdown) from error


@shared_task(name="core.tasks.heartbeat", ignore_result=True)
def heartbeat():
    """Periodic no-op that proves beat and a worker run (see zhubao/celery.py)."""
    heartbeat_record()


@shared_task(
    bind=True,
    name="core.tasks.export_run",
    ignore_result=True,
    max_retries=3,
    soft_time_limit=SOFT_TIME_LIMIT,  # the job fails with "took longer than 30 minutes"
    time_limit=TIME_LIMIT,  # the worker's child is killed; the sweep fails the job it left running
)
def export_run(self, job_id: int) -> None:
    """Write the file of one ExportJob (enqueued on commit by ``core.exports.export_job_create``)."""
    run_with_retries(self, export_job_run, job_id)


@shared_task(name="core.tasks.export_sweep", ignore_result=True)
def export_sweep():
    """Periodic (zhubao/celery.py): fail lost export jobs, delete expired files. Idempotent."""
    export_jobs_sweep()
