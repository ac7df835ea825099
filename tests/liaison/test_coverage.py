"""The coverage view: buildings and households no cadre covers, care households with fewer cadres than the
team's rule (多帮一), members with no pairing — each gap listed, linked to its fix, gone once fixed."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from liaison import selectors
from liaison.services import pairing_end, work_group_member_add, work_team_update
from tests.factories import BuildingFactory, HouseholdFactory, UserFactory

from . import pairing_world
from .pairing_world import START, pair_cadre

team_world = pairing_world.team_world  # the fixture
TODAY = timezone.localdate()


def _coverage(client, world, section, **params):
    url = reverse("liaison:coverage", kwargs={"pk": world.team.pk})
    response = client.get(url, {"show": section, **params})
    assert response.status_code == 200
    return response


def _ids(response):
    return [row.pk for row in response.context["rows"]]


def test_a_fully_paired_team_has_no_gaps_but_a_care_household_with_one_cadre(team_world, client):
    client.force_login(team_world.users.leader)
    response = _coverage(client, team_world, "care")
    assert response.context["counts"] == {"buildings": 0, "households": 0, "care": 1, "cadres": 0}
    assert _ids(response) == [team_world.household1.pk]
    assert response.context["rows"][0].cadre_count == 1
    fix = reverse("liaison:pair", kwargs={"pk": team_world.team.pk})
    assert f"{fix}?compound={team_world.compound1.pk}&amp;household={team_world.household1.pk}" in (
        response.content.decode()
    )


def test_a_second_cadre_at_the_care_household_drops_it_from_the_list(team_world, client):
    second = UserFactory(username="second")
    work_group_member_add(actor=None, group=team_world.group1, cadre=second, joined_on=START)
    pair_cadre(team_world.team, team_world.group1, second, household=team_world.household1)
    client.force_login(team_world.users.leader)
    assert _coverage(client, team_world, "care").context["counts"]["care"] == 0


def test_cadres_at_the_building_and_at_the_hub_both_count_for_a_care_household(team_world, client):
    second = UserFactory(username="second")
    work_group_member_add(actor=None, group=team_world.group1, cadre=second, joined_on=START)
    pair_cadre(team_world.team, team_world.group1, second, node=team_world.hub1)  # household1's hub
    client.force_login(team_world.users.leader)
    assert _coverage(client, team_world, "care").context["counts"]["care"] == 0
    # The team's rule asks for three: it is thin again, with two.
    work_team_update(actor=None, team=team_world.team, care_cadres_required=3)
    response = _coverage(client, team_world, "care")
    assert _ids(response) == [team_world.household1.pk]
    assert response.context["rows"][0].cadre_count == 2


def test_a_building_without_a_cadre_is_listed_with_a_link_to_pair_it_until_it_is_paired(team_world, client):
    third = BuildingFactory(name="3号楼党小组", parent=team_world.compound1)
    lonely = HouseholdFactory(building=third, room="301")
    client.force_login(team_world.users.leader)
    response = _coverage(client, team_world, "buildings")
    assert _ids(response) == [third.pk]
    fix = reverse("liaison:pair", kwargs={"pk": team_world.team.pk})
    assert f"{fix}?compound={team_world.compound1.pk}&amp;node={third.pk}" in response.content.decode()
    assert _ids(_coverage(client, team_world, "households")) == [lonely.pk]

    pair_cadre(team_world.team, team_world.group1, team_world.users.cadre1, node=third, starts_on=TODAY)
    response = _coverage(client, team_world, "buildings")
    assert response.context["counts"]["buildings"] == 0 and response.context["counts"]["households"] == 0


def test_a_household_paired_alone_is_covered_but_its_building_is_not(team_world, client):
    third = BuildingFactory(name="3号楼党小组", parent=team_world.compound1)
    paired = HouseholdFactory(building=third, room="301")
    neighbour = HouseholdFactory(building=third, room="302")
    pair_cadre(team_world.team, team_world.group1, team_world.users.cadre1, household=paired)
    client.force_login(team_world.users.leader)
    assert _ids(_coverage(client, team_world, "buildings")) == [third.pk]
    assert _ids(_coverage(client, team_world, "households")) == [neighbour.pk]


def test_an_ended_pairing_leaves_a_gap_from_its_end_and_not_before(team_world, client):
    pairing_end(actor=None, pairing=team_world.pairing2, ends_on=TODAY)
    client.force_login(team_world.users.leader)
    response = _coverage(client, team_world, "buildings")
    assert _ids(response) == [team_world.building2.pk]
    assert [row.cadre for row in _coverage(client, team_world, "cadres").context["rows"]] == [team_world.users.cadre2]
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    response = _coverage(client, team_world, "buildings", on=yesterday)
    assert response.context["counts"]["buildings"] == 0 and response.context["counts"]["cadres"] == 0


def test_a_member_without_a_pairing_is_listed_with_a_link_to_pair_them_until_paired(team_world, client):
    idle = UserFactory(username="idle")
    work_group_member_add(actor=None, group=team_world.group2, cadre=idle, joined_on=START)
    client.force_login(team_world.users.leader)
    response = _coverage(client, team_world, "cadres")
    assert [row.cadre for row in response.context["rows"]] == [idle]
    fix = reverse("liaison:pair", kwargs={"pk": team_world.team.pk})
    assert f"{fix}?cadre={idle.pk}&amp;compound={team_world.compound2.pk}" in response.content.decode()
    pair_cadre(team_world.team, team_world.group2, idle, household=team_world.household2, starts_on=TODAY)
    assert _coverage(client, team_world, "cadres").context["counts"]["cadres"] == 0


def test_the_first_section_with_gaps_is_shown_when_none_is_asked_for(team_world, client):
    client.force_login(team_world.users.leader)
    response = client.get(reverse("liaison:coverage", kwargs={"pk": team_world.team.pk}))
    assert response.context["section"] == "care"


def test_a_long_list_is_paged(team_world, client, monkeypatch):
    from liaison import views

    monkeypatch.setattr(views, "COVERAGE_PER_PAGE", 2)
    third = BuildingFactory(name="3号楼党小组", parent=team_world.compound1)
    rooms = [HouseholdFactory(building=third, room=f"30{n}") for n in range(5)]
    client.force_login(team_world.users.leader)
    response = _coverage(client, team_world, "households")
    assert response.context["counts"]["households"] == 5
    assert _ids(response) == [h.pk for h in rooms[:2]]
    assert _ids(_coverage(client, team_world, "households", page="3")) == [rooms[4].pk]


COVERAGE_QUERIES = 7  # session, user, grants, the team, the four counts at once, the page of rows


def _grow(world, size):
    """``size`` more buildings (one household each, a care household every other) no cadre covers,
    and ``size`` more members without a pairing."""
    for number in range(size):
        building = BuildingFactory(name=f"{30 + number}号楼党小组", parent=world.compound2)
        HouseholdFactory(
            building=building, room="101", is_care=number % 2 == 0, care_reason="病" if number % 2 == 0 else ""
        )
        work_group_member_add(
            actor=None, group=world.group2, cadre=UserFactory(username=f"idle{number}"), joined_on=START
        )


@pytest.mark.parametrize("size", [0, 15])
@pytest.mark.parametrize("section", selectors.COVERAGE_SECTIONS)
def test_the_coverage_view_runs_the_same_queries_whatever_the_size(
    team_world, client, django_assert_max_num_queries, size, section
):
    _grow(team_world, size)
    client.force_login(team_world.users.leader)
    url = reverse("liaison:coverage", kwargs={"pk": team_world.team.pk})
    with django_assert_max_num_queries(COVERAGE_QUERIES):
        response = client.get(url, {"show": section})
    assert response.status_code == 200
    if size:
        assert response.context["counts"]["buildings"] == size and response.context["counts"]["cadres"] == size
