"""Walk every URL of the project as users who must not get in (STYLE.md §2).

Every route is found by walking ``django.urls.get_resolver()``; only the few prefixes in
``SKIPPED`` are left out. A route that takes an id must be listed in ``ROUTE_OBJECTS``
with the object of cadre1's part of the tree to try it on: a new route that is missing
fails ``test_every_route_that_takes_an_id_names_the_object_to_try``, so none can escape.

For each route:
- cadre2 (a cadre of the sibling compound) gets 404 (or 405) on cadre1's objects, for GET
  and POST (and PATCH on the API), and never sees household1's personal data;
- nobody (a user without any grant) gets 404 or an empty list, and no household's data;
- an anonymous visitor is sent to the login page (pages) or refused with 401/403 (API);
- an admin does not get 404 (so the table names a real object), and where a reader is
  named, that reader gets the page (200).
"""

import re
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import RoleGrant, User
from core.models import AuditEvent
from grid.models import Grid, GridBuilding, GridPost, GridPostType, Household, ImportJob, OrgNode
from grid.services import grid_post_create, household_update

# Left out of the walk, and why. Keep this short.
SKIPPED = (
    "admin/",  # the admin has its own access tests
    "static/",
    "media/",
    "i18n/",  # Django's set_language
    "accounts/login/",
    "accounts/logout/",
    "api/schema/",  # the schema and its docs page describe the API, no data (tests/api/test_schema.py)
    "api/docs/",
)

# Routes open to anonymous visitors on purpose (no data behind them).
PUBLIC = {
    "healthz",  # tests/api/test_healthz.py
    "favicon",  # a redirect to the static file; tests/core/test_pages.py
    "api:token",  # takes a username and password; tests/api/test_auth.py
}


@dataclass(frozen=True)
class Target:
    """Which of cadre1's objects a route with ids is tried on, and who may read it."""

    kwargs: object  # world -> URL kwargs
    reader: str | None = None  # a user who gets 200 on GET (None: GET is not a read for anyone but admins)


# Route name -> the object of cadre1's part of the tree (household1, building1, hub1, grid1,
# grid1's post, cadre1 themselves, an import job of staff …) to try it on.
ROUTE_OBJECTS: dict[str, Target] = {
    # Org tree pages
    "grid:node-detail": Target(lambda w: {"pk": w.building1.pk}, reader="cadre1"),
    "grid:tree-children": Target(lambda w: {"pk": w.building1.pk}, reader="cadre1"),
    "grid:node-add-child": Target(lambda w: {"pk": w.building1.pk}),
    "grid:node-rename": Target(lambda w: {"pk": w.hub1.pk}),
    "grid:node-move": Target(lambda w: {"pk": w.building1.pk}),
    "grid:node-deactivate": Target(lambda w: {"pk": w.hub1.pk}),
    "grid:node-reactivate": Target(lambda w: {"pk": w.hub1.pk}),
    # Household pages
    "grid:household-detail": Target(lambda w: {"pk": w.household1.pk}, reader="cadre1"),
    "grid:household-reveal": Target(lambda w: {"pk": w.household1.pk}),
    "grid:household-edit": Target(lambda w: {"pk": w.household1.pk}, reader="gridworker"),
    "grid:household-move-out": Target(lambda w: {"pk": w.household1.pk}, reader="gridworker"),
    # Grid pages
    "grid:grid-detail": Target(lambda w: {"pk": w.grid1.pk}, reader="cadre1"),
    "grid:grid-colour": Target(lambda w: {"pk": w.grid1.pk}),
    "grid:grid-buildings": Target(lambda w: {"pk": w.grid1.pk}),
    "grid:grid-post-create": Target(lambda w: {"pk": w.grid1.pk}),
    "grid:grid-post-fill": Target(lambda w: {"pk": w.post1.pk}),
    "grid:grid-post-vacate": Target(lambda w: {"pk": w.post1.pk}),
    "grid:grid-post-holder-phone": Target(lambda w: {"pk": w.post1.pk}),  # POST only: a GET is a 405
    # People pages
    "accounts:person-detail": Target(lambda w: {"pk": w.users.cadre1.pk}, reader="staff"),
    "accounts:person-grant-add": Target(lambda w: {"pk": w.users.cadre1.pk}),
    "accounts:person-grant-revoke": Target(lambda w: {"pk": w.users.cadre1.pk, "grant_id": w.cadre1_grant.pk}),
    "accounts:person-set-password": Target(lambda w: {"pk": w.users.cadre1.pk}),
    "accounts:person-deactivate": Target(lambda w: {"pk": w.users.cadre1.pk}),
    "accounts:person-reactivate": Target(lambda w: {"pk": w.users.cadre1.pk}),
    # Imports
    # Pairing pages (liaison): the team's keepers only (the admin, the team's leader); the world's team
    # is org.community's, with group1 paired with compound1 and cadre1 its member paired with building1.
    "liaison:team": Target(lambda w: {"pk": w.team.pk}, reader="leader"),
    "liaison:coverage": Target(lambda w: {"pk": w.team.pk}, reader="leader"),
    "liaison:team-edit": Target(lambda w: {"pk": w.team.pk}, reader="leader"),
    "liaison:group-create": Target(lambda w: {"pk": w.team.pk}, reader="leader"),
    "liaison:pair": Target(lambda w: {"pk": w.team.pk}, reader="leader"),
    "liaison:hand-over": Target(lambda w: {"pk": w.team.pk}, reader="leader"),
    "liaison:group": Target(lambda w: {"pk": w.group1.pk}, reader="leader"),
    "liaison:group-leader": Target(lambda w: {"pk": w.group1.pk}),  # POST only
    "liaison:group-compound-add": Target(lambda w: {"pk": w.group1.pk}),  # POST only
    "liaison:group-member-add": Target(lambda w: {"pk": w.group1.pk}),  # POST only
    "liaison:group-member-create": Target(lambda w: {"pk": w.group1.pk}),  # POST only
    "liaison:member-leave": Target(lambda w: {"pk": w.membership1.pk}, reader="leader"),
    "liaison:pairing-end": Target(lambda w: {"pk": w.pairing1.pk}, reader="leader"),
    "imports:job-detail": Target(lambda w: {"pk": w.import_job.pk}, reader="staff"),
    "imports:job-progress": Target(lambda w: {"pk": w.import_job.pk}, reader="staff"),
    "imports:job-confirm": Target(lambda w: {"pk": w.import_job.pk}),  # POST only; the uploader's alone
    "imports:job-undo": Target(lambda w: {"pk": w.import_job.pk}),  # POST only; the uploader's alone
    # Background exports (core.exports): the requester's alone, so the job tried is the admin's own
    # (finished, with its file); tests/core/test_exports.py has everyone else's 404, the admin's included.
    "exports:job-detail": Target(lambda w: {"pk": w.export_job.pk}, reader="admin"),
    "exports:job-progress": Target(lambda w: {"pk": w.export_job.pk}, reader="admin"),
    "exports:job-download": Target(lambda w: {"pk": w.export_job.pk}, reader="admin"),
    # Pairing ledger (liaison.ledger_urls): an import of the world's team by its leader, who keeps the team (made
    # when the walk first asks, by tests/liaison/ledger_helpers.walk_ledger_job).
    "ledger:job-detail": Target(lambda w: {"pk": _ledger_job(w).pk}, reader="leader"),
    "ledger:job-progress": Target(lambda w: {"pk": _ledger_job(w).pk}, reader="leader"),
    "ledger:job-confirm": Target(lambda w: {"pk": _ledger_job(w).pk}),  # POST only; the uploader's alone
    # API
    "api:org-node-detail": Target(lambda w: {"pk": w.building1.pk}, reader="cadre1"),
    "api:org-node-move": Target(lambda w: {"pk": w.building1.pk}),
    "api:org-node-deactivate": Target(lambda w: {"pk": w.hub1.pk}),
    "api:org-node-reactivate": Target(lambda w: {"pk": w.hub1.pk}),
    "api:household-detail": Target(lambda w: {"pk": w.household1.pk}, reader="cadre1"),
    "api:household-move-out": Target(lambda w: {"pk": w.household1.pk}),
    "api:household-personal-data": Target(lambda w: {"pk": w.household1.pk}, reader="cadre1"),
    "api:grid-detail": Target(lambda w: {"pk": w.grid1.pk}, reader="cadre1"),
    "api:grid-colour": Target(lambda w: {"pk": w.grid1.pk}),
    "api:user-detail": Target(lambda w: {"pk": w.users.cadre1.pk}, reader="staff"),
    "api:user-grants": Target(lambda w: {"pk": w.users.cadre1.pk}),
    "api:user-grant-revoke": Target(lambda w: {"pk": w.users.cadre1.pk, "grant_id": w.cadre1_grant.pk}),
    "api:work-team-detail": Target(lambda w: {"pk": w.team.pk}, reader="staff"),
    "api:work-group-detail": Target(lambda w: {"pk": w.group1.pk}, reader="staff"),
    "api:pairing-detail": Target(lambda w: {"pk": w.cadre1_pairing.pk}, reader="cadre1"),
    "api:pairing-end": Target(lambda w: {"pk": w.cadre1_pairing.pk}),  # POST only
}

# Objects of cadre1's part that some of the walk's intruders may read, by design: the grid of a household
# a cadre is paired with (to find and call its grid worker: the cadre paired with household1's neighbour),
# and the work team and groups of which they are members. Nothing of household1 may show on them.
MEMBERS = {"neighbour_cadre", "ended_cadre", "other_group_lead"}
MEMBER_READS = {
    "grid:grid-detail": {"neighbour_cadre"},
    "grid:grid-post-holder-phone": {"neighbour_cadre"},
    "api:grid-detail": {"neighbour_cadre"},
    "api:work-team-detail": MEMBERS,
    "api:work-group-detail": MEMBERS,
}


def _ledger_job(world):
    """The pairing ledger block's job (made on first use)."""
    from tests.liaison.ledger_helpers import walk_ledger_job

    return walk_ledger_job(world)


# List routes where a user without grants legitimately gets one row: their own user.
OWN_ROW_LISTS = {"api:user-list"}
# Routes that act only on the caller's own session or token (204 for anyone logged in).
ACTS_ON_THE_CALLER = {"api:token-revoke"}  # tests/api/test_auth.py

_KWARG = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass(frozen=True)
class Route:
    path: str  # the pattern as written, e.g. "households/<int:pk>/"
    name: str | None  # with namespaces, e.g. "grid:household-detail"

    @property
    def kwargs(self) -> list[str]:
        return [a or b for a, b in _KWARG.findall(self.path)]

    @property
    def is_api(self) -> bool:
        return self.path.startswith("api/")

    def __str__(self):
        return f"{self.name or '(unnamed)'} /{self.path}"


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        pattern = str(entry.pattern).lstrip("^").replace("\\/", "/")
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + pattern, inner)
        elif isinstance(entry, URLPattern):
            yield Route(path=(prefix + pattern).rstrip("$"), name=f"{namespace}{entry.name}" if entry.name else None)


def project_routes() -> list[Route]:
    routes = [route for route in _walk(get_resolver()) if not route.path.startswith(SKIPPED)]
    assert routes, "the URL walk found no routes"
    return routes


ROUTES = project_routes()


# --- The table covers every route ---------------------------------------------------------------


def test_every_route_that_takes_an_id_names_the_object_to_try():
    missing = [str(route) for route in ROUTES if route.kwargs and route.name not in ROUTE_OBJECTS]
    assert not missing, (
        "These routes take an id but are not in ROUTE_OBJECTS of tests/test_route_access.py. "
        "Add each, naming which of cadre1's objects (household1, building1, hub1, grid1, post1, "
        "cadre1, import_job …) it should be tried on: " + "; ".join(missing)
    )


def test_every_route_has_a_name():
    assert not [str(route) for route in ROUTES if route.name is None], "name every route so the walk can reverse it"


def test_the_table_has_no_routes_that_no_longer_exist():
    names = {route.name for route in ROUTES}
    assert not set(ROUTE_OBJECTS) - names, f"remove from ROUTE_OBJECTS: {sorted(set(ROUTE_OBJECTS) - names)}"


# --- The world the walk runs in ------------------------------------------------------------------


@pytest.fixture
def world(org, settings, tmp_path):
    """The ``org`` fixture with names no page could show by chance, a post of grid1, an import job of staff."""
    for household, name, phone in (
        (org.household1, "甄壹户主", "13955501234"),
        (org.household2, "甄贰户主", "13955505678"),
        (org.other_household, "甄玖户主", "13955509012"),
    ):
        household_update(
            actor=None, household=household, head_name=name, phone=phone, is_care=True, care_reason=f"{name}的关爱原因"
        )
    settings.MEDIA_ROOT = tmp_path  # the import job's workbook goes to a folder pytest removes
    post1 = grid_post_create(actor=None, grid=org.grid1, post_type=GridPostType.A, title="专职网格员")
    return SimpleNamespace(
        **vars(org),
        post1=post1,
        cadre1_grant=org.users.cadre1.grants.get(),
        import_job=_import_job_of(org.users.staff),
        export_job=_export_job_of(org.users.admin),
        **_pairing_world(org),
    )


def _pairing_world(org) -> dict:
    """The work team of 北苑社区 and three people of issue 8 who must not reach cadre1's objects: a cadre
    paired with one household of cadre1's building (a neighbour of household1), a cadre whose pairing
    of that building ended yesterday, and the leader of the work group of the other compound."""
    from datetime import timedelta

    from django.utils import timezone

    from liaison.models import PairingTier
    from liaison.services import pairing_create, work_group_create, work_group_member_add, work_team_create
    from tests.factories import HouseholdFactory, UserFactory

    today = timezone.localdate()
    start = today - timedelta(days=30)
    team = work_team_create(
        actor=None, bureau_name="市住建局", name="筑堡工作队", community=org.community, leader=org.users.leader
    )
    pairing_create(actor=None, team=team, tier=PairingTier.COMMUNITY, cadre=org.users.leader, starts_on=start)
    group1 = work_group_create(actor=None, team=team, name="第一工作组", compound=org.compound1, starts_on=start)
    other_group_lead = UserFactory(username="othergrouplead")
    group2 = work_group_create(
        actor=None, team=team, name="第二工作组", compound=org.compound2, leader=other_group_lead, starts_on=start
    )
    neighbour_cadre, ended_cadre = UserFactory(username="neighbourcadre"), UserFactory(username="endedcadre")
    for person in (neighbour_cadre, ended_cadre):
        work_group_member_add(actor=None, group=group1, cadre=person, joined_on=start)
    work_group_member_add(actor=None, group=group2, cadre=other_group_lead, joined_on=start)
    neighbour = HouseholdFactory(building=org.building1, room="102", head_name="甄邻户主")
    pairing_create(
        actor=None,
        team=team,
        tier=PairingTier.CADRE,
        cadre=neighbour_cadre,
        work_group=group1,
        household=neighbour,
        starts_on=start,
    )
    pairing_create(
        actor=None,
        team=team,
        tier=PairingTier.CADRE,
        cadre=ended_cadre,
        work_group=group1,
        node=org.building1,
        starts_on=start,
        ends_on=today - timedelta(days=1),  # it ended yesterday
    )
    # cadre1 (whose role grant at building1 predates pairing) is also paired with it, as a member of group 1.
    membership1 = work_group_member_add(actor=None, group=group1, cadre=org.users.cadre1, joined_on=start)
    cadre1_pairing = pairing_create(
        actor=None,
        team=team,
        tier=PairingTier.CADRE,
        cadre=org.users.cadre1,
        work_group=group1,
        node=org.building1,
        starts_on=start,
    )
    org.users.neighbour_cadre = neighbour_cadre
    org.users.ended_cadre = ended_cadre
    org.users.other_group_lead = other_group_lead
    return {
        "team": team,
        "group1": group1,
        "group2": group2,
        "neighbour_household": neighbour,
        "cadre1_pairing": cadre1_pairing,
        "membership1": membership1,
        "pairing1": cadre1_pairing,
    }


def _import_job_of(user):
    from grid.importing import import_job_create

    workbook = SimpleUploadedFile("台账.xlsx", b"PK\x03\x04" + b"\0" * 64)
    return import_job_create(actor=user, uploaded_file=workbook)


def _export_job_of(user):
    """A finished export of ``user``, written here (the task's body; no broker in this test)."""
    from core.exports import export_job_create, export_job_run

    return export_job_run(job_id=export_job_create(user=user, kind="grid_workbook").pk)


def _secrets(households) -> list[str]:
    """Everything of these households that must not leak: name, phones (full and masked), ID numbers."""
    values = []
    for household in Household.objects.filter(pk__in=[h.pk for h in households]):
        values += [
            household.head_name,
            household.phone,
            household.masked_phone,
            household.id_number,
            household.masked_id_number,
            household.care_reason,
        ]
    return [value for value in values if value]


SESSION_ACTIONS = [AuditEvent.Action.LOGIN_SUCCEEDED, AuditEvent.Action.LOGOUT]


def _snapshot() -> dict[str, list]:
    """The state a refused request must leave alone (rows, their last change, the audit log)."""
    return {
        "nodes": list(OrgNode.objects.order_by("pk").values_list("pk", "name", "parent_id", "is_active", "updated_at")),
        "households": list(Household.objects.order_by("pk").values_list("pk", "is_active", "updated_at")),
        "grids": list(Grid.objects.order_by("pk").values_list("pk", "colour", "updated_at")),
        "grid_buildings": list(GridBuilding.objects.order_by("pk").values_list("pk", "grid_id", "building_id")),
        "posts": list(GridPost.objects.order_by("pk").values_list("pk", "holder_id", "updated_at")),
        "users": list(User.objects.order_by("pk").values_list("pk", "is_active", "updated_at")),
        "grants": list(RoleGrant.objects.order_by("pk").values_list("pk", "revoked_at")),
        "import_jobs": list(ImportJob.objects.order_by("pk").values_list("pk", "status")),
        # The walk's own logins and logouts are audited too; nothing else may be.
        "audit_events": list(
            AuditEvent.objects.exclude(action__in=SESSION_ACTIONS).order_by("pk").values_list("pk", flat=True)
        ),
    }


def _leaks(response, secrets) -> list[str]:
    body = response.content.decode("utf-8", errors="replace")
    return [secret for secret in secrets if secret in body]


def _client(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)
    return client


def _send(client, method: str, url: str, route: Route):
    if method == "get":
        return client.get(url)
    if route.is_api:
        return getattr(client, method)(url, data="{}", content_type="application/json")
    return getattr(client, method)(url, data={})


def _methods(route: Route) -> list[str]:
    return ["get", "post", "patch"] if route.is_api else ["get", "post"]


def _url(route: Route, world) -> str:
    kwargs = ROUTE_OBJECTS[route.name].kwargs(world) if route.kwargs else {}
    return reverse(route.name, kwargs=kwargs)


def _assert_refused_to_anonymous(client, route: Route, url: str):
    for method in ("get", "post"):
        response = _send(_client(client, None), method, url, route)
        if route.is_api:
            assert response.status_code in {401, 403, 405}, (
                f"{method.upper()} {url} as anonymous: {response.status_code}"
            )
        else:
            if response.status_code == 405:
                continue
            assert response.status_code == 302, f"{method.upper()} {url} as anonymous: {response.status_code}"
            assert response["Location"].startswith(reverse(django_settings.LOGIN_URL)), response["Location"]


# --- The walk -------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kwargs], ids=lambda r: r.name or r.path)
def test_a_route_with_an_id_is_404_for_users_outside_the_subtree(world, client, route):
    if route.name not in ROUTE_OBJECTS:
        pytest.fail(f"{route} is not in ROUTE_OBJECTS of tests/test_route_access.py: add it (see the test above).")
    url = _url(route, world)
    household1_secrets = _secrets([world.household1])
    all_secrets = _secrets([world.household1, world.household2, world.other_household])

    intruders = (
        ("cadre2", household1_secrets),
        ("other_staff", household1_secrets),
        ("nobody", all_secrets),
        ("neighbour_cadre", household1_secrets),
        ("ended_cadre", household1_secrets),
        ("other_group_lead", household1_secrets),
    )
    # Those the table lets read this object (their team, their household's grid) get it, with nothing of
    # household1 on it; their requests come before the snapshot (a reveal is audited).
    readers = MEMBER_READS.get(route.name, set())
    for username, secrets in intruders:
        if username in readers:
            user = getattr(world.users, username)
            for method in _methods(route):
                response = _send(_client(client, user), method, url, route)
                # A read for them (GET, or a page's POST that reveals, audited); an API write stays out of reach.
                allowed = {404, 405} if route.is_api and method != "get" else {200, 405}
                assert response.status_code in allowed, f"{method.upper()} {url} as {username}: {response.status_code}"
                assert not _leaks(response, secrets), f"{method.upper()} {url} as {username} shows a secret"

    before = _snapshot()
    _assert_refused_to_anonymous(client, route, url)
    for username, secrets in intruders:
        if username in readers:
            continue
        user = getattr(world.users, username)
        for method in _methods(route):
            response = _send(_client(client, user), method, url, route)
            assert response.status_code in {404, 405}, f"{method.upper()} {url} as {username}: {response.status_code}"
            assert not _leaks(response, secrets), (
                f"{method.upper()} {url} as {username} shows {_leaks(response, secrets)}"
            )
    assert _snapshot() == before, f"a refused request to {url} changed data"

    target = ROUTE_OBJECTS[route.name]
    if target.reader:
        reader = getattr(world.users, target.reader)
        response = _client(client, reader).get(url)
        assert response.status_code == 200, f"GET {url} as {target.reader}: {response.status_code} (wrong object?)"

    # Last, as it may change data: an admin reaches the object, so the table names a real one.
    admin = _client(client, world.users.admin)
    response = _send(admin, "get", url, route)
    if response.status_code == 405:
        response = _send(admin, "post", url, route)
    assert response.status_code != 404, f"{url} is 404 even for an admin: the table names the wrong object"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if not r.kwargs and r.name not in PUBLIC], ids=lambda r: r.name or r.path
)
def test_a_list_route_shows_nothing_of_another_subtree(world, client, route):
    url = _url(route, world)
    household1_secrets = _secrets([world.household1])
    all_secrets = _secrets([world.household1, world.household2, world.other_household])

    _assert_refused_to_anonymous(client, route, url)

    response = _client(client, world.users.cadre2).get(url)
    assert response.status_code in {200, 404, 405}, f"GET {url} as cadre2: {response.status_code}"
    assert not _leaks(response, household1_secrets), f"GET {url} as cadre2 shows {_leaks(response, household1_secrets)}"

    nobody = world.users.nobody
    response = _client(client, nobody).get(url)
    assert response.status_code in {200, 404, 405}, f"GET {url} as nobody: {response.status_code}"
    assert not _leaks(response, all_secrets), f"GET {url} as nobody shows {_leaks(response, all_secrets)}"
    if response.status_code == 200 and response.get("Content-Type", "").startswith("application/json"):
        rows = response.json().get("results", []) if isinstance(response.json(), dict) else response.json()
        allowed = [{"id": nobody.pk}] if route.name in OWN_ROW_LISTS else []
        assert [{"id": row.get("id")} for row in rows] in ([], allowed), f"GET {url} as nobody lists {rows}"

    before = _snapshot()
    response = _send(_client(client, nobody), "post", url, route)
    answers = {200, 400, 403, 404, 405} | ({204} if route.name in ACTS_ON_THE_CALLER else set())
    assert response.status_code in answers, f"POST {url} as nobody: {response.status_code}"
    assert not _leaks(response, all_secrets), f"POST {url} as nobody shows {_leaks(response, all_secrets)}"
    assert _snapshot() == before, f"POST {url} as nobody changed data"


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_routes_show_no_personal_data(world, client, name):
    url = reverse(name)
    secrets = _secrets([world.household1, world.household2, world.other_household])
    for method in ("get", "post"):
        response = getattr(_client(client, None), method)(url)
        assert response.status_code in {200, 400, 405} | ({302} if name == "favicon" else set())
        assert not _leaks(response, secrets)


# --- The two leaks of issue 5, walked as the routes they came through ------------------------------


def test_a_community_admin_cannot_grant_through_the_api_to_someone_who_also_works_elsewhere(world, client):
    """Defect 1: the API gave a grant (201) that the Django admin refused."""
    from accounts.models import Role
    from tests.factories import UserFactory, grant

    local_admin = UserFactory(username="localadmin")
    grant(local_admin, Role.SYSTEM_ADMIN, node=world.community)
    grant(world.users.cadre1, Role.CADRE, node=world.other_building)
    before = _snapshot()
    url = reverse("api:user-grants", kwargs={"pk": world.users.cadre1.pk})
    response = _client(client, local_admin).post(
        url, data={"role": "cadre", "org_node": world.building2.pk}, content_type="application/json"
    )
    assert response.status_code == 403, response.content
    assert response.json()["code"] == "permission_denied"
    assert _snapshot() == before


def test_a_replaced_grid_post_holder_loses_the_grids_households_through_the_portal(world, client):
    """Defect 2: "change holder" left the former holder's grid-worker grant active."""
    from accounts.models import Role
    from tests.factories import UserFactory, grant

    former = UserFactory(username="formerholder")
    grant(former, Role.CADRE, node=world.building2)  # works in the community, not in grid1's building
    household_url = reverse("grid:household-detail", kwargs={"pk": world.household1.pk})
    fill_url = reverse("grid:grid-post-fill", kwargs={"pk": world.post1.pk})
    staff = _client(client, world.users.staff)
    assert staff.post(fill_url, {"holder": former.pk}).status_code == 302
    assert _client(client, former).get(household_url).status_code == 200

    staff = _client(client, world.users.staff)
    assert staff.post(fill_url, {"holder": world.users.cadre2.pk}).status_code == 302
    response = _client(client, former).get(household_url)
    assert response.status_code == 404
    assert not _leaks(response, _secrets([world.household1]))
    assert not RoleGrant.objects.active().filter(user=former, grid=world.grid1).exists()


# --- Hostile input: never a server error ---------------------------------------------------------

HUGE = "99999999999999999999"  # above 2**63 - 1: overflows SQLite's integers and PostgreSQL's bigint

# Each is sent alone, so one refused parameter does not stop the others from reaching the database.
HOSTILE_PARAMS = [
    *[
        (name, value)
        for name in ("building", "compound", "community", "hub", "node", "parent", "tree", "grid", "role")
        for value in (HUGE, "-" + HUGE, "abc", "\x00")
    ],
    *[
        (name, value)
        for name in ("page", "page_size", "tag", "q", "search", "ordering", "colour", "status", "care", "kind")
        for value in (HUGE, "\x00")
    ],
    ("is_active", "maybe"),
    ("is_care", "\x00"),
]


def _assert_no_server_error(response, what: str):
    assert response.status_code < 500, f"{what}: {response.status_code}"
    if response.status_code == 400 and response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        assert set(body) == {"code", "message", "fields"}, f"{what}: {body}"


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if not r.kwargs and r.name not in PUBLIC], ids=lambda r: r.name or r.path
)
def test_a_list_route_answers_hostile_query_parameters_without_a_server_error(world, client, route):
    url = _url(route, world)
    _client(client, world.users.staff)
    for name, value in HOSTILE_PARAMS:
        _assert_no_server_error(client.get(url, {name: value}), f"GET {url}?{name}={value!r}")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kwargs], ids=lambda r: r.name or r.path)
def test_a_route_with_an_id_too_large_for_the_database_is_404(world, client, route):
    url = reverse(route.name, kwargs={name: int(HUGE) for name in route.kwargs})
    _client(client, world.users.admin)
    for method in _methods(route):
        response = _send(client, method, url, route)
        assert response.status_code in {404, 405}, f"{method.upper()} {url}: {response.status_code}"


@pytest.mark.parametrize(
    "url, payload, field",
    [
        ("/api/v1/households/", {"building": int(HUGE), "room": "1", "head_name": "甲"}, "building"),
        ("/api/v1/households/", {"building": -int(HUGE), "room": "1", "head_name": "甲"}, "building"),
        ("/api/v1/households/", {"building": "building1", "hub": int(HUGE), "room": "1", "head_name": "甲"}, "hub"),
        ("/api/v1/org-nodes/", {"name": "甲", "parent": int(HUGE)}, "parent"),
        ("/api/v1/grids/", {"community": int(HUGE), "name": "甲", "code": "09"}, "community"),
        (
            "/api/v1/grids/",
            {"community": "community", "name": "甲", "code": "09", "buildings": [int(HUGE)]},
            "buildings",
        ),
    ],
)
def test_an_api_payload_with_an_id_too_large_for_the_database_is_a_400_on_that_field(
    world, client, url, payload, field
):
    named = {"building1": world.building1.pk, "community": world.community.pk}
    payload = {key: named.get(value, value) if isinstance(value, str) else value for key, value in payload.items()}
    _client(client, world.users.admin)
    before = _snapshot()
    response = client.post(url, data=payload, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"], response.json()
    assert _snapshot() == before
