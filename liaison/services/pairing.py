"""Writes of the dated pairing (三级包联): pair, pair in bulk, end, hand over.

Nothing is overwritten: a pairing ends on a date (the first day without it) and a new one starts.
Every write locks the team's row (two keepers pairing at once cannot pair a place twice), is held
to ``liaison.access.team_refusal``, checks that the place lies in the team's community and that a
cadre is a member of the work group on the day the pairing starts, and is audited
(``grant_changed``: a pairing is a grant). A bulk change is planned first (``*_plan``): the pages
show the plan, and the write recomputes it under the lock and writes only what it showed.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import forget_scope
from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record
from grid.models import Household, OrgNode

from ..models import TIER_NODE_KINDS, Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam
from .teams import lock_team, refuse_unless_keeper


def _invalid(message, field_name=None, code=ErrorCode.INVALID):
    raise ZhubaoError(code, message, {field_name: [message]} if field_name else None)


def membership_on(team: WorkTeam, cadre, day: date) -> WorkGroupMembership | None:
    """The cadre's membership of a group of the team on ``day``, if any."""
    return (
        WorkGroupMembership.objects.filter(group__team_id=team.pk, cadre_id=cadre.pk, joined_on__lte=day)
        .filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
        .select_related("group")
        .first()
    )


def _nodes_inside(team: WorkTeam, node_ids) -> set[int]:
    """Which of these nodes lie in the team's community, read from the database (one query: the bounds
    an object in memory holds may be stale after a write elsewhere in the tree)."""
    community = OrgNode.objects.filter(pk=team.community_id)
    return set(
        OrgNode.objects.filter(
            pk__in=list(node_ids),
            tree_id__in=community.values("tree_id"),
            lft__gte=community.values("lft"),
            lft__lte=community.values("rght"),
        ).values_list("id", flat=True)
    )


def _place_refusal(team: WorkTeam, tier: str, node=None, household=None, *, inside=None) -> str | None:
    """Why this place cannot be paired on this tier by this team (None: it can). ``inside``: the ids of
    the nodes known to lie in the team's community (read once for a bulk plan)."""
    community = team.community
    if node is not None:
        if node.kind not in TIER_NODE_KINDS[tier]:
            return {
                PairingTier.COMMUNITY: _("A bureau leader is paired with a community."),
                PairingTier.COMPOUND: _("A work group is paired with a compound branch."),
                PairingTier.CADRE: _("A cadre is paired with a building, a member-household hub or a household."),
            }[tier]
        if not node.is_active:
            return _("%(place)s is deactivated.") % {"place": node.name}
        if inside is None:
            inside = _nodes_inside(team, [node.pk])
        if node.pk not in inside:
            return _("%(place)s is not in %(community)s, the team's community.") % {
                "place": node.name,
                "community": community.name,
            }
    if household is not None:
        if household.community_id != community.pk:
            return _("This household is not in %(community)s, the team's community.") % {"community": community.name}
        if not household.is_active:
            return _("This household has moved out.")
    return None


def _overlapping(*, tier, cadre=None, work_group=None, node=None, household=None, starts_on, ends_on=None):
    """Pairings of the same person (or group) at the same place whose days meet [starts_on, ends_on)."""
    rows = Pairing.objects.filter(tier=tier).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=starts_on))
    if ends_on is not None:
        rows = rows.filter(starts_on__lt=ends_on)
    rows = rows.filter(cadre=cadre) if tier != PairingTier.COMPOUND else rows.filter(work_group=work_group)
    return rows.filter(node=node) if node is not None else rows.filter(household=household)


def _audit(actor, pairing: Pairing, op: str, **extra) -> None:
    detail = {
        "op": op,
        "tier": pairing.tier,
        "cadre": pairing.cadre_id,
        "work_group": pairing.work_group_id,
        "node": pairing.node_id,
        "household": pairing.household_id,
        "starts_on": pairing.starts_on.isoformat(),
        "ends_on": pairing.ends_on.isoformat() if pairing.ends_on else None,
    }
    detail.update(extra)
    audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=pairing, detail=detail)


def _forget(pairing: Pairing) -> None:
    for person in (pairing.cadre, getattr(pairing.work_group, "leader", None)):
        if person is not None:
            forget_scope(person)


@transaction.atomic
def pairing_create(
    *,
    actor,
    team: WorkTeam,
    tier: str,
    cadre=None,
    work_group: WorkGroup | None = None,
    node=None,
    household=None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    _locked: bool = False,
) -> Pairing:
    """One pairing from ``starts_on`` (today) to ``ends_on`` (open). Refused, with the reason in the user's
    language, when the place is not the team's, the cadre not a member of the group that day, or the same
    person is already paired with the same place on one of those days."""
    refuse_unless_keeper(actor, team)
    if not _locked:
        team = lock_team(team)
    starts_on = starts_on or timezone.localdate()
    if tier == PairingTier.CADRE:
        if cadre is None or work_group is None:
            _invalid(_("A cadre's pairing names the cadre and their work group."), "cadre")
    elif tier == PairingTier.COMPOUND:
        if work_group is None:
            _invalid(_("Name the work group paired with the compound branch."), "work_group")
        cadre = None
    elif tier == PairingTier.COMMUNITY:
        if cadre is None:
            _invalid(_("Name the bureau leader paired with the community."), "cadre")
        node = node or team.community
        work_group = None
    if work_group is not None and work_group.team_id != team.pk:
        _invalid(_("This work group belongs to another team."), "work_group")
    if (node is None) == (household is None) or (household is not None and tier != PairingTier.CADRE):
        _invalid(_("A pairing is held at one place: a node or, for a cadre, a household."), "node")
    refusal = _place_refusal(team, tier, node=node, household=household)
    if refusal:
        _invalid(refusal, "node" if node is not None else "household")
    if tier == PairingTier.CADRE:
        membership = membership_on(team, cadre, starts_on)
        if membership is None or membership.group_id != work_group.pk:
            _invalid(
                _("%(person)s is not a member of %(group)s on %(day)s.")
                % {"person": cadre.display_name, "group": work_group.name, "day": starts_on},
                "cadre",
            )
    clash = _overlapping(
        tier=tier,
        cadre=cadre,
        work_group=work_group,
        node=node,
        household=household,
        starts_on=starts_on,
        ends_on=ends_on,
    ).first()
    if clash is not None:
        _invalid(
            _("Already paired with this place from %(day)s.") % {"day": clash.starts_on},
            "node" if node is not None else "household",
            code=ErrorCode.DUPLICATE,
        )
    pairing = Pairing(
        team=team,
        tier=tier,
        cadre=cadre,
        work_group=work_group,
        node=node,
        household=household,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    full_clean_or_raise(pairing)
    pairing.save()
    _audit(actor, pairing, "pair")
    _forget(pairing)
    return pairing


@transaction.atomic
def pairing_end(*, actor, pairing: Pairing, ends_on: date | None = None, _locked: bool = False) -> Pairing:
    """End the pairing: from ``ends_on`` (today) on, it no longer holds. An end can be brought forward,
    never pushed back (a new pairing is made instead), and falls after the day the pairing starts."""
    refuse_unless_keeper(actor, pairing.team)
    if not _locked:  # else the caller holds the team's lock and read the pairing under it
        lock_team(pairing.team)
        pairing.refresh_from_db()
    ends_on = ends_on or timezone.localdate()
    if ends_on <= pairing.starts_on:
        _invalid(
            _("A pairing ends after the day it starts (%(day)s).") % {"day": pairing.starts_on},
            "ends_on",
        )
    if pairing.ends_on is not None and pairing.ends_on <= ends_on:
        return pairing  # already ended by then
    before = pairing.ends_on
    pairing.ends_on = ends_on
    pairing.ended_at = timezone.now()
    pairing.ended_by = actor if getattr(actor, "pk", None) else None
    pairing.save(update_fields=["ends_on", "ended_at", "ended_by"])
    _audit(actor, pairing, "end", before=before.isoformat() if before else None)
    _forget(pairing)
    return pairing


# --- pairing in bulk -----------------------------------------------------------------------------


@dataclass
class PlannedPairing:
    place: object  # an OrgNode or a Household
    label: str
    refusal: str | None = None  # why it cannot be paired
    existing: Pairing | None = None  # already paired on that day: nothing to do


@dataclass
class PairingPlan:
    """What a bulk pairing will do: the places to pair, those already paired, those refused."""

    cadre: object
    work_group: WorkGroup | None
    starts_on: date
    rows: list[PlannedPairing] = field(default_factory=list)

    @property
    def to_create(self) -> list[PlannedPairing]:
        return [row for row in self.rows if row.refusal is None and row.existing is None]

    @property
    def already(self) -> list[PlannedPairing]:
        return [row for row in self.rows if row.existing is not None]

    @property
    def refused(self) -> list[PlannedPairing]:
        return [row for row in self.rows if row.refusal is not None]


def pairings_plan(
    *, actor, team: WorkTeam, cadre, nodes=(), households=(), starts_on: date | None = None
) -> PairingPlan:
    """Plan pairing ``cadre`` with these buildings / hubs and households from ``starts_on`` (today), in the
    work group the cadre belongs to that day. Writes nothing."""
    refuse_unless_keeper(actor, team)
    starts_on = starts_on or timezone.localdate()
    membership = membership_on(team, cadre, starts_on)
    if membership is None:
        _invalid(
            _("%(person)s is not a member of a work group of this team on %(day)s.")
            % {"person": cadre.display_name, "day": starts_on},
            "cadre",
        )
    plan = PairingPlan(cadre=cadre, work_group=membership.group, starts_on=starts_on)
    nodes, households = list(nodes), list(households)
    existing = Pairing.objects.filter(tier=PairingTier.CADRE, cadre=cadre).current_or_future(starts_on)
    by_node = {p.node_id: p for p in existing.filter(node_id__in=[n.pk for n in nodes])}
    by_household = {p.household_id: p for p in existing.filter(household_id__in=[h.pk for h in households])}
    inside = _nodes_inside(team, [node.pk for node in nodes])
    for node in nodes:
        plan.rows.append(
            PlannedPairing(
                place=node,
                label=node.name,
                refusal=_place_refusal(team, PairingTier.CADRE, node=node, inside=inside),
                existing=by_node.get(node.pk),
            )
        )
    for household in households:
        plan.rows.append(
            PlannedPairing(
                place=household,
                label=household.address,
                refusal=_place_refusal(team, PairingTier.CADRE, household=household),
                existing=by_household.get(household.pk),
            )
        )
    return plan


@transaction.atomic
def pairings_create(
    *, actor, team: WorkTeam, cadre, nodes=(), households=(), starts_on: date | None = None
) -> PairingPlan:
    """Write a bulk pairing: the plan again, under the team's lock; nothing is written if any place is refused.
    Places already paired with the cadre on that day are left as they are."""
    team = lock_team(team)
    plan = pairings_plan(actor=actor, team=team, cadre=cadre, nodes=nodes, households=households, starts_on=starts_on)
    if plan.refused:
        message = _("Nothing was paired: %(places)s cannot be paired.") % {
            "places": "、".join(f"{row.label}（{row.refusal}）" for row in plan.refused[:5])
        }
        raise ZhubaoError(ErrorCode.INVALID, message)
    for row in plan.to_create:
        is_node = not isinstance(row.place, Household)
        pairing_create(
            actor=actor,
            team=team,
            tier=PairingTier.CADRE,
            cadre=cadre,
            work_group=plan.work_group,
            node=row.place if is_node else None,
            household=None if is_node else row.place,
            starts_on=plan.starts_on,
            _locked=True,
        )
    return plan


# --- handing over --------------------------------------------------------------------------------


@dataclass
class HandOverRow:
    pairing: Pairing
    label: str
    skip: bool = False  # the new cadre already holds this place on that day: the old pairing only ends


@dataclass
class HandOverPlan:
    from_cadre: object
    to_cadre: object
    work_group: WorkGroup | None
    on: date
    rows: list[HandOverRow] = field(default_factory=list)
    refusal: str | None = None


def hand_over_plan(*, actor, team: WorkTeam, from_cadre, to_cadre, on: date | None = None) -> HandOverPlan:
    """Plan handing every cadre pairing of ``from_cadre`` in the team not ended by ``on`` (today) over to
    ``to_cadre`` from that day, in the group ``to_cadre`` belongs to then. Writes nothing."""
    refuse_unless_keeper(actor, team)
    on = on or timezone.localdate()
    membership = membership_on(team, to_cadre, on)
    plan = HandOverPlan(from_cadre=from_cadre, to_cadre=to_cadre, work_group=getattr(membership, "group", None), on=on)
    if from_cadre.pk == to_cadre.pk:
        plan.refusal = _("Hand the pairings over to another cadre.")
    elif membership is None:
        plan.refusal = _("%(person)s is not a member of a work group of this team on %(day)s.") % {
            "person": to_cadre.display_name,
            "day": on,
        }
    pairings = list(
        Pairing.objects.filter(team=team, tier=PairingTier.CADRE, cadre=from_cadre)
        .current_or_future(on)
        .select_related("team", "cadre", "work_group__leader", "node", "household__building", "household__compound")
        .order_by("node__lft", "household_id")
    )
    held = Pairing.objects.filter(tier=PairingTier.CADRE, cadre=to_cadre).current_or_future(on)
    held_nodes = set(held.filter(node__isnull=False).values_list("node_id", flat=True))
    held_households = set(held.filter(household__isnull=False).values_list("household_id", flat=True))
    for pairing in pairings:
        label = pairing.node.name if pairing.node_id else pairing.household.address
        skip = pairing.node_id in held_nodes if pairing.node_id else pairing.household_id in held_households
        plan.rows.append(HandOverRow(pairing=pairing, label=label, skip=skip))
    return plan


@transaction.atomic
def pairings_hand_over(*, actor, team: WorkTeam, from_cadre, to_cadre, on: date | None = None) -> HandOverPlan:
    """Hand the pairings over in one step: each ends on ``on`` and starts for ``to_cadre`` that day, keeping
    its end; one that starts later moves whole. All or nothing; audited per pairing."""
    team = lock_team(team)
    plan = hand_over_plan(actor=actor, team=team, from_cadre=from_cadre, to_cadre=to_cadre, on=on)
    if plan.refusal:
        raise ZhubaoError(ErrorCode.INVALID, plan.refusal, {"to_cadre": [plan.refusal]})
    for row in plan.rows:
        old = row.pairing
        starts_on, keep_end = max(old.starts_on, plan.on), old.ends_on
        if old.starts_on >= plan.on:
            # Never in force yet: it moves to the new cadre whole (no day of it is history).
            _audit(actor, old, "hand_over_withdrawn", to_cadre=to_cadre.pk)
            old_id = old.pk
            old.delete()
        else:
            old_id = old.pk
            pairing_end(actor=actor, pairing=old, ends_on=plan.on, _locked=True)
        if row.skip:
            continue  # the new cadre already holds the place on that day
        new = pairing_create(
            actor=actor,
            team=team,
            tier=PairingTier.CADRE,
            cadre=to_cadre,
            work_group=plan.work_group,
            node=old.node,
            household=old.household,
            starts_on=starts_on,
            ends_on=keep_end,
            _locked=True,
        )
        _audit(actor, new, "hand_over", from_cadre=from_cadre.pk, from_pairing=old_id)
    forget_scope(from_cadre)
    forget_scope(to_cadre)
    return plan
