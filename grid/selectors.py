"""Reads of the org tree, households and grids, always through core.access.

Every count is computed in the database (a GROUP BY or a correlated subquery on an
indexed column), so a page runs the same number of queries however many rows it shows.
"""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils.translation import ngettext

from accounts.access import managed_users
from accounts.models import User
from core.access import Action, get_in_scope_or_404, grants_held, grids_for, is_global, nodes_for, scope, scope_key
from core.masking import mask_id_number, mask_phone

from .caching import cached_while_tree_unchanged
from .models import (
    CHILD_KIND,
    Grid,
    GridBuilding,
    GridColour,
    GridPost,
    Household,
    OrgNode,
    OrgNodeKind,
    OrgNodeMove,
    Tag,
    format_address,
)
from .search import household_search_condition
from .services.tree import MovePlan, org_node_move_plan

HOUSEHOLD_COLUMN = {
    OrgNodeKind.COMMUNITY: "community_id",
    OrgNodeKind.COMPOUND: "compound_id",
    OrgNodeKind.BUILDING: "building_id",
    OrgNodeKind.HUB: "hub_id",
}


# --- counts as annotations ------------------------------------------------------------------


def _count(queryset: QuerySet, group_by: str, counted: str = "pk", distinct: bool = False) -> Coalesce:
    """A correlated COUNT subquery: the queryset is filtered on OuterRef and grouped by ``group_by``."""
    subquery = queryset.order_by().values(group_by).annotate(n=Count(counted, distinct=distinct)).values("n")[:1]
    return Coalesce(Subquery(subquery, output_field=IntegerField()), Value(0))


# The tree's counts, one correlated subquery per count, each an indexed equality on the row's own id
# (households by community_id / compound_id / building_id / hub_id, grids by community or building,
# grants by tree_id and lft). Written once as SQL: building the same thing from ORM expressions (a Case
# over the four kinds, each a Subquery) cost more Python per request than the database spent answering.
# PostgreSQL runs only the CASE branch of the row's kind. ``node`` is the outer org-node table.
_KIND_CASE = "CASE {node}.kind " + " ".join(f"WHEN '{kind}' THEN ({{{kind}}})" for kind in OrgNodeKind.values)
_HOUSEHOLD_COUNT_SQL = (_KIND_CASE + " ELSE 0 END").format(
    node="{node}",
    **{
        kind: f"SELECT count(*) FROM grid_household h WHERE h.{column} = {{node}}.id AND h.is_active"
        for kind, column in HOUSEHOLD_COLUMN.items()
    },
)
_GRID_COUNT_SQL = (
    "CASE {node}.kind"
    " WHEN 'community' THEN (SELECT count(*) FROM grid_grid g WHERE g.community_id = {node}.id AND g.is_active)"
    " WHEN 'compound' THEN (SELECT count(DISTINCT gb.grid_id) FROM grid_orgnode b"
    " JOIN grid_gridbuilding gb ON gb.building_id = b.id JOIN grid_grid g ON g.id = gb.grid_id"
    " WHERE b.parent_id = {node}.id AND g.is_active)"
    " WHEN 'building' THEN (SELECT count(*) FROM grid_gridbuilding gb JOIN grid_grid g ON g.id = gb.grid_id"
    " WHERE gb.building_id = {node}.id AND g.is_active)"
    " ELSE NULL END"
)
# Distinct active people with an active grant at a node inside this node's subtree.
_PEOPLE_COUNT_SQL = (
    "SELECT count(DISTINCT r.user_id) FROM accounts_rolegrant r"
    " JOIN grid_orgnode n ON n.id = r.org_node_id JOIN accounts_user u ON u.id = r.user_id"
    " WHERE n.tree_id = {node}.tree_id AND n.lft BETWEEN {node}.lft AND {node}.rght"
    " AND r.revoked_at IS NULL AND u.is_active"
)


def with_node_counts(queryset: QuerySet) -> QuerySet:
    """Annotate org nodes with household_count, grid_count (None for hubs) and people_count.

    One query however many nodes; each count is an index lookup per row (see the SQL above).
    """
    node = queryset.model._meta.db_table
    return queryset.annotate(
        household_count=RawSQL(_HOUSEHOLD_COUNT_SQL.format(node=node), (), output_field=IntegerField()),
        grid_count=RawSQL(_GRID_COUNT_SQL.format(node=node), (), output_field=IntegerField()),
        people_count=RawSQL(_PEOPLE_COUNT_SQL.format(node=node), (), output_field=IntegerField()),
    )


# --- the org tree ---------------------------------------------------------------------------


def org_node_visible(*, user, action: str = Action.VIEW) -> QuerySet:
    return scope(OrgNode.objects.all(), user, action)


def org_tree_roots(*, user, q: str = "", counts: bool = True) -> QuerySet:
    """The top-most nodes the user may see: admin all communities, staff their community, a cadre their buildings.

    ``q`` keeps the roots whose name contains it; ``counts=False`` leaves the counts out (a city-wide
    page of communities: counting a community's households reads thousands of index entries each).
    """
    roots = _top_most(user).order_by("tree_id", "lft")
    if q:
        roots = roots.filter(name__icontains=q)
    return with_node_counts(roots) if counts else roots


def org_tree_roots_are_city_wide(*, user) -> bool:
    """Whether the user's roots are every community of the city (paged, searched, without counts)."""
    return is_global(user, Action.VIEW)


def _top_most(user) -> QuerySet:
    """Visible nodes whose parent the user cannot see (for a global role simply the communities)."""
    visible = org_node_visible(user=user)
    if is_global(user, Action.VIEW):
        return visible.filter(parent__isnull=True)
    return visible.filter(Q(parent__isnull=True) | ~Q(parent_id__in=visible.values("id")))


def org_node_children(*, user, node: OrgNode, after: int | None = None) -> QuerySet:
    """The visible children of ``node`` with their counts, in tree order; ``after`` (a child's
    ``lft``) starts after that child, so a long level is read a page at a time by an index range."""
    children = org_node_visible(user=user).filter(parent_id=node.pk)
    if after is not None:
        children = children.filter(tree_id=node.tree_id, lft__gt=after)
    return with_node_counts(children.order_by("lft"))


def org_node_breadcrumbs(*, user, node: OrgNode) -> QuerySet:
    """The ancestors of ``node`` that the user may see (a cadre does not see the community above)."""
    return (
        org_node_visible(user=user).filter(tree_id=node.tree_id, lft__lt=node.lft, rght__gt=node.rght).order_by("lft")
    )


def org_node_move_targets(*, user, node: OrgNode) -> QuerySet:
    """Active in-scope nodes that may become ``node``'s new parent (the level above it)."""
    parent_kind = next((parent for parent, child in CHILD_KIND.items() if child == node.kind), None)
    if parent_kind is None:
        return OrgNode.objects.none()
    return (
        org_node_visible(user=user, action=Action.MANAGE_TREE)
        .filter(kind=parent_kind, is_active=True)
        .exclude(pk=node.parent_id)
        .select_related("parent")
        .order_by("tree_id", "lft")
    )


def org_node_moves(*, node: OrgNode, limit: int = 10) -> QuerySet:
    """The latest re-cuts of a node (callers have checked the node is in scope)."""
    return OrgNodeMove.objects.filter(node=node).select_related("old_parent", "new_parent", "moved_by")[:limit]


@dataclass
class MovePreview:
    """A move's plan with the households it relinks, as the user may see them (first ``limit``)."""

    plan: MovePlan
    dropped: list
    restored: list


def org_node_move_preview(*, user, node: OrgNode, new_parent: OrgNode, limit: int = 20) -> MovePreview:
    """What moving ``node`` under ``new_parent`` would do (the callers checked MANAGE_TREE on both)."""
    plan = org_node_move_plan(node=node, new_parent=new_parent)
    households = scope(Household.objects.select_related("building", "compound"), user, Action.VIEW)
    return MovePreview(
        plan=plan,
        dropped=list(households.filter(pk__in=plan.hub_links_dropped[:limit]).order_by("pk")),
        restored=list(households.filter(pk__in=plan.hub_links_restored[:limit]).order_by("pk")),
    )


# --- households -----------------------------------------------------------------------------

# The household list's order, HTML and API alike: the list indexes (grid.models.Household.Meta)
# end with it, so a page is read in order from the index of the user's scope column.
HOUSEHOLD_ORDER = ("compound_id", "building_id", "unit", "room", "id")
# More compounds than this in scope (a city-wide user) are not offered in the compound filter.
COMPOUND_CHOICES_MAX = 200


@dataclass
class HouseholdFilters:
    compound: int | None = None
    building: int | None = None
    node: int | None = None
    tag: str = ""
    care: str = ""  # "yes" / "no" / ""
    q: str = ""
    status: str = "active"  # "active" / "moved_out" / "all"


def household_list(*, user, filters: HouseholdFilters) -> QuerySet:
    # Read as tuples by the list (HOUSEHOLD_ROW_FIELDS) and counted plainly: no related objects to load.
    households = scope(Household.objects.all(), user)
    if filters.status == "active":
        households = households.filter(is_active=True)
    elif filters.status == "moved_out":
        households = households.filter(is_active=False)
    if filters.compound:
        households = households.filter(compound_id=filters.compound)
    if filters.building:
        households = households.filter(building_id=filters.building)
    if filters.node:
        node = org_node_visible(user=user).filter(pk=filters.node).values_list("kind", flat=True).first()
        households = households.filter(**{HOUSEHOLD_COLUMN[node]: filters.node}) if node else households.none()
    if filters.tag:
        households = households.filter(tags__code=filters.tag)
    if filters.care == "yes":
        households = households.filter(is_care=True)
    elif filters.care == "no":
        households = households.filter(is_care=False)
    condition = household_search_condition(filters.q, nodes=lambda: org_node_visible(user=user))
    if condition is not None:
        households = households.filter(condition)
    return households.order_by(*HOUSEHOLD_ORDER)


HOUSEHOLD_ROW_FIELDS = (
    "id",
    "compound_id",
    "unit",
    "room",
    "head_name",
    "phone",
    "id_number",
    "resident_count",
    "is_care",
    "is_active",
    "compound__name",
    "compound__place_name",
    "building__name",
    "building__place_name",
)


def household_tags(*, household_ids, field: str = "code") -> dict[int, list[str]]:
    """The tags of these households (their ``code`` or ``name``), in the tags' order, by household id:
    one query of pairs, for lists read as tuples."""
    tags: dict[int, list[str]] = {}
    if household_ids:
        for household_id, value in (
            Household.tags.through.objects.filter(household_id__in=list(household_ids))
            .order_by("tag__sort_order", "tag__code")
            .values_list("household_id", f"tag__{field}")
        ):
            tags.setdefault(household_id, []).append(value)
    return tags


def grid_post_rows(*, grid_ids, columns) -> QuerySet:
    """The posts of these grids as tuples of ``columns``, in the posts' order (the grid list's answer)."""
    return GridPost.objects.filter(grid_id__in=list(grid_ids)).order_by(*GridPost._meta.ordering).values_list(*columns)


def household_list_rows(rows, *, detail_url_prefix: str) -> list[dict]:
    """What the list shows of each household of a page: ``rows`` are the page's tuples of
    ``household_list(...).values_list(*HOUSEHOLD_ROW_FIELDS)``; their tags' names are read in one
    more query. No model instances: a page of 25 is built in a fraction of what the instances,
    their related objects and the tag prefetch took."""
    rows = list(rows)
    tags = household_tags(household_ids=[row[0] for row in rows], field="name")
    result = []
    for pk, compound_id, unit, room, head, phone, id_number, residents, care, active, *names in rows:
        compound, c_place, building, b_place = names
        compound_label = c_place or compound or ""
        result.append(
            {
                "id": pk,
                "compound_id": compound_id,
                "url": f"{detail_url_prefix}{pk}/",
                "address": format_address(
                    compound=compound_label, building=b_place or building or "", unit=unit, room=room
                ),
                "compound": compound_label,
                "head_name": head,
                "phone": mask_phone(phone),
                "id_number": mask_id_number(id_number),
                "resident_count": residents,
                "tags": tags.get(pk, []),
                "is_care": care,
                "is_active": active,
            }
        )
    return result


def household_filter_compound(*, user, filters: HouseholdFilters) -> int | None:
    """The compound whose buildings the building filter offers: the chosen one, else the chosen
    building's (a link from a building's page names only the building)."""
    if filters.compound:
        return filters.compound
    if filters.building:
        return (
            org_node_visible(user=user)
            .filter(pk=filters.building, kind=OrgNodeKind.BUILDING)
            .values_list("parent_id", flat=True)
            .first()
        )
    return None


def household_filter_choices(*, user, compound: int | None = None) -> dict:
    """Options for the household filters: compounds, the buildings of the chosen compound, tags.

    Buildings are offered only once a compound is chosen (a city has thousands), unless the
    user sees one compound or none (a cadre of a few buildings): then all their buildings.
    Compounds and buildings are labelled with their place names (阳光小区, 1号楼). A user who
    sees more than ``COMPOUND_CHOICES_MAX`` compounds is offered only the chosen one
    (``compounds_capped``). Read once per scope (users of the same grants share it) and tree
    version (grid.caching): the list page asks for them on every request.
    """
    key = f"household-filter-choices:{scope_key(user)}:{compound or 0}"
    rows = cached_while_tree_unchanged(key, lambda: _household_filter_rows(user=user, compound=compound))
    compounds = [
        OrgNode(id=pk, name=name, place_name=place, kind=OrgNodeKind.COMPOUND) for pk, name, place in rows["compounds"]
    ]
    buildings = [
        OrgNode(id=pk, name=name, place_name=place, kind=OrgNodeKind.BUILDING, parent_id=parent)
        for pk, name, place, parent in rows["buildings"]
    ]
    return {
        "compounds": compounds,
        "compound": compound,
        "buildings": buildings,
        "compounds_capped": rows["compounds_capped"],
        "needs_compound": (len(compounds) > 1 or rows["compounds_capped"]) and not buildings,
        "tags": [Tag(id=pk, code=code, name=name, sort_order=order) for pk, code, name, order in rows["tags"]],
    }


def _household_filter_rows(*, user, compound: int | None) -> dict:
    """The filter options as plain tuples (what the cache keeps)."""
    rows = list(
        org_node_visible(user=user)
        .filter(kind=OrgNodeKind.COMPOUND)
        .order_by("tree_id", "lft")
        .values_list("id", "name", "place_name")[: COMPOUND_CHOICES_MAX + 1]
    )
    compounds_capped = len(rows) > COMPOUND_CHOICES_MAX
    if compounds_capped:
        # A city-wide user: thousands of compounds are no dropdown; they search by estate name or
        # come from the tree (?compound=), and then the chosen compound is the one offered.
        rows = (
            list(
                org_node_visible(user=user)
                .filter(kind=OrgNodeKind.COMPOUND, pk=compound)
                .values_list("id", "name", "place_name")
            )
            if compound
            else []
        )
    buildings = org_node_visible(user=user).filter(kind=OrgNodeKind.BUILDING)
    if compound and any(pk == compound for pk, _name, _place in rows):
        buildings = buildings.filter(parent_id=compound)
    elif len(rows) > 1 or compounds_capped:
        buildings = buildings.none()
    return {
        "compounds": rows,
        "compounds_capped": compounds_capped,
        "buildings": list(buildings.order_by("tree_id", "lft").values_list("id", "name", "place_name", "parent_id")),
        "tags": list(Tag.objects.values_list("id", "code", "name", "sort_order")),
    }


def household_detail(*, user, pk: int, action: str = Action.VIEW) -> Household:
    return get_in_scope_or_404(
        Household.objects.select_related("building", "compound", "community", "hub").prefetch_related("tags"),
        user,
        action,
        pk=pk,
    )


def household_edit_buildings(*, user) -> QuerySet:
    """Active buildings in which the user may keep household data."""
    return (
        org_node_visible(user=user, action=Action.EDIT_HOUSEHOLD)
        .filter(kind=OrgNodeKind.BUILDING, is_active=True)
        .select_related("parent")
        .order_by("tree_id", "lft")
    )


def household_edit_hubs(*, user, household: Household | None = None) -> QuerySet:
    """Active hubs in which the user may keep household data, and the household's current hub
    even if it was deactivated since: saving the form must not drop it unless the user chooses to."""
    keep = Q(is_active=True)
    if household is not None and household.hub_id:
        keep |= Q(pk=household.hub_id)
    return (
        org_node_visible(user=user, action=Action.EDIT_HOUSEHOLD)
        .filter(keep, kind=OrgNodeKind.HUB)
        .select_related("parent")
        .order_by("tree_id", "lft")
    )


# --- home -----------------------------------------------------------------------------------


def home_counts(*, user) -> dict:
    """The landing page's figures for the user's scope: one aggregate query per group."""
    nodes = org_node_visible(user=user).filter(is_active=True)
    counts = nodes.aggregate(
        communities=Count("pk", filter=Q(kind=OrgNodeKind.COMMUNITY)),
        compounds=Count("pk", filter=Q(kind=OrgNodeKind.COMPOUND)),
        buildings=Count("pk", filter=Q(kind=OrgNodeKind.BUILDING)),
    )
    counts.update(
        scope(Household.objects.filter(is_active=True), user).aggregate(
            households=Count("pk"), care_households=Count("pk", filter=Q(is_care=True))
        )
    )
    counts.update(
        scope(Grid.objects.filter(is_active=True), user).aggregate(
            grids=Count("pk"),
            red_grids=Count("pk", filter=Q(colour=GridColour.RED)),
            yellow_grids=Count("pk", filter=Q(colour=GridColour.YELLOW)),
        )
    )
    counts.update(
        scope(GridPost.objects.filter(grid__is_active=True), user).aggregate(
            posts=Count("pk"), vacant_posts=Count("pk", filter=Q(holder__isnull=True))
        )
    )
    return counts


def home_places(*, user, limit: int = 8) -> list[OrgNode]:
    """The user's top-most places, for quick links (no counts)."""
    return list(_top_most(user).filter(is_active=True).order_by("tree_id", "lft")[:limit])


@dataclass
class HomeRole:
    """One role the user holds, for the home page: where they hold it (names), or everywhere."""

    role: str
    label: str
    places: list[str]
    everywhere: bool = False


def home_roles(*, user) -> list[HomeRole]:
    """The user's roles today, in the order of ``Role``, each with the places it is held at, whatever the
    grant's source (role grants, pairings): read from the access module's resolved grants, which leave
    out grants at deactivated places. The names: one query per kind of place held (nodes, grids,
    departments); households held one by one (pairings) are counted, not named.
    """
    from accounts.models import Department, Role

    held = grants_held(user)
    names: dict[tuple[str, int], str] = {}
    for kind, model in (("node", OrgNode), ("grid", Grid), ("department", Department)):
        ids = {place_id for _role, place_kind, place_id in held if place_kind == kind}
        if ids:
            rows = model.objects.filter(pk__in=ids, is_active=True).values_list("id", "name")
            names.update({(kind, place_id): name for place_id, name in rows})
    by_role: dict[str, HomeRole] = {}
    households: dict[str, int] = {}
    labels = dict(Role.choices)
    for role, kind, place_id in held:
        if kind and kind != "household" and (kind, place_id) not in names:
            continue  # a department since deactivated
        entry = by_role.setdefault(role, HomeRole(role=role, label=str(labels.get(role, role)), places=[]))
        if not kind:
            entry.everywhere = True
        elif kind == "household":
            households[role] = households.get(role, 0) + 1
        elif names[(kind, place_id)] not in entry.places:
            entry.places.append(names[(kind, place_id)])
    for role, count in households.items():
        by_role[role].places.append(ngettext("%(count)s household", "%(count)s households", count) % {"count": count})
    return [by_role[role] for role in Role.values if role in by_role]


# --- grids ----------------------------------------------------------------------------------


@dataclass
class GridFilters:
    colour: str = ""
    q: str = ""


# The grid counts for a user who sees every grid of theirs whole, one correlated subquery per count,
# each an indexed equality on the grid's id: its links (grid_gridbuilding.grid_id), their households
# (household_unique_active_address, an index-only range per building) and its posts (grid_id). Written
# once as SQL, like the tree's counts: the ORM expressions with the user's scope inside cost more Python
# per request than the database spent answering. PostgreSQL evaluates them for the page's rows only.
_GRID = Grid._meta.db_table
_GRID_COUNTS_OF_GRID_SQL = {
    "building_count": f"SELECT count(*) FROM grid_gridbuilding gb WHERE gb.grid_id = {_GRID}.id",
    "household_count": (
        "SELECT count(*) FROM grid_gridbuilding gb JOIN grid_household h ON h.building_id = gb.building_id"
        f" WHERE gb.grid_id = {_GRID}.id AND h.is_active"
    ),
    "post_count": f"SELECT count(*) FROM grid_gridpost p WHERE p.grid_id = {_GRID}.id",
    "vacant_post_count": f"SELECT count(*) FROM grid_gridpost p WHERE p.grid_id = {_GRID}.id AND p.holder_id IS NULL",
}


_COMMUNITY_NAME_SQL = f"SELECT c.name FROM grid_orgnode c WHERE c.id = {_GRID}.community_id"


def _raw_count(name: str) -> RawSQL:
    return RawSQL(_GRID_COUNTS_OF_GRID_SQL[name], (), output_field=IntegerField())


def sees_grids_whole(user, action: str = Action.VIEW) -> bool:
    """Whether every grid the user sees lies wholly in their scope: a global role, or grants only at
    communities (a grid's buildings are all in its community). A grant at a compound, a building or a
    grid may reach a grid that spans compounds, of which such a user sees only their part."""
    if is_global(user, action):
        return True
    return not grids_for(user, action) and all(grant.kind == OrgNodeKind.COMMUNITY for grant in nodes_for(user, action))


def with_grid_counts(queryset: QuerySet, *, user) -> QuerySet:
    """Annotate grids with counts over what ``user`` may see.

    A grid may span compounds: a cadre reaches a grid through one building of theirs, and
    must not learn about the grid's other buildings or their households. Building and
    household counts therefore only count rows in the user's scope (still one correlated
    subquery each); posts belong to the grid itself and are counted whole. For a user who
    sees their grids whole (``sees_grids_whole``) the counts are the SQL above, unrestricted.
    """
    posts = {name: _raw_count(name) for name in ("post_count", "vacant_post_count")}
    if sees_grids_whole(user):
        return queryset.annotate(
            building_count=_raw_count("building_count"), household_count=_raw_count("household_count"), **posts
        )
    visible_buildings = org_node_visible(user=user).values("id")
    return queryset.annotate(
        building_count=_count(
            GridBuilding.objects.filter(grid_id=OuterRef("pk"), building_id__in=visible_buildings), "grid_id"
        ),
        household_count=_count(
            scope(Household.objects.filter(is_active=True, building__grid_building__grid_id=OuterRef("pk")), user),
            "building__grid_building__grid_id",
        ),
        **posts,
    )


# The order of the grid list and the API: the unique index (community_id, code) serves it, so a page
# is an index range (a community's grids, or the city's in community order) with no sort of the rest.
GRID_ORDER = ("community_id", "code", "id")


def grid_list(*, user, filters: GridFilters) -> QuerySet:
    """The grids in the user's scope with their counts and their community's name (``community_name``)."""
    # The name by a subquery, not a join: the page's count then reads grid_grid alone (an index-only count).
    grids = (
        scope(Grid.objects.all(), user)
        .only("id", "community_id", "name", "code", "colour", "colour_reason", "colour_set_on", "is_active")
        .annotate(community_name=RawSQL(_COMMUNITY_NAME_SQL, ()))
    )
    if filters.colour in GridColour.values:
        grids = grids.filter(colour=filters.colour)
    if filters.q:
        grids = grids.filter(Q(name__icontains=filters.q) | Q(code__icontains=filters.q))
    return with_grid_counts(grids, user=user).order_by(*GRID_ORDER)


def grid_detail(*, user, pk: int, action: str = Action.VIEW) -> Grid:
    return get_in_scope_or_404(
        with_grid_counts(Grid.objects.select_related("community"), user=user), user, action, pk=pk
    )


def grids_with_visible_parts(*, user) -> QuerySet:
    """Grids with the counts of ``with_grid_counts`` and their posts with the holders (the API's shape);
    the ids of the buildings the user may see come from ``grid_visible_building_ids``."""
    return with_grid_counts(Grid.objects.all(), user=user).prefetch_related(
        Prefetch("posts", queryset=GridPost.objects.select_related("holder"))
    )


def grid_visible_building_ids(*, user, grid_ids) -> dict[int, list[int]]:
    """The ids of the buildings of the grids ``grid_ids`` that the user may see, by grid id, in id order.

    One query of id pairs, no model per link: a page of 50 city grids has some 1,100 links, and
    making a model of each cost more than the rest of the answer.
    """
    building_ids: dict[int, list[int]] = {grid_id: [] for grid_id in grid_ids}
    links = GridBuilding.objects.filter(grid_id__in=list(building_ids))
    if not sees_grids_whole(user):
        links = links.filter(building_id__in=org_node_visible(user=user).values("id"))
    for grid_id, building_id in links.order_by("grid_id", "building_id").values_list("grid_id", "building_id"):
        building_ids[grid_id].append(building_id)
    return building_ids


def grid_buildings(*, user, grid: Grid) -> QuerySet:
    """The grid's buildings the user may see, with their compound and the active households the user may see."""
    households = scope(Household.objects.filter(is_active=True, building_id=OuterRef("pk")), user)
    return (
        org_node_visible(user=user)
        .filter(grid_building__grid=grid)
        .select_related("parent")
        .annotate(household_count=_count(households, "building_id"))
        .order_by("lft")
    )


def grid_posts(*, user, grid: Grid) -> QuerySet:
    """The posts of a grid the user sees, with their holders: a grid worker is the grid's contact
    person, so whoever sees the grid sees who holds its posts (the phone masked; revealed, audited,
    by grid.services.grid_post_holder_phone_reveal)."""
    return GridPost.objects.filter(grid=grid).select_related("holder").order_by("post_type", "id")


def grid_building_choices(*, user, grid: Grid) -> QuerySet:
    """Active buildings of the grid's community the user may manage, with the grid each belongs to now."""
    return (
        org_node_visible(user=user, action=Action.MANAGE_GRID)
        .filter(kind=OrgNodeKind.BUILDING, is_active=True, tree_id=grid.community.tree_id)
        .select_related("parent", "grid_building__grid")
        .order_by("lft")
    )


def grid_post_holder_choices(*, user) -> QuerySet:
    """People the user may make the holder of a grid post: those they may give the grid-worker
    grant to (accounts' people policy: working wholly inside the user's part, for MANAGE_GRID)."""
    people = managed_users(user, User.objects.filter(is_active=True), action=Action.MANAGE_GRID)
    return people.order_by("full_name", "username")
