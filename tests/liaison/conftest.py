"""The work team of the ``org`` world: the team of 北苑社区 led by ``leader`` (paired with the
community), 第一工作组 paired with compound1 and 第二工作组 with compound2, each with its leader and
a cadre who is a member from 60 days ago. Nobody is paired at a building yet: each test pairs
what it needs. ``day(n)`` is today plus n days."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from liaison.models import PairingTier
from liaison.services import pairing_create, work_group_create, work_group_member_add, work_team_create
from tests.factories import UserFactory


def day(offset: int = 0):
    return timezone.localdate() + timedelta(days=offset)


@pytest.fixture
def team(org):
    start = day(-60)
    team = work_team_create(
        actor=None, bureau_name="市住建局", name="筑堡工作队", community=org.community, leader=org.users.leader
    )
    pairing_create(actor=None, team=team, tier=PairingTier.COMMUNITY, cadre=org.users.leader, starts_on=start)
    lead1, lead2 = UserFactory(username="grouplead1"), UserFactory(username="grouplead2")
    group1 = work_group_create(
        actor=None, team=team, name="第一工作组", compound=org.compound1, leader=lead1, starts_on=start
    )
    group2 = work_group_create(
        actor=None, team=team, name="第二工作组", compound=org.compound2, leader=lead2, starts_on=start
    )
    cadre_a, cadre_b, cadre_c = (UserFactory(username=name) for name in ("cadrea", "cadreb", "cadrec"))
    for group, person in ((group1, lead1), (group1, cadre_a), (group1, cadre_c), (group2, lead2), (group2, cadre_b)):
        work_group_member_add(actor=None, group=group, cadre=person, joined_on=start)
    return SimpleNamespace(
        team=team,
        group1=group1,
        group2=group2,
        lead1=lead1,
        lead2=lead2,
        cadre_a=cadre_a,
        cadre_b=cadre_b,
        cadre_c=cadre_c,
        start=start,
    )


@pytest.fixture
def pair(team):
    """``pair(cadre, place, starts_on=None, ends_on=None)``: a cadre pairing by the system, in the cadre's group."""

    def _pair(cadre, place, *, starts_on=None, ends_on=None, group=None):
        from grid.models import Household

        group = group or (team.group2 if cadre == team.cadre_b else team.group1)
        is_household = isinstance(place, Household)
        return pairing_create(
            actor=None,
            team=team.team,
            tier=PairingTier.CADRE,
            cadre=cadre,
            work_group=group,
            node=None if is_household else place,
            household=place if is_household else None,
            starts_on=starts_on or team.start,
            ends_on=ends_on,
        )

    return _pair
