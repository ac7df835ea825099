"""Demo import jobs for 北苑社区's staff: one written (and undoable for a day), one checked and
waiting for confirmation (it would take a post from its holder, change a grid's buildings and
clear a phone), one refused with its errors. Each goes through the import's own services, run
here in-process (no broker), so the pages show what a real import shows.

The workbooks are written as communities keep them: place names (阳光小区, 1号楼) rather than
the party organisations' names, "9单元" and "101室", and, in the refused one, what office suites
do to a ledger (a room turned into a date, an ID number stored as a number).
"""

import datetime
import io

from django.core.files.base import ContentFile
from openpyxl import Workbook

from grid.importing import import_job_apply, import_job_check
from grid.importing.layout import CLEAR_MARKER, GRIDS, HOUSEHOLDS, POSTS, SHEET_GRIDS, SHEET_HOUSEHOLDS, SHEET_POSTS
from grid.models import Grid, Household, ImportJob, OrgNode, id_number_check_character

WRITTEN = "阳光小区补录台账.xlsx"
WAITING = "和平小区台账（待确认）.xlsx"
REFUSED = "建设小区台账（有错误）.xlsx"


def _workbook(sheets: dict[str, tuple[list[str], list[list]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for name, (header, rows) in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append(header)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _household(**values) -> list:
    row = {column.key: "" for column in HOUSEHOLDS.columns}
    row.update(community="北苑社区", **values)
    return [row[column.key] for column in HOUSEHOLDS.columns]


def _id_number(serial: int) -> str:
    body = f"15020219{50 + serial % 40:02d}0{1 + serial % 9}{10 + serial % 18:02d}{serial:03d}"
    return body + id_number_check_character(body)


def _job(staff, name: str, content: bytes) -> ImportJob:
    job = ImportJob(created_by=staff, original_name=name)
    job.file.save(f"demo-{abs(hash(name)) % 10**8}.xlsx", ContentFile(content), save=False)
    job.save()
    return job


def seed_imports(staff) -> list[ImportJob]:
    """The three jobs, unless staff already has them (idempotent by file name)."""
    if ImportJob.objects.filter(created_by=staff, original_name__in=[WRITTEN, WAITING, REFUSED]).exists():
        return []
    community = OrgNode.objects.get(parent=None, name="北苑社区")
    headers = HOUSEHOLDS.headers
    first = (
        Household.objects.filter(community=community, building__name="阳光小区1号楼党小组", is_active=True)
        .order_by("unit", "room")
        .first()
    )
    written_rows = [
        _household(
            compound="阳光小区",
            building="1号楼",
            unit="9单元",
            room=f"{floor}0{flat}室",
            head_name=name,
            phone=f"139{4712_0000 + floor * 10 + flat:08d}",
            id_number=_id_number(floor * 10 + flat),
            resident_count=count,
        )
        for (floor, flat, name, count) in [
            (1, 1, "郭淑芬", 2),
            (1, 2, "韩立新", 3),
            (2, 1, "曹玉兰", 1),
            (2, 2, "彭建华", 4),
            (3, 1, "潘国庆", 2),
            (3, 2, "蒋秀梅", 3),
            (4, 1, "魏永红", 1),
            (4, 2, "吕志强", 2),
        ]
    ]
    if first is not None:
        written_rows.append(
            _household(
                compound="阳光小区",
                building="1号楼",
                unit=first.unit,
                room=first.room,
                head_name=first.head_name,
                phone="13947120999",
            )
        )
    jobs = [_job(staff, WRITTEN, _workbook({SHEET_HOUSEHOLDS: (headers, written_rows)}))]

    grid = Grid.objects.filter(community=community, code="02").first()
    waiting_sheets = {}
    cleared = (
        Household.objects.filter(community=community, building__name="和平小区1号楼党小组", is_active=True)
        .exclude(phone="")
        .order_by("unit", "room")
        .first()
    )
    rows = [_household(compound="和平小区", building="1号楼", unit="8", room="101", head_name="谢春生")]
    if cleared is not None:
        rows.append(
            _household(
                compound="和平小区",
                building="1号楼",
                unit=cleared.unit,
                room=cleared.room,
                head_name=cleared.head_name,
                phone=CLEAR_MARKER,
            )
        )
    waiting_sheets[SHEET_HOUSEHOLDS] = (headers, rows)
    if grid is not None:
        buildings = list(grid.buildings.order_by("lft").values_list("parent__place_name", "place_name"))
        kept = "、".join(f"{compound}/{building}" for compound, building in buildings[:-1])
        waiting_sheets[SHEET_GRIDS] = (GRIDS.headers, [["北苑社区", grid.code, grid.name, "", "", kept]])
        waiting_sheets[SHEET_POSTS] = (POSTS.headers, [["北苑社区", grid.code, "A", "专职网格员", "cadre5"]])
    jobs.append(_job(staff, WAITING, _workbook(waiting_sheets)))

    refused_rows = [
        _household(compound="建设小区", building="2号楼", unit="1", room="302", head_name="钱桂英", phone="1394712"),
        _household(
            compound="建设小区", building="2号楼", unit="1", room=datetime.datetime(2026, 5, 2), head_name="孔德明"
        ),
        _household(
            compound="建设小区",
            building="2号楼",
            unit="2",
            room="101",
            head_name="武海燕",
            id_number=150203195608120000,
        ),
    ]
    jobs.append(_job(staff, REFUSED, _workbook({SHEET_HOUSEHOLDS: (headers, refused_rows)})))

    for job in jobs:
        import_job_check(job_id=job.pk)
    written = jobs[0]
    written.refresh_from_db()
    if written.status == ImportJob.Status.READY:
        ImportJob.objects.filter(pk=written.pk).update(status=ImportJob.Status.CONFIRMED)
        import_job_apply(job_id=written.pk)
    return list(ImportJob.objects.filter(pk__in=[job.pk for job in jobs]).order_by("pk"))
