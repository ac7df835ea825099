"""Three-tier pairing (issue 8): dated grants held at places drive what each person sees, and the
services that write them hold the rules whatever face calls them."""

import pytest
from django.http import Http404

from accounts.models import Role, User
from accounts.services import role_grant_add
from core.access import Action, can, get_in_scope_or_404, has_action, roles_of, scope
from core.errors import ZhubaoError
from core.models import AuditEvent
from grid.models import Grid, Household, OrgNode
from grid.services import org_node_deactivate
from liaison.access import MANAGE_PAIRING
from liaison.models import Pairing, PairingTier, WorkGroupMembership
from liaison.services import (
    hand_over_plan,
    pairing_create,
    pairing_end,
    pairings_create,
    pairings_hand_over,
    pairings_plan,
    work_group_member_add,
    work_group_member_leave,
)
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory, grant
from tests.liaison.conftest import day

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request would load them (no scope cached on the object)."""
    return User.objects.get(pk=user.pk)


def households_of(user) -> set[int]:
    return set(scope(Household.objects.all(), fresh(user), Action.VIEW).values_list("id", flat=True))


# --- scope follows pairing ---------------------------------------------------------------------------


def test_a_cadre_paired_with_a_building_sees_its_households_and_no_other(org, team, pair):
    pair(team.cadre_a, org.building1)
    assert households_of(team.cadre_a) == {org.household1.pk}
    assert roles_of(fresh(team.cadre_a)) == {Role.CADRE}
    assert set(scope(OrgNode.objects.all(), fresh(team.cadre_a)).values_list("id", flat=True)) == {
        org.building1.pk,
        org.hub1.pk,
    }
    assert list(scope(Grid.objects.all(), fresh(team.cadre_a))) == [org.grid1]


def test_a_cadre_paired_with_one_household_sees_it_and_not_its_neighbours(org, team, pair):
    neighbour = HouseholdFactory(building=org.building1, room="102")
    pair(team.cadre_a, org.household1)
    cadre = fresh(team.cadre_a)
    assert households_of(cadre) == {org.household1.pk}
    with pytest.raises(Http404):
        get_in_scope_or_404(Household.objects.all(), cadre, Action.VIEW, pk=neighbour.pk)
    # The building itself is not theirs: no node, no count of its households.
    assert not scope(OrgNode.objects.all(), cadre).exists()
    # They work with the resident directly: they may see the full phone (audited elsewhere), and find the
    # grid worker of the household's grid.
    assert can(cadre, Action.REVEAL_PERSONAL_DATA, org.household1)
    assert list(scope(Grid.objects.all(), cadre)) == [org.grid1]


def test_a_cadre_paired_at_a_hub_sees_the_hubs_households(org, team, pair):
    other = HouseholdFactory(building=org.building1, room="103")  # not under the hub
    pair(team.cadre_a, org.hub1)
    assert households_of(team.cadre_a) == {org.household1.pk}
    assert other.pk not in households_of(team.cadre_a)
    assert list(scope(Grid.objects.all(), fresh(team.cadre_a))) == [org.grid1]


def test_a_pairing_holds_from_its_first_day_until_the_day_before_its_end(org, team, pair):
    pairing = pair(team.cadre_a, org.building1, starts_on=day(-10), ends_on=day(1))
    assert households_of(team.cadre_a) == {org.household1.pk}  # ends tomorrow: still theirs today
    pairing_end(actor=None, pairing=pairing, ends_on=day(0))
    assert households_of(team.cadre_a) == set()  # ends today: nothing of it from today on
    assert roles_of(fresh(team.cadre_a)) == set()


def test_a_pairing_that_ended_yesterday_shows_nothing(org, team, pair):
    pair(team.cadre_a, org.building1, starts_on=day(-10), ends_on=day(-1))
    assert households_of(team.cadre_a) == set()
    assert not has_action(fresh(team.cadre_a), Action.VIEW)


def test_a_pairing_that_starts_tomorrow_shows_nothing_yet(org, team, pair):
    pair(team.cadre_a, org.building1, starts_on=day(1))
    assert households_of(team.cadre_a) == set()


def test_a_group_leader_sees_the_groups_compound_and_what_its_cadres_see(org, team, pair):
    elsewhere = HouseholdFactory(building=org.building2, room="202")  # in compound2, group2's
    pair(team.cadre_a, elsewhere)  # group1's cadre, a care household outside group1's compound
    seen = households_of(team.lead1)
    assert org.household1.pk in seen  # compound1: the group's compound branch
    assert elsewhere.pk in seen  # what the group's cadre is paired with
    assert org.household2.pk not in seen
    assert roles_of(fresh(team.lead1)) == {Role.WORK_GROUP_LEADER}


def test_a_group_leader_of_another_group_sees_nothing_of_this_one(org, team, pair):
    pair(team.cadre_a, org.building1)
    assert org.household1.pk not in households_of(team.lead2)
    assert households_of(team.lead2) == {org.household2.pk}


def test_the_bureau_leader_paired_with_the_community_sees_the_community(org, team):
    leader = UserFactory(username="deputy")
    pairing_create(actor=None, team=team.team, tier=PairingTier.COMMUNITY, cadre=leader, starts_on=day(-1))
    assert households_of(leader) == {org.household1.pk, org.household2.pk}
    assert org.other_household.pk not in households_of(leader)


def test_a_pairing_at_a_deactivated_node_gives_nothing(org, team, pair):
    building = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    pair(team.cadre_a, building)
    org_node_deactivate(actor=None, node=building)
    assert not scope(OrgNode.objects.filter(pk=building.pk), fresh(team.cadre_a)).exists()


def test_resolving_a_scope_costs_one_query_per_grant_source_whatever_the_pairings(
    org, team, pair, django_assert_num_queries
):
    for count in (1, 200):
        cadre = UserFactory(username=f"many{count}")
        work_group_member_add(actor=None, group=team.group1, cadre=cadre, joined_on=team.start)
        for number in range(count):
            pair(cadre, HouseholdFactory(building=org.building1, room=f"{count}{number:03d}"))
        person = fresh(cadre)
        with django_assert_num_queries(2):  # role grants, pairings
            assert len(roles_of(person)) == 1
        with django_assert_num_queries(1):
            assert scope(Household.objects.all(), person).count() == count


# --- the writes and their rules -------------------------------------------------------------------------


def test_the_same_place_cannot_be_paired_twice_with_one_cadre_on_overlapping_days(org, team, pair):
    pair(team.cadre_a, org.building1, starts_on=day(-10), ends_on=day(5))
    with pytest.raises(ZhubaoError) as refused:
        pair(team.cadre_a, org.building1, starts_on=day(4))
    assert refused.value.code == "duplicate"
    pair(team.cadre_a, org.building1, starts_on=day(5))  # from the day the first ends: fine
    assert Pairing.objects.filter(cadre=team.cadre_a, node=org.building1).count() == 2


def test_several_cadres_may_share_one_care_household(org, team, pair):
    pair(team.cadre_a, org.household1)
    pair(team.cadre_c, org.household1)
    assert org.household1.pk in households_of(team.cadre_a) & households_of(team.cadre_c)


def test_a_cadre_is_paired_only_within_their_group_and_the_teams_community(org, team, pair):
    with pytest.raises(ZhubaoError, match="不是第一工作组的成员"):
        pair(team.cadre_b, org.building2, group=team.group1)  # cadre_b is in group2
    with pytest.raises(ZhubaoError, match="南湖社区|北苑社区"):
        pair(team.cadre_a, org.other_building)
    with pytest.raises(ZhubaoError):
        pair(team.cadre_a, org.compound1)  # a compound is a group's, not a cadre's
    with pytest.raises(ZhubaoError):
        pair(team.cadre_a, org.building1, starts_on=day(-90))  # before they joined
    with pytest.raises(ZhubaoError):
        pair(team.cadre_a, org.building1, starts_on=day(0), ends_on=day(0))
    assert not Pairing.objects.filter(cadre__in=[team.cadre_a, team.cadre_b]).exists()


@pytest.mark.parametrize("who", ["staff", "cadre1", "lead1", "other_admin", "nobody"])
def test_only_an_admin_of_the_community_or_the_team_leader_pairs(org, team, who):
    other_admin = UserFactory(username="otheradmin")
    grant(other_admin, Role.SYSTEM_ADMIN, node=org.other_community)
    actor = {"lead1": team.lead1, "other_admin": other_admin}.get(who) or getattr(org.users, who)
    with pytest.raises(ZhubaoError) as refused:
        pairing_create(
            actor=fresh(actor),
            team=team.team,
            tier=PairingTier.CADRE,
            cadre=team.cadre_a,
            work_group=team.group1,
            node=org.building1,
        )
    assert refused.value.status_code == 403
    assert not Pairing.objects.filter(cadre=team.cadre_a).exists()


def test_the_team_leader_and_a_community_admin_pair_and_it_is_audited(org, team):
    community_admin = UserFactory(username="communityadmin")
    grant(community_admin, Role.SYSTEM_ADMIN, node=org.community)
    for actor, cadre in ((org.users.leader, team.cadre_a), (community_admin, team.cadre_c)):
        pairing = pairing_create(
            actor=fresh(actor),
            team=team.team,
            tier=PairingTier.CADRE,
            cadre=cadre,
            work_group=team.group1,
            node=org.building1,
        )
        event = AuditEvent.objects.get(object_type="liaison.pairing", object_id=str(pairing.pk))
        assert (event.user, event.action, event.detail["op"]) == (actor, AuditEvent.Action.GRANT_CHANGED, "pair")
    assert has_action(fresh(org.users.leader), MANAGE_PAIRING)


def test_a_cadre_role_is_not_given_as_an_undated_role_grant(org, team):
    with pytest.raises(ZhubaoError, match="包联"):
        role_grant_add(actor=fresh(org.users.admin), user=team.cadre_a, role=Role.CADRE, org_node=org.building1)
    with pytest.raises(ZhubaoError):
        role_grant_add(
            actor=fresh(org.users.admin), user=team.lead1, role=Role.WORK_GROUP_LEADER, org_node=org.compound1
        )


def test_a_bulk_pairing_shows_its_plan_and_writes_only_what_it_showed(org, team, pair):
    building3 = BuildingFactory(name="3号楼党小组", parent=org.compound1)
    pair(team.cadre_a, org.building1)
    plan = pairings_plan(
        actor=fresh(org.users.leader), team=team.team, cadre=team.cadre_a, nodes=[org.building1, building3]
    )
    assert [row.label for row in plan.to_create] == ["3号楼党小组"]
    assert [row.label for row in plan.already] == ["1号楼党小组"]
    assert Pairing.objects.filter(cadre=team.cadre_a).count() == 1  # a plan writes nothing
    pairings_create(actor=fresh(org.users.leader), team=team.team, cadre=team.cadre_a, nodes=[org.building1, building3])
    assert set(Pairing.objects.filter(cadre=team.cadre_a).values_list("node_id", flat=True)) == {
        org.building1.pk,
        building3.pk,
    }


def test_a_bulk_pairing_with_a_refused_place_writes_nothing(org, team):
    with pytest.raises(ZhubaoError, match="9号楼党小组"):
        pairings_create(
            actor=fresh(org.users.leader),
            team=team.team,
            cadre=team.cadre_a,
            nodes=[org.building1, org.other_building],
        )
    assert not Pairing.objects.filter(cadre=team.cadre_a).exists()


def test_handing_over_ends_every_pairing_on_the_day_and_starts_it_for_the_other_cadre(org, team, pair):
    building = pair(team.cadre_a, org.building1, starts_on=day(-30))
    household = pair(team.cadre_a, org.household2, starts_on=day(-30), ends_on=day(20))
    pair(team.cadre_c, org.household2, starts_on=day(-30))  # already holds it: the old one only ends
    plan = hand_over_plan(actor=fresh(org.users.leader), team=team.team, from_cadre=team.cadre_a, to_cadre=team.cadre_c)
    assert [(row.label, row.skip) for row in plan.rows] == [("1号楼党小组", False), (org.household2.address, True)]
    pairings_hand_over(actor=fresh(org.users.leader), team=team.team, from_cadre=team.cadre_a, to_cadre=team.cadre_c)
    building.refresh_from_db()
    household.refresh_from_db()
    assert (building.ends_on, household.ends_on) == (day(0), day(0))
    new = Pairing.objects.get(cadre=team.cadre_c, node=org.building1)
    assert (new.starts_on, new.ends_on, new.work_group) == (day(0), None, team.group1)
    assert households_of(team.cadre_a) == set()
    assert households_of(team.cadre_c) == {org.household1.pk, org.household2.pk}
    # History: who held building 1 a week ago.
    assert list(Pairing.objects.on(day(-7)).filter(node=org.building1).values_list("cadre_id", flat=True)) == [
        team.cadre_a.pk
    ]


def test_a_hand_over_to_someone_outside_the_team_is_refused_and_changes_nothing(org, team, pair):
    pair(team.cadre_a, org.building1)
    outsider = UserFactory(username="outsider")
    with pytest.raises(ZhubaoError):
        pairings_hand_over(actor=fresh(org.users.leader), team=team.team, from_cadre=team.cadre_a, to_cadre=outsider)
    assert Pairing.objects.get(cadre=team.cadre_a).ends_on is None


def test_a_member_leaves_only_once_their_pairings_are_handed_over(org, team, pair):
    pairing = pair(team.cadre_a, org.building1)
    membership = WorkGroupMembership.objects.get(cadre=team.cadre_a)
    with pytest.raises(ZhubaoError, match="1"):
        work_group_member_leave(actor=fresh(org.users.leader), membership=membership, left_on=day(3))
    pairing_end(actor=fresh(org.users.leader), pairing=pairing, ends_on=day(3))
    work_group_member_leave(actor=fresh(org.users.leader), membership=membership, left_on=day(3))
    membership.refresh_from_db()
    assert membership.left_on == day(3)


def test_an_end_is_brought_forward_never_pushed_back(org, team, pair):
    pairing = pair(team.cadre_a, org.building1, ends_on=day(10))
    pairing_end(actor=None, pairing=pairing, ends_on=day(20))
    pairing.refresh_from_db()
    assert pairing.ends_on == day(10)
    pairing_end(actor=None, pairing=pairing, ends_on=day(2))
    pairing.refresh_from_db()
    assert pairing.ends_on == day(2)
    with pytest.raises(ZhubaoError):
        pairing_end(actor=None, pairing=pairing, ends_on=team.start)


def test_people_paired_in_a_community_are_people_of_that_community(org, team, pair):
    """The pairing places people for the people rules: the community's staff see its cadres,
    a community admin manages them, unless they also work in another community."""
    from accounts.access import managed_users, may_manage_user

    community_admin = UserFactory(username="communityadmin")
    grant(community_admin, Role.SYSTEM_ADMIN, node=org.community)
    pair(team.cadre_a, org.building1)
    assert scope(User.objects.filter(pk=team.cadre_a.pk), fresh(org.users.staff), Action.VIEW_PEOPLE).exists()
    assert may_manage_user(fresh(community_admin), team.cadre_a)
    assert not scope(User.objects.filter(pk=team.cadre_a.pk), fresh(org.users.other_staff), Action.VIEW_PEOPLE)
    # Also paired in another community's team: no longer wholly inside this admin's part.
    from liaison.services import work_group_create, work_team_create

    other_team = work_team_create(actor=None, bureau_name="市住建局", name="南湖工作队", community=org.other_community)
    other_group = work_group_create(actor=None, team=other_team, name="南湖组")
    work_group_member_add(actor=None, group=other_group, cadre=team.cadre_a, joined_on=day(-1))
    assert not may_manage_user(fresh(community_admin), team.cadre_a)
    assert team.cadre_a not in managed_users(fresh(community_admin))


def test_the_home_names_the_places_a_pairing_gives(org, team, pair, client):
    pair(team.cadre_a, org.building1)
    pair(team.cadre_a, org.household2)
    pair(team.cadre_a, HouseholdFactory(building=org.building2, room="203"))
    client.force_login(team.cadre_a)
    page = client.get("/").content.decode()
    assert "1号楼党小组" in page and "2户" in page
    assert "尚未分配角色" not in page
    client.force_login(team.lead1)
    page = client.get("/").content.decode()
    assert "阳光小区党支部" in page and "尚未分配角色" not in page
