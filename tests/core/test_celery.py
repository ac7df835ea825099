"""Celery: the schedule runs in Beijing time, the heartbeat is idempotent, and a real
worker runs it through the broker."""

import os
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.schedules import crontab
from django.utils import timezone

from core.models import Heartbeat
from core.services import heartbeat_record
from core.tasks import heartbeat
from zhubao.celery import app

# Our own queue, so neither a dev worker nor a parallel test run on the same Redis takes
# the test's message.
TEST_QUEUE = f"zhubao-test-worker-{os.getpid()}"


def test_the_beat_schedule_runs_in_beijing_time():
    assert app.conf.timezone == "Asia/Shanghai"
    entry = app.conf.beat_schedule["heartbeat-every-minute"]
    assert entry["task"] == "core.tasks.heartbeat"
    assert entry["schedule"] == crontab(minute="*")


def test_the_heartbeat_task_is_registered_with_the_app():
    assert "core.tasks.heartbeat" in app.tasks


@pytest.mark.django_db
def test_two_heartbeats_in_the_same_minute_write_one_row():
    now = timezone.now().replace(second=5)
    assert heartbeat_record(now=now) is True
    assert heartbeat_record(now=now + timedelta(seconds=30)) is False
    assert Heartbeat.objects.count() == 1
    assert heartbeat_record(now=now + timedelta(minutes=1)) is True
    assert Heartbeat.objects.count() == 2


@pytest.mark.django_db
def test_heartbeats_older_than_a_week_are_removed():
    now = timezone.now()
    heartbeat_record(now=now - timedelta(days=8))
    heartbeat_record(now=now)
    assert Heartbeat.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: no broker for a real worker")
def test_a_real_worker_runs_the_heartbeat_through_the_broker():
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[TEST_QUEUE], shutdown_timeout=20):
        heartbeat.apply_async(queue=TEST_QUEUE)
        deadline = time.monotonic() + 30
        while not Heartbeat.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert Heartbeat.objects.count() == 1
