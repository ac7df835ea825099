"""The pairing ledger's pages: upload, the job page with the check's preview, confirm, progress polled with
htmx, the template and the export; only the uploader confirms, strangers get 404."""

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.models import ExportJob
from liaison.ledger import jobs
from liaison.ledger.exporting import PAIRING_LEDGER
from liaison.ledger.jobs import ledger_import_check
from liaison.ledger.models import LedgerImportJob
from liaison.models import Pairing
from tests.liaison.ledger_helpers import checked, ledger_file, ledger_world, upload  # noqa: F401

Status = LedgerImportJob.Status
NEW_ROW = ["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]


@pytest.fixture
def enqueued(monkeypatch):
    """Tasks are not sent to a broker: the ids they would carry are collected."""
    from liaison import tasks

    sent = []
    for name in ("ledger_import_check", "ledger_import_apply"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda job_id, name=name: sent.append((name, job_id)))
    return sent


def test_uploading_a_ledger_makes_a_job_whose_page_polls_until_the_check_is_done(
    ledger, login, enqueued, django_capture_on_commit_callbacks
):
    path = ledger_file(ledger.tmp / "new.xlsx", [NEW_ROW])
    client = login(ledger.users.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledger:index"), {"team": ledger.team.pk, "file": upload(path)})
    job = LedgerImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("ledger:job-detail", kwargs={"pk": job.pk})
    assert enqueued == [("ledger_import_check", job.pk)]

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert reverse("ledger:job-progress", kwargs={"pk": job.pk}) in page.content.decode()  # hx-get, every second

    ledger_import_check(job_id=job.pk)
    partial = client.get(reverse("ledger:job-progress", kwargs={"pk": job.pk})).content.decode()
    assert "hx-get" not in partial
    assert "阳光小区3号楼" in partial
    assert 'id="import-confirm"' in partial


def test_the_uploader_confirms_through_the_page_and_the_write_is_enqueued(
    ledger, login, enqueued, django_capture_on_commit_callbacks
):
    job = checked(ledger.users.leader, ledger.team, ledger_file(ledger.tmp / "new.xlsx", [NEW_ROW]))
    client = login(ledger.users.leader)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ledger:job-confirm", kwargs={"pk": job.pk}))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CONFIRMED
    assert enqueued == [("ledger_import_apply", job.pk)]
    jobs.ledger_import_apply(job_id=job.pk)
    assert Pairing.objects.filter(cadre=ledger.users.cadre1, node=ledger.building3).exists()
    assert "导入已写入" in client.get(reverse("ledger:job-detail", kwargs={"pk": job.pk})).content.decode()


def test_another_keeper_of_the_team_sees_the_check_but_cannot_confirm_it(ledger, login, enqueued):
    job = checked(ledger.users.leader, ledger.team, ledger_file(ledger.tmp / "new.xlsx", [NEW_ROW]))
    client = login(ledger.users.admin)
    page = client.get(reverse("ledger:job-detail", kwargs={"pk": job.pk})).content.decode()
    assert 'id="import-confirm"' not in page
    assert "只有上传这份台账的人才能确认导入" in page
    client.post(reverse("ledger:job-confirm", kwargs={"pk": job.pk}))
    job.refresh_from_db()
    assert job.status == Status.READY
    assert enqueued == []


@pytest.mark.parametrize("who", ["nobody", "cadre1", "cadre2", "staff", "other_staff"])
def test_a_stranger_gets_404_on_the_job_pages(ledger, login, who):
    job = checked(ledger.users.leader, ledger.team, ledger_file(ledger.tmp / "new.xlsx", [NEW_ROW]))
    client = login(getattr(ledger.users, who))
    for name in ("ledger:job-detail", "ledger:job-progress"):
        assert client.get(reverse(name, kwargs={"pk": job.pk})).status_code == 404
    assert client.post(reverse("ledger:job-confirm", kwargs={"pk": job.pk})).status_code == 404
    job.refresh_from_db()
    assert job.status == Status.READY


def test_the_errors_are_shown_by_sheet_row_and_column(ledger, login):
    bad = ["第一工作组", "赵无名", "阳光小区3号楼", "", "2026-03-01", ""]
    job = checked(ledger.users.leader, ledger.team, ledger_file(ledger.tmp / "bad.xlsx", [bad]))
    page = login(ledger.users.leader).get(reverse("ledger:job-detail", kwargs={"pk": job.pk})).content.decode()
    assert 'id="import-errors"' in page
    assert "包联台账" in page and "包联干部" in page and "赵无名" in page


def test_only_keepers_of_a_team_may_upload(ledger, login):
    path = ledger_file(ledger.tmp / "new.xlsx", [NEW_ROW])
    assert login(ledger.users.staff).get(reverse("ledger:index")).status_code == 404
    response = login(ledger.users.staff).post(reverse("ledger:index"), {"team": ledger.team.pk, "file": upload(path)})
    assert response.status_code == 404
    assert not LedgerImportJob.objects.exists()


def test_the_template_downloads_with_its_example_rows(ledger, login):
    response = login(ledger.users.leader).get(reverse("ledger:template"))
    assert response.status_code == 200
    path = ledger.tmp / "template.xlsx"
    path.write_bytes(b"".join(response.streaming_content))
    sheet = load_workbook(path)["包联台账"]
    assert [cell.value for cell in sheet[1]] == ["工作组", "包联干部", "楼栋", "居民户", "起始日期", "结束日期"]
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {"示例工作组"}
    assert "不再包联的第一天" in sheet["F1"].comment.text


def test_the_export_page_starts_a_background_export_of_the_team(ledger, login, monkeypatch):
    monkeypatch.setattr("core.tasks.export_run.delay", lambda job_id: None)
    client = login(ledger.users.leader)
    assert client.get(reverse("ledger:export") + f"?team={ledger.team.pk}").status_code == 200
    response = client.post(reverse("ledger:export"), {"team": ledger.team.pk, "on": "2026-07-01"})
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("exports:job-detail", kwargs={"pk": job.pk})
    assert (job.kind, job.params) == (PAIRING_LEDGER, {"team": ledger.team.pk, "on": "2026-07-01"})


def test_a_user_outside_the_team_cannot_export_its_ledger(ledger, login):
    client = login(ledger.users.other_staff)
    assert client.get(reverse("ledger:export")).status_code == 404
    assert client.post(reverse("ledger:export"), {"team": ledger.team.pk}).status_code == 404
    assert not ExportJob.objects.exists()


def test_the_job_page_costs_a_bounded_number_of_queries(ledger, login, django_assert_max_num_queries):
    rows = [
        ["第一工作组", "cadre1", "阳光小区3号楼", "", f"2026-03-{d:02d}", f"2026-03-{d + 1:02d}"] for d in range(1, 26)
    ]
    job = checked(ledger.users.leader, ledger.team, ledger_file(ledger.tmp / "many.xlsx", rows))
    client = login(ledger.users.leader)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("ledger:job-detail", kwargs={"pk": job.pk})).status_code == 200
