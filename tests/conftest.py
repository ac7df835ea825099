"""Shared fixtures. ``org`` is the standard world every suite tests access against:
two compounds of one community (each with a cadre), a second community (a sibling
subtree with its own staff), a grid, and a user with no grant."""

import os
from types import SimpleNamespace

import pytest

from accounts.models import Role
from tests.factories import (
    TEST_PASSWORD,
    BuildingFactory,
    CommunityFactory,
    CompoundFactory,
    DepartmentFactory,
    HouseholdFactory,
    HubFactory,
    UserFactory,
    grant,
    make_grid,
)

# Django's live server under Playwright's sync API (NOTES.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the portal's language: a request with another language's cookie leaves that
    language active in the thread (Django's locale middleware activates, never deactivates)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _restore_migration_data(request, django_db_blocker):
    """Transactional tests (live server, real worker) end with a flush that also empties the
    rows data migrations add; put the default tags back for the transactional tests after them."""
    yield
    if {"transactional_db", "live_server"} & set(request.fixturenames) or _wants_transaction(request):
        from grid.services import tag_ensure_defaults

        with django_db_blocker.unblock():
            tag_ensure_defaults()


def _wants_transaction(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def org(db):
    community = CommunityFactory(name="北苑社区")
    compound1 = CompoundFactory(name="阳光小区党支部", parent=community)
    compound2 = CompoundFactory(name="和平小区党支部", parent=community)
    building1 = BuildingFactory(name="1号楼党小组", parent=compound1)
    building2 = BuildingFactory(name="2号楼党小组", parent=compound2)
    hub1 = HubFactory(name="张建国中心户", parent=building1)
    household1 = HouseholdFactory(building=building1, room="101", hub=hub1)
    household2 = HouseholdFactory(building=building2, room="201")

    other_community = CommunityFactory(name="南湖社区")
    other_compound = CompoundFactory(name="南湖小区党支部", parent=other_community)
    other_building = BuildingFactory(name="9号楼党小组", parent=other_compound)
    other_household = HouseholdFactory(building=other_building, room="901")

    grid1 = make_grid(community=community, code="01", buildings=[building1])
    grid2 = make_grid(community=community, code="02", buildings=[building2])
    other_grid = make_grid(community=other_community, code="01", buildings=[other_building])

    users = SimpleNamespace(
        admin=UserFactory(username="admin"),
        leader=UserFactory(username="leader"),
        staff=UserFactory(username="staff"),
        other_staff=UserFactory(username="otherstaff"),
        cadre1=UserFactory(username="cadre1"),
        cadre2=UserFactory(username="cadre2"),
        gridworker=UserFactory(username="gridworker"),
        dept=UserFactory(username="dept"),
        nobody=UserFactory(username="nobody"),
    )
    department = DepartmentFactory(name="城管局", code="chengguan")
    grant(users.admin, Role.SYSTEM_ADMIN)
    grant(users.leader, Role.BUREAU_LEADER, node=community)
    grant(users.staff, Role.COMMUNITY_STAFF, node=community)
    grant(users.other_staff, Role.COMMUNITY_STAFF, node=other_community)
    grant(users.cadre1, Role.CADRE, node=building1)
    grant(users.cadre2, Role.CADRE, node=building2)
    grant(users.gridworker, Role.GRID_WORKER, grid=grid1)
    grant(users.dept, Role.DEPARTMENT_HANDLER, department=department)

    return SimpleNamespace(
        community=community,
        compound1=compound1,
        compound2=compound2,
        building1=building1,
        building2=building2,
        hub1=hub1,
        household1=household1,
        household2=household2,
        other_community=other_community,
        other_compound=other_compound,
        other_building=other_building,
        other_household=other_household,
        grid1=grid1,
        grid2=grid2,
        other_grid=other_grid,
        department=department,
        users=users,
    )


@pytest.fixture
def login(client, password):
    """Log the test client in as a user and return the client."""

    def _login(user):
        assert client.login(username=user.username, password=password)
        return client

    return _login


# --- Playwright on Debian's Chromium (never a downloaded browser) ---------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def hub_world(org):
    """A second household under hub1 and a third building of compound1 (tests/grid/test_moves.py).

    hub1 (in building1) looks after household1 and a second household of building1."""
    neighbour = HouseholdFactory(building=org.building1, room="102", hub=org.hub1)
    other_building = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    return org, neighbour, other_building
