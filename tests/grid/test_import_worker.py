"""An upload checked, written and undone by a real Celery worker on the real broker (Redis), end to end.

Skipped without REDIS_URL (CI sets it). The task goes to a queue of its own, so a worker
of another test run on the same Redis cannot take it.
"""

import os
import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from grid import tasks
from grid.importing import progress_key
from grid.importing.layout import SHEET_HOUSEHOLDS, SHEET_TREE
from grid.models import Household, ImportJob, OrgNode
from tests.grid.workbooks import ensure_default_tags, household_row, tree_row, write_workbook
from zhubao.celery import app

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs the Redis broker (REDIS_URL)"),
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 60


@pytest.fixture
def worker_queue(monkeypatch):
    queue = f"test-imports-{uuid.uuid4().hex[:12]}"
    for name in ("import_check", "import_apply", "import_undo"):
        task = getattr(tasks, name)
        monkeypatch.setattr(task, "delay", lambda job_id, task=task: task.apply_async((job_id,), queue=queue))
    with start_worker(app, perform_ping_check=False, queues=[queue], shutdown_timeout=30):
        yield queue


def wait_until_finished(job_id: int) -> ImportJob:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in ImportJob.FINISHED_STATUSES:
            return job
        time.sleep(0.2)
    return ImportJob.objects.get(pk=job_id)


def test_an_upload_is_imported_by_a_real_worker(org, login, tmp_path, worker_queue):
    ensure_default_tags()
    path = write_workbook(
        tmp_path / "台账.xlsx",
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="3号楼党小组")],
            SHEET_HOUSEHOLDS: [
                household_row(building="3号楼党小组", room=f"{n}01", tags="独居老人") for n in range(1, 6)
            ],
        },
    )
    client = login(org.users.staff)
    response = client.post(reverse("imports:index"), {"file": SimpleUploadedFile("台账.xlsx", path.read_bytes())})
    assert response.status_code == 302
    job = wait_until_finished(ImportJob.objects.get().pk)
    assert job.status == ImportJob.Status.READY, job.errors  # the check wrote nothing
    assert not OrgNode.objects.filter(name="3号楼党小组").exists()
    assert client.post(reverse("imports:job-confirm", kwargs={"pk": job.pk})).status_code == 302
    job = wait_until_finished(job.pk)
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    building = OrgNode.objects.get(name="3号楼党小组", parent=org.compound1)
    households = Household.objects.filter(building=building, compound=org.compound1, community=org.community)
    assert households.count() == 5
    assert households.filter(tags__name="独居老人").count() == 5
    assert cache.get(progress_key(job.pk))["phase"] == "writing"
    page = client.get(reverse("imports:job-progress", kwargs={"pk": job.pk})).content.decode()
    assert "hx-trigger" not in page and SHEET_HOUSEHOLDS in page
    assert client.post(reverse("imports:job-undo", kwargs={"pk": job.pk})).status_code == 302
    job = wait_until_finished(job.pk)
    assert job.status == ImportJob.Status.UNDONE, job.errors
    assert not OrgNode.objects.filter(name="3号楼党小组").exists() and not households.exists()


def test_a_workbook_with_errors_fails_in_the_worker_without_retrying(org, login, tmp_path, worker_queue):
    path = write_workbook(tmp_path / "错.xlsx", {SHEET_HOUSEHOLDS: [household_row(room="991", phone="1")]})
    client = login(org.users.staff)
    client.post(reverse("imports:index"), {"file": SimpleUploadedFile("错.xlsx", path.read_bytes())})
    job = wait_until_finished(ImportJob.objects.get().pk)
    assert job.status == ImportJob.Status.FAILED
    assert [(error["row"], error["column"]) for error in job.errors] == [(2, "联系电话")]
    assert not Household.objects.filter(room="991").exists()
