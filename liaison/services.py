"""Writes for work teams and groups. Pairing, visits and quotas come in later issues."""

from django.db import transaction
from django.utils import timezone

from core.errors import full_clean_or_raise

from .models import WorkGroup, WorkGroupMembership, WorkTeam


@transaction.atomic
def work_team_create(*, actor, bureau_name: str, name: str, community, leader=None) -> WorkTeam:
    team = WorkTeam(bureau_name=bureau_name, name=name, community=community, leader=leader)
    full_clean_or_raise(team)
    team.save()
    return team


@transaction.atomic
def work_group_create(*, actor, team: WorkTeam, name: str, compound=None, leader=None) -> WorkGroup:
    group = WorkGroup(team=team, name=name, compound=compound, leader=leader)
    full_clean_or_raise(group)
    group.save()
    return group


@transaction.atomic
def work_group_member_add(*, actor, group: WorkGroup, cadre, joined_on=None) -> WorkGroupMembership:
    current = WorkGroupMembership.objects.filter(group=group, cadre=cadre, left_on__isnull=True).first()
    if current:
        return current
    membership = WorkGroupMembership(group=group, cadre=cadre, joined_on=joined_on or timezone.localdate())
    full_clean_or_raise(membership)
    membership.save()
    return membership
