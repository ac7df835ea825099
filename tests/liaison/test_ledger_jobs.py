"""The ledger import's job around the check and the write: the queue down, a task delivered twice, a worker
that died, a real worker through the broker."""

import os
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone, translation

from liaison import tasks
from liaison.ledger.jobs import ledger_import_check, ledger_import_create, ledger_imports_reap
from liaison.ledger.models import LedgerImportJob
from liaison.ledger.problems import render_message
from tests.liaison.ledger_helpers import checked, ledger_file, ledger_world, upload  # noqa: F401
from zhubao.celery import app

Status = LedgerImportJob.Status
NEW_ROW = ["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]
TEST_QUEUE = f"zhubao-test-ledger-{os.getpid()}"


def test_an_upload_the_queue_does_not_take_fails_with_a_clear_message(
    ledger, monkeypatch, django_capture_on_commit_callbacks
):
    def down(job_id):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(tasks.ledger_import_check, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = ledger_import_create(
            actor=ledger.users.leader,
            team=ledger.team,
            uploaded_file=upload(ledger_file(ledger.tmp / "a.xlsx", [NEW_ROW])),
        )
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert [error["code"] for error in job.errors] == ["queue_unavailable"]
    with translation.override("zh-hans"):  # the page renders the code in the reader's language
        assert "后台服务" in render_message(job.errors[0]["code"])


def test_a_check_delivered_again_after_its_worker_died_fails_the_job_instead_of_running_it(ledger):
    job = ledger_import_create(
        actor=ledger.users.leader, team=ledger.team, uploaded_file=upload(ledger_file(ledger.tmp / "a.xlsx", [NEW_ROW]))
    )
    LedgerImportJob.objects.filter(pk=job.pk).update(status=Status.CHECKING, started_at=timezone.now())
    ledger_import_check(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert [error["code"] for error in job.errors] == ["worker_lost"]


def test_the_reaper_fails_jobs_a_dead_worker_left_active_and_only_those(ledger):
    path = ledger_file(ledger.tmp / "a.xlsx", [NEW_ROW])
    old, recent, ready = (checked(ledger.users.leader, ledger.team, path) for _ in range(3))
    long_ago = timezone.now() - timedelta(minutes=30)
    LedgerImportJob.objects.filter(pk=old.pk).update(status=Status.APPLYING, started_at=long_ago)
    LedgerImportJob.objects.filter(pk=recent.pk).update(status=Status.CHECKING, started_at=timezone.now())

    assert ledger_imports_reap() == 1
    assert ledger_imports_reap() == 0  # beat may run it twice

    statuses = dict(LedgerImportJob.objects.values_list("pk", "status"))
    assert statuses == {old.pk: Status.FAILED, recent.pk: Status.CHECKING, ready.pk: Status.READY}
    assert app.conf.beat_schedule["ledger-import-reap-every-5-minutes"]["task"] == "liaison.tasks.ledger_import_reap"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL is not set: no broker for a real worker")
def test_a_real_worker_checks_an_upload_through_the_broker(ledger, monkeypatch):
    check = tasks.ledger_import_check
    monkeypatch.setattr(check, "delay", lambda job_id: check.apply_async(args=(job_id,), queue=TEST_QUEUE))
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[TEST_QUEUE], shutdown_timeout=20):
        job = ledger_import_create(
            actor=ledger.users.leader,
            team=ledger.team,
            uploaded_file=upload(ledger_file(ledger.tmp / "a.xlsx", [NEW_ROW])),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in LedgerImportJob.FINISHED_STATUSES:
                break
            time.sleep(0.2)
    assert job.status == Status.READY, job.errors
    assert job.preview["create"] == 1


def test_healthz_reports_the_ledger_queue_and_a_job_a_dead_worker_left_as_stuck(ledger, client):
    from core.services import heartbeat_record
    from liaison.ledger.jobs import TIME_LIMIT

    heartbeat_record()
    path = ledger_file(ledger.tmp / "a.xlsx", [NEW_ROW])
    stuck, waiting = (checked(ledger.users.leader, ledger.team, path) for _ in range(2))
    LedgerImportJob.objects.filter(pk=stuck.pk).update(
        status=Status.APPLYING, started_at=timezone.now() - timedelta(seconds=TIME_LIMIT + 10)
    )
    LedgerImportJob.objects.filter(pk=waiting.pk).update(status=Status.CONFIRMED, started_at=timezone.now())

    response = client.get("/healthz")
    state = response.json()["queues"]["pairing_ledger_imports"]
    assert response.status_code == 200 and response.json()["status"] == "degraded"
    assert (state["running"], state["waiting"], state["stuck"], state["status"]) == (1, 1, 1, "stuck")
