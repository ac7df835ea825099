"""Writes to grids, their buildings, colours and posts."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.text import refuse_unsafe_text

from ..caching import tree_changed
from ..models import (
    Grid,
    GridBuilding,
    GridColour,
    GridPost,
    OrgNode,
    OrgNodeKind,
)

# --- Grids --------------------------------------------------------------------------------------


def _check_buildings_in_community(community: OrgNode, buildings: Iterable[OrgNode]) -> list[OrgNode]:
    buildings = list(buildings)
    outside = [
        b.name for b in buildings if b.kind != OrgNodeKind.BUILDING or b.tree_id != community.tree_id or not b.is_active
    ]
    if outside:
        raise ZhubaoError(
            ErrorCode.BUILDING_OUTSIDE_COMMUNITY,
            _("These are not active buildings of the grid's community: %(names)s") % {"names": "、".join(outside)},
            {"buildings": [_("Choose buildings of the grid's community.")]},
        )
    return buildings


def _check_code_unique(grid: Grid) -> None:
    """A code another grid of the community has, as people compare codes ("1" is "01"), is refused:
    the import matches codes that way, so two such grids could never be told apart there."""
    from ..rules import grid_code_key

    key = grid_code_key(grid.code)
    # The community's row, locked (callers are atomic): two grids written at once as "1" and "01"
    # would otherwise both find no clash.
    OrgNode.objects.select_for_update().filter(pk=grid.community_id).exists()
    others = Grid.objects.filter(community_id=grid.community_id).exclude(pk=grid.pk).values_list("code", flat=True)
    clash = next((code for code in others if grid_code_key(code) == key), None)
    if clash is not None:
        message = _("The community already has grid %(code)s, which this code means too.") % {"code": clash}
        raise ZhubaoError(ErrorCode.DUPLICATE, message, {"code": [message]})


@transaction.atomic
def grid_create(*, actor, community: OrgNode, name: str, code: str, buildings: Iterable[OrgNode] = (), **data) -> Grid:
    refuse_unsafe_text(name=name, code=code, **data)  # before strip() drops a trailing U+000B
    grid = Grid(community=community, name=name.strip(), code=code.strip(), **data)
    if grid.colour != GridColour.GREEN and not grid.colour_set_on:
        grid.colour_set_on = timezone.localdate()
    full_clean_or_raise(grid)
    _check_code_unique(grid)
    grid.save()
    grid_set_buildings(actor=actor, grid=grid, buildings=buildings)
    return grid


@transaction.atomic
def grid_update(*, actor, grid: Grid, buildings: Iterable[OrgNode] | None = None, **data) -> Grid:
    """Change a grid's name, code or active flag and, when ``buildings`` is given, make them its buildings."""
    allowed = {"name", "code", "is_active"}
    for name in data:
        if name not in allowed:
            raise TypeError(f"grid_update() got an unexpected field {name!r}")
    refuse_unsafe_text(**data)  # before strip() drops a trailing U+000B
    for name, value in data.items():
        setattr(grid, name, value.strip() if isinstance(value, str) else value)
    full_clean_or_raise(grid)
    if "code" in data:
        _check_code_unique(grid)
    grid.save()
    if buildings is not None:
        grid_set_buildings(actor=actor, grid=grid, buildings=buildings)
    return grid


@transaction.atomic
def grid_set_colour(*, actor, grid: Grid, colour: str, reason: str = "", set_on=None) -> Grid:
    """Colour a grid red/yellow/green (三色管理) with the reason and the date it was set."""
    refuse_unsafe_text(reason=reason)
    grid.colour = colour
    grid.colour_reason = reason.strip()
    grid.colour_set_on = set_on or timezone.localdate()
    full_clean_or_raise(grid)
    grid.save(update_fields=["colour", "colour_reason", "colour_set_on", "updated_at"])
    return grid


@transaction.atomic
def grid_set_buildings(*, actor, grid: Grid, buildings: Iterable[OrgNode]) -> Grid:
    """Make exactly these buildings the grid's; a building taken from another grid leaves it."""
    buildings = _check_buildings_in_community(grid.community, buildings)
    tree_changed()  # a grid grant reaches buildings through these links (grid.caching)
    ids = {b.pk for b in buildings}
    GridBuilding.objects.filter(grid=grid).exclude(building_id__in=ids).delete()
    GridBuilding.objects.filter(building_id__in=ids).exclude(grid=grid).delete()
    existing = set(GridBuilding.objects.filter(grid=grid).values_list("building_id", flat=True))
    GridBuilding.objects.bulk_create([GridBuilding(grid=grid, building_id=pk) for pk in ids - existing])
    return grid


@transaction.atomic
def grid_post_create(*, actor, grid: Grid, post_type: str, title: str, holder=None) -> GridPost:
    refuse_unsafe_text(title=title)  # before strip() drops a trailing U+000B
    post = GridPost(grid=grid, post_type=post_type, title=title.strip())
    full_clean_or_raise(post)
    post.save()
    if holder is not None:
        grid_post_fill(actor=actor, post=post, holder=holder)
    return post


@transaction.atomic
def grid_post_fill(*, actor, post: GridPost, holder) -> GridPost:
    """Put a person in a post and give them the grid-worker grant for that grid.

    Keeps the invariant: a grid-worker grant exists exactly while its person holds a post of
    that grid. A held post is vacated first (the former holder loses the grant unless they
    hold another post of the grid); filling it again with its holder changes nothing.
    """
    from accounts.models import Role
    from accounts.services import role_grant_add

    # The post as it is now, locked: a stale form must not leave a former holder's grant behind.
    current_holder_id = GridPost.objects.select_for_update().filter(pk=post.pk).values_list("holder_id", flat=True)
    post.holder_id = current_holder_id.get()
    if post.holder_id == holder.pk:
        return post
    if post.holder_id is not None:
        grid_post_vacate(actor=actor, post=post)
    post.holder = holder
    full_clean_or_raise(post)
    post.save(update_fields=["holder", "updated_at"])
    role_grant_add(actor=actor, user=holder, role=Role.GRID_WORKER, grid=post.grid)
    return post


@transaction.atomic
def grid_post_vacate(*, actor, post: GridPost) -> GridPost:
    """Leave a post vacant (空岗); the former holder keeps the grant only if they hold another post there."""
    from accounts.models import Role, RoleGrant
    from accounts.services import role_grant_revoke

    former = post.holder
    post.holder = None
    post.save(update_fields=["holder", "updated_at"])
    if former is not None and not GridPost.objects.filter(grid=post.grid, holder=former).exists():
        for grant in RoleGrant.objects.active().filter(user=former, role=Role.GRID_WORKER, grid=post.grid):
            role_grant_revoke(actor=actor, grant=grant)
    return post
