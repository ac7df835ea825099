"""Background exports (core.exports): started by the page, written by a task, downloaded by the
requester only, for a day; the grid's workbook is the export they are tried with."""

import io
import os
import time
import uuid
from dataclasses import replace
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerOperationalError
from openpyxl import load_workbook

from accounts.models import Role
from core import exports
from core.errors import ZhubaoError
from core.exports import (
    EXPORT_KEEP,
    PHASE_SAVING,
    STUCK_AFTER,
    ExportFile,
    Failure,
    export_job_create,
    export_job_run,
    export_jobs_sweep,
    export_progress,
    export_queue_state,
    failure_message,
    progress_key,
)
from core.health import queue_checks
from core.models import AuditEvent, ExportJob
from core.tasks import export_run
from grid.exporting import GRID_WORKBOOK
from grid.importing.layout import SHEET_HOUSEHOLDS
from grid.services import household_update
from tests.factories import UserFactory, grant
from tests.grid.workbooks import read_sheets
from zhubao.celery import app

KIND = GRID_WORKBOOK


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def enqueued(monkeypatch):
    """The job ids handed to the broker (nothing is sent)."""
    sent = []
    monkeypatch.setattr(export_run, "delay", lambda job_id: sent.append(job_id))
    return sent


@pytest.fixture
def kind_writing(monkeypatch):
    """Replace the grid workbook's writer for one test: ``kind_writing(function)``."""

    def install(write):
        monkeypatch.setitem(exports._KINDS, KIND, replace(exports._KINDS[KIND], write=write))

    return install


def _start(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return export_job_create(user=user, kind=KIND)


def _finished_job(user, django_capture_on_commit_callbacks, enqueued) -> ExportJob:
    job = _start(user, django_capture_on_commit_callbacks)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.error_code
    return job


def _urls(job) -> dict[str, str]:
    return {name: reverse(f"exports:job-{name}", kwargs={"pk": job.pk}) for name in ("detail", "progress", "download")}


# --- starting -------------------------------------------------------------------------------------------


def test_starting_an_export_makes_a_pending_job_and_enqueues_it_on_commit(
    org, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_job_create(user=org.users.staff, kind=KIND)
        assert enqueued == []  # not before the job is committed
    assert job.status == ExportJob.Status.PENDING and job.created_by == org.users.staff
    for callback in callbacks:
        callback()
    assert enqueued == [job.pk]


def test_a_second_start_while_the_first_is_unfinished_returns_the_same_job(
    org, enqueued, django_capture_on_commit_callbacks
):
    first = _start(org.users.staff, django_capture_on_commit_callbacks)
    second = _start(org.users.staff, django_capture_on_commit_callbacks)
    assert second.pk == first.pk and enqueued == [first.pk]
    export_job_run(job_id=first.pk)
    third = _start(org.users.staff, django_capture_on_commit_callbacks)
    assert third.pk != first.pk


def test_a_job_waiting_for_ten_minutes_is_not_given_again_but_a_new_one_is_started(
    org, enqueued, django_capture_on_commit_callbacks
):
    first = _start(org.users.staff, django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    second = _start(org.users.staff, django_capture_on_commit_callbacks)
    assert second.pk != first.pk and enqueued == [first.pk, second.pk]


def test_a_user_without_the_export_action_cannot_start_one(org, enqueued, login):
    with pytest.raises(ZhubaoError) as error:
        export_job_create(user=org.users.cadre1, kind=KIND)
    assert error.value.status_code == 403
    assert login(org.users.cadre1).post(reverse("imports:export")).status_code == 404
    assert not ExportJob.objects.exists() and enqueued == []


def test_an_unknown_kind_is_not_found(org):
    with pytest.raises(ZhubaoError) as error:
        export_job_create(user=org.users.staff, kind="no_such_export")
    assert error.value.status_code == 404


@pytest.mark.parametrize(
    "broker_error",
    [BrokerOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), RuntimeError("boom")],
)
def test_when_the_broker_refuses_the_task_the_job_fails_at_once_and_the_page_says_try_later(
    org, login, monkeypatch, django_capture_on_commit_callbacks, broker_error
):
    def refuse(job_id):
        raise broker_error

    monkeypatch.setattr(export_run, "delay", refuse)
    client = login(org.users.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:export"))
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exports:job-detail", kwargs={"pk": job.pk})
    assert (job.status, job.error_code) == (ExportJob.Status.FAILED, Failure.QUEUE_UNAVAILABLE)
    page = client.get(response["Location"])
    assert page.status_code == 200
    with translation.override("zh-hans"):
        assert failure_message(Failure.QUEUE_UNAVAILABLE) in page.content.decode()
    assert "hx-trigger" not in page.content.decode()  # finished: the page stops polling


def test_the_export_page_shows_the_button_and_the_users_recent_exports(
    org, login, enqueued, django_capture_on_commit_callbacks
):
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    _start(org.users.other_staff, django_capture_on_commit_callbacks)
    page = login(org.users.staff).get(reverse("imports:export"))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="export-start"' in body
    assert body.count(reverse("exports:job-detail", kwargs={"pk": job.pk})) == 1
    assert body.count('href="/exports/') == 1  # not the other user's


# --- running ---------------------------------------------------------------------------------------------


def test_the_task_writes_the_file_and_the_job_keeps_it_for_a_day(org, enqueued, django_capture_on_commit_callbacks):
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    export_run.run(job.pk)  # the task's body, as a worker calls it
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED
    assert job.file_name.startswith("zhubao-export-") and job.file_name.endswith(".xlsx")
    assert job.file_size == job.file.size > 0
    assert job.summary["rows"][SHEET_HOUSEHOLDS] == 2
    assert job.expires_at - job.finished_at == EXPORT_KEEP
    with job.file.open("rb") as handle:
        assert len(read_sheets(handle.read())[SHEET_HOUSEHOLDS]) == 2
    assert export_progress(job)["label"] == PHASE_SAVING


def test_the_finished_page_lists_the_rows_of_each_sheet_in_the_files_order(
    org, login, enqueued, django_capture_on_commit_callbacks
):
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    page = login(org.users.staff).get(_urls(job)["detail"]).content.decode()
    positions = [
        page.index(f'<th scope="row">{name}</th>') for name in ("组织架构", SHEET_HOUSEHOLDS, "网格", "网格员岗位")
    ]
    assert positions == sorted(positions)


def test_a_task_delivered_twice_writes_the_file_once(org, enqueued, django_capture_on_commit_callbacks):
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    name = job.file.name
    assert export_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.file.name) == (ExportJob.Status.SUCCEEDED, name)


def test_a_task_delivered_again_after_its_worker_died_fails_the_job_rather_than_running_it_again(
    org, enqueued, django_capture_on_commit_callbacks, kind_writing
):
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now() - timedelta(minutes=40)
    )
    kind_writing(lambda *args: pytest.fail("ran again"))
    assert export_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ExportJob.Status.FAILED, Failure.WORKER_LOST)


def test_a_task_delivered_again_at_once_after_its_worker_died_fails_the_job_too(
    org, enqueued, django_capture_on_commit_callbacks, kind_writing
):
    """acks_late delivers it again within seconds: waiting for the time limit left it running for half an hour."""
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, started_at=timezone.now())
    kind_writing(lambda *args: pytest.fail("ran again"))
    assert export_job_run(job_id=job.pk) is None
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ExportJob.Status.FAILED, Failure.WORKER_LOST)


def test_a_database_error_just_after_the_claim_puts_the_job_back_for_the_retry(
    org, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    job = _start(org.users.staff, django_capture_on_commit_callbacks)

    def down(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(exports, "has_action", down)
    with pytest.raises(OperationalError):
        export_job_run(job_id=job.pk, last_attempt=False)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.PENDING


def test_the_soft_time_limit_fails_the_job_with_a_clear_message(
    org, enqueued, django_capture_on_commit_callbacks, kind_writing
):
    def too_slow(job, user, progress):
        progress.phase(SHEET_HOUSEHOLDS, step=2, steps=5, total=100)
        raise SoftTimeLimitExceeded()

    kind_writing(too_slow)
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error_code, job.file.name) == (ExportJob.Status.FAILED, Failure.TIME_LIMIT, "")
    with translation.override("en"):
        assert "longer than 30 minutes" in failure_message(job.error_code)


def test_the_task_has_a_soft_and_a_hard_time_limit():
    assert (export_run.soft_time_limit, export_run.time_limit) == (30 * 60, 32 * 60)
    assert "core.tasks.export_run" in app.tasks and "core.tasks.export_sweep" in app.tasks


def test_an_error_in_the_writer_fails_the_job_and_leaves_no_file(
    org, enqueued, django_capture_on_commit_callbacks, kind_writing, tmp_path
):
    def broken(job, user, progress):
        raise KeyError("a bug")

    kind_writing(broken)
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ExportJob.Status.FAILED, Failure.UNEXPECTED)
    assert not list((tmp_path / "media").rglob("*.xlsx"))


def test_a_transient_database_error_puts_the_job_back_for_the_retry_and_the_last_one_fails_it(
    org, enqueued, django_capture_on_commit_callbacks, kind_writing
):
    def database_gone(job, user, progress):
        raise OperationalError("server closed the connection unexpectedly")

    kind_writing(database_gone)
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    with pytest.raises(OperationalError):
        export_job_run(job_id=job.pk, last_attempt=False)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.PENDING
    with pytest.raises(OperationalError):
        export_job_run(job_id=job.pk, last_attempt=True)
    job.refresh_from_db()
    assert (job.status, job.error_code) == (ExportJob.Status.FAILED, Failure.DATABASE_UNAVAILABLE)


def test_a_user_who_lost_the_right_before_the_task_ran_gets_no_file(org, enqueued, django_capture_on_commit_callbacks):
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    org.users.staff.grants.update(revoked_at=timezone.now())
    returned = export_job_run(job_id=job.pk)
    assert (returned.status, returned.error_code) == (ExportJob.Status.FAILED, Failure.NOT_ALLOWED)  # as stored
    job.refresh_from_db()
    assert (job.status, job.error_code, job.file.name) == (ExportJob.Status.FAILED, Failure.NOT_ALLOWED, "")


class _BrokenCache:
    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

        return fail


def test_a_cache_that_does_not_answer_neither_fails_the_job_nor_breaks_its_page(
    org, login, enqueued, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(exports, "cache", _BrokenCache())
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, started_at=timezone.now())
    client = login(org.users.staff)
    urls = _urls(job)
    assert client.get(urls["progress"]).status_code == 200  # running, no progress to show
    assert client.get(urls["detail"]).status_code == 200
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.PENDING, started_at=None)
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED


def test_the_progress_partial_shows_the_step_and_rows_and_polls_until_finished(
    org, login, enqueued, django_capture_on_commit_callbacks
):
    job = _start(org.users.staff, django_capture_on_commit_callbacks)
    client = login(org.users.staff)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING, started_at=timezone.now())
    progress = exports.ExportProgress(job.pk)
    progress.phase(SHEET_HOUSEHOLDS, step=2, steps=5, total=4000)
    progress._written_at = 0
    progress.advance(1000)
    body = client.get(_urls(job)["progress"]).content.decode()
    assert "hx-trigger" in body and 'data-percent="25"' in body and SHEET_HOUSEHOLDS in body
    assert "1000" in body.replace(",", "") and "4000" in body.replace(",", "")
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.PENDING)
    export_job_run(job_id=job.pk)
    body = client.get(_urls(job)["progress"]).content.decode()
    assert "hx-trigger" not in body and _urls(job)["download"] in body


# --- downloading: the requester only ------------------------------------------------------------------


def test_the_requester_downloads_the_file_as_an_attachment_never_cached_and_audited(
    org, login, enqueued, django_capture_on_commit_callbacks
):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居，需每周联系")
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()  # written, not yet given
    response = login(org.users.staff).get(_urls(job)["download"])
    assert response.status_code == 200
    assert (
        response["Content-Disposition"].startswith("attachment;") and job.file_name in response["Content-Disposition"]
    )
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    content = b"".join(response.streaming_content)
    assert load_workbook(io.BytesIO(content), read_only=True).sheetnames[1:3] == ["组织架构", SHEET_HOUSEHOLDS]
    exported = AuditEvent.objects.get(action=AuditEvent.Action.EXPORTED)
    assert (exported.user, exported.object_type, exported.object_id) == (org.users.staff, "core.exportjob", str(job.pk))
    assert exported.detail["via"] == "download" and exported.detail["rows"][SHEET_HOUSEHOLDS] == 2
    viewed = AuditEvent.objects.get(action=AuditEvent.Action.PERSONAL_DATA_VIEWED)
    assert viewed.detail["count"] == 1 and viewed.object_id == str(job.pk)
    login(org.users.staff).get(_urls(job)["download"])
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).count() == 2  # every download


def test_a_download_without_care_reasons_in_full_is_no_personal_data_view(
    org, login, enqueued, django_capture_on_commit_callbacks
):
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居，需每周联系")
    job = _finished_job(org.users.leader, django_capture_on_commit_callbacks, enqueued)
    assert login(org.users.leader).get(_urls(job)["download"]).status_code == 200
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).count() == 1
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.PERSONAL_DATA_VIEWED).exists()


@pytest.mark.parametrize("username", ["admin", "leader", "other_staff", "cadre1", "nobody"])
def test_anyone_but_the_requester_gets_404_for_the_job_its_progress_and_its_file(
    org, client, enqueued, django_capture_on_commit_callbacks, username
):
    """Even the system admin and a leader of the same community: the file is the requester's."""
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    client.force_login(getattr(org.users, username))
    for name, url in _urls(job).items():
        response = client.get(url)
        assert response.status_code == 404, f"{name} as {username}: {response.status_code}"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()


def test_a_requester_who_lost_the_export_right_can_no_longer_download(
    org, client, enqueued, django_capture_on_commit_callbacks
):
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    org.users.staff.grants.update(revoked_at=timezone.now())
    client.force_login(org.users.staff)
    assert client.get(_urls(job)["download"]).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(org, client, enqueued, django_capture_on_commit_callbacks):
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    for url in _urls(job).values():
        assert client.get(url)["Location"].startswith(reverse("accounts:login"))


def test_an_expired_export_says_so_and_its_link_leads_back_to_the_page(
    org, login, enqueued, django_capture_on_commit_callbacks
):
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client = login(org.users.staff)
    page = client.get(_urls(job)["detail"]).content.decode()
    assert 'data-testid="export-expired"' in page and _urls(job)["download"] not in page
    response = client.get(_urls(job)["download"])
    assert (response.status_code, response["Location"]) == (302, _urls(job)["detail"])
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED).exists()


# --- the sweep and the queue's state ----------------------------------------------------------------------


def test_the_sweep_deletes_expired_files_and_fails_lost_jobs_and_running_it_twice_changes_nothing(
    org, enqueued, django_capture_on_commit_callbacks
):
    now = timezone.now()
    expired = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    fresh = _finished_job(org.users.leader, django_capture_on_commit_callbacks, enqueued)
    ExportJob.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(minutes=1))
    storage, expired_name = expired.file.storage, expired.file.name
    lost = ExportJob.objects.create(
        created_by=org.users.staff, kind=KIND, status=ExportJob.Status.RUNNING, started_at=now - STUCK_AFTER * 2
    )
    running = ExportJob.objects.create(
        created_by=org.users.admin, kind=KIND, status=ExportJob.Status.RUNNING, started_at=now - timedelta(minutes=5)
    )
    never = ExportJob.objects.create(created_by=org.users.admin, kind=KIND)
    ExportJob.objects.filter(pk=never.pk).update(created_at=now - EXPORT_KEEP - timedelta(minutes=1))
    ancient = ExportJob.objects.create(created_by=org.users.admin, kind=KIND, status=ExportJob.Status.FAILED)
    ExportJob.objects.filter(pk=ancient.pk).update(created_at=now - timedelta(days=31))

    assert export_jobs_sweep(now=now) == {"lost": 1, "never_started": 1, "files_deleted": 1, "jobs_deleted": 1}
    assert not storage.exists(expired_name)
    states = dict(ExportJob.objects.values_list("pk", "status"))
    assert states[lost.pk] == states[never.pk] == ExportJob.Status.FAILED
    assert states[running.pk] == ExportJob.Status.RUNNING and states[fresh.pk] == ExportJob.Status.SUCCEEDED
    assert ancient.pk not in states
    assert fresh.file.storage.exists(fresh.file.name)
    assert export_jobs_sweep(now=now) == {"lost": 0, "never_started": 0, "files_deleted": 0, "jobs_deleted": 0}


def test_the_sweep_is_scheduled_every_ten_minutes():
    entry = app.conf.beat_schedule["export-sweep-every-10-minutes"]
    assert entry["task"] == "core.tasks.export_sweep"
    assert entry["schedule"].minute == set(range(0, 60, 10))


def test_healthz_reports_the_export_queue(org):
    now = timezone.now()
    waiting = ExportJob.objects.create(created_by=org.users.staff, kind=KIND)
    ExportJob.objects.filter(pk=waiting.pk).update(created_at=now)
    ExportJob.objects.create(
        created_by=org.users.staff, kind=KIND, status=ExportJob.Status.RUNNING, started_at=now - timedelta(minutes=1)
    )
    ExportJob.objects.create(
        created_by=org.users.staff, kind=KIND, status=ExportJob.Status.RUNNING, started_at=now - STUCK_AFTER
    )
    state = export_queue_state(now=now + timedelta(seconds=30))
    assert state == {"waiting": 1, "running": 2, "stuck": 1, "oldest_waiting_seconds": 30}
    assert queue_checks()["exports"]["stuck"] == 1


# --- a real worker on the real broker --------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis broker (REDIS_URL)")
def test_a_real_worker_writes_the_export_the_page_started(org, login, monkeypatch):
    queue = f"test-exports-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(export_run, "delay", lambda job_id: export_run.apply_async((job_id,), queue=queue))
    with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        client = login(org.users.staff)
        response = client.post(reverse("imports:export"))
        job = ExportJob.objects.get()
        deadline = time.monotonic() + 60
        while job.status not in ExportJob.FINISHED_STATUSES and time.monotonic() < deadline:
            time.sleep(0.2)
            job.refresh_from_db()
    assert response["Location"] == reverse("exports:job-detail", kwargs={"pk": job.pk})
    assert job.status == ExportJob.Status.SUCCEEDED, job.error_code
    download = client.get(reverse("exports:job-download", kwargs={"pk": job.pk}))
    assert len(read_sheets(b"".join(download.streaming_content))[SHEET_HOUSEHOLDS]) == 2
    assert exports.cache.get(progress_key(job.pk))["label"] == PHASE_SAVING


# --- the registry ---------------------------------------------------------------------------------------


def test_registering_the_same_export_again_is_fine_and_a_different_one_is_refused(monkeypatch):
    monkeypatch.setattr(exports, "_KINDS", dict(exports._KINDS))
    entry = exports.export_kind(KIND)
    exports.register_export(KIND, label=entry.label, action=entry.action, write=entry.write)
    with pytest.raises(ValueError):
        exports.register_export(KIND, label=entry.label, action=entry.action, write=lambda *args: None)


def test_a_writer_from_another_app_gets_its_file_stored_under_its_name(
    org, enqueued, django_capture_on_commit_callbacks, kind_writing, monkeypatch
):
    def tiny(job, user, progress):
        progress.phase("列表", step=1, steps=1, total=1)
        progress.advance()
        return ExportFile(file=ContentFile(b"a,b\n").open(), name="清单.csv", summary={"rows": {"列表": 1}})

    kind_writing(tiny)
    job = _finished_job(org.users.staff, django_capture_on_commit_callbacks, enqueued)
    assert job.file_name == "清单.csv" and job.file.name.endswith(".csv")
    with job.file.open("rb") as handle:
        assert handle.read() == b"a,b\n"


def test_a_compound_level_grant_exports_only_its_compound_in_the_background(
    org, enqueued, django_capture_on_commit_callbacks
):
    keeper = UserFactory(username="compoundstaff")
    grant(keeper, Role.COMMUNITY_STAFF, node=org.compound1)
    job = _finished_job(keeper, django_capture_on_commit_callbacks, enqueued)
    with job.file.open("rb") as handle:
        assert [row["门牌号"] for row in read_sheets(handle.read())[SHEET_HOUSEHOLDS]] == ["101"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    __import__("django.db", fromlist=["connection"]).connection.vendor != "postgresql", reason="row locks"
)
def test_two_clicks_at_once_start_one_export(monkeypatch):
    """The first click's transaction is still open when the second arrives: the second waits for it and
    gets its job (before the lock, both found no job and each started one)."""
    import threading

    from django.db import connections, transaction

    monkeypatch.setattr(exports, "_enqueue", lambda job_id: None)
    user = UserFactory()
    grant(user, Role.SYSTEM_ADMIN)
    ready, release, first = threading.Event(), threading.Event(), {}

    def click():
        try:
            with transaction.atomic():
                first["job"] = export_job_create(user=user, kind="grid_workbook")
                ready.set()
                release.wait(10)
        finally:
            connections.close_all()

    clicker = threading.Thread(target=click)
    clicker.start()
    try:
        assert ready.wait(5)
        threading.Timer(0.5, release.set).start()
        second = export_job_create(user=user, kind="grid_workbook")
    finally:
        release.set()
        clicker.join()
    assert second.pk == first["job"].pk
    assert ExportJob.objects.filter(created_by=user).count() == 1
