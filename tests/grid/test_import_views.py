"""The import and export pages: upload, job progress (htmx), template and export downloads."""

import io
import os
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from playwright.sync_api import expect

from grid import import_views
from grid.exporting import TEMPLATE_PATH
from grid.importing import import_job_apply, import_job_check, import_job_confirm, import_job_create, progress_key
from grid.importing.cells import describe_value
from grid.importing.layout import SHEET_HOUSEHOLDS
from grid.models import Household, ImportJob
from tests.grid.workbooks import household_row, read_sheets, write_workbook


@pytest.fixture
def enqueued(monkeypatch):
    """Record the job ids the upload enqueues instead of sending them to a broker."""
    sent = []
    from grid import tasks

    for name in ("import_check", "import_apply", "import_undo"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda job_id: sent.append(job_id))
    return sent


def run_check_confirm_apply(job_id: int) -> None:
    """What the worker does for a job, with its uploader confirming the check."""
    import_job_check(job_id=job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.status == ImportJob.Status.READY:
        import_job_confirm(actor=job.created_by, job=job)
        import_job_apply(job_id=job_id)


@pytest.fixture
def good_file(tmp_path):
    path = write_workbook(tmp_path / "台账.xlsx", {SHEET_HOUSEHOLDS: [household_row(room="611")]})
    return lambda: SimpleUploadedFile("台账.xlsx", path.read_bytes())


@pytest.fixture
def staff_job(org, good_file):
    return import_job_create(actor=org.users.staff, uploaded_file=good_file())


def test_the_import_page_shows_the_form_the_template_link_and_recent_jobs(org, login, staff_job):
    response = login(org.users.staff).get(reverse("imports:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'type="file"' in page and reverse("imports:template") in page and reverse("imports:export") in page
    assert reverse("imports:job-detail", kwargs={"pk": staff_job.pk}) in page and "台账.xlsx" in page


def test_the_import_page_lists_only_the_users_own_jobs(org, login, staff_job):
    page = login(org.users.other_staff).get(reverse("imports:index")).content.decode()
    assert reverse("imports:job-detail", kwargs={"pk": staff_job.pk}) not in page


def test_the_import_page_runs_a_fixed_number_of_queries(org, login, good_file, django_assert_max_num_queries):
    client = login(org.users.staff)
    for _ in range(5):
        import_job_create(actor=org.users.staff, uploaded_file=good_file())
    with django_assert_max_num_queries(8):
        assert client.get(reverse("imports:index")).status_code == 200


@pytest.mark.parametrize("username", ["cadre1", "gridworker", "nobody", "dept"])
def test_users_who_may_neither_import_nor_export_get_404(org, login, username):
    client = login(getattr(org.users, username))
    for name in ("imports:index", "imports:template", "imports:export"):
        assert client.get(reverse(name)).status_code == 404


def test_a_bureau_leader_may_export_but_not_import(org, login, good_file):
    client = login(org.users.leader)
    page = client.get(reverse("imports:index")).content.decode()
    assert reverse("imports:export") in page and 'type="file"' not in page
    assert client.get(reverse("imports:export")).status_code == 200
    assert client.get(reverse("imports:template")).status_code == 404
    assert client.post(reverse("imports:index"), {"file": good_file()}).status_code == 404
    assert not ImportJob.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("imports:index"))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


# --- upload -------------------------------------------------------------------------------------


def test_uploading_a_workbook_creates_a_job_enqueues_it_on_commit_and_shows_its_page(
    org, login, good_file, enqueued, django_capture_on_commit_callbacks
):
    client = login(org.users.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:index"), {"file": good_file()})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:job-detail", kwargs={"pk": job.pk})
    assert (job.created_by, job.original_name, job.status) == (org.users.staff, "台账.xlsx", ImportJob.Status.PENDING)
    assert enqueued == [job.pk]


@pytest.mark.parametrize(
    ("name", "content"),
    [("居民户.xls", b"\xd0\xcf\x11\xe0"), ("居民户.csv", b"a,b"), ("居民户.xlsx", b"plain text")],
)
def test_a_file_that_is_not_xlsx_is_refused_with_a_clear_message(org, login, enqueued, name, content):
    response = login(org.users.staff).post(reverse("imports:index"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert ".xlsx" in response.content.decode()
    assert not ImportJob.objects.exists() and enqueued == []


def test_a_file_over_20_mb_is_refused_with_a_clear_message(org, login, enqueued, monkeypatch):
    monkeypatch.setattr(import_views, "MAX_UPLOAD_BYTES", 1024)
    big = SimpleUploadedFile("大.xlsx", b"PK\x03\x04" + b"0" * 200_000)
    response = login(org.users.staff).post(reverse("imports:index"), {"file": big})
    assert response.status_code == 400
    assert "20 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_submitting_without_a_file_shows_the_form_again(org, login):
    response = login(org.users.staff).post(reverse("imports:index"), {})
    assert response.status_code == 400 and not ImportJob.objects.exists()


# --- the job page and its progress partial ------------------------------------------------------


def test_a_pending_job_polls_its_progress_every_second(org, login, staff_job):
    client = login(org.users.staff)
    page = client.get(reverse("imports:job-detail", kwargs={"pk": staff_job.pk})).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert reverse("imports:job-progress", kwargs={"pk": staff_job.pk}) in page


def test_a_job_waiting_for_long_says_the_worker_may_be_down(org, login, staff_job):
    client = login(org.users.staff)
    url = reverse("imports:job-progress", kwargs={"pk": staff_job.pk})
    assert "alert-warning" not in client.get(url).content.decode()
    ImportJob.objects.filter(pk=staff_job.pk).update(created_at=staff_job.created_at - timedelta(minutes=5))
    assert "alert-warning" in client.get(url).content.decode()


def test_a_running_job_shows_its_phase_and_a_progress_bar(org, login, staff_job):
    ImportJob.objects.filter(pk=staff_job.pk).update(status=ImportJob.Status.APPLYING)
    cache.set(progress_key(staff_job.pk), {"phase": "writing", "processed": 1500, "total": 2000})
    response = login(org.users.staff).get(
        reverse("imports:job-progress", kwargs={"pk": staff_job.pk}), HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    # The width comes from data-percent through static/js/zhubao.js (the CSP forbids style attributes).
    assert 'class="progress zb-progress"' in page and 'data-percent="75"' in page and 'aria-valuenow="75"' in page
    assert 'hx-trigger="every 1s"' in page
    assert "<html" not in page  # a partial


def test_a_finished_job_stops_polling_and_shows_the_counts_per_sheet(org, login, staff_job, enqueued):
    run_check_confirm_apply(staff_job.pk)
    page = login(org.users.staff).get(reverse("imports:job-progress", kwargs={"pk": staff_job.pk})).content.decode()
    assert "hx-trigger" not in page
    assert SHEET_HOUSEHOLDS in page and Household.objects.filter(room="611").exists()


def test_a_failed_job_shows_the_error_table_with_sheet_row_and_column(org, login, tmp_path):
    path = write_workbook(tmp_path / "bad.xlsx", {SHEET_HOUSEHOLDS: [household_row(room="612", phone="12345")]})
    job = import_job_create(actor=org.users.staff, uploaded_file=SimpleUploadedFile("bad.xlsx", path.read_bytes()))
    import_job_check(job_id=job.pk)
    page = login(org.users.staff).get(reverse("imports:job-detail", kwargs={"pk": job.pk})).content.decode()
    assert "hx-trigger" not in page
    assert '<td class="text-nowrap">居民户</td><td class="text-end">2</td><td class="text-nowrap">联系电话</td>' in page
    # The error table repeats what was in the cell (a phone masked: the errors are kept on the job).
    assert f"<code>{describe_value('phone', '12345')}</code>" in page and describe_value("phone", "12345") != "12345"
    assert not Household.objects.filter(room="612").exists()


@pytest.mark.parametrize("username", ["cadre2", "other_staff", "leader", "nobody"])
@pytest.mark.parametrize("name", ["imports:job-detail", "imports:job-progress"])
def test_another_users_job_pages_are_404(org, login, staff_job, username, name):
    client = login(getattr(org.users, username))
    assert client.get(reverse(name, kwargs={"pk": staff_job.pk})).status_code == 404


def test_a_system_admin_may_see_any_job(org, login, staff_job):
    assert login(org.users.admin).get(reverse("imports:job-detail", kwargs={"pk": staff_job.pk})).status_code == 200


def test_a_job_that_does_not_exist_is_404(org, login):
    assert login(org.users.staff).get(reverse("imports:job-detail", kwargs={"pk": 999_999})).status_code == 404


# --- downloads ----------------------------------------------------------------------------------


def test_the_template_downloads_as_the_shipped_workbook(org, login):
    response = login(org.users.staff).get(reverse("imports:template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == TEMPLATE_PATH.read_bytes()


def _export_of(client) -> bytes:
    """Start the export as the page does, run the worker's task, download the file."""
    from core.exports import export_job_run
    from core.models import ExportJob

    response = client.post(reverse("imports:export"))
    assert response.status_code == 302
    job = ExportJob.objects.latest("pk")
    export_job_run(job_id=job.pk)
    download = client.get(reverse("exports:job-download", kwargs={"pk": job.pk}))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    return b"".join(download.streaming_content)


def test_the_export_runs_in_the_background_and_downloads_a_masked_workbook_of_the_users_subtree(org, login):
    sheets = read_sheets(io.BytesIO(_export_of(login(org.users.staff))))
    assert {row["社区"] for row in sheets[SHEET_HOUSEHOLDS]} == {"北苑社区"}
    assert all("****" in row["联系电话"] for row in sheets[SHEET_HOUSEHOLDS])


def test_the_other_communitys_staff_exports_none_of_this_community(org, login):
    sheets = read_sheets(io.BytesIO(_export_of(login(org.users.other_staff))))
    assert all(row["社区"] == "南湖社区" for rows in sheets.values() for row in rows)


# --- in the browser -----------------------------------------------------------------------------


def _screenshot(page, name):
    """Set ZHUBAO_SCREENSHOTS=/some/folder to look at the pages these journeys pass through."""
    folder = os.environ.get("ZHUBAO_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def _log_in(page, live_server, user, password):
    page.goto(f"{live_server.url}{reverse('accounts:login')}")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


@pytest.mark.browser
def test_staff_uploads_sees_the_dry_run_confirms_sees_the_result_and_undoes_it(
    org, live_server, page, password, tmp_path, enqueued
):
    """The journey of the issue: upload → dry run → confirm → result → undo, as community staff."""
    from grid.importing.undo import import_job_undo
    from grid.services import household_update

    household_update(actor=None, household=org.household1, phone="13800000001")
    path = write_workbook(
        tmp_path / "阳光小区台账.xlsx",
        {
            SHEET_HOUSEHOLDS: [
                household_row(room="101", hub="张建国中心户", phone="13900000002"),
                *(household_row(room=f"{floor}01") for floor in range(2, 7)),
            ]
        },
    )
    page.set_viewport_size({"width": 1366, "height": 900})
    _log_in(page, live_server, org.users.staff, password)
    page.goto(f"{live_server.url}{reverse('imports:index')}")
    _screenshot(page, "import-index")
    page.set_input_files("main input[type=file]", path)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/imports/*/")
    progress = page.locator("#import-job")
    expect(progress.locator(".badge.text-bg-secondary")).to_be_visible()  # waiting for the worker
    _screenshot(page, "import-job-pending")

    import_job_check(job_id=enqueued[0])  # what the worker does; the page polls every second
    expect(progress.locator("#import-confirm")).to_be_visible(timeout=10_000)
    expect(progress.locator("#import-counts")).to_contain_text(SHEET_HOUSEHOLDS)
    expect(progress.locator("#import-counts tbody tr").first).to_contain_text("5")
    expect(progress).not_to_have_attribute("hx-trigger", re.compile("every"))
    assert not Household.objects.filter(building=org.building1, room="201").exists()  # the check wrote nothing
    _screenshot(page, "import-job-dry-run")

    progress.locator("#import-confirm").click()
    page.wait_for_url("**/imports/*/")
    expect(progress.locator(".badge.text-bg-secondary")).to_be_visible()  # confirmed, waiting to be written
    import_job_apply(job_id=enqueued[0])
    expect(progress.locator(".badge.text-bg-success")).to_be_visible(timeout=10_000)
    expect(progress.locator("#import-complete")).to_be_visible()  # "全部数据均已写入": nothing was left unread
    assert Household.objects.filter(building=org.building1, room__in=["201", "601"]).count() == 2
    assert Household.objects.get(pk=org.household1.pk).phone == "13900000002"
    _screenshot(page, "import-job-succeeded")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _screenshot(page, "import-job-succeeded-phone")
    page.set_viewport_size({"width": 1366, "height": 900})

    progress.locator("#import-undo").click()
    page.wait_for_url("**/imports/*/")
    import_job_undo(job_id=enqueued[0])
    expect(page.locator("#import-undone")).to_be_visible(timeout=10_000)
    assert not Household.objects.filter(building=org.building1, room="201").exists()
    assert Household.objects.get(pk=org.household1.pk).phone == "13800000001"
    _screenshot(page, "import-job-undone")


@pytest.mark.browser
def test_a_failed_import_shows_every_problem_in_a_table(org, live_server, page, password, tmp_path, enqueued):
    rows = [household_row(room=f"7{n:02d}", phone="12345") for n in range(30)]
    path = write_workbook(tmp_path / "有错误.xlsx", {SHEET_HOUSEHOLDS: rows})
    page.set_viewport_size({"width": 1366, "height": 900})
    _log_in(page, live_server, org.users.staff, password)
    page.goto(f"{live_server.url}{reverse('imports:index')}")
    page.set_input_files("main input[type=file]", path)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/imports/*/")
    import_job_check(job_id=enqueued[0])
    table = page.locator("#import-errors")
    expect(table.locator("tbody tr")).to_have_count(30, timeout=10_000)
    expect(table.locator("tbody tr").first).to_contain_text("联系电话")
    _screenshot(page, "import-job-failed")
    page.goto(f"{live_server.url}{reverse('imports:index')}")
    expect(page.locator("main table")).to_contain_text("有错误.xlsx")
    _screenshot(page, "import-index-with-jobs")


def test_an_upload_while_the_broker_is_down_answers_the_job_page_with_the_reason_not_a_500(
    org, login, good_file, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError as BrokerDown

    from grid import tasks

    def down(job_id):
        raise BrokerDown("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.import_check, "delay", down)
    client = login(org.users.staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("imports:index"), {"file": good_file()})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED and [e["code"] for e in job.errors] == ["queue_unavailable"]
    page = client.get(response["Location"])
    assert page.status_code == 200 and "hx-trigger" not in page.content.decode()  # no poll of a job that never runs


def test_an_undo_refused_for_rows_changed_since_answers_409_naming_them(org, login, tmp_path, enqueued):
    from grid.services import household_update

    path = write_workbook(tmp_path / "台账.xlsx", {SHEET_HOUSEHOLDS: [household_row(room="681")]})
    client = login(org.users.staff)
    client.post(reverse("imports:index"), {"file": SimpleUploadedFile("台账.xlsx", path.read_bytes())})
    job = ImportJob.objects.get()
    run_check_confirm_apply(job.pk)
    household_update(actor=None, household=Household.objects.get(room="681"), head_name="后来改的")
    response = client.post(reverse("imports:job-undo", kwargs={"pk": job.pk}))
    page = response.content.decode()
    assert response.status_code == 409 and 'id="undo-conflicts"' in page
    assert "阳光小区1号楼" in page and "681" in page and "党小组|" not in page  # the flat as people say it
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED


def test_someone_else_who_sees_the_job_cannot_confirm_it(org, login, staff_job, enqueued):
    import_job_check(job_id=staff_job.pk)
    client = login(org.users.admin)  # a system admin sees every job, but only the uploader confirms
    page = client.get(reverse("imports:job-detail", kwargs={"pk": staff_job.pk})).content.decode()
    assert 'id="import-confirm"' not in page
    response = client.post(reverse("imports:job-confirm", kwargs={"pk": staff_job.pk}))
    assert response.status_code == 302
    staff_job.refresh_from_db()
    assert staff_job.status == ImportJob.Status.READY


def test_a_job_stopped_for_a_reason_outside_the_workbook_does_not_ask_to_correct_it(org, login, staff_job):
    from grid.importing.problems import ImportProblem

    ImportJob.objects.filter(pk=staff_job.pk).update(
        status=ImportJob.Status.FAILED, errors=[ImportProblem(code="queue_unavailable").as_dict()]
    )
    page = login(org.users.staff).get(reverse("imports:job-detail", kwargs={"pk": staff_job.pk})).content.decode()
    assert 'id="job-failure"' in page and 'id="import-errors"' not in page
