"""Writes for work teams and groups. Pairing, visits and quotas come in later issues."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import ZhubaoError

from .models import WorkGroup, WorkGroupMembership, WorkTeam


def _full_clean(instance, **kwargs) -> None:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        raise ZhubaoError.from_validation_error(error) from error


@transaction.atomic
def work_team_create(*, actor, bureau_name: str, name: str, community, leader=None) -> WorkTeam:
    team = WorkTeam(bureau_name=bureau_name, name=name, community=community, leader=leader)
    _full_clean(team)
    team.save()
    return team


@transaction.atomic
def work_group_create(*, actor, team: WorkTeam, name: str, compound=None, leader=None) -> WorkGroup:
    group = WorkGroup(team=team, name=name, compound=compound, leader=leader)
    _full_clean(group)
    group.save()
    return group


@transaction.atomic
def work_group_member_add(*, actor, group: WorkGroup, cadre, joined_on=None) -> WorkGroupMembership:
    current = WorkGroupMembership.objects.filter(group=group, cadre=cadre, left_on__isnull=True).first()
    if current:
        return current
    membership = WorkGroupMembership(group=group, cadre=cadre, joined_on=joined_on or timezone.localdate())
    _full_clean(membership)
    membership.save()
    return membership
