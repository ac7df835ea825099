"""liaison's part of the access module: pairing as a source of grants, who keeps the work
team, and how teams, groups and pairings are reached. Imported by ``LiaisonConfig.ready()``.

- **Pairing is a grant source** (``pairing_grants``, registered with core): on each day a
  person holds the pairings in force that day, as core's plain grants — a bureau leader the
  community, the leader of a work group the group's compound branches *and* every place its
  cadres are paired with, a cadre their buildings, hubs and single households. Core's rules
  (households, the tree, grids, and every later fact stamped with its place) read them like
  any other grant, so "a cadre sees what they are paired with today" is not a rule of any view.
- **Who keeps the team** (``MANAGE_PAIRING``): an admin whose grant covers the team's
  community, and the team's leader (a bureau leader paired with that community).
"""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts.access import register_person_source
from accounts.models import Role, User
from core.access import (
    Grant,
    NodeGrant,
    any_of,
    condition,
    is_global,
    nodes_for,
    register_action,
    register_grant_loader,
    register_rule,
)
from grid.models import Household, OrgNode

from .models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam

MANAGE_PAIRING = "manage_pairing"

# The role a pairing of each tier gives the person it names.
TIER_ROLE = {
    PairingTier.COMMUNITY: Role.BUREAU_LEADER,
    PairingTier.COMPOUND: Role.WORK_GROUP_LEADER,
    PairingTier.CADRE: Role.CADRE,
}


def register() -> None:
    register_action(MANAGE_PAIRING, {Role.SYSTEM_ADMIN, Role.BUREAU_LEADER})
    register_grant_loader(pairing_grants)
    register_person_source(pairing_people)
    register_rule(WorkTeam, work_team_rule)
    register_rule(WorkGroup, work_group_rule)
    register_rule(WorkGroupMembership, membership_rule)
    register_rule(Pairing, pairing_rule)


# --- pairing as a grant source -------------------------------------------------------------------


def pairing_grants(user):
    """The grants of the pairings in force today (one query): the person's own, and for the leader of a
    work group those of the group (its compound branches, and its cadres' places as the group's leader)."""
    today = timezone.localdate()
    rows = (
        Pairing.objects.on(today)
        .filter(Q(cadre_id=user.pk) | Q(work_group__leader_id=user.pk))
        .filter(Q(node__isnull=True) | Q(node__is_active=True))
        .values_list(
            "tier",
            "cadre_id",
            "work_group__leader_id",
            "node_id",
            "node__kind",
            "node__tree_id",
            "node__lft",
            "node__rght",
            "household_id",
        )
    )
    for tier, cadre_id, group_leader_id, node_id, kind, tree_id, lft, rght, household_id in rows:
        roles = set()
        if cadre_id == user.pk:
            roles.add(TIER_ROLE[tier])
        if group_leader_id == user.pk:
            roles.add(Role.WORK_GROUP_LEADER)
        for role in roles:
            if node_id is not None:
                yield Grant(role, node=NodeGrant(role, node_id, kind, tree_id, lft, rght))
            else:
                yield Grant(role, household_id=household_id)


def pairing_people(actor, action: str):
    """Where the pairing places people, for the people rules (accounts.access.register_person_source): the
    ids of the team members and paired people inside the actor's reach for the action, and of those who
    are also members or paired in a team of a community outside it."""
    today = timezone.localdate()
    nodes = condition(OrgNode, actor, action)
    pairings = Pairing.objects.current_or_future(today).filter(cadre__isnull=False)
    members = WorkGroupMembership.objects.filter(left_on__isnull=True)
    if nodes is None:
        everyone = User.objects.filter(
            Q(id__in=pairings.values("cadre_id")) | Q(id__in=members.values("cadre_id"))
        ).values("id")
        return everyone, User.objects.none().values("id")
    reach = OrgNode.objects.filter(nodes).values("id")
    inside = User.objects.filter(
        Q(id__in=pairings.filter(Q(team__community_id__in=reach) | Q(node_id__in=reach)).values("cadre_id"))
        | Q(
            id__in=members.filter(Q(group__team__community_id__in=reach) | Q(group__leader_id=actor.pk)).values(
                "cadre_id"
            )
        )
    ).values("id")
    outside = User.objects.filter(
        Q(id__in=pairings.exclude(team__community_id__in=reach).values("cadre_id"))
        | Q(id__in=members.exclude(group__team__community_id__in=reach).values("cadre_id"))
    ).values("id")
    return inside, outside


# --- rules ---------------------------------------------------------------------------------------


def _visible_nodes(user, action: str):
    """The ids of the org nodes the user reaches for the action, or None for all of them."""
    nodes = condition(OrgNode, user, action)
    return None if nodes is None else OrgNode.objects.filter(nodes).values("id")


def _managed_teams(user) -> Q | None:
    """The teams the user keeps: under an admin grant of theirs, or led by them within their reach."""
    if is_global(user, MANAGE_PAIRING):
        return None
    conditions = [
        Q(community__tree_id=grant.tree_id, community__lft__gte=grant.lft, community__lft__lte=grant.rght)
        for grant in nodes_for(user, MANAGE_PAIRING)
        if grant.role == Role.SYSTEM_ADMIN
    ]
    led = [grant.node_id for grant in nodes_for(user, MANAGE_PAIRING) if grant.role == Role.BUREAU_LEADER]
    if led:
        conditions.append(Q(leader_id=user.pk, community_id__in=led))
    return any_of(conditions)


def work_team_rule(user, action: str) -> Q | None:
    if action == MANAGE_PAIRING:
        return _managed_teams(user)
    nodes = _visible_nodes(user, action)
    if nodes is None:
        return None
    # The team of one's community, and one's own team (as its leader, a group's leader or member).
    mine = WorkGroupMembership.objects.filter(cadre_id=user.pk, left_on__isnull=True).values("group__team_id")
    return (
        Q(community_id__in=nodes)
        | Q(leader_id=user.pk)
        | Q(id__in=WorkGroup.objects.filter(leader_id=user.pk).values("team_id"))
        | Q(id__in=mine)
    )


def work_group_rule(user, action: str) -> Q | None:
    teams = work_team_rule(user, action)
    return None if teams is None else Q(team_id__in=WorkTeam.objects.filter(teams).values("id"))


def membership_rule(user, action: str) -> Q | None:
    groups = work_group_rule(user, action)
    return None if groups is None else Q(group_id__in=WorkGroup.objects.filter(groups).values("id"))


def pairing_rule(user, action: str) -> Q | None:
    """Pairings of the teams the user keeps (to change them); to read, also the pairings of one's
    community, one's own, one's group's, and those held at places one reaches."""
    if action == MANAGE_PAIRING:
        teams = _managed_teams(user)
        return None if teams is None else Q(team_id__in=WorkTeam.objects.filter(teams).values("id"))
    nodes = _visible_nodes(user, action)
    if nodes is None:
        return None
    households = condition(Household, user, action)
    # Subqueries, not joins: the list joins five tables to show its rows, and every further join in
    # the condition multiplied PostgreSQL's planning time (7 ms of a cadre's page at city scale).
    conditions = [
        Q(cadre_id=user.pk),
        Q(work_group_id__in=WorkGroup.objects.filter(leader_id=user.pk).values("id")),
        Q(team_id__in=WorkTeam.objects.filter(community_id__in=nodes).values("id")),
        Q(node_id__in=nodes),
    ]
    if households is not None:
        conditions.append(Q(household_id__in=Household.objects.filter(households).values("id")))
    return any_of(conditions)


# --- refusals the services enforce -----------------------------------------------------------------


def team_refusal(actor, team) -> str | None:
    """Why the actor may not keep this team's pairings and groups (None: they may; None for the system)."""
    if actor is None:
        return None
    rows = _managed_teams(actor)
    if rows is None or WorkTeam.objects.filter(rows).filter(pk=team.pk).exists():
        return None
    return gettext("Only an admin of the community or the team's leader may change the team and its pairings.")


def team_create_refusal(actor, community) -> str | None:
    """Why the actor may not set up a work team at this community: an admin whose grant covers it may."""
    if actor is None or is_global(actor, MANAGE_PAIRING):
        return None
    for grant in nodes_for(actor, MANAGE_PAIRING):
        if (
            grant.role == Role.SYSTEM_ADMIN
            and grant.tree_id == community.tree_id
            and grant.lft <= community.lft <= grant.rght
        ):
            return None
    return gettext("Only an admin of the community may set up its work team.")


def ledger_import_refusal(actor, job, what: str = "confirm") -> str | None:
    """Why the actor may not confirm this pairing-ledger import (liaison.ledger) now, or None: only the person
    who uploaded it, while they keep the team's pairings, and only a checked import waiting for confirmation."""
    if what != "confirm":
        raise ValueError(what)
    if actor is None or job.created_by_id != actor.pk:
        return gettext("Only the person who uploaded this ledger may confirm its import.")
    refusal = team_refusal(actor, job.team)
    if refusal:
        return refusal
    if job.status != job.Status.READY:
        return gettext("This import is not waiting for confirmation.")
    return None
