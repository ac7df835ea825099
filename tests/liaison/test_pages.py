"""The pairing pages: who reaches them (the team's keepers only, 404 for everyone else), what they
show, and that each write shows its plan first and goes through the service."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liaison.models import Pairing, PairingTier, WorkGroup, WorkGroupMembership
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory

from . import pairing_world
from .pairing_world import START, pair_cadre

team_world = pairing_world.team_world  # the fixture

TODAY = timezone.localdate()


def _routes(world):
    """Every pairing page with the object it is tried on, and whether GET shows it (else POST only)."""
    team, group, membership, pairing = world.team.pk, world.group1.pk, world.membership1.pk, world.pairing1.pk
    return [
        (reverse("liaison:index"), "redirect"),
        (reverse("liaison:team", kwargs={"pk": team}), "get"),
        (reverse("liaison:coverage", kwargs={"pk": team}), "get"),
        (reverse("liaison:team-edit", kwargs={"pk": team}), "get"),
        (reverse("liaison:group-create", kwargs={"pk": team}), "get"),
        (reverse("liaison:pair", kwargs={"pk": team}), "get"),
        (reverse("liaison:hand-over", kwargs={"pk": team}), "get"),
        (reverse("liaison:group", kwargs={"pk": group}), "get"),
        (reverse("liaison:group-leader", kwargs={"pk": group}), "post"),
        (reverse("liaison:group-compound-add", kwargs={"pk": group}), "post"),
        (reverse("liaison:group-member-add", kwargs={"pk": group}), "post"),
        (reverse("liaison:member-leave", kwargs={"pk": membership}), "get"),
        (reverse("liaison:pairing-end", kwargs={"pk": pairing}), "get"),
    ]


def _state():
    return (
        list(Pairing.objects.order_by("pk").values_list("pk", "ends_on", "cadre_id", "node_id", "household_id")),
        list(WorkGroupMembership.objects.order_by("pk").values_list("pk", "left_on")),
        list(WorkGroup.objects.order_by("pk").values_list("pk", "name", "leader_id")),
    )


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("keeper", ["admin", "leader"])
def test_the_admin_and_the_team_leader_reach_every_pairing_page(team_world, client, keeper):
    client.force_login(getattr(team_world.users, keeper))
    for url, kind in _routes(team_world):
        response = client.get(url)
        expected = {"get": 200, "redirect": 302, "post": 405}[kind]
        assert response.status_code == expected, f"GET {url} as {keeper}: {response.status_code}"


@pytest.mark.parametrize("outsider", ["cadre1", "staff", "other_staff", "grouplead2", "nobody"])
def test_everyone_else_gets_404_on_every_pairing_page_and_changes_nothing(team_world, client, outsider):
    user = team_world.lead2 if outsider == "grouplead2" else getattr(team_world.users, outsider)
    client.force_login(user)
    before = _state()
    for url, _kind in _routes(team_world):
        assert client.get(url).status_code == 404, f"GET {url} as {outsider}"
        payload = {"confirm": "1", "ends_on": TODAY.isoformat(), "left_on": TODAY.isoformat(), "name": "x"}
        assert client.post(url, payload).status_code == 404, f"POST {url} as {outsider}"
    assert _state() == before


def test_a_group_leader_gets_404_on_their_own_group_too(team_world, client):
    client.force_login(team_world.lead1)
    assert client.get(reverse("liaison:group", kwargs={"pk": team_world.group1.pk})).status_code == 404
    assert client.get(reverse("liaison:team", kwargs={"pk": team_world.team.pk})).status_code == 404


def test_a_bureau_leader_of_the_community_who_does_not_lead_the_team_gets_404(team_world, client):
    from accounts.models import Role
    from tests.factories import grant

    other_leader = UserFactory(username="otherleader")
    grant(other_leader, Role.BUREAU_LEADER, node=team_world.community)
    client.force_login(other_leader)
    assert client.get(reverse("liaison:team", kwargs={"pk": team_world.team.pk})).status_code == 404


def test_the_menu_shows_pairing_to_the_keepers_only(team_world, client):
    url = reverse("liaison:index")
    client.force_login(team_world.users.leader)
    assert f'href="{url}"' in client.get("/").content.decode()
    client.force_login(team_world.users.cadre1)
    assert f'href="{url}"' not in client.get("/").content.decode()


def test_the_index_lists_the_teams_of_an_admin_with_several(team_world, client):
    from liaison.services import work_team_create

    work_team_create(actor=None, bureau_name="市民政局", name="南湖工作队", community=team_world.other_community)
    client.force_login(team_world.users.admin)
    response = client.get(reverse("liaison:index"))
    assert response.status_code == 200
    assert "筑堡工作队" in response.content.decode() and "南湖工作队" in response.content.decode()


# --- the team page --------------------------------------------------------------------------------


def test_the_team_page_shows_groups_cadres_places_and_counts(team_world, client):
    client.force_login(team_world.users.leader)
    response = client.get(reverse("liaison:team", kwargs={"pk": team_world.team.pk}))
    body = response.content.decode()
    assert "第一工作组" in body and "第二工作组" in body
    assert team_world.compound1.name in body and team_world.building1.name in body
    assert team_world.users.cadre1.display_name in body
    tree = response.context["tree"]
    assert (tree.buildings, tree.households, tree.care) == (2, 2, 1)
    group1 = next(row for row in tree.groups if row.group == team_world.group1)
    assert (group1.buildings, group1.households, group1.care) == (1, 1, 1)
    assert [row.cadre for row in group1.cadres] == [team_world.users.cadre1]
    assert group1.cadres[0].pairings == [team_world.pairing1]


def test_the_team_page_as_of_a_day_before_the_pairing_shows_none(team_world, client):
    client.force_login(team_world.users.leader)
    day = START - timedelta(days=1)
    response = client.get(reverse("liaison:team", kwargs={"pk": team_world.team.pk}), {"on": day.isoformat()})
    tree = response.context["tree"]
    assert (tree.buildings, tree.households) == (0, 0)
    assert all(not row.cadres for row in tree.groups)  # nobody was a member yet


def test_a_household_paired_alone_and_under_its_building_is_counted_once(team_world, client):
    second = UserFactory(username="second")
    from liaison.services import work_group_member_add

    work_group_member_add(actor=None, group=team_world.group1, cadre=second, joined_on=START)
    pair_cadre(team_world.team, team_world.group1, second, household=team_world.household1)
    client.force_login(team_world.users.leader)
    tree = client.get(reverse("liaison:team", kwargs={"pk": team_world.team.pk})).context["tree"]
    assert (tree.households, tree.care) == (2, 1)
    group1 = next(row for row in tree.groups if row.group == team_world.group1)
    assert group1.households == 1
    assert {row.cadre.username: row.households for row in group1.cadres} == {"cadre1": 1, "second": 1}


def _grow(world, cadres: int, households_each: int):
    """More cadres in group1, each paired with a new building of compound1 full of households."""
    from liaison.services import work_group_member_add

    for number in range(cadres):
        cadre = UserFactory(username=f"grown{number}")
        work_group_member_add(actor=None, group=world.group1, cadre=cadre, joined_on=START)
        building = BuildingFactory(name=f"{20 + number}号楼党小组", parent=world.compound1)
        for room in range(households_each):
            HouseholdFactory(building=building, room=f"{room + 1}01")
        pair_cadre(world.team, world.group1, cadre, node=building)
        household = HouseholdFactory(building=world.building2, room=f"9{number:02d}", is_care=True, care_reason="病")
        pair_cadre(world.team, world.group1, cadre, household=household)


TEAM_PAGE_QUERIES = 14  # session, user, grants, team, groups, compounds, members, pairings, totals …


@pytest.mark.parametrize("size", [0, 12])
def test_the_team_page_runs_the_same_queries_whatever_the_size(team_world, client, django_assert_max_num_queries, size):
    _grow(team_world, cadres=size, households_each=3)
    client.force_login(team_world.users.leader)
    url = reverse("liaison:team", kwargs={"pk": team_world.team.pk})
    with django_assert_max_num_queries(TEAM_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert response.context["tree"].buildings == 2 + size


# --- team structure ---------------------------------------------------------------------------------


def test_the_leader_changes_the_care_rule(team_world, client):
    client.force_login(team_world.users.leader)
    url = reverse("liaison:team-edit", kwargs={"pk": team_world.team.pk})
    assert client.post(url, {"care_cadres_required": "3"}).status_code == 302
    team_world.team.refresh_from_db()
    assert team_world.team.care_cadres_required == 3
    assert client.post(url, {"care_cadres_required": "0"}).status_code == 400


def test_the_leader_creates_a_group_paired_with_a_compound(team_world, client):
    client.force_login(team_world.users.leader)
    url = reverse("liaison:group-create", kwargs={"pk": team_world.team.pk})
    response = client.post(
        url,
        {
            "name": "第三工作组",
            "leader": team_world.users.staff.pk,
            "compound": team_world.compound1.pk,
            "starts_on": TODAY.isoformat(),
        },
    )
    group = WorkGroup.objects.get(name="第三工作组")
    assert response.status_code == 302 and response["Location"] == reverse("liaison:group", kwargs={"pk": group.pk})
    assert group.leader == team_world.users.staff
    assert (
        Pairing.objects.on(TODAY)
        .filter(tier=PairingTier.COMPOUND, work_group=group, node=team_world.compound1)
        .exists()
    )
    # The name is the team's only once: the service's refusal is on the form.
    response = client.post(url, {"name": "第三工作组", "starts_on": TODAY.isoformat()})
    assert response.status_code == 400


def test_the_leader_sets_a_groups_leader_pairs_a_compound_and_adds_a_member(team_world, client):
    client.force_login(team_world.users.leader)
    group = team_world.group1
    response = client.post(
        reverse("liaison:group-leader", kwargs={"pk": group.pk}), {"leader": team_world.users.staff.pk}
    )
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.leader == team_world.users.staff

    url = reverse("liaison:group-compound-add", kwargs={"pk": group.pk})
    response = client.post(url, {"compound": team_world.compound2.pk, "starts_on": TODAY.isoformat()})
    assert response.status_code == 302
    assert Pairing.objects.on(TODAY).filter(work_group=group, node=team_world.compound2).exists()
    response = client.post(url, {"compound": team_world.compound2.pk, "starts_on": TODAY.isoformat()})
    assert response.status_code == 400 and response.context["compound_form"].errors  # already paired

    newcomer = UserFactory(username="newcomer")
    from accounts.models import Role
    from tests.factories import grant

    grant(newcomer, Role.COMMUNITY_STAFF, node=team_world.compound1)  # someone the leader can see
    url = reverse("liaison:group-member-add", kwargs={"pk": group.pk})
    assert client.post(url, {"cadre": newcomer.pk, "joined_on": TODAY.isoformat()}).status_code == 302
    assert WorkGroupMembership.objects.filter(group=group, cadre=newcomer, left_on__isnull=True).exists()
    # A cadre of the other group must leave it first: the service says so on the page.
    response = client.post(url, {"cadre": team_world.users.cadre2.pk, "joined_on": TODAY.isoformat()})
    assert response.status_code == 400 and "第二工作组" in str(response.context["member_form"].errors)


def test_a_member_with_pairings_cannot_leave_until_they_end(team_world, client):
    client.force_login(team_world.users.leader)
    url = reverse("liaison:member-leave", kwargs={"pk": team_world.membership1.pk})
    response = client.post(url, {"left_on": TODAY.isoformat()})
    assert response.status_code == 400
    assert response.context["form"].errors["left_on"]  # the service's refusal, on the form
    team_world.membership1.refresh_from_db()
    assert team_world.membership1.left_on is None

    end = reverse("liaison:pairing-end", kwargs={"pk": team_world.pairing1.pk})
    assert client.post(end, {"ends_on": TODAY.isoformat()}).status_code == 302
    assert client.post(url, {"left_on": TODAY.isoformat()}).status_code == 302
    team_world.membership1.refresh_from_db()
    assert team_world.membership1.left_on == TODAY


def test_ending_a_pairing_asks_first_then_ends_it_on_the_day(team_world, client):
    client.force_login(team_world.users.admin)
    url = reverse("liaison:pairing-end", kwargs={"pk": team_world.pairing1.pk})
    response = client.get(url)
    assert response.status_code == 200 and team_world.building1.name in response.content.decode()
    team_world.pairing1.refresh_from_db()
    assert team_world.pairing1.ends_on is None
    response = client.post(url, {"ends_on": START.isoformat()})  # not after the day it starts
    assert response.status_code == 400
    tomorrow = TODAY + timedelta(days=1)
    assert client.post(url, {"ends_on": tomorrow.isoformat()}).status_code == 302
    team_world.pairing1.refresh_from_db()
    assert team_world.pairing1.ends_on == tomorrow


def test_unpairing_a_compound_goes_back_to_the_group(team_world, client):
    client.force_login(team_world.users.leader)
    pairing = Pairing.objects.get(tier=PairingTier.COMPOUND, work_group=team_world.group1)
    response = client.post(reverse("liaison:pairing-end", kwargs={"pk": pairing.pk}), {"ends_on": TODAY.isoformat()})
    assert response["Location"] == reverse("liaison:group", kwargs={"pk": team_world.group1.pk})
    assert not Pairing.objects.on(TODAY).filter(pk=pairing.pk).exists()


# --- pair in bulk ----------------------------------------------------------------------------------


def _pair_url(world):
    return reverse("liaison:pair", kwargs={"pk": world.team.pk}) + f"?compound={world.compound1.pk}"


def test_the_bulk_page_lists_the_compounds_buildings_hubs_and_care_households(team_world, client):
    client.force_login(team_world.users.leader)
    response = client.get(_pair_url(team_world) + f"&node={team_world.building1.pk}&cadre={team_world.users.cadre1.pk}")
    body = response.content.decode()
    assert response.status_code == 200
    assert team_world.building1.name in body and team_world.hub1.name in body
    assert team_world.building2.name not in body  # another compound
    assert f'data-household="{team_world.household1.pk}"' in body
    assert response.context["ticked_nodes"] == {team_world.building1.pk}
    households = response.context["households"]
    assert [(h.pk, h.cadre_count) for h in households] == [(team_world.household1.pk, 1)]


def test_pairing_in_bulk_shows_the_plan_before_writing(team_world, client):
    cadre = team_world.users.cadre1
    third = BuildingFactory(name="3号楼党小组", parent=team_world.compound1)
    client.force_login(team_world.users.leader)
    payload = {
        "cadre": cadre.pk,
        "starts_on": TODAY.isoformat(),
        "nodes": [team_world.building1.pk, third.pk, team_world.hub1.pk],
        "households": [team_world.household1.pk],
    }
    before = _state()
    response = client.post(_pair_url(team_world), payload)
    assert response.status_code == 200
    assert response.templates[0].name == "liaison/pair_plan.html"
    plan = response.context["plan"]
    assert {row.label for row in plan.to_create} == {third.name, team_world.hub1.name, team_world.household1.address}
    assert [row.place for row in plan.already] == [team_world.building1]
    assert 'name="confirm"' in response.content.decode()
    assert _state() == before  # the plan writes nothing

    response = client.post(_pair_url(team_world), {**payload, "confirm": "1"})
    assert response.status_code == 302
    held = Pairing.objects.on(TODAY).filter(cadre=cadre, tier=PairingTier.CADRE)
    assert set(held.exclude(node=None).values_list("node_id", flat=True)) == {
        team_world.building1.pk,
        third.pk,
        team_world.hub1.pk,
    }
    assert list(held.exclude(household=None).values_list("household_id", flat=True)) == [team_world.household1.pk]


def test_a_plan_with_a_refused_place_offers_no_confirm_and_the_confirm_writes_nothing(team_world, client):
    from grid.services import org_node_deactivate

    third = BuildingFactory(name="3号楼党小组", parent=team_world.compound1)
    client.force_login(team_world.users.leader)
    payload = {"cadre": team_world.users.cadre1.pk, "starts_on": TODAY.isoformat(), "nodes": [third.pk]}
    org_node_deactivate(actor=None, node=third)
    before = _state()
    response = client.post(_pair_url(team_world), payload)
    assert response.status_code == 200
    assert len(response.context["plan"].refused) == 1
    assert 'name="confirm"' not in response.content.decode()
    response = client.post(_pair_url(team_world), {**payload, "confirm": "1"})
    assert response.status_code == 400 and response.context["form"].non_field_errors()
    assert _state() == before


def test_a_cadre_who_is_not_a_member_on_the_day_is_refused_on_the_page(team_world, client):
    client.force_login(team_world.users.leader)
    before_joining = START - timedelta(days=1)
    payload = {
        "cadre": team_world.users.cadre1.pk,
        "starts_on": before_joining.isoformat(),
        "nodes": [team_world.building1.pk],
    }
    response = client.post(_pair_url(team_world), payload)
    assert response.status_code == 400
    assert response.context["form"].errors["cadre"]


def test_pairing_in_bulk_needs_a_ticked_place(team_world, client):
    client.force_login(team_world.users.leader)
    response = client.post(_pair_url(team_world), {"cadre": team_world.users.cadre1.pk, "starts_on": TODAY.isoformat()})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()


def test_back_from_the_plan_keeps_the_ticks(team_world, client):
    client.force_login(team_world.users.leader)
    payload = {
        "cadre": team_world.users.cadre1.pk,
        "starts_on": TODAY.isoformat(),
        "nodes": [team_world.hub1.pk],
        "back": "1",
    }
    response = client.post(_pair_url(team_world), payload)
    assert response.status_code == 200
    assert response.templates[0].name == "liaison/pair.html"
    assert response.context["ticked_nodes"] == {team_world.hub1.pk}


# --- hand over -------------------------------------------------------------------------------------


def test_handing_over_shows_the_plan_then_moves_the_pairings(team_world, client):
    from liaison.services import work_group_member_add

    successor = UserFactory(username="successor")
    work_group_member_add(actor=None, group=team_world.group1, cadre=successor, joined_on=START)
    third = BuildingFactory(name="3号楼党小组", parent=team_world.compound1)
    pair_cadre(team_world.team, team_world.group1, team_world.users.cadre1, node=third)
    pair_cadre(team_world.team, team_world.group1, team_world.users.cadre1, household=team_world.household2)
    client.force_login(team_world.users.leader)
    url = reverse("liaison:hand-over", kwargs={"pk": team_world.team.pk})
    assert client.get(url, {"from": team_world.users.cadre1.pk}).context["form"].initial["from_cadre"] == (
        team_world.users.cadre1.pk
    )
    payload = {"from_cadre": team_world.users.cadre1.pk, "to_cadre": successor.pk, "on": TODAY.isoformat()}
    before = _state()
    response = client.post(url, payload)
    assert response.status_code == 200 and response.templates[0].name == "liaison/hand_over_plan.html"
    labels = [row.label for row in response.context["plan"].rows]
    assert labels[:2] == [team_world.building1.name, third.name] and len(labels) == 3
    assert _state() == before

    response = client.post(url, {**payload, "confirm": "1"})
    assert response.status_code == 302
    assert Pairing.objects.on(TODAY).filter(cadre=successor).count() == 3
    assert not Pairing.objects.on(TODAY).filter(cadre=team_world.users.cadre1).exists()


def test_a_hand_over_to_someone_outside_the_team_is_refused(team_world, client):
    client.force_login(team_world.users.leader)
    url = reverse("liaison:hand-over", kwargs={"pk": team_world.team.pk})
    payload = {
        "from_cadre": team_world.users.cadre1.pk,
        "to_cadre": team_world.users.cadre1.pk,
        "on": TODAY.isoformat(),
    }
    response = client.post(url, payload)
    assert response.context["plan"].refusal
    assert 'name="confirm"' not in response.content.decode()
    response = client.post(url, {**payload, "confirm": "1"})
    assert response.status_code == 400
    assert Pairing.objects.on(TODAY).filter(cadre=team_world.users.cadre1, node=team_world.building1).exists()
