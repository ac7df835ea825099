"""Reads of people and their grants, always through core.access."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from core.access import Action, get_in_scope_or_404, scope

from .access import is_global_admin
from .models import Department, Role, RoleGrant, User


@dataclass
class PeopleFilters:
    q: str = ""
    role: str = ""


def visible_grants(*, viewer) -> QuerySet:
    """Active grants the viewer may see: a person's grants elsewhere (another community) stay hidden."""
    return (
        scope(RoleGrant.objects.active(), viewer, Action.VIEW_PEOPLE)
        .select_related("org_node", "org_node__parent", "grid", "department")
        .order_by("role", "id")
    )


def people_list(*, viewer, filters: PeopleFilters) -> QuerySet:
    people = scope(User.objects.all(), viewer, Action.VIEW_PEOPLE).prefetch_related(
        Prefetch("grants", queryset=visible_grants(viewer=viewer), to_attr="visible_grants")
    )
    if filters.q:
        people = people.filter(Q(full_name__icontains=filters.q) | Q(username__icontains=filters.q))
    if filters.role in Role.values:
        people = people.filter(id__in=visible_grants(viewer=viewer).filter(role=filters.role).values("user_id"))
    return people.order_by("full_name", "username", "id")


def person_detail(*, viewer, pk: int) -> User:
    return get_in_scope_or_404(
        User.objects.prefetch_related(
            Prefetch("grants", queryset=visible_grants(viewer=viewer), to_attr="visible_grants")
        ),
        viewer,
        Action.VIEW_PEOPLE,
        pk=pk,
    )


def person_is_visible(*, viewer, person: User) -> bool:
    """Whether the viewer still sees the person (after a revoke took their last role in the viewer's part)."""
    return scope(User.objects.filter(pk=person.pk), viewer, Action.VIEW_PEOPLE).exists()


def person_grid_posts(*, viewer, person: User) -> QuerySet:
    from grid.models import GridPost

    return (
        scope(GridPost.objects.filter(holder=person), viewer)
        .select_related("grid", "grid__community")
        .order_by("grid__code", "id")
    )


# --- places a role can be given at (the people pages' pickers) ------------------------------------
# A community admin's community lists whole (a large one has ~500 buildings); a city-wide admin's
# picker starts with the communities and compounds, and finds buildings and grids by search.

PLACE_OPTIONS_LIMIT = 600
PLACE_SEARCH_LIMIT = 50
PLACE_FIELDS = ("org_node", "grid")


@dataclass
class PlaceChoices:
    queryset: QuerySet  # every place the actor may choose: what the form accepts
    options: list  # what the picker lists before a search
    truncated: bool = False  # more places than options: the picker searches the server


def grant_place_nodes(*, actor) -> QuerySet:
    """Active communities, compounds and buildings the actor manages people at, in tree order."""
    from grid.models import OrgNode, OrgNodeKind

    kinds = [OrgNodeKind.COMMUNITY, OrgNodeKind.COMPOUND, OrgNodeKind.BUILDING]
    return (
        scope(OrgNode.objects.filter(is_active=True, kind__in=kinds), actor, Action.MANAGE_PEOPLE)
        .select_related("parent")
        .order_by("tree_id", "lft")
    )


def grant_place_grids(*, actor) -> QuerySet:
    """Active grids the actor manages people at (a grid worker's place)."""
    from grid.models import Grid

    return (
        scope(Grid.objects.filter(is_active=True), actor, Action.MANAGE_PEOPLE)
        .select_related("community")
        .order_by("community__tree_id", "code", "id")
    )


def grant_place_departments(*, actor) -> QuerySet:
    """Departments (a department handler's place): given by admins of every community only."""
    if not is_global_admin(actor):
        return Department.objects.none()
    return scope(Department.objects.filter(is_active=True), actor, Action.MANAGE_PEOPLE).order_by("name")


def _first(queryset: QuerySet, *, fewer: QuerySet | None = None) -> PlaceChoices:
    rows = list(queryset[: PLACE_OPTIONS_LIMIT + 1])
    if len(rows) <= PLACE_OPTIONS_LIMIT:
        return PlaceChoices(queryset, rows)
    shorter = list((fewer if fewer is not None else queryset)[:PLACE_OPTIONS_LIMIT])
    return PlaceChoices(queryset, shorter, truncated=True)


def grant_places(*, actor) -> dict[str, PlaceChoices]:
    """The pickers of a new grant: org nodes, grids and departments the actor may give a role at."""
    from grid.models import OrgNodeKind

    nodes = grant_place_nodes(actor=actor)
    departments = grant_place_departments(actor=actor)
    return {
        "org_node": _first(nodes, fewer=nodes.exclude(kind=OrgNodeKind.BUILDING)),
        "grid": _first(grant_place_grids(actor=actor)),
        "department": PlaceChoices(departments, list(departments)),
    }


def grant_place_search(*, actor, field: str, q: str) -> list:
    """Up to PLACE_SEARCH_LIMIT places of one picker whose name (or parent's, or grid code) holds ``q``."""
    if field == "org_node":
        places = grant_place_nodes(actor=actor)
        if q:
            places = places.filter(Q(name__icontains=q) | Q(place_name__icontains=q) | Q(parent__name__icontains=q))
    elif field == "grid":
        places = grant_place_grids(actor=actor)
        if q:
            places = places.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(community__name__icontains=q))
    else:
        return []
    return list(places[:PLACE_SEARCH_LIMIT])
