"""Time the background export of a bench city (bench/city.py) through a real Celery worker.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhubao_bench REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/export_city.py [--user bench-city-admin] [--user bench-staff-first]

For each user: starts a worker (``--pool solo``, a queue of its own, so the task runs in the
process whose memory is read), creates the job as the page does (``export_job_create``), follows
its progress in the cache every half second, and prints the time from the click to the file, the
households written per second, the file's size and the worker's resident memory before and at its
peak (``VmHWM``). Needs Redis (the broker) and PostgreSQL; DEBUG is off (no query log in memory).
"""

import argparse
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhubao.settings.dev")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

from django.db import transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from core.exports import export_job_create, export_progress  # noqa: E402
from core.models import ExportJob  # noqa: E402
from core.tasks import export_run  # noqa: E402
from grid.exporting import GRID_WORKBOOK  # noqa: E402
from grid.importing.layout import SHEET_HOUSEHOLDS  # noqa: E402

BASE_DIR = Path(__file__).resolve().parent.parent


def memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0])
    return values


def start_worker(queue: str) -> subprocess.Popen:
    celery = BASE_DIR / ".venv" / "bin" / "celery"
    worker = subprocess.Popen(
        [str(celery), "-A", "zhubao", "worker", "--pool", "solo", "-Q", queue, "-l", "warning", "--without-heartbeat"],
        cwd=BASE_DIR,
        env={**os.environ, "DEBUG": "false"},
    )
    time.sleep(6)  # started and idle: the baseline memory
    return worker


def export_as(username: str) -> None:
    queue = f"bench-exports-{uuid.uuid4().hex[:8]}"
    worker = start_worker(queue)
    try:
        before = memory_kib(worker.pid)
        export_run.delay = lambda job_id: export_run.apply_async((job_id,), queue=queue)
        user = User.objects.get(username=username)
        started = time.monotonic()
        with transaction.atomic():
            job = export_job_create(user=user, kind=GRID_WORKBOOK)
        last = None
        while True:
            job.refresh_from_db()
            if job.status in ExportJob.FINISHED_STATUSES:
                break
            progress = export_progress(job) or {}
            shown = (progress.get("step"), progress.get("label"), progress.get("processed"))
            if shown != last and progress:
                elapsed = time.monotonic() - started
                print(
                    f"  {elapsed:6.1f} s  step {progress['step']}/{progress['steps']} {progress['label']}:"
                    f" {progress['processed']:,} of {progress['total']:,}"
                )
                last = shown
            time.sleep(0.5)
        total = time.monotonic() - started
        peak = memory_kib(worker.pid)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    if job.status != ExportJob.Status.SUCCEEDED:
        print(f"{username}: the job failed ({job.error_code})")
        return
    households = job.summary["rows"][SHEET_HOUSEHOLDS]
    written = (job.finished_at - job.started_at).total_seconds()
    print(
        f"{username}: {households:,} households ({sum(job.summary['rows'].values()):,} rows) in {total:.1f} s from"
        f" the click to the file ({written:.1f} s in the worker, {households / written:,.0f} households/s);"
        f" file {job.file_size / 1024 / 1024:.1f} MB; worker memory {before['VmRSS'] / 1024:.0f} MB before,"
        f" peak {peak['VmHWM'] / 1024:.0f} MB"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user", action="append", help="default: bench-city-admin and bench-staff-first")
    options = parser.parse_args()
    for username in options.user or ["bench-city-admin", "bench-staff-first"]:
        export_as(username)


if __name__ == "__main__":
    main()
