"""The pairing ledger exported: a background export of core.exports (kind pairing_ledger), the team's cadre
pairings the user reaches, with their dates (history included, or as of a day), text as text, no phones or IDs."""

import datetime

from openpyxl import load_workbook

from accounts.models import User
from core.exports import export_job_create, export_job_run
from core.models import ExportJob
from liaison.ledger.exporting import PAIRING_LEDGER, ledger_write
from liaison.ledger.layout import ENDS_ON_NOTE, LEDGER
from liaison.models import PairingTier, WorkGroup
from liaison.services import pairing_create
from tests.factories import BuildingFactory
from tests.liaison.ledger_helpers import ledger_world  # noqa: F401


def _export(user, team, on=""):
    job = export_job_run(
        job_id=export_job_create(user=user, kind=PAIRING_LEDGER, params={"team": team.pk, "on": on}).pk
    )
    assert job.status == ExportJob.Status.SUCCEEDED, job.error_code
    with job.file.open("rb") as handle:
        workbook = load_workbook(handle)
    return job, workbook


def _rows(workbook):
    sheet = workbook[LEDGER.name]
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]


def test_the_export_holds_every_cadre_pairing_of_the_team_with_its_dates(ledger):
    job, workbook = _export(ledger.users.leader, ledger.team)

    assert workbook.sheetnames == ["说明", LEDGER.name]
    sheet = workbook[LEDGER.name]
    assert [cell.value for cell in sheet[1]] == LEDGER.headers
    assert sheet["F1"].comment.text == ENDS_ON_NOTE  # 结束日期: the first day without the pairing
    assert _rows(workbook) == [
        ["第一工作组", "王一（cadre1）", "阳光小区1号楼", None, datetime.datetime(2026, 2, 1), None],
        [
            "第一工作组",
            "王一（cadre1）",
            "阳光小区1号楼",
            "阳光小区1号楼1单元101室",
            datetime.datetime(2026, 2, 1),
            None,
        ],
        ["第一工作组", "王一（cadre1）", "阳光小区1号楼/张建国中心户", None, datetime.datetime(2026, 3, 1), None],
        [
            "第二工作组",
            "李二（cadre2）",
            "和平小区2号楼",
            None,
            datetime.datetime(2026, 2, 1),
            datetime.datetime(2026, 6, 1),
        ],
    ]
    assert sheet["E2"].number_format == "yyyy-mm-dd"
    assert job.summary["rows"] == {LEDGER.name: 4}


def test_the_export_as_of_a_day_holds_the_pairings_in_force_that_day(ledger):
    _job, workbook = _export(ledger.users.leader, ledger.team, on="2026-07-01")
    assert [row[2] for row in _rows(workbook)] == ["阳光小区1号楼", "阳光小区1号楼", "阳光小区1号楼/张建国中心户"]
    _job, workbook = _export(ledger.users.leader, ledger.team, on="2026-02-15")
    assert len(_rows(workbook)) == 3  # the hub's pairing starts on 1 March


def test_the_export_holds_no_phone_or_id_number(ledger):
    path = ledger.tmp / "ledger.xlsx"
    with path.open("wb") as target:
        ledger_write(user=ledger.users.leader, team=ledger.team, target=target)
    text = repr([list(sheet.values) for sheet in load_workbook(path).worksheets])
    household = ledger.household1
    household.refresh_from_db()
    for secret in (household.phone, household.id_number, household.head_name):
        assert secret not in text


def test_a_cadre_exports_only_the_pairings_they_reach(ledger):
    cadre2 = User.objects.get(pk=ledger.users.cadre2.pk)
    _job, workbook = _export(cadre2, ledger.team)
    assert [row[1] for row in _rows(workbook)] == ["李二（cadre2）"]


def test_a_name_that_reads_as_a_formula_is_written_as_text(ledger):
    WorkGroup.objects.filter(pk=ledger.group1.pk).update(
        name='=HYPERLINK("http://x.cn","点")'
    )  # stored before the rule
    _job, workbook = _export(ledger.users.leader, ledger.team)
    cell = workbook[LEDGER.name]["A2"]
    assert cell.value == '=HYPERLINK("http://x.cn","点")'
    assert cell.data_type == "s"


def test_the_export_costs_the_same_queries_whatever_the_number_of_pairings(ledger, django_assert_max_num_queries):
    leader = User.objects.get(pk=ledger.users.leader.pk)

    def write():
        with (ledger.tmp / "count.xlsx").open("wb") as target:
            ledger_write(user=leader, team=ledger.team, target=target)

    with django_assert_max_num_queries(20) as few:
        write()
    for number in range(10, 30):
        building = BuildingFactory(name=f"{number}号楼党小组", parent=ledger.compound1)
        pairing_create(
            actor=None,
            team=ledger.team,
            tier=PairingTier.CADRE,
            cadre=ledger.users.cadre1,
            work_group=ledger.group1,
            node=building,
            starts_on=datetime.date(2026, 2, 1),
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        write()
