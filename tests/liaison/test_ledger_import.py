"""The pairing ledger imported: checked first (nothing written), written through liaison.services only when
the uploader confirms the plan the check showed, every bad cell reported by sheet, row and column in Chinese."""

from datetime import date

import pytest
from django.utils import translation

from accounts.models import User
from core.errors import ZhubaoError
from liaison.access import ledger_import_refusal
from liaison.ledger.exporting import ledger_write, template_write
from liaison.ledger.jobs import ledger_check, ledger_import_apply, ledger_import_confirm, ledger_import_create
from liaison.ledger.models import LedgerImportJob
from liaison.models import Pairing, PairingTier
from liaison.services import pairing_create
from tests.liaison.ledger_helpers import applied, checked, ledger_file, ledger_world, upload  # noqa: F401

Status = LedgerImportJob.Status


def _pairings():
    return list(
        Pairing.objects.order_by("pk").values_list("pk", "cadre_id", "node_id", "household_id", "starts_on", "ends_on")
    )


def test_an_exported_ledger_imports_back_without_writing_anything(ledger):
    path = ledger.tmp / "export.xlsx"
    with path.open("wb") as target:
        ledger_write(user=ledger.users.leader, team=ledger.team, target=target)
    before = _pairings()

    job = checked(ledger.users.leader, ledger.team, path)

    assert job.status == Status.READY, job.errors
    assert (job.preview["create"], job.preview["end"], job.preview["unchanged"]) == (0, 0, 4)
    job = applied(ledger.users.leader, job)
    assert job.status == Status.SUCCEEDED, job.errors
    assert job.summary == {"created": 0, "ended": 0, "unchanged": 4}
    assert _pairings() == before


def test_a_new_row_pairs_the_cadre_with_a_building_or_a_household(ledger):
    path = ledger_file(
        ledger.tmp / "new.xlsx",
        [
            [
                "第一工作组",
                "cadre1",
                "阳光小区3号楼",
                "",
                "２０２６－０３－０１",
                "",
            ],  # full-width, as typed in Chinese
            ["第二工作组", "李二（cadre2）", "", "阳光小区1号楼1单元101室", date(2026, 4, 1), None],
        ],
    )
    job = checked(ledger.users.leader, ledger.team, path)
    assert job.status == Status.READY, job.errors
    assert job.preview["create"] == 2
    assert Pairing.objects.count() == 4 + 2  # four made here and the two groups' compounds: nothing new yet

    applied(ledger.users.leader, job)

    building = Pairing.objects.get(cadre=ledger.users.cadre1, node=ledger.building3)
    assert (building.starts_on, building.ends_on, building.work_group) == (date(2026, 3, 1), None, ledger.group1)
    household = Pairing.objects.get(cadre=ledger.users.cadre2, household=ledger.household1)
    assert (household.starts_on, household.tier, household.created_by) == (
        date(2026, 4, 1),
        PairingTier.CADRE,
        ledger.users.leader,
    )


def test_a_building_is_found_as_people_name_it(ledger):
    rows = [
        ["第一工作组", "王一", name, "", f"2026-0{month}-01", f"2026-0{month}-15"]
        for month, name in enumerate(("阳光小区/3号楼", "阳光小区党支部/3号楼党小组", "3号楼"), start=3)
    ]
    path = ledger_file(ledger.tmp / "names.xlsx", rows)
    job = checked(ledger.users.leader, ledger.team, path)
    assert job.status == Status.READY, job.errors
    assert {item["place"] for item in job.preview["creates"]} == {"阳光小区3号楼"}


def test_an_end_date_on_an_open_pairing_ends_it(ledger):
    path = ledger_file(
        ledger.tmp / "end.xlsx", [["第一工作组", "王一（cadre1）", "阳光小区1号楼", "", "2026/2/1", "2026年9月1日"]]
    )
    job = checked(ledger.users.leader, ledger.team, path)
    assert job.status == Status.READY, job.errors
    assert (job.preview["create"], job.preview["end"]) == (0, 1)

    applied(ledger.users.leader, job)

    ledger.pairings.building1.refresh_from_db()
    assert ledger.pairings.building1.ends_on == date(2026, 9, 1)
    assert ledger.pairings.building1.ended_by == ledger.users.leader


BAD_ROWS = [
    # (row, the column reported, a fragment of the Chinese message), in the order of the rows below
    (2, "包联干部", "不是"),
    (3, "楼栋", "北苑社区的楼栋或党员中心户"),
    (4, "居民户", "没有住在"),
    (5, "起始日期", "年份在前"),
    (6, "结束日期", "结束日期必须晚于起始日期"),
    (7, "起始日期", "不是日期"),
    (8, "包联干部", "公式"),
    (10, "起始日期", "第 9 行"),
    (11, "起始日期", "重叠"),
]


def test_every_bad_cell_is_reported_by_sheet_row_and_column_in_chinese_and_nothing_is_written(ledger):
    path = ledger_file(
        ledger.tmp / "bad.xlsx",
        [
            ["第一工作组", "赵无名", "阳光小区3号楼", "", "2026-03-01", ""],
            ["第一工作组", "cadre1", "南湖小区9号楼", "", "2026-03-01", ""],
            ["第一工作组", "cadre1", "", "阳光小区1号楼1单元999室", "2026-03-01", ""],
            ["第一工作组", "cadre1", "阳光小区3号楼", "", "01/03/2026", ""],
            ["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-05-01", "2026-04-01"],
            ["第一工作组", "cadre1", "阳光小区3号楼", "", "２０２６－１３－０１", ""],  # full width, month 13
            ["第一工作组", '=HYPERLINK("http://x.cn","点")', "阳光小区3号楼", "", "2026-03-01", ""],
            ["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", "2026-06-01"],
            ["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-05-01", ""],
            ["第一工作组", "cadre1", "阳光小区1号楼", "", "2026-03-01", ""],
        ],
    )
    before = _pairings()

    job = checked(ledger.users.leader, ledger.team, path)

    assert job.status == Status.FAILED
    found = [(error["sheet"], error["row"], error["column"]) for error in job.errors]
    assert found == [("包联台账", row, column) for row, column, _fragment in BAD_ROWS]
    for error, (_row, _column, fragment) in zip(job.errors, BAD_ROWS, strict=True):
        assert fragment in error["message"], error
    assert job.errors[0]["value"] == "赵无名"  # the error table repeats the cell
    assert _pairings() == before
    assert job.preview.get("fingerprint") is None


def test_a_hidden_sheet_is_not_read(ledger):
    path = ledger_file(
        ledger.tmp / "hidden.xlsx",
        [["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]],
        hidden={"包联台账 (旧)": [["第一工作组", "赵无名", "火星1号楼", "", "昨天", ""]], "包联台账 ": [["x"]]},
    )
    job = checked(ledger.users.leader, ledger.team, path)
    assert job.status == Status.READY, job.errors
    assert job.preview["create"] == 1
    hidden = [note for note in job.preview["not_read"] if note["reason"] == "hidden"]
    assert {note["sheet"] for note in hidden} == {"包联台账 (旧)", "包联台账 "}


def test_the_template_uploaded_unchanged_writes_nothing(ledger):
    path = ledger.tmp / "template.xlsx"
    with path.open("wb") as target:
        template_write(target)
    before = _pairings()

    job = checked(ledger.users.leader, ledger.team, path)

    assert job.status == Status.FAILED
    assert [error["code"] for error in job.errors] == ["only_ledger_examples"]
    assert "示例工作组" in job.errors[0]["message"]
    assert _pairings() == before


def test_header_synonyms_and_a_title_row_are_read(ledger):
    path = ledger_file(
        ledger.tmp / "synonyms.xlsx",
        [["第一工作组", "cadre1", "阳光小区3号楼", "2026-03-01", "备注"]],
        headers=["所在工作组", "干部姓名", "包联楼栋", "开始日期", "备注"],
    )
    job = checked(ledger.users.leader, ledger.team, path)
    assert job.status == Status.READY, job.errors
    assert job.preview["create"] == 1
    assert [note["header"] for note in job.preview["not_read"] if note["reason"] == "unknown_header"] == ["备注"]


def test_only_the_uploader_confirms(ledger):
    path = ledger_file(ledger.tmp / "new.xlsx", [["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]])
    job = checked(ledger.users.leader, ledger.team, path)
    admin = ledger.users.admin  # keeps every team, but did not upload this ledger

    with translation.override("zh-hans"):
        assert ledger_import_refusal(admin, job) == "只有上传这份台账的人才能确认导入。"
    with pytest.raises(ZhubaoError) as refused:
        ledger_import_confirm(actor=admin, job=job)
    assert refused.value.status_code == 409
    job.refresh_from_db()
    assert job.status == Status.READY
    assert ledger_import_refusal(ledger.users.leader, job) is None


def test_the_uploader_must_keep_the_team(ledger):
    path = ledger_file(ledger.tmp / "new.xlsx", [["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]])
    with pytest.raises(ZhubaoError) as refused:
        ledger_import_create(actor=ledger.users.staff, team=ledger.team, uploaded_file=upload(path))
    assert refused.value.status_code == 403
    assert not LedgerImportJob.objects.exists()


def test_a_change_after_the_check_is_refused_and_the_job_is_checked_again(ledger):
    path = ledger_file(ledger.tmp / "new.xlsx", [["第一工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]])
    job = checked(ledger.users.leader, ledger.team, path)
    ledger_import_confirm(actor=ledger.users.leader, job=job)
    # Meanwhile someone pairs the cadre with that building from the same day.
    pairing_create(
        actor=None,
        team=ledger.team,
        tier=PairingTier.CADRE,
        cadre=ledger.users.cadre1,
        work_group=ledger.group1,
        node=ledger.building3,
        starts_on=date(2026, 3, 1),
    )
    before = _pairings()

    ledger_import_apply(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == Status.READY
    assert job.preview["changed_since_check"] is True
    assert (job.preview["create"], job.preview["unchanged"]) == (0, 1)
    assert _pairings() == before


def test_a_cadre_who_is_not_in_the_group_that_day_is_refused(ledger):
    path = ledger_file(ledger.tmp / "member.xlsx", [["第二工作组", "cadre1", "阳光小区3号楼", "", "2026-03-01", ""]])
    job = checked(ledger.users.leader, ledger.team, path)
    assert job.status == Status.FAILED
    assert [(error["code"], error["column"]) for error in job.errors] == [("not_member", "包联干部")]


def test_checking_costs_the_same_queries_whatever_the_number_of_rows(ledger, django_assert_max_num_queries):
    leader = User.objects.get(pk=ledger.users.leader.pk)  # as a request loads them: grants read afresh

    def check(count):
        rows = [
            ["第一工作组", "cadre1", "阳光小区3号楼", "", f"2026-03-{day:02d}", f"2026-03-{day + 1:02d}"]
            for day in range(1, count + 1)
        ]
        path = ledger_file(ledger.tmp / f"rows{count}.xlsx", rows)
        with path.open("rb") as source:
            _parsed, plan, problems = ledger_check(actor=leader, team=ledger.team, source=source)
        assert not problems, problems
        assert len(plan.to_create) == count

    with django_assert_max_num_queries(12) as one:
        check(1)
    with django_assert_max_num_queries(len(one.captured_queries)):
        check(25)
