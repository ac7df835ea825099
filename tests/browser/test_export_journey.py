"""Community staff export the workbook on a phone: start, watch the progress, download; nobody else can."""

import io
import threading
import time
from dataclasses import replace

import pytest
from django.db import connection
from openpyxl import load_workbook
from playwright.sync_api import expect

from core import exports
from core.models import AuditEvent, ExportJob
from core.tasks import export_run
from grid.exporting import GRID_WORKBOOK
from grid.importing.layout import SHEET_HOUSEHOLDS

from .conftest import log_in, no_sideways_scroll

pytestmark = pytest.mark.browser

PHASE_SECONDS = 0.7  # each phase of the export lasts this long, so the page shows the progress


@pytest.fixture
def background_worker(monkeypatch):
    """The task runs in a thread of this process, as a worker would (the real broker is tested in
    tests/core/test_exports.py), with each phase slowed down so that the progress can be seen."""
    entry = exports.export_kind(GRID_WORKBOOK)

    class SlowProgress:
        def __init__(self, progress):
            self.progress = progress

        def phase(self, *args, **kwargs):
            self.progress.phase(*args, **kwargs)
            time.sleep(PHASE_SECONDS)

        def advance(self, count=1):
            self.progress.advance(count)

    def slow_write(job, user, progress):
        return entry.write(job, user, SlowProgress(progress))

    monkeypatch.setitem(exports._KINDS, GRID_WORKBOOK, replace(entry, write=slow_write))
    threads = []

    def run(job_id):
        try:
            export_run.apply(args=(job_id,))
        finally:
            connection.close()

    def delay(job_id):
        thread = threading.Thread(target=run, args=(job_id,), daemon=True)
        thread.start()
        threads.append(thread)

    monkeypatch.setattr(export_run, "delay", delay)
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def test_staff_export_in_the_background_and_only_they_can_download_it(
    org, live_server, page, browser, browser_context_args, password, background_worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    log_in(page, live_server, org.users.staff.username, password)
    page.goto(f"{live_server.url}/imports/")
    page.locator("#export-start").click()  # the import page's button starts the job (POST)
    page.wait_for_url("**/exports/*/")
    job = ExportJob.objects.get()
    assert job.created_by == org.users.staff

    # The page polls the progress (htmx) and then offers the file.
    expect(page.get_by_test_id("export-phase")).to_contain_text(SHEET_HOUSEHOLDS, timeout=15_000)
    download_link = page.get_by_test_id("export-download")
    expect(download_link).to_be_visible(timeout=20_000)
    assert no_sideways_scroll(page)
    page.screenshot(path="/tmp/shots/export-ready.png", full_page=True)
    with page.expect_download() as downloading:
        download_link.click()
    download = downloading.value
    assert download.suggested_filename.startswith("zhubao-export-") and download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as handle:  # the saved file has no .xlsx suffix, which openpyxl wants
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    households = list(workbook[SHEET_HOUSEHOLDS].iter_rows(min_row=2, values_only=True))
    assert len(households) == 2
    exported = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORTED)
    assert list(exported.values_list("user__username", "object_id")) == [("staff", str(job.pk))]

    # Someone else, even the system admin, gets 404 for the job page and for its file.
    other = browser.new_context(**browser_context_args)
    try:
        other_page = other.new_page()
        log_in(other_page, live_server, org.users.admin.username, password)
        job_url = f"{live_server.url}/exports/{job.pk}/"
        assert other.request.get(job_url).status == 404
        assert other.request.get(f"{job_url}progress/").status == 404
        assert other.request.get(f"{job_url}download/").status == 404
    finally:
        other.close()
    assert exported.count() == 1
