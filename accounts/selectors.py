"""Reads of people and their grants, always through core.access."""

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from core.access import Action, get_in_scope_or_404, scope

from .models import Role, RoleGrant, User


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


def person_grid_posts(*, viewer, person: User) -> QuerySet:
    from grid.models import GridPost

    return (
        scope(GridPost.objects.filter(holder=person), viewer)
        .select_related("grid", "grid__community")
        .order_by("grid__code", "id")
    )
