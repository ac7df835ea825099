"""Reads of the pairing pages: the team as a tree with its counts, the places a keeper ticks, the
coverage gaps. Always through core.access (``MANAGE_PAIRING`` for the pages that change the team).

Every count is computed in the database as a correlated subquery (a count over the households a
set of pairings covers, or over the distinct cadres of a household), so a page runs the same number
of queries however large the team is (tests/liaison/test_pages.py pins them at two sizes).

"Covered" on a day: a household is covered by a pairing in force that day held at its building, at
its member-household hub, or at the household itself.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from core.access import Action, get_in_scope_or_404, scope
from grid.models import Household, OrgNode, OrgNodeKind

from .access import MANAGE_PAIRING
from .models import Pairing, PairingTier, WorkGroup, WorkGroupMembership, WorkTeam

# A people picker lists at most this many (a city-wide admin reaches everyone; the filter box narrows it).
PEOPLE_OPTIONS_LIMIT = 500


class SubqueryCount(Subquery):
    """``(SELECT count(*) FROM (subquery))``: the rows of a correlated subquery, counted."""

    template = "(SELECT count(*) FROM (%(subquery)s) _counted)"
    output_field = IntegerField()


# --- teams ---------------------------------------------------------------------------------------


def managed_teams(*, user) -> QuerySet:
    """The teams the user keeps (an admin of the community, or the team's leader)."""
    return scope(WorkTeam.objects.select_related("community", "leader"), user, MANAGE_PAIRING).order_by(
        "community__name", "name"
    )


def team_to_manage(*, user, pk) -> WorkTeam:
    return get_in_scope_or_404(WorkTeam.objects.select_related("community", "leader"), user, MANAGE_PAIRING, pk=pk)


def group_to_manage(*, user, pk) -> WorkGroup:
    return get_in_scope_or_404(
        WorkGroup.objects.select_related("team__community", "leader"), user, MANAGE_PAIRING, pk=pk
    )


def membership_to_manage(*, user, pk) -> WorkGroupMembership:
    return get_in_scope_or_404(
        WorkGroupMembership.objects.select_related("group__team__community", "cadre"), user, MANAGE_PAIRING, pk=pk
    )


def pairing_to_manage(*, user, pk) -> Pairing:
    return get_in_scope_or_404(
        Pairing.objects.select_related(
            "team__community", "cadre", "work_group", "node", "household__building", "household__compound"
        ),
        user,
        MANAGE_PAIRING,
        pk=pk,
    )


# --- building blocks -----------------------------------------------------------------------------


def cadre_pairings_on(day: date, team: WorkTeam | None = None) -> QuerySet:
    rows = Pairing.objects.on(day).filter(tier=PairingTier.CADRE)
    return rows.filter(team=team) if team is not None else rows


def memberships_on(team: WorkTeam, day: date) -> QuerySet:
    return WorkGroupMembership.objects.filter(group__team=team, joined_on__lte=day).filter(
        Q(left_on__isnull=True) | Q(left_on__gt=day)
    )


def covered_households(pairings: QuerySet, *, team: WorkTeam) -> QuerySet:
    """The active households these pairings of ``team`` cover: at their building, their hub, or themselves.

    Read within the team's community (where the services keep every pairing's place): the OR of three
    ``IN``s cannot use an index by itself, and over the whole city each count scanned 1M households
    (the team page took 1.8 s at city scale; the community's index keeps it to its own rows)."""
    return Household.objects.filter(community_id=team.community_id, is_active=True).filter(
        Q(building_id__in=pairings.filter(node__isnull=False).values("node_id"))
        | Q(hub_id__in=pairings.filter(node__isnull=False).values("node_id"))
        | Q(id__in=pairings.filter(household__isnull=False).values("household_id"))
    )


def _ref(name: str, depth: int):
    """OuterRef(name) reaching ``depth`` queries out."""
    ref = name
    for _ in range(depth):
        ref = OuterRef(ref)
    return ref


def _covered_counts(pairings_of, *, team: WorkTeam) -> dict:
    """Annotations: the households and care households the pairings cover, and their buildings.

    ``pairings_of(depth)`` is the pairings, correlated with the annotated row ``depth`` queries out
    (the households' count reads them one level deeper than the buildings' count)."""
    households = covered_households(pairings_of(2), team=team)
    return {
        "households": SubqueryCount(households.order_by().values("id")),
        "care": SubqueryCount(households.filter(is_care=True).order_by().values("id")),
        "buildings": SubqueryCount(
            pairings_of(1).filter(node__kind=OrgNodeKind.BUILDING).order_by().values("node_id").distinct()
        ),
    }


def cadres_of_household(day: date, team: WorkTeam | None, household_ref="pk") -> SubqueryCount:
    """The distinct cadres paired on ``day`` with the household (OuterRef), its building or its hub."""
    pairings = cadre_pairings_on(day, team).filter(
        Q(household_id=OuterRef(household_ref)) | Q(node_id=OuterRef("building_id")) | Q(node_id=OuterRef("hub_id"))
    )
    return SubqueryCount(pairings.order_by().values("cadre_id").distinct())


def community_nodes(team: WorkTeam) -> QuerySet:
    community = team.community
    return OrgNode.objects.filter(tree_id=community.tree_id, lft__gte=community.lft, lft__lte=community.rght)


def _node_household_counts() -> dict:
    """Annotations on a node: its active households and care households (building or hub)."""

    def count(**extra):
        by_building = Household.objects.filter(is_active=True, building_id=OuterRef("pk"), **extra)
        by_hub = Household.objects.filter(is_active=True, hub_id=OuterRef("pk"), **extra)
        return SubqueryCount(by_building.order_by().values("id")) + SubqueryCount(by_hub.order_by().values("id"))

    return {"household_count": count(), "care_count": count(is_care=True)}


# --- the team as a tree --------------------------------------------------------------------------


@dataclass
class CadreRow:
    membership: WorkGroupMembership | None
    cadre: User
    households: int = 0
    care: int = 0
    buildings: int = 0
    pairings: list = field(default_factory=list)


@dataclass
class GroupRow:
    group: WorkGroup
    compounds: list = field(default_factory=list)  # the COMPOUND-tier pairings in force
    cadres: list = field(default_factory=list)
    households: int = 0
    care: int = 0
    buildings: int = 0


@dataclass
class TeamTree:
    team: WorkTeam
    day: date
    groups: list
    households: int
    care: int
    buildings: int
    community_households: int
    community_care: int
    community_buildings: int
    community_pairings: list


def team_tree(*, team: WorkTeam, day: date) -> TeamTree:
    """team → groups (leader, compounds) → cadres (members that day) → their places that day, with counts.

    Seven queries whatever the team's size: groups, compound pairings, memberships, cadre pairings,
    the community tier, the team's covered totals and the community's totals."""
    pairings = cadre_pairings_on(day, team)
    groups = list(
        WorkGroup.objects.filter(team=team)
        .select_related("leader")
        .annotate(**_covered_counts(lambda depth: pairings.filter(work_group_id=_ref("pk", depth)), team=team))
        .order_by("pk")  # as they were set up (第一工作组, 第二工作组 …; a name sorts 第三 before 第二)
    )
    rows = {
        group.pk: GroupRow(group=group, households=group.households, care=group.care, buildings=group.buildings)
        for group in groups
    }
    for pairing in (
        Pairing.objects.on(day)
        .filter(team=team, tier=PairingTier.COMPOUND)
        .select_related("node")
        .order_by("node__lft")
    ):
        if pairing.work_group_id in rows:
            rows[pairing.work_group_id].compounds.append(pairing)
    cadres: dict[tuple[int, int], CadreRow] = {}

    def mine(depth):
        return pairings.filter(cadre_id=_ref("cadre_id", depth), work_group_id=_ref("group_id", depth))

    for membership in (
        memberships_on(team, day)
        .select_related("cadre")
        .annotate(**_covered_counts(mine, team=team))
        .order_by("cadre__full_name", "cadre__username")
    ):
        row = CadreRow(
            membership=membership,
            cadre=membership.cadre,
            households=membership.households,
            care=membership.care,
            buildings=membership.buildings,
        )
        cadres[(membership.group_id, membership.cadre_id)] = row
        if membership.group_id in rows:
            rows[membership.group_id].cadres.append(row)
    for pairing in (
        pairings.select_related("cadre", "node", "household__building", "household__compound")
        .annotate(**_node_household_counts_of_pairing())
        .order_by("node__lft", "household__building_id", "household__unit", "household__room")
    ):
        key = (pairing.work_group_id, pairing.cadre_id)
        if key not in cadres:  # paired that day but no longer a member (shown, so it can be ended)
            cadres[key] = CadreRow(membership=None, cadre=pairing.cadre)
            if pairing.work_group_id in rows:
                rows[pairing.work_group_id].cadres.append(cadres[key])
        row = cadres[key]
        row.pairings.append(pairing)
        if row.membership is None:
            row.households += pairing.household_count
            row.care += pairing.care_count
            row.buildings += 1 if pairing.node_id and pairing.node.kind == OrgNodeKind.BUILDING else 0
    community_pairings = list(
        Pairing.objects.on(day).filter(team=team, tier=PairingTier.COMMUNITY).select_related("cadre", "node")
    )
    totals = covered_households(pairings, team=team).aggregate(
        households=Count("id"), care=Count("id", filter=Q(is_care=True))
    )
    totals["buildings"] = pairings.filter(node__kind=OrgNodeKind.BUILDING).values("node_id").distinct().count()
    community = Household.objects.filter(community_id=team.community_id, is_active=True).aggregate(
        households=Count("id"), care=Count("id", filter=Q(is_care=True))
    )
    community["buildings"] = community_nodes(team).filter(kind=OrgNodeKind.BUILDING, is_active=True).count()
    return TeamTree(
        team=team,
        day=day,
        groups=list(rows.values()),
        households=totals["households"],
        care=totals["care"],
        buildings=totals["buildings"],
        community_households=community["households"],
        community_care=community["care"],
        community_buildings=community["buildings"],
        community_pairings=community_pairings,
    )


def _node_household_counts_of_pairing() -> dict:
    """Annotations on a pairing: the active households (and care households) of its place."""

    def count(**extra):
        by_building = Household.objects.filter(is_active=True, building_id=OuterRef("node_id"), **extra)
        by_hub = Household.objects.filter(is_active=True, hub_id=OuterRef("node_id"), **extra)
        by_itself = Household.objects.filter(is_active=True, id=OuterRef("household_id"), **extra)
        return (
            SubqueryCount(by_building.order_by().values("id"))
            + SubqueryCount(by_hub.order_by().values("id"))
            + SubqueryCount(by_itself.order_by().values("id"))
        )

    return {"household_count": count(), "care_count": count(is_care=True)}


# --- choices of the pages ------------------------------------------------------------------------


def team_compounds(*, team: WorkTeam) -> QuerySet:
    """The active compound branches of the team's community."""
    return community_nodes(team).filter(kind=OrgNodeKind.COMPOUND, is_active=True).order_by("lft")


def compound_pairing_nodes(compound: OrgNode | None):
    """The buildings and hubs under a compound: the nodes a cadre may be paired with there (none without one)."""
    if compound is None:
        return OrgNode.objects.none()
    return OrgNode.objects.filter(
        tree_id=compound.tree_id,
        lft__gt=compound.lft,
        lft__lt=compound.rght,
        kind__in=[OrgNodeKind.BUILDING, OrgNodeKind.HUB],
    )


def compound_pairing_households(compound: OrgNode | None):
    """The households of a compound, with what their address needs: those a cadre may be paired with there."""
    if compound is None:
        return Household.objects.none()
    return Household.objects.filter(compound=compound).select_related("building", "compound")


def compound_places(*, team: WorkTeam, compound: OrgNode, day: date) -> list:
    """The active buildings and hubs of a compound, in tree order, each with its households, its care
    households and the cadres paired with it that day (one query, and one for the cadres)."""
    nodes = list(
        compound_pairing_nodes(compound).filter(is_active=True).annotate(**_node_household_counts()).order_by("lft")
    )
    held = _cadres_by(cadre_pairings_on(day, team).filter(node_id__in=[node.pk for node in nodes]), "node_id")
    for node in nodes:
        node.cadres = held.get(node.pk, [])
    return nodes


def compound_households(*, team: WorkTeam, compound: OrgNode, day: date, also=()) -> list:
    """The care households of a compound (and any others named in ``also``), each with its cadres that
    day: the number of distinct cadres covering it, and the names of those paired with it alone."""
    also = [pk for pk in also if isinstance(pk, int)]
    households = list(
        Household.objects.filter(is_active=True, compound=compound)
        .filter(Q(is_care=True) | Q(pk__in=also))
        .select_related("building", "compound")
        .annotate(cadre_count=cadres_of_household(day, team))
        .order_by("building__lft", "unit", "room")
    )
    held = _cadres_by(cadre_pairings_on(day, team).filter(household_id__in=[h.pk for h in households]), "household_id")
    for household in households:
        household.cadres = held.get(household.pk, [])
    return households


def _cadres_by(pairings: QuerySet, key: str) -> dict:
    found: dict[int, list] = {}
    for place_id, name, username in pairings.order_by("cadre__full_name").values_list(
        key, "cadre__full_name", "cadre__username"
    ):
        found.setdefault(place_id, []).append(name or username)
    return found


def team_cadres(*, team: WorkTeam, day: date) -> QuerySet:
    """People who are members of a group of the team on ``day`` or later (the cadres a keeper pairs)."""
    current = WorkGroupMembership.objects.filter(group__team=team).filter(Q(left_on__isnull=True) | Q(left_on__gt=day))
    return User.objects.filter(is_active=True, id__in=current.values("cadre_id")).order_by("full_name", "username")


def paired_cadres(*, team: WorkTeam, day: date) -> QuerySet:
    """People with a cadre pairing of the team not ended by ``day`` (those whose pairings can be handed over)."""
    pairings = Pairing.objects.filter(team=team, tier=PairingTier.CADRE).current_or_future(day)
    return User.objects.filter(id__in=pairings.values("cadre_id")).order_by("full_name", "username")


def people_options(*, actor) -> QuerySet:
    """The people a keeper may choose as a group's leader or member: active people they can see."""
    return scope(User.objects.filter(is_active=True), actor, Action.VIEW_PEOPLE).order_by("full_name", "username")[
        :PEOPLE_OPTIONS_LIMIT
    ]


def people_option_ids(*, actor) -> QuerySet:
    return scope(User.objects.filter(is_active=True), actor, Action.VIEW_PEOPLE)


def group_detail(*, group: WorkGroup, day: date) -> dict:
    """A group's compound pairings not ended by ``day`` and its memberships (current and past)."""
    return {
        "compounds": list(
            Pairing.objects.filter(work_group=group, tier=PairingTier.COMPOUND)
            .current_or_future(day)
            .select_related("node")
            .order_by("node__lft")
        ),
        "memberships": list(
            WorkGroupMembership.objects.filter(group=group)
            .select_related("cadre")
            .annotate(
                open_pairings=SubqueryCount(
                    Pairing.objects.filter(work_group_id=OuterRef("group_id"), cadre_id=OuterRef("cadre_id"))
                    .current_or_future(day)
                    .order_by()
                    .values("id")
                )
            )
            .order_by(Coalesce("left_on", Value(date.max)).desc(), "cadre__full_name")
        ),
    }


# --- coverage ------------------------------------------------------------------------------------

COVERAGE_SECTIONS = ("buildings", "households", "care", "cadres")


def uncovered_buildings(*, team: WorkTeam, day: date) -> QuerySet:
    """Active buildings of the community with no cadre paired with them that day (hubs and single
    households paired inside do not cover the building)."""
    pairings = cadre_pairings_on(day, team)
    return (
        community_nodes(team)
        .filter(kind=OrgNodeKind.BUILDING, is_active=True)
        .exclude(id__in=pairings.filter(node__isnull=False).values("node_id"))
        .select_related("parent")
        .annotate(**_node_household_counts())
        .order_by("lft")
    )


def uncovered_households(*, team: WorkTeam, day: date) -> QuerySet:
    """Active households of the community no cadre covers that day (not under a paired building or hub,
    not paired themselves)."""
    pairings = cadre_pairings_on(day, team)
    nodes = pairings.filter(node__isnull=False).values("node_id")
    return (
        Household.objects.filter(community_id=team.community_id, is_active=True)
        .exclude(building_id__in=nodes)
        .exclude(Q(hub_id__isnull=False) & Q(hub_id__in=nodes))
        .exclude(id__in=pairings.filter(household__isnull=False).values("household_id"))
        .select_related("building", "compound")
        .order_by("compound_id", "building_id", "unit", "room", "id")
    )


def thin_care_households(*, team: WorkTeam, day: date) -> QuerySet:
    """Active care households with fewer distinct cadres that day than the team's rule asks (多帮一)."""
    return (
        Household.objects.filter(community_id=team.community_id, is_active=True, is_care=True)
        .annotate(cadre_count=cadres_of_household(day, team))
        .filter(cadre_count__lt=team.care_cadres_required)
        .select_related("building", "compound")
        .order_by("cadre_count", "compound_id", "building_id", "unit", "room", "id")
    )


def idle_cadres(*, team: WorkTeam, day: date) -> QuerySet:
    """Members of a group of the team that day with no cadre pairing of the team in force that day."""
    pairings = cadre_pairings_on(day, team).filter(cadre_id=OuterRef("cadre_id"))
    compounds = Pairing.objects.on(day).filter(tier=PairingTier.COMPOUND, work_group_id=OuterRef("group_id"))
    return (
        memberships_on(team, day)
        .filter(~Exists(pairings))
        .annotate(compound_id=Subquery(compounds.order_by("node__lft").values("node_id")[:1]))
        .select_related("cadre", "group")
        .order_by("group__name", "cadre__full_name", "cadre__username")
    )


def coverage_counts(*, team: WorkTeam, day: date) -> dict:
    """How many rows each coverage section has (four counts, one query)."""
    counted = WorkTeam.objects.filter(pk=team.pk).annotate(
        buildings=SubqueryCount(uncovered_buildings(team=team, day=day).order_by().values("id")),
        households=SubqueryCount(uncovered_households(team=team, day=day).order_by().values("id")),
        care=SubqueryCount(thin_care_households(team=team, day=day).order_by().values("id")),
        cadres=SubqueryCount(idle_cadres(team=team, day=day).order_by().values("id")),
    )
    return counted.values(*COVERAGE_SECTIONS).get()


def coverage_rows(*, team: WorkTeam, day: date, section: str) -> QuerySet:
    return {
        "buildings": uncovered_buildings,
        "households": uncovered_households,
        "care": thin_care_households,
        "cadres": idle_cadres,
    }[section](team=team, day=day)
