"""One command: the portal and the bare-Django baseline side by side, alternated, in one table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/zhubao_bench .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --rounds 3 --seconds 10 --concurrency 2 --pages "household list"
    .venv/bin/python bench/run.py --portal-dir /tmp/zb-bench      # measure a worktree at a commit

What it does (bench/README.md says how to read the table and add a page):

1. reads the bench city (bench/city.py) from the database: its first and last community, the
   compound with the most buildings, a head's name, a phone's last digits to search for;
2. prepares: ``collectstatic`` for the portal (production settings need the manifest), the
   baseline's tables and user (bench/baseline/setup.py), and the queries each page makes, counted
   in-process once per page with Django's test client and ``CaptureQueriesContext`` under the same
   production settings (the second request of a logged-in client);
3. starts the portal (``zhubao.settings.prod``) and the baseline (``bench.baseline.settings``),
   each under gunicorn with ONE sync worker on its own 127.0.0.1 port, logs in to both through
   their login forms (CSRF token and session cookie, the right password once: the lockout counts
   failures), checks that every page answers 200 and warms it;
4. for each round, for each page: the baseline for ``--seconds``, then the page for ``--seconds``,
   with wrk (``-t1 -c<concurrency>``; a bounded Python loop with ``--tool python``);
5. prints the table (req/s and the share of the baseline from all rounds together, p50/p95 the
   median over the rounds) and stops both servers, also on Ctrl-C or an error.
"""

import argparse
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
PASSWORD = "Bench-city-2026"  # bench/city.py's PASSWORD
CODE_PREFIX = "bench-"
USERS = {
    "first": "bench-staff-first",
    "last": "bench-staff-last",
    "admin": "bench-city-admin",
    "cadre": "bench-cadre-first",  # paired with 10 buildings and 200 care households (issue 8)
}
BASELINE_USER = "bench-baseline"
TARGET_SHARE = 0.70


@dataclass(frozen=True)
class Page:
    """One row of the table. ``path`` may name facts of the city: {name}, {phone_tail}, {big_compound}, {community}.

    ``user`` is "first" / "last" (community staff of the first / last community), "admin" (every
    community) or "cadre" (a cadre of the first community, paired with 10 buildings and 200 care
    households); ``counts`` what "data in scope" counts: households, nodes, children or grids.
    """

    name: str
    user: str
    path: str
    counts: str = "households"


# The pages measured. The issue list, the visits and the rankings add their rows here.
PAGES = [
    Page("household list", "first", "/households/"),
    Page("household list", "last", "/households/"),
    Page("household list", "admin", "/households/"),
    Page("search by head name", "first", "/households/?q={name}"),
    Page("search by head name", "last", "/households/?q={name}"),
    Page("search by head name", "admin", "/households/?q={name}"),
    Page("search by address", "first", "/households/?q=3号楼2单元"),
    Page("search by address", "admin", "/households/?q=3号楼2单元"),
    Page("search by phone tail", "first", "/households/?q={phone_tail}"),
    Page("search by phone tail", "admin", "/households/?q={phone_tail}"),
    Page("API household list", "first", "/api/v1/households/"),
    Page("API household list", "last", "/api/v1/households/"),
    Page("API household list", "admin", "/api/v1/households/"),
    Page("tree page", "first", "/tree/", "nodes"),
    Page("tree page", "admin", "/tree/", "nodes"),
    Page("tree level (a compound)", "first", "/tree/{big_compound}/children/", "children"),
    Page("tree level (a compound)", "last", "/tree/{big_compound}/children/", "children"),
    Page("grid list", "first", "/grids/", "grids"),
    Page("grid list", "admin", "/grids/", "grids"),
    Page("API grid list", "first", "/api/v1/grids/", "grids"),
    Page("API grid list", "admin", "/api/v1/grids/", "grids"),
    Page("API org-node list", "first", "/api/v1/org-nodes/", "nodes"),
    Page("API org-node list", "admin", "/api/v1/org-nodes/", "nodes"),
    # A cadre's scope comes from their pairings (two grant sources: role grants and pairings).
    Page("household list", "cadre", "/households/"),
    Page("API household list", "cadre", "/api/v1/households/"),
    Page("tree page", "cadre", "/tree/", "nodes"),
    Page("API pairing list", "cadre", "/api/v1/pairings/", "pairings"),
    # The pairing pages of the first community's team (its 11,334 households counted per place).
    Page("pairing team page", "admin", "/pairing/teams/{team}/", "pairings"),
    Page("coverage view", "admin", "/pairing/teams/{team}/coverage/", "pairings"),
]


# --- the city ------------------------------------------------------------------------------------------


def city_facts(database_url: str) -> dict:
    """What the pages' paths and the "data in scope" column need, read from the bench city."""
    import psycopg2

    with psycopg2.connect(database_url) as db, db.cursor() as cursor:

        def one(sql, *params):
            cursor.execute(sql, params)
            return cursor.fetchone()

        cursor.execute(
            "SELECT id, tree_id, name FROM grid_orgnode WHERE parent_id IS NULL AND code LIKE %s ORDER BY code",
            [CODE_PREFIX + "%"],
        )
        roots = cursor.fetchall()
        if len(roots) < 2:
            raise SystemExit("No bench city in this database: run bench/city.py first (see bench/README.md).")
        facts = {"communities": len(roots), "scopes": {}}
        total_households = one("SELECT count(*) FROM grid_household WHERE is_active")[0]
        total_nodes = one("SELECT count(*) FROM grid_orgnode")[0]
        total_grids = one("SELECT count(*) FROM grid_grid WHERE is_active")[0]
        for user, (root, tree_id, name) in (("first", roots[0]), ("last", roots[-1])):
            compound, children = one(
                "SELECT c.id, count(b.id) FROM grid_orgnode c JOIN grid_orgnode b ON b.parent_id = c.id "
                "WHERE c.parent_id = %s GROUP BY c.id ORDER BY count(b.id) DESC, c.id LIMIT 1",
                root,
            )
            head = one(
                "SELECT left(head_name, 2), count(*) FROM grid_household WHERE community_id = %s AND is_active "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
                root,
            )[0]
            tail = one(
                "SELECT right(phone, 4) FROM grid_household WHERE community_id = %s AND phone <> '' "
                "ORDER BY id LIMIT 1 OFFSET 100",
                root,
            )[0]
            facts["scopes"][user] = {
                "community": root,
                "community_name": name,
                "big_compound": compound,
                "name": head,
                "phone_tail": tail,
                "households": one("SELECT count(*) FROM grid_household WHERE community_id = %s AND is_active", root)[0],
                "nodes": one("SELECT count(*) FROM grid_orgnode WHERE tree_id = %s", tree_id)[0],
                "children": children,
                "grids": one("SELECT count(*) FROM grid_grid WHERE community_id = %s AND is_active", root)[0],
            }
        facts["scopes"]["admin"] = dict(
            facts["scopes"]["first"], households=total_households, nodes=total_nodes, grids=total_grids
        )
        facts["scopes"]["cadre"] = dict(facts["scopes"]["first"], **cadre_facts(one))
        facts["scopes"]["admin"].update(team_facts(one, facts["scopes"]["first"]["community"]))
    return facts


def team_facts(one, community: int) -> dict:
    """The first community's work team (the bench cadre's) and its pairings, for the pairing pages' rows."""
    if not one("SELECT to_regclass('liaison_workteam') IS NOT NULL")[0]:
        return {"team": 0, "pairings": 0}
    row = one("SELECT id FROM liaison_workteam WHERE community_id = %s ORDER BY id LIMIT 1", community)
    team = row[0] if row else 0
    return {"team": team, "pairings": one("SELECT count(*) FROM liaison_pairing WHERE team_id = %s", team)[0]}


def cadre_facts(one) -> dict:
    """What the bench cadre is paired with today: households, nodes and pairings (zeros before pairing)."""
    exists = one("SELECT to_regclass('liaison_pairing') IS NOT NULL")[0]
    if not exists:
        return {"households": 0, "nodes": 0, "pairings": 0}
    today = "starts_on <= CURRENT_DATE AND (ends_on IS NULL OR ends_on > CURRENT_DATE)"
    mine = f"FROM liaison_pairing p JOIN accounts_user u ON u.id = p.cadre_id WHERE u.username = %s AND {today}"
    households = one(
        "SELECT count(*) FROM grid_household h WHERE h.is_active AND (h.building_id IN "  # noqa: S608
        f"(SELECT p.node_id {mine}) OR h.id IN (SELECT p.household_id {mine}))",
        USERS["cadre"],
        USERS["cadre"],
    )[0]
    nodes = one(
        "SELECT count(*) FROM grid_orgnode n WHERE n.id IN (SELECT p.node_id "  # noqa: S608
        f"{mine}) OR n.parent_id IN (SELECT p.node_id {mine})",
        USERS["cadre"],
        USERS["cadre"],
    )[0]
    pairings = one(f"SELECT count(*) {mine}", USERS["cadre"])[0]  # noqa: S608
    return {"households": households, "nodes": nodes, "pairings": pairings}


def scope_label(page: Page, facts: dict) -> str:
    scope = facts["scopes"][page.user]
    count = scope[page.counts]
    where = {
        "first": "first community",
        "last": "last community",
        "admin": f"city, {facts['communities']} communities",
        "cadre": f"a cadre's {scope.get('pairings', 0)} pairings",
    }[page.user]
    noun = {
        "households": "households",
        "nodes": "nodes",
        "children": "buildings",
        "grids": "grids",
        "pairings": "pairings",
    }[page.counts]
    return f"{count:,} {noun} ({where})"


def page_path(page: Page, facts: dict) -> str:
    scope = facts["scopes"][page.user]
    values = {key: urllib.parse.quote(str(value)) for key, value in scope.items()}
    path = page.path.format(**values)
    base, _, query = path.partition("?")
    if query:  # quote what the table writes in plain Chinese ("3号楼2单元")
        query = urllib.parse.urlencode(urllib.parse.parse_qsl(urllib.parse.unquote(query)))
    return base + ("?" + query if query else "")


# --- preparing -----------------------------------------------------------------------------------------


def python_of(directory: Path) -> str:
    candidate = directory / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def portal_env(options, secret_key: str) -> dict:
    """Production settings for a loopback http bench: no SSL redirect, no secure-only cookies, no HSTS."""
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="zhubao.settings.prod",
        SECRET_KEY=secret_key,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        DATABASE_URL=options.database_url,
        REDIS_URL=options.redis_url,
        CACHE_KEY_PREFIX="zhubao-bench",
        SECURE_SSL_REDIRECT="false",
        SECURE_COOKIES="false",
        SECURE_HSTS_SECONDS="0",
        ZHUBAO_PROXY_COUNT="0",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(options.portal_dir),
    )


def baseline_env(options, secret_key: str) -> dict:
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bench.baseline.settings",
        SECRET_KEY=secret_key,
        DATABASE_URL=options.database_url,
        PYTHONPATH=str(REPO_DIR),
    )


def run_step(label: str, command: list[str], *, cwd, env, timeout: int = 600) -> str:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"{label} failed (exit {done.returncode}).")
    print(f"  {label:<50} {time.perf_counter() - started:6.1f} s")
    return done.stdout


def count_queries(options, env, checks: list[dict], *, python: str, cwd: Path) -> dict:
    """Run this script's --count-queries mode under the given settings; {key: {status, queries, bytes}}."""
    done = subprocess.run(
        [python, str(BENCH_DIR / "run.py"), "--count-queries"],
        input=json.dumps(checks),
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit("Counting the queries failed.")
    return json.loads(done.stdout.strip().splitlines()[-1])


def count_queries_here() -> None:
    """In-process (--count-queries): the second request of a logged-in test client, its queries counted."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    checks = json.loads(sys.stdin.read())
    results, clients = {}, {}
    for check in checks:
        client = clients.get(check["username"])
        if client is None:
            client = Client()
            user = get_user_model().objects.get(username=check["username"])
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            clients[check["username"]] = client
        client.get(check["path"])  # the first request may write the session (last activity)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(check["path"])
        results[check["key"]] = {
            "status": response.status_code,
            "queries": len(captured.captured_queries),
            "bytes": len(response.content),
        }
    print(json.dumps(results))


# --- servers ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One gunicorn with one sync worker on 127.0.0.1, in its own process group (stopped by its id)."""

    def __init__(self, name: str, app: str, *, cwd: Path, env: dict, python: str):
        self.name, self.port = name, free_port()
        self.log = Path(tempfile.gettempdir()) / f"zhubao-bench-{name}.log"
        command = [python, "-m", "gunicorn", app, "--workers", "1", "--worker-class", "sync"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--timeout", "60", "--graceful-timeout", "5"]
        command += ["--log-level", "warning", "--chdir", str(cwd)]
        self.process = subprocess.Popen(  # noqa: S603
            command,
            cwd=cwd,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, path: str, seconds: int = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"The {self.name} server stopped; see {self.log}:\n{self.log.read_text()[-3000:]}")
            try:
                status, _, _ = request("127.0.0.1", self.port, "GET", path)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"The {self.name} server did not answer {path} within {seconds} s; see {self.log}.")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)


def request(host, port, method, path, *, headers=None, body=None):
    connection = HTTPConnection(host, port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _cookies(headers, jar: dict) -> dict:
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            jar[key.strip()] = rest.split(";", 1)[0]
    return jar


def log_in(server: Server, login_path: str, username: str) -> str:
    """The login form with its CSRF token, the right password once; returns the Cookie header."""
    status, headers, body = request("127.0.0.1", server.port, "GET", login_path)
    jar = _cookies(headers, {})
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not match or "csrftoken" not in jar:
        raise SystemExit(f"{server.name}: no login form at {login_path} (status {status}).")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1).decode(), "username": username, "password": PASSWORD}
    )
    status, headers, _ = request(
        "127.0.0.1",
        server.port,
        "POST",
        login_path,
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={jar['csrftoken']}",
            "Referer": f"http://127.0.0.1:{server.port}{login_path}",
        },
    )
    _cookies(headers, jar)
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"{server.name}: logging in as {username} failed (status {status}); not retrying (lockout).")
    return "; ".join(f"{key}={value}" for key, value in jar.items())


# --- load ----------------------------------------------------------------------------------------------------

WRK_SCRIPT = BENCH_DIR / "wrk_report.lua"


@dataclass
class Run:
    requests: int
    seconds: float
    not_ok: int
    p50_ms: float
    p95_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def load_wrk(port: int, path: str, cookie: str, *, seconds: int, concurrency: int) -> Run:
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "20s", "-s", str(WRK_SCRIPT)]
    command += ["-H", f"Cookie: {cookie}", f"http://127.0.0.1:{port}{path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        not_ok=data["not_ok"] + data["socket_errors"] + data["timeouts"],
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
    )


def load_python(port: int, path: str, cookie: str, *, seconds: int, concurrency: int) -> Run:
    """A bounded loop: ``concurrency`` threads, each one request at a time, until the time is up."""
    deadline = time.monotonic() + seconds
    latencies, not_ok, lock = [], [0], threading.Lock()

    def worker():
        for _ in range(1_000_000):  # bounded in count as well as in time
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                status, _, _ = request("127.0.0.1", port, "GET", path, headers={"Cookie": cookie})
            except OSError:
                status = 0
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                not_ok[0] += status != 200

    started = time.monotonic()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 60)
    elapsed = time.monotonic() - started
    latencies.sort()

    def percentile(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else 0.0

    return Run(len(latencies), elapsed, not_ok[0], percentile(0.50), percentile(0.95))


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Row:
    page: Page
    path: str
    scope: str
    queries: int | None = None
    kilobytes: float | None = None
    runs: list[Run] = field(default_factory=list)
    baseline: list[Run] = field(default_factory=list)

    @staticmethod
    def _rate(runs):
        seconds = sum(r.seconds for r in runs)
        return sum(r.requests for r in runs) / seconds if seconds else 0.0

    @property
    def rate(self):
        return self._rate(self.runs)

    @property
    def share(self):
        base = self._rate(self.baseline)
        return self.rate / base if base else 0.0


def git_state(directory: Path) -> str:
    def git(*args):
        done = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench")
    return f"{commit}{' + uncommitted changes' if dirty else ''}"


def print_table(rows: list[Row], baseline_rows: list[Run], baseline_queries, options, facts) -> None:
    header = ["page", "user", "data in scope", "req/s", "p50 ms", "p95 ms", "queries", "KB", "share"]
    lines = []
    base_rate = Row._rate(baseline_rows)
    lines.append(
        [
            "bare Django baseline",
            BASELINE_USER,
            f"{facts['scopes']['first']['households']:,} households (first community)",
            f"{base_rate:.1f}",
            f"{statistics.median(r.p50_ms for r in baseline_rows):.1f}",
            f"{statistics.median(r.p95_ms for r in baseline_rows):.1f}",
            str(baseline_queries["queries"]),
            f"{baseline_queries['bytes'] / 1024:.1f}",
            "1.00",
        ]
    )
    for row in rows:
        errors = sum(r.not_ok for r in row.runs)
        share = f"{row.share:.2f}" + ("" if row.share >= TARGET_SHARE else " ✗")
        lines.append(
            [
                row.page.name,
                row.page.user,
                row.scope,
                f"{row.rate:.1f}" + (f" ({errors} not 200)" if errors else ""),
                f"{statistics.median(r.p50_ms for r in row.runs):.1f}",
                f"{statistics.median(r.p95_ms for r in row.runs):.1f}",
                str(row.queries),
                f"{row.kilobytes:.1f}",
                share,
            ]
        )
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines, strict=True)]
    print()
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)) + " |")
    print(
        f"\n{options.rounds} rounds × {options.seconds} s per page and as long for the baseline before it, "
        f"{options.tool}, concurrency {options.concurrency}, one gunicorn sync worker each; "
        f"share = the page's req/s ÷ the baseline's req/s over the same rounds (target ≥ {TARGET_SHARE:.2f}, "
        "✗ below it)."
    )


def measure(options) -> int:
    options.portal_dir = Path(options.portal_dir).resolve()
    secret_key = secrets.token_urlsafe(64)
    env, base_env = portal_env(options, secret_key), baseline_env(options, secret_key)
    portal_python = python_of(options.portal_dir)
    print(f"Portal {options.portal_dir} at {git_state(options.portal_dir)}; database {options.database_url}")
    print(f"Load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; load tool {options.tool}")
    facts = city_facts(options.database_url)
    pages = [p for p in PAGES if not options.pages or any(f.lower() in p.name.lower() for f in options.pages)]
    if not pages:
        raise SystemExit("No page matches --pages.")
    rows = [Row(page=p, path=page_path(p, facts), scope=scope_label(p, facts)) for p in pages]

    print("Preparing:")
    if not options.no_collectstatic:
        run_step(
            "collectstatic (portal, manifest storage)",
            [portal_python, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=options.portal_dir,
            env=env,
        )
    run_step(
        "baseline tables and user",
        [sys.executable, str(BENCH_DIR / "baseline" / "setup.py"), PASSWORD],
        cwd=REPO_DIR,
        env=base_env,
    )
    checks = [{"key": str(i), "username": USERS[row.page.user], "path": row.path} for i, row in enumerate(rows)]
    counted = count_queries(options, env, checks, python=portal_python, cwd=options.portal_dir)
    baseline_path = f"/households/?community={facts['scopes']['first']['community']}"
    baseline_counted = count_queries(
        options, base_env, [{"key": "b", "username": BASELINE_USER, "path": baseline_path}], python=sys.executable,
        cwd=REPO_DIR,
    )["b"]  # fmt: skip
    for i, row in enumerate(rows):
        result = counted[str(i)]
        if result["status"] != 200:
            raise SystemExit(f"{row.page.name} ({row.page.user}) {row.path} answers {result['status']} in-process.")
        row.queries, row.kilobytes = result["queries"], result["bytes"] / 1024
    print(f"  queries per request counted for {len(rows)} pages and the baseline")

    servers = []
    try:
        portal = Server("portal", "zhubao.wsgi:application", cwd=options.portal_dir, env=env, python=portal_python)
        servers.append(portal)
        baseline = Server("baseline", "bench.baseline.wsgi:application", cwd=REPO_DIR, env=base_env,
                          python=sys.executable)  # fmt: skip
        servers.append(baseline)
        portal.wait_ready("/healthz")
        baseline.wait_ready("/login/")
        print(f"  portal on 127.0.0.1:{portal.port}, baseline on 127.0.0.1:{baseline.port} (logs {portal.log.parent})")
        cookies = {user: log_in(portal, "/accounts/login/", USERS[user]) for user in {r.page.user for r in rows}}
        baseline_cookie = log_in(baseline, "/login/", BASELINE_USER)
        for port, path, cookie, label in [(baseline.port, baseline_path, baseline_cookie, "baseline")] + [
            (portal.port, row.path, cookies[row.page.user], f"{row.page.name} ({row.page.user})") for row in rows
        ]:
            for _ in range(options.warmup):
                status, _, _ = request("127.0.0.1", port, "GET", path, headers={"Cookie": cookie})
                if status != 200:
                    raise SystemExit(f"{label}: {path} answers {status} over http (expected 200).")
        load = load_wrk if options.tool == "wrk" else load_python
        started = time.monotonic()
        for round_number in range(1, options.rounds + 1):
            print(f"Round {round_number}/{options.rounds}:", end="", flush=True)
            for row in rows:
                row.baseline.append(
                    load(
                        baseline.port,
                        baseline_path,
                        baseline_cookie,
                        seconds=options.seconds,
                        concurrency=options.concurrency,
                    )  # fmt: skip
                )
                row.runs.append(
                    load(
                        portal.port,
                        row.path,
                        cookies[row.page.user],
                        seconds=options.seconds,
                        concurrency=options.concurrency,
                    )  # fmt: skip
                )
                print(f" {row.runs[-1].rate:.0f}/{row.baseline[-1].rate:.0f}", end="", flush=True)
            print()
        print(f"Measured in {time.monotonic() - started:.0f} s.")
    finally:
        for server in servers:
            server.stop()
    baseline_runs = [run for row in rows for run in row.baseline]
    print_table(rows, baseline_runs, baseline_counted, options, facts)
    if options.json:
        Path(options.json).write_text(
            json.dumps(
                {
                    "portal": str(options.portal_dir),
                    "state": git_state(options.portal_dir),
                    "options": {k: str(v) for k, v in vars(options).items()},
                    "baseline": {"rate": Row._rate(baseline_runs), **baseline_counted},
                    "rows": [
                        {
                            "page": row.page.name,
                            "user": row.page.user,
                            "path": row.path,
                            "scope": row.scope,
                            "rate": row.rate,
                            "share": row.share,
                            "queries": row.queries,
                            "kilobytes": row.kilobytes,
                            "runs": [vars(r) for r in row.runs],
                            "baseline_runs": [vars(r) for r in row.baseline],
                        }
                        for row in rows
                    ],
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    return 1 if any(r.not_ok for row in rows for r in row.runs) else 0


def main() -> None:
    if "--count-queries" in sys.argv:
        sys.path.insert(0, os.getcwd())
        count_queries_here()
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="per page per round (and as long for the baseline)")
    parser.add_argument("--concurrency", type=int, default=2, choices=[1, 2, 3, 4])
    parser.add_argument("--tool", choices=["wrk", "python"], default="wrk" if _has_wrk() else "python")
    parser.add_argument("--pages", nargs="*", help="only pages whose name contains one of these words")
    parser.add_argument("--warmup", type=int, default=5, help="requests per page before measuring")
    parser.add_argument("--portal-dir", default=str(REPO_DIR), help="the checkout (or worktree) to serve")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--no-collectstatic", action="store_true")
    parser.add_argument("--json", help="also write the figures to this file")
    options = parser.parse_args()
    if not options.database_url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL (or --database-url) to the bench city's PostgreSQL database.")
    if not 1 <= options.rounds <= 20 or not 1 <= options.seconds <= 120:
        raise SystemExit("--rounds 1..20 and --seconds 1..120.")
    host = urllib.parse.urlparse(options.database_url).hostname
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("The bench runs on this machine only (a database on 127.0.0.1).")

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        sys.exit(measure(options))
    except KeyboardInterrupt:
        print("\nInterrupted; servers stopped.")
        sys.exit(130)


def _has_wrk() -> bool:
    from shutil import which

    return which("wrk") is not None


if __name__ == "__main__":
    main()
