"""The team leader imports the pairing ledger on a desktop: upload, see the check's preview (nothing written
yet), confirm, see the write done; the new pairing is there."""

import os
import threading
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import expect

from liaison import tasks
from liaison.ledger import jobs
from liaison.models import Pairing
from tests.liaison.ledger_helpers import ledger_file, ledger_world  # noqa: F401

from .conftest import DESKTOP, log_in

pytestmark = pytest.mark.browser


def screenshot(page, name):
    folder = os.environ.get("ZHUBAO_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name), full_page=True)


@pytest.fixture
def background_worker(monkeypatch):
    """The check and the write run in a thread of this process, as a worker would."""
    threads = []

    def runner(body):
        def delay(job_id):
            def run():
                try:
                    body(job_id=job_id)
                finally:
                    connection.close()

            thread = threading.Thread(target=run, daemon=True)
            thread.start()
            threads.append(thread)

        return delay

    monkeypatch.setattr(tasks.ledger_import_check, "delay", runner(jobs.ledger_import_check))
    monkeypatch.setattr(tasks.ledger_import_apply, "delay", runner(jobs.ledger_import_apply))
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def test_the_team_leader_uploads_a_ledger_sees_the_check_and_confirms_it(
    ledger, live_server, page, password, background_worker
):
    path = ledger_file(
        ledger.tmp / "包联台账.xlsx",
        [
            ["第一工作组", "王一（cadre1）", "阳光小区3号楼", "", "2026-03-01", ""],
            ["第一工作组", "王一（cadre1）", "阳光小区1号楼", "", "2026-02-01", "2026-09-01"],
            ["第二工作组", "李二（cadre2）", "和平小区2号楼", "", "2026-02-01", "2026-06-01"],
        ],
    )
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, ledger.users.leader.username, password)
    page.goto(f"{live_server.url}/pairing/ledger/?team={ledger.team.pk}")
    screenshot(page, "ledger-upload.png")
    page.set_input_files("#id_file", str(path))
    page.locator("#ledger-upload").click()
    page.wait_for_url("**/pairing/ledger/*/")

    # The check runs in the background; the page polls it and then shows the plan, nothing written yet.
    expect(page.locator("#ledger-creates")).to_contain_text("阳光小区3号楼", timeout=15_000)
    expect(page.locator("#ledger-ends")).to_contain_text("2026-09-01")
    expect(page.locator("#ledger-counts")).to_contain_text("1 行不变")
    assert not Pairing.objects.filter(node=ledger.building3).exists()
    screenshot(page, "ledger-preview.png")

    page.locator("#import-confirm").click()
    expect(page.locator("#import-complete")).to_be_visible(timeout=15_000)
    screenshot(page, "ledger-written.png")
    assert Pairing.objects.filter(cadre=ledger.users.cadre1, node=ledger.building3, ends_on=None).exists()
    ledger.pairings.building1.refresh_from_db()
    assert str(ledger.pairings.building1.ends_on) == "2026-09-01"


def test_a_ledger_with_a_bad_cell_shows_where_and_writes_nothing(
    ledger, live_server, page, password, background_worker
):
    path = ledger_file(ledger.tmp / "错误.xlsx", [["第一工作组", "赵无名", "火星1号楼", "", "01/03/2026", ""]])
    before = Pairing.objects.count()
    page.set_viewport_size(DESKTOP)
    log_in(page, live_server, ledger.users.leader.username, password)
    page.goto(f"{live_server.url}/pairing/ledger/?team={ledger.team.pk}")
    page.set_input_files("#id_file", str(path))
    page.locator("#ledger-upload").click()
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("赵无名", timeout=15_000)
    expect(errors).to_contain_text("火星1号楼")
    expect(errors).to_contain_text("起始日期")
    screenshot(page, "ledger-errors.png")
    assert Pairing.objects.count() == before
