"""The pairing-ledger import queue's state for /healthz (see core.health): jobs a worker checks or writes,
those waiting for one, and "stuck" those past the task's hard time limit (a dead worker: beat's reaper
fails them) or waiting with nothing to take them. One aggregate over ``ledger_import_status_idx``."""

from datetime import timedelta

from core.health import job_queue_state, register_queue_check

from .jobs import TIME_LIMIT
from .models import LedgerImportJob

QUEUE_NAME = "pairing_ledger_imports"


def ledger_queue_state() -> dict:
    return job_queue_state(
        LedgerImportJob.objects.all(),
        running_statuses=LedgerImportJob.ACTIVE_STATUSES,
        waiting_statuses=LedgerImportJob.QUEUED_STATUSES,
        time_limit=timedelta(seconds=TIME_LIMIT),
    )


def register() -> None:
    register_queue_check(QUEUE_NAME, ledger_queue_state)
