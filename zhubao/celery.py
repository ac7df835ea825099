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
}
