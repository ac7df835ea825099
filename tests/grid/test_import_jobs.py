"""An import job: checked first (a dry run that writes nothing), written only when its uploader
confirms what the check showed, and undoable for a day by that person."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, RoleGrant
from core.errors import ZhubaoError
from core.models import AuditEvent
from grid.importing import (
    import_job_apply,
    import_job_check,
    import_job_confirm,
    import_job_create,
    progress_key,
    workbook_check,
    workbook_import,
)
from grid.importing.layout import HOUSEHOLDS, SHEET_GRIDS, SHEET_HOUSEHOLDS, SHEET_POSTS, SHEET_TREE
from grid.importing.undo import UndoConflict, import_job_undo, import_job_undo_request
from grid.models import Grid, GridPost, Household, ImportChange, ImportJob, OrgNode
from grid.services import household_update
from tests.grid.workbooks import (
    assert_tree_is_sound,
    grid_row,
    household_row,
    post_row,
    row_counts,
    tree_row,
)


def _upload(path, name="台账.xlsx"):
    return SimpleUploadedFile(name, path.read_bytes(), content_type="application/octet-stream")


def _checked(actor, path, callbacks=None) -> ImportJob:
    job = import_job_create(actor=actor, uploaded_file=_upload(path))
    import_job_check(job_id=job.pk)
    job.refresh_from_db()
    return job


def _applied(actor, path, django_capture_on_commit_callbacks) -> ImportJob:
    job = _checked(actor, path)
    assert job.status == ImportJob.Status.READY, job.errors
    with django_capture_on_commit_callbacks():
        import_job_confirm(actor=actor, job=job)
    import_job_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    return job


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    """Tasks are run by hand here: enqueueing records the call instead of reaching a broker."""
    sent = []
    import grid.tasks as tasks

    for name in ("import_check", "import_apply", "import_undo"):
        monkeypatch.setattr(getattr(tasks, name), "delay", lambda job_id, name=name: sent.append((name, job_id)))
    return sent


# --- the check writes nothing and says what the write will do --------------------------------------------


def test_the_check_writes_nothing_and_its_preview_counts_what_the_write_will_do(org, workbook, _no_broker):
    household_update(actor=None, household=org.household1, phone="13800000001")
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                household_row(room="101", hub="张建国中心户", phone="13900000002"),  # org.household1: phone changes
                household_row(room="601"),
                household_row(room="602"),
            ]
        }
    )
    before = row_counts()
    job = import_job_create(actor=org.users.staff, uploaded_file=_upload(path))
    assert job.status == ImportJob.Status.PENDING
    import_job_check(job_id=job.pk)
    job.refresh_from_db()
    assert row_counts() == before
    assert Household.objects.get(pk=org.household1.pk).phone == "13800000001"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.IMPORTED).exists()
    assert job.status == ImportJob.Status.READY and job.checked_at and job.total_rows == 3
    sheet = {entry["sheet"]: entry for entry in job.preview["sheets"]}[SHEET_HOUSEHOLDS]
    assert (sheet["created"], sheet["updated"], sheet["unchanged"], sheet["refused"]) == (2, 1, 0, 0)
    changed = job.preview["changed_sample"][0]
    assert changed["row"] == 2 and changed["address"] == "阳光小区1号楼1单元101室"  # as people say it
    assert {item["field"]: (item["before"], item["after"]) for item in changed["fields"]}["phone"] == (
        "138****0001",
        "139****0002",
    )  # the preview is kept on the job: phones masked
    assert job.preview["fingerprint"] and job.preview["complete"] is True
    assert cache.get(progress_key(job.pk))["phase"] == "trying"
    assert not ImportChange.objects.exists()


def test_a_check_with_errors_fails_lists_every_error_and_counts_refused_rows(org, workbook):
    path = workbook(
        {
            SHEET_HOUSEHOLDS: [
                household_row(room="701", phone="12"),
                household_row(room="702", is_care="?"),
                household_row(room="703"),
            ]
        }
    )
    before = row_counts()
    job = _checked(org.users.staff, path)
    assert job.status == ImportJob.Status.FAILED
    assert [(error["sheet"], error["row"], error["code"]) for error in job.errors] == [
        (SHEET_HOUSEHOLDS, 2, "phone_invalid"),
        (SHEET_HOUSEHOLDS, 3, "yes_no"),
    ]
    assert job.preview["sheets"] == [{"sheet": SHEET_HOUSEHOLDS, "rows": 3, "refused": 2}]
    assert row_counts() == before
    with pytest.raises(ZhubaoError):
        import_job_confirm(actor=org.users.staff, job=job)


def test_the_preview_names_the_posts_taken_and_the_grid_buildings_changed(org, workbook):
    org.grid1.posts.all().delete()
    GridPost.objects.create(grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    path = workbook(
        {
            SHEET_GRIDS: [grid_row(code=org.grid1.code, name=org.grid1.name, buildings="和平小区党支部/2号楼党小组")],
            SHEET_POSTS: [post_row(code=org.grid1.code, holder="cadre1")],
        }
    )
    job = _checked(org.users.staff, path)
    assert job.status == ImportJob.Status.READY, job.errors
    taken = job.preview["posts_taken"]["items"]
    assert [(item["row"], item["from_username"]) for item in taken] == [(2, "gridworker")]
    assert taken[0]["from"] == f"{org.users.gridworker.full_name}（gridworker）"  # named as people know them
    assert taken[0]["to"] == f"{org.users.cadre1.full_name}（cadre1）"
    [changed] = job.preview["grid_buildings"]["items"]
    assert changed["row"] == 2 and changed["after"] == ["和平小区2号楼"] and changed["before"] != changed["after"]
    assert changed["grid"] == f"{org.grid1.name}（{org.grid1.code}）"
    # Nothing happened yet: the holder keeps the post and its grant.
    assert GridPost.objects.get(grid=org.grid1).holder == org.users.gridworker


def test_the_preview_names_a_new_node_close_to_an_existing_one(org, workbook):
    path = workbook({SHEET_TREE: [tree_row(compound="阳光小区党支部", building="1号搂党小组")]})  # 搂 for 楼: a typo
    job = _checked(org.users.staff, path)
    assert job.status == ImportJob.Status.READY, job.errors
    [close] = job.preview["close_names"]["items"]
    assert close == {
        "sheet": SHEET_TREE,
        "row": 2,
        "path": "北苑社区 / 阳光小区党支部 / 1号搂党小组",
        "close_to": "1号楼党小组",
    }
    unrelated = _checked(
        org.users.staff, workbook({SHEET_TREE: [tree_row(compound="阳光小区党支部", building="12号楼党小组")]})
    )
    assert unrelated.preview["close_names"]["total"] == 0


# --- confirm, write, and the fingerprint ----------------------------------------------------------------


def test_only_the_uploader_confirms_and_the_write_then_matches_the_preview(
    org, workbook, django_capture_on_commit_callbacks, _no_broker
):
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room="601"), household_row(room="602")]})
    job = _checked(org.users.staff, path)
    with pytest.raises(ZhubaoError) as refused:
        import_job_confirm(actor=org.users.admin, job=job)
    assert refused.value.status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        import_job_confirm(actor=org.users.staff, job=job)
    assert ("import_apply", job.pk) in _no_broker
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CONFIRMED
    with pytest.raises(ZhubaoError):
        import_job_confirm(actor=org.users.staff, job=job)  # twice: refused
    import_job_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and job.applied_at
    assert Household.objects.filter(building=org.building1, room__in=["601", "602"]).count() == 2
    assert job.changes.count() == 2 and job.summary["changes"] == 2
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORTED)
    assert event.user == org.users.staff and event.object_id == str(job.pk)


def test_a_write_whose_data_changed_since_the_check_writes_nothing_and_asks_again(
    org, workbook, django_capture_on_commit_callbacks
):
    household_update(actor=None, household=org.household1, phone="13800000001")
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room="101", hub="张建国中心户", phone="13900000002")]})
    job = _checked(org.users.staff, path)
    with django_capture_on_commit_callbacks():
        import_job_confirm(actor=org.users.staff, job=job)
    household_update(actor=None, household=Household.objects.get(pk=org.household1.pk), phone="13700000003")
    import_job_apply(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY and job.preview["changed_since_check"] is True
    assert Household.objects.get(pk=org.household1.pk).phone == "13700000003"
    assert not ImportChange.objects.exists()


def test_a_broker_that_does_not_answer_fails_the_upload_with_a_message_instead_of_waiting_for_ever(
    org, workbook, monkeypatch, django_capture_on_commit_callbacks
):
    import grid.tasks as tasks

    def down(job_id):
        raise OSError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(tasks.import_check, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            actor=org.users.staff, uploaded_file=_upload(workbook({SHEET_HOUSEHOLDS: [household_row()]}))
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert [error["code"] for error in job.errors] == ["queue_unavailable"]


def test_an_unexpected_error_fails_the_check_and_is_raised_for_the_log(org, workbook, monkeypatch):
    import grid.importing as importing

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(importing, "apply_plan", broken)
    job = import_job_create(
        actor=org.users.staff, uploaded_file=_upload(workbook({SHEET_HOUSEHOLDS: [household_row()]}))
    )
    with pytest.raises(RuntimeError):
        import_job_check(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and [error["code"] for error in job.errors] == ["unexpected"]


def test_a_transient_database_error_puts_the_check_back_for_a_retry(org, workbook, monkeypatch):
    from django.db import OperationalError

    import grid.importing as importing

    def flaky(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(importing, "apply_plan", flaky)
    job = import_job_create(
        actor=org.users.staff, uploaded_file=_upload(workbook({SHEET_HOUSEHOLDS: [household_row()]}))
    )
    with pytest.raises(OperationalError):
        import_job_check(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.PENDING
    monkeypatch.undo()
    import_job_check(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY


def test_the_last_attempt_gives_up_with_a_message(org, workbook, monkeypatch):
    from django.db import OperationalError

    import grid.importing as importing

    def unavailable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(importing, "apply_plan", unavailable)
    job = import_job_create(
        actor=org.users.staff, uploaded_file=_upload(workbook({SHEET_HOUSEHOLDS: [household_row()]}))
    )
    with pytest.raises(OperationalError):
        import_job_check(job_id=job.pk, last_attempt=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and [error["code"] for error in job.errors] == ["database_unavailable"]


def test_the_task_retries_then_fails_the_job(org, workbook, monkeypatch):
    from django.db import OperationalError

    import grid.importing as importing
    from grid.tasks import import_check

    def unavailable(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(importing, "apply_plan", unavailable)
    job = import_job_create(
        actor=org.users.staff, uploaded_file=_upload(workbook({SHEET_HOUSEHOLDS: [household_row()]}))
    )
    try:
        result = import_check.apply(args=[job.pk])
    except OperationalError:
        result = None
    assert result is None or result.failed()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


def test_a_finished_check_is_not_run_again(org, workbook):
    job = _checked(org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="801")]}))
    checked_at = job.checked_at
    import_job_check(job_id=job.pk)
    job.refresh_from_db()
    assert job.checked_at == checked_at and job.status == ImportJob.Status.READY


# --- undo ----------------------------------------------------------------------------------------------


def test_undo_puts_back_every_household_node_grid_and_post_and_the_grants(
    org, workbook, django_capture_on_commit_callbacks
):
    org.grid1.posts.all().delete()
    GridPost.objects.create(grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    RoleGrant.objects.get_or_create(user=org.users.gridworker, role=Role.GRID_WORKER, grid=org.grid1)
    household_update(actor=None, household=org.household1, phone="13800000001", resident_count=3)
    stored_buildings = set(org.grid1.buildings.values_list("pk", flat=True))
    before = row_counts()
    del before["grants"]  # a revoked grant stays as a row: the active ones are compared below
    grants = set(RoleGrant.objects.active().values_list("user_id", "role", "grid_id", "org_node_id"))
    path = workbook(
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="9号楼党小组")],
            SHEET_HOUSEHOLDS: [
                household_row(room="101", hub="张建国中心户", phone="13900000002", resident_count=5),
                household_row(building="9号楼党小组", room="901"),
            ],
            SHEET_GRIDS: [
                grid_row(code=org.grid1.code, name="改名网格", buildings="阳光小区党支部/9号楼党小组"),
                grid_row(code="77", name="新网格", buildings=""),
            ],
            SHEET_POSTS: [
                post_row(code=org.grid1.code, holder="cadre1"),
                post_row(code="77", title="楼栋长", post_type="B"),
            ],
        }
    )
    job = _applied(org.users.staff, path, django_capture_on_commit_callbacks)
    assert Household.objects.get(pk=org.household1.pk).phone == "13900000002"
    assert GridPost.objects.get(grid=org.grid1).holder == org.users.cadre1
    with django_capture_on_commit_callbacks():
        import_job_undo_request(actor=org.users.staff, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDO_QUEUED
    import_job_undo(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE and job.undone_at
    undone = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT_UNDONE)
    assert undone.user == org.users.staff and undone.object_id == str(job.pk) and undone.detail["household"] == 2
    after = row_counts()
    del after["grants"]
    assert after == before
    assert set(RoleGrant.objects.active().values_list("user_id", "role", "grid_id", "org_node_id")) == grants
    household = Household.objects.get(pk=org.household1.pk)
    assert (household.phone, household.resident_count) == ("13800000001", 3)
    grid = Grid.objects.get(pk=org.grid1.pk)
    assert grid.name == org.grid1.name and set(grid.buildings.values_list("pk", flat=True)) == stored_buildings
    assert GridPost.objects.get(grid=org.grid1).holder == org.users.gridworker
    assert RoleGrant.objects.active().filter(user=org.users.gridworker, role=Role.GRID_WORKER, grid=org.grid1).exists()
    assert not RoleGrant.objects.active().filter(user=org.users.cadre1, role=Role.GRID_WORKER, grid=org.grid1).exists()
    assert not OrgNode.objects.filter(name="9号楼党小组", tree_id=org.community.tree_id).exists()
    assert not Grid.objects.filter(code="77").exists()
    assert_tree_is_sound(org.community.tree_id)


def test_undo_is_refused_whole_when_a_row_it_wrote_was_changed_since(org, workbook, django_capture_on_commit_callbacks):
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room="601"), household_row(room="602")]})
    job = _applied(org.users.staff, path, django_capture_on_commit_callbacks)
    edited = Household.objects.get(building=org.building1, room="602")
    household_update(actor=None, household=edited, head_name="后来改的")
    with pytest.raises(UndoConflict) as refused:
        import_job_undo_request(actor=org.users.staff, job=job)
    assert [(item["row"], item["reason"]) for item in refused.value.conflicts] == [(3, "changed")]
    assert Household.objects.filter(building=org.building1, room__in=["601", "602"]).count() == 2
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED


def test_undo_is_only_for_the_uploader_and_within_a_day(org, workbook, django_capture_on_commit_callbacks):
    job = _applied(
        org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}), django_capture_on_commit_callbacks
    )
    with pytest.raises(ZhubaoError):
        import_job_undo_request(actor=org.users.admin, job=job)
    ImportJob.objects.filter(pk=job.pk).update(applied_at=timezone.now() - timedelta(hours=25))
    job.refresh_from_db()
    with pytest.raises(ZhubaoError) as late:
        import_job_undo_request(actor=org.users.staff, job=job)
    assert "24" in late.value.message
    assert Household.objects.filter(building=org.building1, room="601").exists()


def test_a_conflict_found_by_the_undo_task_leaves_the_import_and_says_why(
    org, workbook, django_capture_on_commit_callbacks
):
    job = _applied(
        org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}), django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks():
        import_job_undo_request(actor=org.users.staff, job=job)
    household_update(actor=None, household=Household.objects.get(building=org.building1, room="601"), head_name="抢先")
    import_job_undo(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.summary["undo_refused_total"] == 1 and [e["code"] for e in job.errors] == ["undo_conflict"]
    assert Household.objects.get(building=org.building1, room="601").head_name == "抢先"


def test_the_dry_run_of_20_rows_is_the_write(org, workbook):
    """The check and the write run the same code: the check's counts are the write's."""
    path = workbook({SHEET_HOUSEHOLDS: [household_row(room=f"3{n:02d}") for n in range(20)]})
    outcome = workbook_check(actor=org.users.staff, source=path)
    assert outcome.ok and outcome.preview["changes"] == 20
    assert not Household.objects.filter(building=org.building1, room="300").exists()


def test_a_task_delivered_again_after_its_worker_died_fails_the_job_instead_of_running_it_again(org, workbook):
    job = import_job_create(
        actor=org.users.staff, uploaded_file=_upload(workbook({SHEET_HOUSEHOLDS: [household_row()]}))
    )
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.CHECKING, started_at=timezone.now())
    before = row_counts()
    import_job_check(job_id=job.pk)  # what acks_late delivers again after the worker died
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and [error["code"] for error in job.errors] == ["worker_lost"]
    assert row_counts() == before


def test_a_confirmed_job_counts_its_wait_from_the_confirmation(org, workbook, django_capture_on_commit_callbacks):
    job = _checked(org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}))
    ImportJob.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(hours=3))
    job.refresh_from_db()
    with django_capture_on_commit_callbacks():
        import_job_confirm(actor=org.users.staff, job=job)
    job.refresh_from_db()
    assert timezone.now() - job.started_at < timedelta(minutes=1)


def test_everything_was_written_is_said_only_when_no_data_was_left_unread(org, workbook):
    plain = _checked(org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}))
    assert plain.preview["complete"] is True  # the export's 地址 column holds no data of its own
    headers = {SHEET_HOUSEHOLDS: [*HOUSEHOLDS.headers, "备注"]}
    extra = _checked(org.users.staff, workbook({SHEET_HOUSEHOLDS: [[*household_row(room="602"), "腿脚不便"]]}, headers))
    assert extra.preview["complete"] is False
    assert [(column["header"], column["reason"]) for column in extra.preview["not_read"]["columns"]][-1] == (
        "备注",
        "unknown_header",
    )


def test_a_file_name_loses_its_bidi_overrides_and_control_characters(org, workbook):
    path = workbook({SHEET_HOUSEHOLDS: [household_row()]})
    job = import_job_create(actor=org.users.staff, uploaded_file=_upload(path, name="台账\u202exslx.xlsx\x0b"[:-1]))
    assert job.original_name == "台账xslx.xlsx"


def test_the_template_uploaded_unchanged_writes_nothing_and_says_its_rows_are_only_examples(org):
    from grid.exporting import TEMPLATE_PATH

    before = row_counts()
    job = _checked(org.users.staff, TEMPLATE_PATH)
    assert job.status == ImportJob.Status.FAILED
    assert [error["code"] for error in job.errors] == ["only_examples"]
    assert "示例社区" in job.errors[0]["message"]
    assert row_counts() == before


def test_a_confirmation_the_queue_does_not_take_goes_back_to_ready_and_says_so(
    org, workbook, monkeypatch, django_capture_on_commit_callbacks, login
):
    import grid.tasks as tasks

    job = _checked(org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}))

    def down(job_id):
        raise OSError("Connection refused")

    monkeypatch.setattr(tasks.import_apply, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        import_job_confirm(actor=org.users.staff, job=job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.READY and [e["code"] for e in job.errors] == ["queue_unavailable"]
    page = login(org.users.staff).get(reverse("imports:job-detail", kwargs={"pk": job.pk})).content.decode()
    assert 'id="step-error"' in page and 'id="import-confirm"' in page


def test_an_import_that_linked_households_to_a_hub_it_created_can_be_undone(
    org, workbook, django_capture_on_commit_callbacks
):
    path = workbook(
        {
            SHEET_TREE: [tree_row(compound="阳光小区党支部", building="1号楼党小组", hub="新建中心户")],
            SHEET_HOUSEHOLDS: [household_row(room="101", hub="新建中心户")],  # org.household1 joins the new hub
        }
    )
    hub_before = Household.objects.get(pk=org.household1.pk).hub_id
    job = _applied(org.users.staff, path, django_capture_on_commit_callbacks)
    assert Household.objects.get(pk=org.household1.pk).hub.name == "新建中心户"
    with django_capture_on_commit_callbacks():
        import_job_undo_request(actor=org.users.staff, job=job)
    import_job_undo(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE, job.summary.get("undo_refused")
    assert Household.objects.get(pk=org.household1.pk).hub_id == hub_before
    assert not OrgNode.objects.filter(name="新建中心户").exists()


def test_a_node_something_else_now_holds_refuses_the_undo_instead_of_failing_it(
    org, workbook, django_capture_on_commit_callbacks
):
    from liaison.services import work_group_create, work_team_create

    job = _applied(
        org.users.staff,
        workbook({SHEET_TREE: [tree_row(compound="新建小区党支部")]}),
        django_capture_on_commit_callbacks,
    )
    compound = OrgNode.objects.get(name="新建小区党支部")
    team = work_team_create(actor=org.users.admin, bureau_name="市住建局", name="工作队", community=org.community)
    work_group_create(actor=org.users.admin, team=team, name="第一组", compound=compound)  # holds it (PROTECT)
    with django_capture_on_commit_callbacks():
        import_job_undo_request(actor=org.users.staff, job=job)
    import_job_undo(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and [e["code"] for e in job.errors] == ["undo_conflict"]
    assert [(item["row"], item["reason"]) for item in job.summary["undo_refused"]] == [(2, "in_use")]
    assert OrgNode.objects.filter(pk=compound.pk).exists()


def test_a_write_a_service_refuses_says_why_instead_of_data_changed(org, workbook, monkeypatch):
    import grid.importing.apply as apply_module

    def refuse(**kwargs):
        raise ZhubaoError("permission_denied", "此人还在其他社区工作，不能由您撤销其授权。")

    monkeypatch.setattr(apply_module, "grid_post_vacate", refuse)
    org.grid1.posts.all().delete()
    GridPost.objects.create(grid=org.grid1, post_type="A", title="专职网格员", holder=org.users.gridworker)
    outcome = workbook_import(
        actor=org.users.staff, source=workbook({SHEET_POSTS: [post_row(code=org.grid1.code, holder="cadre1")]})
    )
    assert [problem.code for problem in outcome.problems] == ["refused"]
    assert "此人还在其他社区工作" in outcome.problems[0].message()
    assert GridPost.objects.get(grid=org.grid1).holder == org.users.gridworker


def test_a_confirmed_job_is_not_called_stalled_as_soon_as_it_is_queued(
    org, workbook, login, django_capture_on_commit_callbacks
):
    job = _checked(org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}))
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(minutes=5))
    job.refresh_from_db()
    with django_capture_on_commit_callbacks():
        import_job_confirm(actor=org.users.staff, job=job)
    page = login(org.users.staff).get(reverse("imports:job-detail", kwargs={"pk": job.pk})).content.decode()
    assert "alert-warning" not in page


def test_an_undo_that_breaks_says_the_undo_stopped_not_the_import(
    org, workbook, monkeypatch, django_capture_on_commit_callbacks
):
    import grid.importing.undo as undo_module

    job = _applied(
        org.users.staff, workbook({SHEET_HOUSEHOLDS: [household_row(room="601")]}), django_capture_on_commit_callbacks
    )
    with django_capture_on_commit_callbacks():
        import_job_undo_request(actor=org.users.staff, job=job)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(undo_module, "_undo_households", broken)
    with pytest.raises(RuntimeError):
        import_job_undo(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and [e["code"] for e in job.errors] == ["undo_unexpected"]
