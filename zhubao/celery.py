"""The Celery app. Every periodic schedule lives here, each with when and why.

django-celery-beat's DatabaseScheduler copies this schedule into its tables at
start-up, so operators can pause or retune a task in the admin.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhubao.settings.dev")

app = Celery("zhubao")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Every minute: proves beat and a worker are alive (/healthz reports the age of
    # the last beat). Idempotent: one row per minute, unique in the database.
    "heartbeat-every-minute": {
        "task": "core.tasks.heartbeat",
        "schedule": crontab(minute="*"),
    },
    # Every 10 minutes: deletes export files past their 24 hours, fails export jobs a dead
    # worker left running or nobody picked up (core.exports.export_jobs_sweep). Idempotent:
    # conditional updates and deletes. Expires before the next run (no pile after a stopped worker).
    "export-sweep-every-10-minutes": {
        "task": "core.tasks.export_sweep",
        "schedule": crontab(minute="*/10"),
        "options": {"expire_seconds": 10 * 60},
    },
    # Every 5 minutes: fails the import jobs a dead worker left checking or applying (and puts an
    # interrupted undo back) once they are past the import's hard time limit plus a margin
    # (grid/importing/reaping.py). Idempotent: a reaped job is no longer active. Expires when no
    # worker takes it before the next run, so a stopped worker does not come back to a pile of them.
    "import-reap-every-5-minutes": {
        "task": "grid.tasks.import_reap",
        "schedule": crontab(minute="*/5"),
        "options": {"expire_seconds": 5 * 60},  # django-celery-beat's name for the message's expiry
    },
    # Every 5 minutes, the same for pairing-ledger imports (liaison.ledger.jobs.ledger_imports_reap): fails a
    # job left checking or writing past its hard time limit plus a margin. Idempotent; expires before the next run.
    "ledger-import-reap-every-5-minutes": {
        "task": "liaison.tasks.ledger_import_reap",
        "schedule": crontab(minute="*/5"),
        "options": {"expire_seconds": 5 * 60},
    },
}
