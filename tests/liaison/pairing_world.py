"""The world of the pairing pages' tests: the ``org`` fixture with a work team for its community.

The team (led by ``leader``) has two groups: group1 (led by grouplead1) paired with compound1, cadre1
a member paired with building1; group2 (led by grouplead2) paired with compound2, cadre2 a member
paired with building2. household1 (of building1) is a care household; household2 is not.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from grid.services import household_update
from liaison.models import PairingTier
from liaison.services import pairing_create, work_group_create, work_group_member_add, work_team_create
from tests.factories import UserFactory

START = timezone.localdate() - timedelta(days=30)


def pair_cadre(team, group, cadre, *, node=None, household=None, starts_on=START):
    return pairing_create(
        actor=None,
        team=team,
        tier=PairingTier.CADRE,
        cadre=cadre,
        work_group=group,
        node=node,
        household=household,
        starts_on=starts_on,
    )


@pytest.fixture
def team_world(org):
    users = org.users
    team = work_team_create(
        actor=None, bureau_name="市住房和城乡建设局", name="筑堡工作队", community=org.community, leader=users.leader
    )
    lead1 = UserFactory(username="grouplead1")
    lead2 = UserFactory(username="grouplead2")
    group1 = work_group_create(
        actor=None, team=team, name="第一工作组", leader=lead1, compound=org.compound1, starts_on=START
    )
    group2 = work_group_create(
        actor=None, team=team, name="第二工作组", leader=lead2, compound=org.compound2, starts_on=START
    )
    membership1 = work_group_member_add(actor=None, group=group1, cadre=users.cadre1, joined_on=START)
    membership2 = work_group_member_add(actor=None, group=group2, cadre=users.cadre2, joined_on=START)
    pairing1 = pair_cadre(team, group1, users.cadre1, node=org.building1)
    pairing2 = pair_cadre(team, group2, users.cadre2, node=org.building2)
    household_update(actor=None, household=org.household1, is_care=True, care_reason="独居老人")
    return SimpleNamespace(
        **vars(org),
        team=team,
        group1=group1,
        group2=group2,
        lead1=lead1,
        lead2=lead2,
        membership1=membership1,
        membership2=membership2,
        pairing1=pairing1,
        pairing2=pairing2,
    )
