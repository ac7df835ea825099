"""The world of the pairing-ledger tests: the ``org`` fixture with a work team, two groups, their cadres and
a few pairings; and helpers to write a ledger workbook and run an import job's steps (the tasks' bodies)."""

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from liaison.ledger.jobs import ledger_import_apply, ledger_import_check, ledger_import_confirm, ledger_import_create
from liaison.ledger.layout import LEDGER
from liaison.models import PairingTier
from liaison.services import pairing_create, work_group_create, work_group_member_add, work_team_create
from tests.factories import BuildingFactory

HEADERS = LEDGER.headers


@pytest.fixture(name="ledger")
def ledger_world(org, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    users = org.users
    for user, name in ((users.cadre1, "王一"), (users.cadre2, "李二")):
        user.full_name = name
        user.save(update_fields=["full_name"])
    building3 = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    team = work_team_create(
        actor=None, bureau_name="市住建局", name="住建局工作队", community=org.community, leader=users.leader
    )
    group1 = work_group_create(
        actor=None, team=team, name="第一工作组", compound=org.compound1, starts_on=date(2026, 1, 1)
    )
    group2 = work_group_create(
        actor=None, team=team, name="第二工作组", compound=org.compound2, starts_on=date(2026, 1, 1)
    )
    work_group_member_add(actor=None, group=group1, cadre=users.cadre1, joined_on=date(2026, 1, 1))
    work_group_member_add(actor=None, group=group2, cadre=users.cadre2, joined_on=date(2026, 1, 1))

    def pair(cadre, group, **place):
        return pairing_create(actor=None, team=team, tier=PairingTier.CADRE, cadre=cadre, work_group=group, **place)

    pairings = SimpleNamespace(
        building1=pair(users.cadre1, group1, node=org.building1, starts_on=date(2026, 2, 1)),
        household1=pair(users.cadre1, group1, household=org.household1, starts_on=date(2026, 2, 1)),
        hub1=pair(users.cadre1, group1, node=org.hub1, starts_on=date(2026, 3, 1)),
        building2=pair(users.cadre2, group2, node=org.building2, starts_on=date(2026, 2, 1), ends_on=date(2026, 6, 1)),
    )
    return SimpleNamespace(
        **vars(org), team=team, group1=group1, group2=group2, building3=building3, pairings=pairings, tmp=tmp_path
    )


def ledger_file(path, rows, *, headers=HEADERS, hidden: dict | None = None, title=LEDGER.name):
    """A ledger workbook at ``path``: one visible sheet of ``rows`` under ``headers``; ``hidden`` adds hidden
    sheets ({name: rows})."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that reads as a formula (pasted, or from a hostile export), not a formula
    for name, hidden_rows in (hidden or {}).items():
        other = workbook.create_sheet(name)
        other.append(list(headers))
        for row in hidden_rows:
            other.append(list(row))
        other.sheet_state = "hidden"
    workbook.save(path)
    return path


def upload(path, name="包联台账.xlsx"):
    return SimpleUploadedFile(name, path.read_bytes(), content_type="application/octet-stream")


def checked(actor, team, path):
    """A ledger import of ``actor`` for ``team``, uploaded and checked (the check task's body)."""
    job = ledger_import_create(actor=actor, team=team, uploaded_file=upload(path))
    ledger_import_check(job_id=job.pk)
    job.refresh_from_db()
    return job


def applied(actor, job):
    """Confirm the checked job as ``actor`` and run the write (the apply task's body)."""
    ledger_import_confirm(actor=actor, job=job)
    ledger_import_apply(job_id=job.pk)
    job.refresh_from_db()
    return job


def walk_ledger_job(world):
    """For tests/test_route_access.py: a ledger import of the world's work team, uploaded by the team's leader
    (pending: no broker in that test)."""
    job = getattr(world, "ledger_job", None)
    if job is None:
        workbook = SimpleUploadedFile("包联台账.xlsx", b"PK\x03\x04" + b"\0" * 64)
        job = world.ledger_job = ledger_import_create(actor=world.users.leader, team=world.team, uploaded_file=workbook)
    return job
