"""seed_demo: the documented logins, the shape of the demo community, idempotency."""

import io
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import Department, Role, RoleGrant, User
from core.access import Action, get_in_scope_or_404, nodes_for, roles_of, scope
from grid.access import import_job_refusal
from grid.models import (
    Grid,
    GridBuilding,
    GridColour,
    GridPost,
    Household,
    ImportChange,
    ImportJob,
    OrgNode,
    OrgNodeKind,
    id_number_is_valid,
)
from liaison.models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam

pytestmark = pytest.mark.django_db

DEMO_PASSWORD = "demo-pass-2024"


def seed(households=200, **kwargs):
    call_command("seed_demo", password=DEMO_PASSWORD, households=households, stdout=kwargs.pop("stdout", None))


def counts():
    models = [
        User, RoleGrant, Department, OrgNode, Household, Household.tags.through, Grid, GridBuilding, GridPost,
        WorkTeam, WorkGroup, WorkGroupMembership, Pairing,
    ]  # fmt: skip
    return {model.__name__: model.objects.count() for model in models}


def seeded_households():
    """The households seed_demo writes itself (not those its demo import job wrote)."""
    imported = ImportChange.objects.filter(kind=ImportChange.Kind.HOUSEHOLD, operation=ImportChange.Operation.CREATED)
    return Household.objects.exclude(pk__in=imported.values("object_id"))


def active_grants(username):
    return RoleGrant.objects.active().filter(user__username=username).select_related("org_node", "grid", "department")


def pairings_today(username=None, **filters):
    rows = Pairing.objects.on(timezone.localdate()).filter(**filters).select_related("node", "household")
    return rows.filter(cadre__username=username) if username else rows


@pytest.fixture(scope="module")
def seeded_once(django_db_setup, django_db_blocker):
    """Seed once for the module, inside a transaction rolled back at the end; each test
    runs in its own savepoint on top of it (pytest-django's ``db``)."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(seeded_once, db):
    return None


def test_documented_logins_exist_with_the_demo_password(seeded, client):
    for username in ["admin", "leader", "grouplead", "staff", "gridworker", "dept", "cadre1", "cadre2", "cadre30"]:
        assert client.login(username=username, password=DEMO_PASSWORD), username
        client.logout()


def test_admin_is_a_global_system_admin_and_a_django_superuser(seeded):
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser
    assert [(g.role, g.org_node_id) for g in active_grants("admin")] == [(Role.SYSTEM_ADMIN, None)]


def test_leader_staff_grouplead_gridworker_and_dept_hold_their_documented_roles(seeded):
    community = OrgNode.objects.get(parent=None, name="北苑社区")
    # The leader and the group leader get their places from the pairing, not from role grants.
    assert not active_grants("leader").exists() and not active_grants("grouplead").exists()
    (leader_pairing,) = pairings_today("leader")
    assert (leader_pairing.tier, leader_pairing.node) == (PairingTier.COMMUNITY, community)
    assert roles_of(User.objects.get(username="leader")) == {Role.BUREAU_LEADER}
    assert {(g.role, g.org_node) for g in active_grants("staff")} == {(Role.COMMUNITY_STAFF, community)}
    group = WorkGroup.objects.get(leader__username="grouplead")
    compounds = {p.node.name for p in pairings_today(work_group=group, tier=PairingTier.COMPOUND)}
    assert compounds == {"阳光小区党支部", "向阳小区党支部"}
    lead = User.objects.get(username="grouplead")
    assert {grant.node_id for grant in nodes_for(lead, Action.VIEW) if grant.kind == OrgNodeKind.COMPOUND} == {
        node.pk for node in OrgNode.objects.filter(name__in=compounds)
    }
    (worker_grant,) = active_grants("gridworker")
    assert worker_grant.role == Role.GRID_WORKER
    assert GridPost.objects.filter(grid=worker_grant.grid, holder__username="gridworker", post_type="A").exists()
    (dept_grant,) = active_grants("dept")
    assert dept_grant.role == Role.DEPARTMENT_HANDLER and dept_grant.department.name == "城管局"


def test_cadre1_and_cadre2_work_in_different_compounds_and_work_groups(seeded):
    def compounds_of(username):
        buildings = pairings_today(username, node__isnull=False)
        assert buildings and all(p.tier == PairingTier.CADRE and p.node.kind == OrgNodeKind.BUILDING for p in buildings)
        assert not active_grants(username).exists()
        return {p.node.parent_id for p in buildings}

    assert compounds_of("cadre1").isdisjoint(compounds_of("cadre2"))
    group1 = WorkGroupMembership.objects.get(cadre__username="cadre1", left_on=None).group_id
    group2 = WorkGroupMembership.objects.get(cadre__username="cadre2", left_on=None).group_id
    assert group1 != group2


def test_cadre2_cannot_reach_a_household_of_cadre1s_building(seeded):
    cadre1_building = pairings_today("cadre1", node__isnull=False)[0].node
    household = Household.objects.filter(building=cadre1_building).first()
    cadre2 = User.objects.get(username="cadre2")
    assert not scope(Household.objects.filter(building=cadre1_building), cadre2, Action.VIEW).exists()
    with pytest.raises(Http404):
        get_in_scope_or_404(Household.objects.all(), cadre2, Action.VIEW, pk=household.pk)


def test_the_work_team_has_four_groups_each_paired_with_a_compound_and_thirty_cadres(seeded):
    team = WorkTeam.objects.get()
    assert (team.bureau_name, team.name, team.leader.username) == ("市住房和城乡建设局", "筑堡工作队", "leader")
    groups = WorkGroup.objects.filter(team=team)
    assert groups.count() == 4
    compound_pairings = pairings_today(tier=PairingTier.COMPOUND)
    assert {p.work_group_id for p in compound_pairings} == {group.pk for group in groups}
    assert compound_pairings.count() == 6  # every compound branch, the two small ones with the first two groups
    assert User.objects.filter(username__regex=r"^cadre\d+$").count() == 30
    cadre_pairings = pairings_today(tier=PairingTier.CADRE)
    assert cadre_pairings.values("cadre").distinct().count() == 30
    # Every building has its cadre; every care household a second one of the same group (多帮一).
    buildings = OrgNode.objects.filter(kind=OrgNodeKind.BUILDING)
    assert set(cadre_pairings.filter(node__isnull=False).values_list("node_id", flat=True)) == set(
        buildings.values_list("id", flat=True)
    )
    care = seeded_households().filter(is_care=True, is_active=True)
    assert care.exists()
    short = []
    for household in care:
        building_cadre = cadre_pairings.get(node_id=household.building_id).cadre_id
        (second,) = Pairing.objects.filter(household=household)  # today's, or one that ended
        assert second.cadre_id != building_cadre
        assert second.work_group_id == cadre_pairings.get(node_id=household.building_id).work_group_id
        if not second.in_force_on(timezone.localdate()):
            short.append(second)
    # A few second cadres' pairings ended 20 days ago: history, and gaps for the coverage view.
    assert len(short) == 3 and all(p.ends_on == timezone.localdate() - timedelta(days=20) for p in short)


def test_a_cadre_sees_their_buildings_and_their_care_households_and_nothing_else(seeded):
    # A cadre who is the second cadre of some care households (多帮一).
    cadre = pairings_today(tier=PairingTier.CADRE, household__isnull=False).first().cadre
    buildings = {p.node_id for p in pairings_today(cadre.username, node__isnull=False)}
    households = {p.household_id for p in pairings_today(cadre.username, household__isnull=False)}
    assert buildings and households
    seen = set(scope(Household.objects.all(), cadre, Action.VIEW).values_list("id", flat=True))
    expected = set(Household.objects.filter(building_id__in=buildings).values_list("id", flat=True)) | households
    assert seen == expected


def test_the_tree_has_six_compounds_forty_buildings_and_some_hubs(seeded):
    community = OrgNode.objects.get(parent=None, name="北苑社区")
    tree = community.get_descendants()
    assert tree.filter(kind=OrgNodeKind.COMPOUND).count() == 6
    assert tree.filter(kind=OrgNodeKind.BUILDING).count() == 40
    assert 3 <= tree.filter(kind=OrgNodeKind.HUB).count() <= 10
    assert Household.objects.filter(hub__isnull=False).exists()


def test_households_are_believable_and_stamped_with_their_compound_and_community(seeded):
    households = list(seeded_households().select_related("building"))
    assert len(households) == 200
    assert all(re.fullmatch(r"1\d{10}", h.phone) for h in households)
    assert all(id_number_is_valid(h.id_number) for h in households)
    assert len({h.phone for h in households}) == 200 and len({h.id_number for h in households}) == 200
    assert all(h.compound_id == h.building.parent_id for h in households)
    assert {h.community_id for h in households} == {OrgNode.objects.get(name="北苑社区").pk}
    care = [h for h in households if h.is_care]
    assert len(care) == 10  # 5 %
    assert all(h.care_reason and h.tags.exists() for h in care[:3])


def test_twelve_grids_cover_every_building_with_exactly_three_vacant_posts(seeded):
    assert Grid.objects.count() == 12
    assert GridBuilding.objects.count() == 40
    vacant = GridPost.objects.filter(holder__isnull=True)
    assert vacant.count() == 3
    assert set(vacant.values_list("post_type", flat=True)) == {"A"}
    assert set(GridPost.objects.values_list("post_type", flat=True)) == {"A", "B", "C"}


def test_grids_are_mostly_green_with_one_red_and_two_yellow_with_reasons(seeded):
    colours = list(Grid.objects.values_list("colour", "colour_reason"))
    assert sum(colour == GridColour.RED for colour, _reason in colours) == 1
    assert sum(colour == GridColour.YELLOW for colour, _reason in colours) == 2
    assert all(reason for colour, reason in colours if colour != GridColour.GREEN)


def test_four_departments_exist(seeded):
    assert set(Department.objects.values_list("name", flat=True)) == {"城管局", "房产局", "供暖公司", "信访办"}


def test_running_it_twice_creates_nothing_twice(seeded):
    before = counts()
    seed()
    assert counts() == before


def test_a_second_run_sets_the_new_password(seeded, client):
    call_command("seed_demo", password="another-demo-pass", households=200)
    assert client.login(username="cadre1", password="another-demo-pass")


def test_it_prints_the_table_of_logins(seeded):
    out = io.StringIO()
    seed(stdout=out)
    text = out.getvalue()
    for username in ["admin", "leader", "grouplead", "staff", "gridworker", "dept", "cadre1", "cadre2"]:
        assert re.search(rf"^\s+{username}\s", text, re.MULTILINE), username


def test_a_password_is_required(seeded, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    User.objects.filter(username="cadre1").update(password="unchanged")
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert User.objects.get(username="cadre1").password == "unchanged"


def test_a_full_size_run_fills_the_community_up_to_two_thousand_households_about_five_percent_in_care(seeded):
    seed(households=2000)  # on top of the 200 of the module: the same addresses come first
    assert seeded_households().count() == 2000
    assert 90 <= seeded_households().filter(is_care=True).count() <= 115


def test_staff_has_three_import_jobs_written_waiting_and_refused(seeded):
    """The README's walk: one written and undoable, one checked and waiting, one refused."""
    staff = User.objects.get(username="staff")
    jobs = {job.original_name: job for job in ImportJob.objects.filter(created_by=staff)}
    written, waiting, refused = (
        jobs["阳光小区补录台账.xlsx"],
        jobs["和平小区台账（待确认）.xlsx"],
        jobs["建设小区台账（有错误）.xlsx"],
    )
    assert written.status == ImportJob.Status.SUCCEEDED and import_job_refusal(staff, written, "undo") is None
    created = written.changes.filter(kind=ImportChange.Kind.HOUSEHOLD, operation=ImportChange.Operation.CREATED)
    assert created.count() == 8 and written.changes.filter(operation=ImportChange.Operation.UPDATED).count() == 1
    assert {h.unit for h in Household.objects.filter(pk__in=created.values("object_id"))} == {"9"}
    assert waiting.status == ImportJob.Status.READY, waiting.errors
    assert Household.objects.filter(head_name="谢春生").count() == 0  # checked, not written
    preview = waiting.preview
    assert preview["posts_taken"]["total"] == 1 and preview["grid_buildings"]["total"] == 1
    assert preview["cleared"]["total"] == 1
    assert refused.status == ImportJob.Status.FAILED
    assert {error["code"] for error in refused.errors} == {"phone_invalid", "date_cell", "id_number_as_number"}


def test_the_template_uploaded_unchanged_into_the_demo_changes_nothing(seeded):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from grid.exporting import TEMPLATE_PATH
    from grid.importing import import_job_check, import_job_create

    staff = User.objects.get(username="staff")
    before = counts()
    job = import_job_create(actor=staff, uploaded_file=SimpleUploadedFile("模板.xlsx", TEMPLATE_PATH.read_bytes()))
    import_job_check(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED and [e["code"] for e in job.errors] == ["only_examples"]
    assert counts() == before
