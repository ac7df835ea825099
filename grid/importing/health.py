"""The import queue's state for /healthz (see core.health).

"running" counts the jobs a worker checks, applies or undoes; "stuck" those past the import
task's hard time limit (``reaping.IMPORT_TIME_LIMIT``: their worker died and beat's reaper will
fail them) and the jobs waiting for a worker that nothing takes. One aggregate query over
``grid_importjob_status_idx`` (status, started_at).
"""

from datetime import timedelta

from core.health import job_queue_state, register_queue_check

from ..models import ImportJob
from .reaping import IMPORT_TIME_LIMIT

QUEUE_NAME = "imports"


def import_queue_state() -> dict:
    return job_queue_state(
        ImportJob.objects.all(),
        running_statuses=ImportJob.ACTIVE_STATUSES,
        waiting_statuses=ImportJob.QUEUED_STATUSES,
        time_limit=timedelta(seconds=IMPORT_TIME_LIMIT),
    )


def register() -> None:
    """Register the import queue's check with core.health."""
    register_queue_check(QUEUE_NAME, import_queue_state)
