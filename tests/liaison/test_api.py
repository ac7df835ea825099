"""/api/v1/work-teams/, /work-groups/ and /pairings/: the same rules as the pages and the services."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role
from liaison.models import Pairing, PairingTier
from tests.factories import HouseholdFactory, UserFactory, grant
from tests.liaison.conftest import day

pytestmark = pytest.mark.django_db

PAIRINGS = reverse("api:pairing-list")


def api(user):
    client = APIClient()
    client.force_login(user)
    return client


def rows(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_a_cadre_lists_their_own_pairings_with_the_documented_fields(org, team, pair):
    pair(team.cadre_a, org.building1)
    pair(team.cadre_b, org.building2)
    (row,) = rows(api(team.cadre_a).get(PAIRINGS))
    assert {key: row[key] for key in ("cadre", "cadre_username", "work_group", "node", "household", "tier")} == {
        "cadre": team.cadre_a.pk,
        "cadre_username": "cadrea",
        "work_group": team.group1.pk,
        "node": org.building1.pk,
        "household": None,
        "tier": PairingTier.CADRE,
    }
    assert (row["starts_on"], row["ends_on"]) == (team.start.isoformat(), None)


def test_the_list_answers_as_of_a_day_and_by_cadre_group_node_and_household(org, team, pair):
    pair(team.cadre_a, org.building1, starts_on=day(-30), ends_on=day(-10))
    pair(team.cadre_c, org.building1, starts_on=day(-10))
    pair(team.cadre_c, org.household2)
    client = api(org.users.leader)
    in_march = rows(client.get(PAIRINGS, {"node": org.building1.pk, "on": day(-20).isoformat()}))
    assert [row["cadre_username"] for row in in_march] == ["cadrea"]
    today = rows(client.get(PAIRINGS, {"node": org.building1.pk, "on": day(0).isoformat()}))
    assert [row["cadre_username"] for row in today] == ["cadrec"]
    assert len(rows(client.get(PAIRINGS, {"node": org.building1.pk}))) == 2  # history without ?on=
    assert len(rows(client.get(PAIRINGS, {"cadre": team.cadre_c.pk}))) == 2
    assert [row["household"] for row in rows(client.get(PAIRINGS, {"household": org.household2.pk}))] == [
        org.household2.pk
    ]
    group2 = rows(client.get(PAIRINGS, {"work_group": team.group2.pk}))
    assert [(row["tier"], row["node"]) for row in group2] == [(PairingTier.COMPOUND, org.compound2.pk)]
    assert client.get(PAIRINGS, {"on": "2026-13-01"}).status_code == 400
    assert client.get(PAIRINGS, {"cadre_id": 1}).status_code == 400  # unknown filter named, not ignored


def test_the_team_leader_creates_and_ends_a_pairing_through_the_api(org, team):
    client = api(org.users.leader)
    created = client.post(
        PAIRINGS,
        {"cadre": team.cadre_a.pk, "work_group": team.group1.pk, "node": org.building1.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    pairing = Pairing.objects.get(pk=created.json()["id"])
    assert (pairing.team, pairing.starts_on, pairing.created_by) == (team.team, day(0), org.users.leader)
    ended = client.post(reverse("api:pairing-end", args=[pairing.pk]), {"ends_on": day(5).isoformat()}, format="json")
    assert ended.status_code == 200, ended.content
    assert ended.json()["ends_on"] == day(5).isoformat()


def test_a_bad_pairing_payload_is_a_400_in_chinese_and_pairs_nothing(org, team):
    client = api(org.users.leader)
    outside = client.post(
        PAIRINGS, {"cadre": team.cadre_a.pk, "work_group": team.group1.pk, "node": org.other_building.pk}, format="json"
    )
    assert outside.status_code == 400 and "node" in outside.json()["fields"]  # out of reach: does not exist
    not_member = client.post(
        PAIRINGS, {"cadre": team.cadre_b.pk, "work_group": team.group1.pk, "node": org.building1.pk}, format="json"
    )
    assert not_member.status_code == 400
    assert "不是第一工作组的成员" in not_member.json()["message"]
    assert client.post(PAIRINGS, {"cadre": team.cadre_a.pk, "node": org.building1.pk}, format="json").status_code == 400
    assert not Pairing.objects.filter(tier=PairingTier.CADRE).exists()


@pytest.mark.parametrize("who", ["staff", "cadre1", "lead1", "cadrea", "other_admin"])
def test_only_those_who_keep_the_team_create_or_end_pairings(org, team, pair, who):
    other_admin = UserFactory(username="otheradmin")
    grant(other_admin, Role.SYSTEM_ADMIN, node=org.other_community)
    actor = {"lead1": team.lead1, "cadrea": team.cadre_a, "other_admin": other_admin}.get(who) or getattr(
        org.users, who
    )
    pairing = pair(team.cadre_a, org.building1)
    client = api(actor)
    created = client.post(
        PAIRINGS, {"cadre": team.cadre_c.pk, "work_group": team.group1.pk, "node": org.building1.pk}, format="json"
    )
    assert created.status_code in (400, 403)
    assert client.post(reverse("api:pairing-end", args=[pairing.pk]), {}, format="json").status_code == 404
    pairing.refresh_from_db()
    assert pairing.ends_on is None
    assert not Pairing.objects.filter(cadre=team.cadre_c).exists()


def test_work_teams_and_groups_are_read_with_their_compounds_and_members_as_of_a_day(org, team):
    client = api(org.users.staff)
    (row,) = rows(client.get(reverse("api:work-team-list")))
    assert (row["name"], row["community"], row["leader_username"], row["care_cadres_required"]) == (
        "筑堡工作队",
        org.community.pk,
        "leader",
        2,
    )
    groups = {row["name"]: row for row in rows(client.get(reverse("api:work-group-list"), {"team": team.team.pk}))}
    assert groups["第一工作组"]["compounds"] == [org.compound1.pk]
    assert set(groups["第一工作组"]["members"]) == {team.lead1.pk, team.cadre_a.pk, team.cadre_c.pk}
    before = rows(client.get(reverse("api:work-group-list"), {"on": day(-61).isoformat()}))
    assert all(row["compounds"] == [] and row["members"] == [] for row in before)
    assert rows(api(org.users.other_staff).get(reverse("api:work-team-list"))) == []


def test_the_pairing_list_keeps_its_query_count_however_many_pairings(org, team, pair, django_assert_max_num_queries):
    client = api(org.users.leader)
    for count in (1, 200):
        for number in range(count):
            pair(team.cadre_a, HouseholdFactory(building=org.building1, room=f"{count}{number:03d}"))
        # session, user, role grants, pairings (grants), count, page
        with django_assert_max_num_queries(6):
            assert rows(client.get(PAIRINGS, {"cadre": team.cadre_a.pk, "page_size": 200}))


def test_a_cadres_household_list_keeps_its_query_count_at_1_and_200_paired_households(
    org, team, pair, client, django_assert_max_num_queries
):
    from tests.grid.test_household_list import HOUSEHOLD_LIST_QUERIES

    client.force_login(team.cadre_a)
    url = reverse("grid:household-list")
    for count in (1, 200):
        for number in range(count):
            pair(team.cadre_a, HouseholdFactory(building=org.building2, room=f"{count}{number:03d}"))
        with django_assert_max_num_queries(HOUSEHOLD_LIST_QUERIES):
            assert client.get(url).status_code == 200


def test_the_list_writes_each_row_as_the_pairing_serializer_does(org, team, pair):
    from liaison.serializers import PAIRING_LIST_COLUMNS, PairingSerializer, pairing_list_data

    pair(team.cadre_a, org.building1, ends_on=day(3))
    pair(team.cadre_a, org.household2)
    pairings = Pairing.objects.select_related("cadre", "node", "household__building", "household__compound")
    expected = PairingSerializer(pairings.order_by("id"), many=True).data
    assert pairing_list_data(pairings.order_by("id").values_list(*PAIRING_LIST_COLUMNS)) == [dict(r) for r in expected]
    assert any(row["household_address"] for row in expected) and any(row["node_name"] for row in expected)


def test_the_work_team_and_group_lists_keep_their_query_count_however_many_groups_and_members(
    org, team, django_assert_max_num_queries
):
    from liaison.services import work_group_create, work_group_member_add

    client = api(org.users.staff)
    for extra in (0, 6):
        for number in range(extra):
            group = work_group_create(actor=None, team=team.team, name=f"加组{extra}-{number}", compound=org.compound1)
            work_group_member_add(actor=None, group=group, cadre=UserFactory(), joined_on=day(-1))
        # session, user, role grants, pairings (grants), count, page, compounds today, members today
        with django_assert_max_num_queries(8):
            assert rows(client.get(reverse("api:work-group-list")))
        with django_assert_max_num_queries(6):
            assert rows(client.get(reverse("api:work-team-list")))
