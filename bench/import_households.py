"""Benchmark of the Excel import: 20,000 households in one community.

Generates a workbook like a large community's ledger (1 community, 6 compounds, ~400
buildings with a member-household hub each, 20,000 households, 12 grids with posts),
then times on the configured database:

  (a) reading + validating (nothing written)
  (a2) the check a job runs first: read, validate and write in a transaction rolled back
       (the dry run; its preview is what the write will do)
  (b) the full import into the database (everything new), as a job writes it: with its
      change list (ImportChange rows) for the undo
  (b2) undoing that import, and (b3) importing the file again
  (c) importing the same file again (nothing changes)
  (d) importing it with every phone number changed (20,000 updates)
  (e) exporting it (masked) and (f) importing that export again (changes nothing)

Usage (the database must be migrated; the benchmark community is removed afterwards
unless --keep):

    .venv/bin/python bench/import_households.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhubao_bench .venv/bin/python bench/import_households.py
"""

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhubao.settings.dev")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from openpyxl import Workbook  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from accounts.services import role_grant_add, user_create  # noqa: E402
from grid.exporting import with_check_character, workbook_export  # noqa: E402
from grid.importing import workbook_check, workbook_import, workbook_validate  # noqa: E402
from grid.importing.layout import GRIDS, HOUSEHOLDS, POSTS, TREE  # noqa: E402
from grid.importing.undo import undo_changes  # noqa: E402
from grid.models import Grid, GridBuilding, GridPost, Household, ImportJob, OrgNode  # noqa: E402

FAMILY = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英德明红梅桂芳志强丽娟海燕玉兰国华春生文静晓东"


def generate(path: Path, *, community: str, households: int, compounds: int, buildings: int, phone_base: int):
    random.seed(20261122)
    per_compound = -(-buildings // compounds)
    building_paths = []
    tree = []
    for c in range(1, compounds + 1):
        compound = f"第{c}小区党支部"
        for b in range(1, per_compound + 1):
            if len(building_paths) == buildings:
                break
            building = f"{b}号楼党小组"
            hub = f"{c}-{b}号楼中心户"
            building_paths.append((compound, building, hub))
            tree.append([community, compound, building, hub])
    rows = []
    per_building = -(-households // len(building_paths))
    for index in range(households):
        compound, building, hub = building_paths[index // per_building]
        n = index % per_building
        unit, floor, door = n // 24 + 1, (n % 24) // 2 + 1, n % 2 + 1
        care = random.random() < 0.1
        tags = random.choice(["", "", "", "", "独居老人", "低保户", "党员户", "独居老人、低保户", "残疾人"])
        body = f"150102{1940 + index % 60}{(index % 12) + 1:02d}{(index % 28) + 1:02d}{index % 1000:03d}"
        rows.append(
            [
                community,
                compound,
                building,
                str(unit),
                f"{floor}{door:02d}",
                random.choice(FAMILY) + random.choice(GIVEN[::2]) + random.choice(GIVEN[1::2]),
                f"1{phone_base + index:010d}",
                with_check_character(body),
                random.randint(1, 5),
                tags,
                "是" if care else "否",
                "独居，行动不便" if care else "",
                hub if n == 0 else "",
            ]
        )
    grid_count = 12
    per_grid = -(-len(building_paths) // grid_count)
    grids, posts = [], []
    for g in range(grid_count):
        members = building_paths[g * per_grid : (g + 1) * per_grid]
        code = f"{g + 1:02d}"
        colour = "绿" if g % 4 else "黄"
        grids.append(
            [
                community,
                code,
                f"第{g + 1}网格",
                colour,
                "" if colour == "绿" else "老旧管网",
                "、".join(f"{c}/{b}" for c, b, _ in members),
            ]
        )
        posts.append([community, code, "A", "专职网格员", ""])
        posts.append([community, code, "B", "楼栋长", ""])
    workbook = Workbook(write_only=True)
    for sheet, data in ((TREE, tree), (HOUSEHOLDS, rows), (GRIDS, grids), (POSTS, posts)):
        worksheet = workbook.create_sheet(sheet.name)
        worksheet.append(sheet.headers)
        for row in data:
            worksheet.append(row)
    workbook.save(path)
    return len(tree), len(rows)


def bench_admin() -> User:
    user = User.objects.filter(username="bench-admin").first()
    if user is None:
        user = user_create(actor=None, username="bench-admin", password=None, full_name="基准测试")
        role_grant_add(actor=None, user=user, role=Role.SYSTEM_ADMIN)
    return user


def timed(label: str, function):
    """Wall-clock seconds, and this process's CPU seconds (the share of a busy machine we got)."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = function()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(f"  {label:<42} {seconds:7.2f} s wall  {cpu:7.2f} s CPU (this process)")
    return result, seconds


def remove_community(name: str) -> None:
    root = OrgNode.objects.filter(name=name, parent__isnull=True).first()
    if root is None:
        return
    with transaction.atomic():
        Household.tags.through.objects.filter(household__community=root).delete()
        Household.objects.filter(community=root).delete()
        GridPost.objects.filter(grid__community=root).delete()
        GridBuilding.objects.filter(grid__community=root).delete()
        Grid.objects.filter(community=root).delete()
        for level in (3, 2, 1, 0):
            OrgNode.objects.filter(tree_id=root.tree_id, level=level).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--compounds", type=int, default=6)
    parser.add_argument("--buildings", type=int, default=400)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark community in the database")
    options = parser.parse_args()

    community = f"基准社区-{uuid.uuid4().hex[:6]}"
    actor = bench_admin()
    print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']}); load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        first = Path(folder) / "bench.xlsx"
        changed = Path(folder) / "bench-phones-changed.xlsx"
        (nodes, count), seconds = timed(
            "generate the workbook",
            lambda: generate(
                first,
                community=community,
                households=options.households,
                compounds=options.compounds,
                buildings=options.buildings,
                phone_base=3_800_000_000,
            ),
        )
        generate(
            changed,
            community=community,
            households=options.households,
            compounds=options.compounds,
            buildings=options.buildings,
            phone_base=3_900_000_000,
        )
        print(f"  {count:,} households, {nodes:,} tree rows, file {first.stat().st_size / 1024 / 1024:.1f} MB")
        try:
            (parsed, plan, issues), _ = timed(
                "(a) read + validate", lambda: workbook_validate(actor=actor, source=first)
            )
            assert not issues, [issue.as_dict() for issue in issues[:5]]
            outcome, _ = timed("(a2) the check (dry run, all new)", lambda: workbook_check(actor=actor, source=first))
            assert outcome.ok, outcome.error_dicts()[:5]
            print(f"      {outcome.preview['changes']:,} changes previewed; nothing written")
            job = ImportJob.objects.create(created_by=actor, original_name="bench.xlsx", file="bench.xlsx")
            outcome, _ = timed(
                "(b) full import (all new), with its change list",
                lambda: workbook_import(actor=actor, source=first, job=job, expected=outcome.preview["fingerprint"]),
            )
            assert outcome.ok, outcome.error_dicts()[:5]
            print(f"      {outcome.summary['sheets']}; {job.changes.count():,} changes kept for the undo")
            timed("(b2) undo that import", lambda: undo_changes(actor=actor, job=job))
            outcome, _ = timed("(b3) full import again (all new)", lambda: workbook_import(actor=actor, source=first))
            assert outcome.ok, outcome.error_dicts()[:5]
            outcome, _ = timed(
                "(c) same file again (nothing changes)", lambda: workbook_import(actor=actor, source=first)
            )
            assert outcome.ok
            outcome, _ = timed(
                "(d0) the check of every phone changed", lambda: workbook_check(actor=actor, source=changed)
            )
            assert outcome.ok
            outcome, _ = timed(
                "(d) every phone changed (20k updates)", lambda: workbook_import(actor=actor, source=changed)
            )
            assert outcome.ok
            exported = Path(folder) / "export.xlsx"

            def export():
                with workbook_export(user=actor) as target:
                    exported.write_bytes(target.read())

            timed("(e) export (masked) of what the admin sees", export)
            outcome, _ = timed(
                "(f) import that export again (round trip)", lambda: workbook_import(actor=actor, source=exported)
            )
            assert outcome.ok, outcome.error_dicts()[:5]
            changed = sum(entry["created"] + entry["updated"] for entry in outcome.summary["sheets"])
            households = Household.objects.filter(community__name=community, community__parent__isnull=True)
            print(f"  households in the database: {households.count():,}; rows changed by the round trip: {changed}")
        finally:
            ImportJob.objects.filter(created_by=actor, original_name="bench.xlsx").delete()
            if not options.keep:
                remove_community(community)


if __name__ == "__main__":
    main()
