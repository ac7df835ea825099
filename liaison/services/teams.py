"""Writes for the work team and its groups: teams, groups, their leaders, members joining (an existing person
or a new one, ``work_group_member_create``) and leaving.

Every write is held to ``liaison.access.team_refusal`` (an admin of the community or the team's
leader; ``actor=None`` is the system) and audited; memberships are dated, never deleted.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.services import user_create
from core.access import forget_scope
from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record

from ..access import team_create_refusal, team_refusal
from ..models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam


def refuse_unless_keeper(actor, team: WorkTeam) -> None:
    message = team_refusal(actor, team)
    if message:
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, message, status_code=403)


def lock_team(team: WorkTeam) -> WorkTeam:
    """The team's row, locked: two writes of one team's pairings wait for each other (no double pairing)."""
    return WorkTeam.objects.select_for_update().get(pk=team.pk)


@transaction.atomic
def work_team_create(*, actor, bureau_name: str, name: str, community, leader=None) -> WorkTeam:
    team = WorkTeam(bureau_name=bureau_name, name=name, community=community, leader=leader)
    full_clean_or_raise(team)
    message = team_create_refusal(actor, community)
    if message:
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, message, status_code=403)
    team.save()
    audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=team, detail={"op": "team_create"})
    return team


@transaction.atomic
def work_team_update(*, actor, team: WorkTeam, **fields) -> WorkTeam:
    """Change the team's name, leader or care rule (``care_cadres_required``)."""
    refuse_unless_keeper(actor, team)
    allowed = {"bureau_name", "name", "leader", "care_cadres_required"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"work_team_update cannot set {sorted(unknown)}")
    for name, value in fields.items():
        setattr(team, name, value)
    full_clean_or_raise(team)
    team.save()
    audit_record(
        user=actor,
        action=AuditEvent.Action.GRANT_CHANGED,
        obj=team,
        detail={"op": "team_update", "fields": sorted(fields)},
    )
    return team


@transaction.atomic
def work_group_create(*, actor, team: WorkTeam, name: str, compound=None, leader=None, starts_on=None) -> WorkGroup:
    """A work group; with ``compound``, paired with that compound branch from ``starts_on`` (today)."""
    refuse_unless_keeper(actor, team)
    group = WorkGroup(team=team, name=name, leader=leader)
    full_clean_or_raise(group)
    group.save()
    audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=group, detail={"op": "group_create"})
    if compound is not None:
        from .pairing import pairing_create

        pairing_create(
            actor=actor, team=team, tier=PairingTier.COMPOUND, work_group=group, node=compound, starts_on=starts_on
        )
    return group


@transaction.atomic
def work_group_set_leader(*, actor, group: WorkGroup, leader) -> WorkGroup:
    """Who leads the group (they then see what the group is paired with); audited with the one before."""
    refuse_unless_keeper(actor, group.team)
    before = group.leader_id
    group.leader = leader
    group.save(update_fields=["leader", "updated_at"])
    audit_record(
        user=actor,
        action=AuditEvent.Action.GRANT_CHANGED,
        obj=group,
        detail={"op": "group_leader", "before": before, "after": getattr(leader, "pk", None)},
    )
    return group


def _day(value):
    return value or timezone.localdate()


@transaction.atomic
def work_group_member_add(*, actor, group: WorkGroup, cadre, joined_on=None) -> WorkGroupMembership:
    """A cadre joins the group on ``joined_on`` (today). A cadre is in one group of a team at a time."""
    refuse_unless_keeper(actor, group.team)
    current = WorkGroupMembership.objects.filter(group=group, cadre=cadre, left_on__isnull=True).first()
    if current:
        return current
    elsewhere = (
        WorkGroupMembership.objects.filter(group__team_id=group.team_id, cadre=cadre, left_on__isnull=True)
        .select_related("group")
        .first()
    )
    if elsewhere is not None:
        message = _("%(person)s is a member of %(group)s: they leave it first.") % {
            "person": cadre.display_name,
            "group": elsewhere.group.name,
        }
        raise ZhubaoError(ErrorCode.DUPLICATE, message, {"cadre": [message]})
    membership = WorkGroupMembership(group=group, cadre=cadre, joined_on=_day(joined_on))
    full_clean_or_raise(membership)
    membership.save()
    audit_record(
        user=actor,
        action=AuditEvent.Action.GRANT_CHANGED,
        obj=membership,
        detail={"op": "member_join", "cadre": cadre.pk, "on": membership.joined_on.isoformat()},
    )
    return membership


@transaction.atomic
def work_group_member_create(
    *,
    actor,
    group: WorkGroup,
    username: str,
    full_name: str = "",
    phone: str = "",
    password: str,
    joined_on=None,
) -> WorkGroupMembership:
    """A new cadre (no account yet) joins the group on ``joined_on`` (today): the person and the membership,
    or neither. The person gets no role grant: their places come from pairing, and the membership is what
    makes them one of the team's people (``liaison.access.pairing_people``), to pair and to manage.

    The password rules (settings.AUTH_PASSWORD_VALIDATORS) and the text rules are ``user_create``'s; a first
    password set by a keeper must be changed at the first login (``must_change_password``)."""
    refuse_unless_keeper(actor, group.team)
    if not password:
        message = _("Give the new member a first password.")
        raise ZhubaoError(ErrorCode.INVALID, message, {"password": [message]})
    try:
        person = user_create(actor=actor, username=username, password=password, full_name=full_name, phone=phone)
    except IntegrityError as error:  # the same username created at the same moment (its savepoint rolled back)
        message = _("A user with that username already exists.")
        raise ZhubaoError(ErrorCode.DUPLICATE, message, {"username": [message]}) from error
    audit_record(
        user=actor,
        action=AuditEvent.Action.GRANT_CHANGED,
        obj=person,
        detail={"op": "member_create", "group": group.pk, "must_change_password": person.must_change_password},
    )
    return work_group_member_add(actor=actor, group=group, cadre=person, joined_on=joined_on)


@transaction.atomic
def work_group_member_leave(*, actor, membership: WorkGroupMembership, left_on=None) -> WorkGroupMembership:
    """The cadre leaves the group on ``left_on`` (today), which must find their pairings in the group handed
    over or ended by then: a care household must not lose its cadre unnoticed."""
    refuse_unless_keeper(actor, membership.group.team)
    left_on = _day(left_on)
    if membership.left_on is not None:
        return membership
    if left_on < membership.joined_on:
        message = _("A member leaves on or after the day they joined (%(day)s).") % {"day": membership.joined_on}
        raise ZhubaoError(ErrorCode.INVALID, message, {"left_on": [message]})
    open_pairings = (
        Pairing.objects.filter(work_group_id=membership.group_id, cadre_id=membership.cadre_id)
        .current_or_future(left_on)
        .count()
    )
    if open_pairings:
        message = _(
            "%(person)s still has %(count)s pairings in this group after that day: hand them over or end them first."
        ) % {"person": membership.cadre.display_name, "count": open_pairings}
        raise ZhubaoError(ErrorCode.INVALID, message, {"left_on": [message]})
    membership.left_on = left_on
    full_clean_or_raise(membership)
    membership.save(update_fields=["left_on"])
    audit_record(
        user=actor,
        action=AuditEvent.Action.GRANT_CHANGED,
        obj=membership,
        detail={"op": "member_leave", "cadre": membership.cadre_id, "on": left_on.isoformat()},
    )
    forget_scope(membership.cadre)
    return membership
