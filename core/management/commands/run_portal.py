"""Development runner: a Celery worker with embedded beat, and Django's runserver.

    python manage.py run_portal [--addr 127.0.0.1:8000] [--noreload]

Both run as child processes, each in its own process group. Ctrl-C or SIGTERM to
this command stops both groups (the worker's beat child and runserver's reloader
child included), waits for them and exits; if either child exits, the other is
stopped too. On Linux the children also get SIGTERM if this process dies abruptly.

On the embedded default (no DATABASE_URL / REDIS_URL) the worker uses SQLite and
kombu's filesystem broker under var/, so periodic tasks (the heartbeat, reminders)
fire without Redis. With DATABASE_URL and REDIS_URL set, the same command runs on
PostgreSQL and Redis. In production run ``celery -A zhubao worker`` and exactly one
``celery -A zhubao beat`` instead (README).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_TIMEOUT = 15  # seconds a child gets to finish after SIGTERM before SIGKILL


def _die_with_parent():
    """Child-side: start a new process group and ask the kernel for SIGTERM if the parent dies."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


class Command(BaseCommand):
    help = "Run the portal for development: a Celery worker with embedded beat, then runserver."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000", help="Address and port for runserver.")
        parser.add_argument("--noreload", action="store_true", help="Do not reload runserver on code changes.")
        parser.add_argument("--no-worker", action="store_true", help="Run only the web server.")

    def handle(self, *args, addr, noreload, no_worker, **options):
        self.children: list[subprocess.Popen] = []
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, self._on_signal)

        base_dir = Path(settings.BASE_DIR)
        var_dir = Path(settings.VAR_DIR)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "zhubao.settings.dev"))
        broker = "Redis" if os.environ.get("REDIS_URL") else f"filesystem broker in {var_dir / 'broker'}"
        database = "PostgreSQL" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "SQLite"
        self.stdout.write(f"Zhubao dev runner: {database}, {broker}.")

        try:
            if not no_worker:
                worker = [
                    sys.executable, "-m", "celery", "-A", "zhubao", "worker",
                    "--beat",
                    "--pool=solo",
                    "--loglevel=INFO",
                    "--hostname", f"zhubao-dev@{os.uname().nodename}",
                    "--schedule", str(var_dir / "celerybeat-schedule"),
                    "--scheduler", settings.CELERY_BEAT_SCHEDULER,
                ]  # fmt: skip
                self._start(worker, base_dir, env)
            web = [sys.executable, "manage.py", "runserver", addr]
            if noreload:
                web.append("--noreload")
            self._start(web, base_dir, env)
            self.stdout.write(f"Portal: http://{addr}/   (Ctrl-C stops the web server and the worker)")
            exited = None
            while not self.stopping:
                exited = next((child for child in self.children if child.poll() is not None), None)
                if exited is not None:
                    name = "The worker" if "celery" in exited.args else "runserver"
                    self.stderr.write(f"{name} exited with code {exited.returncode}; stopping the rest.")
                    break
                time.sleep(0.5)
        finally:
            self._stop_all()
        if exited is not None:
            # A child that ended on its own (a port in use, a crash) is a failure of the run.
            raise CommandError(f"The dev runner stopped because {name.lower()} exited.", returncode=1)

    def _start(self, command, cwd, env):
        child = subprocess.Popen(command, cwd=cwd, env=env, preexec_fn=_die_with_parent)
        self.children.append(child)
        return child

    def _on_signal(self, signum, frame):
        self.stopping = True

    def _stop_all(self):
        for child in self.children:
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for child in self.children:
            # Whatever is left of each group (a reloader child, beat) is killed.
            _signal_group(child, signal.SIGKILL)
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.stdout.write("Stopped the web server and the worker.")


def _signal_group(child: subprocess.Popen, signum) -> None:
    try:
        os.killpg(child.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
