"""Import jobs a dead worker left active are failed by beat's reaper (or, when undoing, put back),
and the import tasks have time limits that fit the broker's redelivery and the reaper's margin."""

import threading
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from grid.importing.reaping import (
    IMPORT_SOFT_TIME_LIMIT,
    IMPORT_TIME_LIMIT,
    REAP_MARGIN,
    UNDO_LOST,
    WORKER_LOST,
    import_job_fail_lost,
    import_jobs_reap,
)
from grid.models import ImportJob
from tests.factories import UserFactory
from zhubao.celery import app

Status = ImportJob.Status
LOST_AFTER = timedelta(seconds=IMPORT_TIME_LIMIT) + REAP_MARGIN


def make_job(*, status, started_ago=None, created_ago=timedelta(0), user=None):
    """A job as a worker would have left it: no service puts one in an active status without a worker."""
    now = timezone.now()
    job = ImportJob.objects.create(
        created_by=user or UserFactory(),
        file="imports/test/lost.xlsx",
        original_name="台账.xlsx",
        status=status,
        started_at=now - started_ago if started_ago is not None else None,
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=now - created_ago)
    job.refresh_from_db()
    return job


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.CHECKING, Status.APPLYING])
def test_a_job_checking_or_applying_past_its_hard_limit_and_the_margin_fails_as_worker_lost(status):
    job = make_job(status=status, started_ago=LOST_AFTER + timedelta(seconds=30))

    assert import_jobs_reap() == 1

    job.refresh_from_db()
    assert job.status == Status.FAILED
    assert job.finished_at is not None
    [error] = job.errors
    assert (error["code"], error["params"], error["sheet"], error["row"]) == (WORKER_LOST, {}, "", None)
    assert "未写入任何数据" in error["message"]  # in the portal's language, whoever reads it later


@pytest.mark.django_db
def test_an_interrupted_undo_goes_back_to_succeeded_with_a_note_so_it_may_be_started_again():
    job = make_job(status=Status.UNDOING, started_ago=LOST_AFTER + timedelta(minutes=1))
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=1))

    assert import_jobs_reap() == 1

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    assert [error["code"] for error in job.errors] == [UNDO_LOST]
    assert job.undone_at is None


@pytest.mark.django_db
def test_a_job_still_within_its_limit_and_the_margin_is_left_running():
    # Past the hard limit but not the margin: the worker may be recording its own failure.
    job = make_job(status=Status.APPLYING, started_ago=timedelta(seconds=IMPORT_TIME_LIMIT + 60))

    assert import_jobs_reap() == 0

    job.refresh_from_db()
    assert job.status == Status.APPLYING and job.errors == []


@pytest.mark.django_db
def test_waiting_and_finished_jobs_are_never_reaped_however_old():
    long_ago = LOST_AFTER * 10
    jobs = [
        make_job(status=status, started_ago=long_ago, created_ago=long_ago)
        for status in (Status.PENDING, Status.READY, Status.SUCCEEDED, Status.FAILED, Status.UNDONE)
    ]

    assert import_jobs_reap() == 0

    assert [ImportJob.objects.get(pk=job.pk).status for job in jobs] == [job.status for job in jobs]


@pytest.mark.django_db
def test_an_active_job_without_a_start_time_counts_from_its_creation():
    lost = make_job(status=Status.CHECKING, created_ago=LOST_AFTER + timedelta(minutes=1))
    fresh = make_job(status=Status.CHECKING, created_ago=timedelta(minutes=1))

    assert import_jobs_reap() == 1

    assert ImportJob.objects.get(pk=lost.pk).status == Status.FAILED
    assert ImportJob.objects.get(pk=fresh.pk).status == Status.CHECKING


@pytest.mark.django_db
def test_reaping_twice_changes_nothing_more(caplog):
    job = make_job(status=Status.APPLYING, started_ago=LOST_AFTER * 2)
    assert import_jobs_reap() == 1
    finished_at = ImportJob.objects.get(pk=job.pk).finished_at

    assert import_jobs_reap(now=timezone.now() + timedelta(hours=1)) == 0

    assert ImportJob.objects.get(pk=job.pk).finished_at == finished_at
    assert f"Import job {job.pk} was applying" in caplog.text  # operators see which job and why


@pytest.mark.django_db
def test_reaping_runs_a_fixed_number_of_queries(django_assert_max_num_queries):
    user = UserFactory()
    for status in (Status.CHECKING, Status.APPLYING, Status.UNDOING) * 3:
        make_job(status=status, started_ago=LOST_AFTER * 2, user=user)
    # The locking select, one update per outcome, and the transaction's savepoint and release.
    with django_assert_max_num_queries(5):
        assert import_jobs_reap() == 9


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_job_whose_row_a_live_worker_holds_is_skipped():
    """A worker that locks its job while it writes is alive; the reaper does not wait for it either."""
    job = make_job(status=Status.APPLYING, started_ago=LOST_AFTER * 2)
    locked, release = threading.Event(), threading.Event()

    def worker():
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().get(pk=job.pk)
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert import_jobs_reap() == 0
    finally:
        release.set()
        thread.join()
    assert ImportJob.objects.get(pk=job.pk).status == Status.APPLYING
    assert import_jobs_reap() == 1


@pytest.mark.django_db
def test_a_job_delivered_again_after_its_worker_died_is_failed_instead_of_run_again():
    job = make_job(status=Status.CHECKING, started_ago=timedelta(seconds=5))
    assert import_job_fail_lost(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.status == Status.FAILED and job.errors[0]["code"] == WORKER_LOST

    undo = make_job(status=Status.UNDOING, started_ago=timedelta(seconds=5))
    assert import_job_fail_lost(job_id=undo.pk) is True
    assert ImportJob.objects.get(pk=undo.pk).status == Status.SUCCEEDED


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PENDING, Status.READY, Status.SUCCEEDED, Status.FAILED])
def test_a_job_not_active_is_not_failed_as_lost(status):
    job = make_job(status=status, started_ago=timedelta(hours=5))
    assert import_job_fail_lost(job_id=job.pk) is False
    assert ImportJob.objects.get(pk=job.pk).status == status


def test_the_limits_leave_room_to_record_a_failure_and_end_before_the_broker_delivers_again():
    assert 0 < IMPORT_SOFT_TIME_LIMIT < IMPORT_TIME_LIMIT <= settings.CELERY_TASK_TIME_LIMIT
    assert IMPORT_TIME_LIMIT - IMPORT_SOFT_TIME_LIMIT >= 30
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    # Beat runs the reaper every 5 minutes: the margin lets the killed task's process be gone.
    assert REAP_MARGIN >= timedelta(minutes=5)
    if settings.REDIS_URL:
        visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        assert visibility > settings.CELERY_TASK_TIME_LIMIT
        assert visibility > (LOST_AFTER).total_seconds()


def test_beat_runs_the_reaper_every_five_minutes_and_drops_a_run_no_worker_took():
    entry = app.conf.beat_schedule["import-reap-every-5-minutes"]
    assert entry["task"] == "grid.tasks.import_reap"
    assert entry["schedule"] == crontab(minute="*/5")
    assert entry["options"]["expire_seconds"] == 5 * 60


def test_the_reap_task_is_registered_with_the_app():
    from grid import tasks  # noqa: F401  (registers the grid app's tasks)

    assert "grid.tasks.import_reap" in app.tasks
