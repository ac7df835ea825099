"""/healthz reports each background queue (waiting, running, stuck, the oldest wait): a stuck queue
makes it "degraded" but keeps the 200, and a check that fails cannot break the probe."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone

from core import health, views
from core.health import HEARTBEAT_STALE_AFTER, WAITING_LOST_AFTER, WAITING_STUCK_AFTER
from core.services import heartbeat_record
from grid.importing.health import import_queue_state
from grid.importing.reaping import IMPORT_TIME_LIMIT
from grid.models import ImportJob
from tests.factories import UserFactory

URL = "/healthz"
Status = ImportJob.Status
QUEUE_FIELDS = {"status", "waiting", "running", "stuck", "oldest_waiting_seconds"}


def make_job(*, status, started_ago=None, created_ago=timedelta(0), user=None):
    now = timezone.now()
    job = ImportJob.objects.create(
        created_by=user or UserFactory(),
        file="imports/test/queued.xlsx",
        original_name="台账.xlsx",
        status=status,
        started_at=now - started_ago if started_ago is not None else None,
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=now - created_ago)
    return job


def imports(client) -> tuple[int, str, dict]:
    response = client.get(URL)
    body = response.json()
    return response.status_code, body["status"], body["queues"]["imports"]


def test_an_idle_portal_reports_every_queue_empty_and_ok(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert "imports" in body["queues"]
    for state in body["queues"].values():
        assert set(state) >= QUEUE_FIELDS
        assert (state["status"], state["waiting"], state["running"], state["stuck"]) == ("ok", 0, 0, 0)
        assert state["oldest_waiting_seconds"] is None


def test_running_and_waiting_imports_are_counted_with_the_oldest_wait(client, db):
    heartbeat_record()
    make_job(status=Status.CHECKING, started_ago=timedelta(seconds=20))
    make_job(status=Status.APPLYING, started_ago=timedelta(seconds=5))
    make_job(status=Status.PENDING, created_ago=timedelta(seconds=90))
    make_job(status=Status.PENDING, created_ago=timedelta(seconds=10))
    make_job(status=Status.READY, started_ago=timedelta(hours=3))  # waits for a person, not a worker
    make_job(status=Status.SUCCEEDED, started_ago=timedelta(days=3))

    code, status, state = imports(client)

    assert (code, status) == (200, "ok")
    assert (state["waiting"], state["running"], state["stuck"], state["status"]) == (2, 2, 0, "ok")
    assert 90 <= state["oldest_waiting_seconds"] < 120


def test_an_import_running_past_its_hard_time_limit_is_stuck_and_the_portal_degraded_but_up(client, db):
    heartbeat_record()
    make_job(status=Status.APPLYING, started_ago=timedelta(seconds=IMPORT_TIME_LIMIT + 10))
    make_job(status=Status.CHECKING, started_ago=timedelta(seconds=IMPORT_TIME_LIMIT - 60))

    code, status, state = imports(client)

    # 200: a dead worker must not take the web servers out of the load balancer.
    assert (code, status) == (200, "degraded")
    assert (state["running"], state["stuck"], state["status"]) == (2, 1, "stuck")


def test_imports_waiting_while_no_heartbeat_comes_are_stuck(client, db):
    heartbeat_record(now=timezone.now() - HEARTBEAT_STALE_AFTER - timedelta(minutes=1))
    make_job(status=Status.PENDING, created_ago=WAITING_STUCK_AFTER + timedelta(minutes=1))
    make_job(status=Status.PENDING, created_ago=timedelta(minutes=1))  # not yet: the worker may be busy

    code, status, state = imports(client)

    assert (code, status) == (200, "degraded")
    assert (state["waiting"], state["stuck"], state["status"]) == (2, 1, "stuck")


def test_imports_waiting_a_while_with_a_fresh_heartbeat_are_not_stuck(client, db):
    heartbeat_record()
    make_job(status=Status.PENDING, created_ago=WAITING_STUCK_AFTER + timedelta(minutes=1))

    code, status, state = imports(client)

    assert (code, status, state["waiting"], state["stuck"]) == (200, "ok", 1, 0)


def test_an_import_waiting_for_hours_is_stuck_even_with_a_fresh_heartbeat(client, db):
    # The workers run (the heartbeat), but none takes it: its message was lost, or they cannot keep up.
    heartbeat_record()
    make_job(status=Status.PENDING, created_ago=WAITING_LOST_AFTER + timedelta(minutes=1))

    code, status, state = imports(client)

    assert (code, status, state["stuck"]) == (200, "degraded", 1)


@pytest.mark.parametrize("status", ImportJob.QUEUED_STATUSES)
def test_a_job_queued_again_counts_its_wait_from_when_it_was_queued(db, status):
    # Confirmed or undo requested hours after the upload: started_at is set when it is queued.
    make_job(status=status, started_ago=timedelta(seconds=30), created_ago=timedelta(hours=5))
    state = import_queue_state()
    assert (state["stuck"], state["waiting"]) == (0, 1)
    assert 30 <= state["oldest_waiting_seconds"] < 60


def test_a_queue_check_that_raises_is_reported_as_an_error_and_the_probe_still_answers(client, db, monkeypatch):
    def broken():
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setitem(health._CHECKS, "broken", broken)
    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["queues"]["broken"] == {"status": "error"}
    assert body["queues"]["imports"]["status"] == "ok"  # the others are still reported


def test_the_queues_are_not_checked_when_the_database_is_down(client, db, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())
    monkeypatch.setattr(views, "queue_checks", lambda: pytest.fail("the queue checks need the database"))
    response = client.get(URL)
    assert (response.status_code, response.json()["queues"]) == (503, {})


def test_the_import_queue_check_is_one_query_and_the_heartbeat(db, django_assert_max_num_queries):
    user = UserFactory()
    for minutes in range(30):
        make_job(status=Status.PENDING, created_ago=timedelta(minutes=minutes), user=user)
        make_job(status=Status.APPLYING, started_ago=timedelta(minutes=minutes), user=user)
        make_job(status=Status.SUCCEEDED, started_ago=timedelta(minutes=minutes), user=user)
    with django_assert_max_num_queries(2):
        state = import_queue_state()
    assert (state["waiting"], state["running"]) == (30, 30)


def test_the_import_queue_check_reads_the_heartbeat_only_when_a_job_waits_long(db, django_assert_num_queries):
    make_job(status=Status.PENDING, created_ago=timedelta(minutes=1))
    with django_assert_num_queries(1):
        import_queue_state()
