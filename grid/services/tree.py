"""Writes to the org tree: create, rename, move, deactivate, reactivate; the per-tree lock."""

import hashlib
from dataclasses import astuple, dataclass, replace

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record
from core.text import refuse_unsafe_text

from ..caching import tree_changed
from ..models import (
    CHILD_KIND,
    GridBuilding,
    Household,
    OrgNode,
    OrgNodeKind,
    OrgNodeMove,
    default_place_name,
)

# A fixed key for the advisory lock taken when a new community (a new mptt tree) is created.
_NEW_TREE_LOCK = 7_311_001


def _check_unique_name(node: OrgNode) -> None:
    """Name the field when a sibling already has this name (the constraint alone says nothing useful)."""
    siblings = OrgNode.objects.filter(parent_id=node.parent_id, name=node.name).exclude(pk=node.pk)
    if siblings.exists():
        message = _("Another node under the same parent is already called %(name)s.") % {"name": node.name}
        raise ZhubaoError(ErrorCode.DUPLICATE, message, {"name": [message]})


def _check_actor_is_global_admin(actor) -> None:
    """A new community (a new tree) is a city-wide act: only an admin of every community, or the system."""
    if actor is None:
        return
    from core.access import Action, is_global

    if not is_global(actor, Action.MANAGE_TREE):
        raise ZhubaoError(
            ErrorCode.PERMISSION_DENIED,
            _("Only a system admin of every community may add a community."),
            status_code=403,
        )


def org_tree_lock(*, tree_id: int | None) -> None:
    """Serialise writes to one community's tree (or the creation of a new tree).

    mptt shifts lft/rght of the whole tree on insert and move; two writers at once
    corrupt it, and two new roots at once can get the same tree_id. On PostgreSQL a
    transaction-scoped advisory lock per tree; SQLite serialises writers already.
    """
    if connection.vendor != "postgresql":
        return
    key = _NEW_TREE_LOCK if tree_id is None else tree_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_NEW_TREE_LOCK, key])


@transaction.atomic
def org_node_create(
    *, actor, name: str, parent: OrgNode | None = None, code: str = "", place_name: str = ""
) -> OrgNode:
    """Add a node; its kind follows from the parent (community → compound → building → hub).

    A compound branch or building group without a ``place_name`` is named after its place
    (阳光小区党支部 → 阳光小区), which addresses use.
    """
    refuse_unsafe_text(name=name, code=code, place_name=place_name)  # before strip() drops a trailing U+000B
    if parent is not None:
        org_tree_lock(tree_id=parent.tree_id)
        parent.refresh_from_db()
        if not parent.is_active:
            raise ZhubaoError(ErrorCode.NODE_INACTIVE, _("You cannot add a node under a deactivated node."))
    else:
        _check_actor_is_global_admin(actor)
        org_tree_lock(tree_id=None)
    kind = CHILD_KIND[parent.kind if parent else None]
    if kind is None:
        raise ZhubaoError(
            ErrorCode.WRONG_PARENT_KIND,
            _("A member-household hub is the lowest level: it cannot have children."),
            {"parent": [_("Choose a building group or a higher level.")]},
        )
    node = OrgNode(name=name.strip(), parent=parent, kind=kind, code=code.strip())
    node.place_name = (place_name or "").strip() or default_place_name(node.name, kind)
    _check_unique_name(node)
    full_clean_or_raise(node, exclude=["lft", "rght", "tree_id", "level"])
    node.save()
    audit_record(user=actor, action=AuditEvent.Action.TREE_CHANGED, obj=node, detail={"op": "create"})
    return node


@transaction.atomic
def org_node_rename(
    *, actor, node: OrgNode, name: str, code: str | None = None, place_name: str | None = None
) -> OrgNode:
    refuse_unsafe_text(name=name, code=code, place_name=place_name)  # before strip() drops a trailing U+000B
    org_tree_lock(tree_id=node.tree_id)
    old_name = node.name
    node.name = name.strip()
    if place_name is None:
        if node.place_name == default_place_name(old_name, node.kind):
            # Not given, and it came from the old name: it follows the new one (金桂小区党支部 →
            # 朝阳小区党支部: the estate is 朝阳小区). One someone wrote stays.
            node.place_name = default_place_name(node.name, node.kind)
    else:  # "" goes back to the place in the name
        node.place_name = place_name.strip() or default_place_name(node.name, node.kind)
    if code is not None:
        node.code = code.strip()
    _check_unique_name(node)
    full_clean_or_raise(node, exclude=["lft", "rght", "tree_id", "level"])
    node.save(update_fields=["name", "place_name", "code", "updated_at"])
    audit_record(
        user=actor,
        action=AuditEvent.Action.TREE_CHANGED,
        obj=node,
        detail={"op": "rename", "from": old_name, "to": node.name},
    )
    return node


@dataclass(frozen=True)
class MovePlan:
    """What moving a node under another parent would do, computed before anything is written.

    The portal, the admin and the API show it and ask before the move; ``org_node_move``
    computes it again under the tree lock and refuses when it no longer matches the
    ``token`` the user confirmed (the tree or the households changed in between).
    """

    node_id: int
    node_name: str
    kind: str
    old_parent_id: int | None
    new_parent_id: int
    new_parent_name: str
    households_restamped: int = 0
    hub_links_dropped: tuple[int, ...] = ()
    hub_links_restored: tuple[int, ...] = ()
    grids_left: tuple[tuple[int, str, int], ...] = ()  # (grid id, grid name, buildings leaving it)
    grants_moving: int = 0

    @property
    def token(self) -> str:
        """A short fingerprint of the plan: the same state gives the same token."""
        return hashlib.sha256(repr(astuple(self)).encode()).hexdigest()[:16]

    def describe(self) -> list[str]:
        """The plan in the reader's language, one line per effect, for pages and the API."""
        lines = [
            _("%(node)s and everything under it moves under %(parent)s.")
            % {"node": self.node_name, "parent": self.new_parent_name}
        ]
        if self.households_restamped:
            lines.append(
                _("%(count)s households are re-stamped with their new compound and community.")
                % {"count": self.households_restamped}
            )
        if self.hub_links_dropped:
            lines.append(
                _(
                    "%(count)s households lose their link to this member-household hub: a hub looks after "
                    "its own building's households only. The links are kept on record and come back if the "
                    "hub moves back."
                )
                % {"count": len(self.hub_links_dropped)}
            )
        if self.hub_links_restored:
            lines.append(
                _("%(count)s households that an earlier move unlinked are linked to this hub again.")
                % {"count": len(self.hub_links_restored)}
            )
        for _grid_id, grid_name, buildings in self.grids_left:
            lines.append(
                _("%(count)s buildings leave the grid %(grid)s (it belongs to the old community).")
                % {"count": buildings, "grid": grid_name}
            )
        if self.grants_moving:
            lines.append(
                _("%(count)s role grants held here move with it: those people will reach the new place.")
                % {"count": self.grants_moving}
            )
        return lines

    def as_dict(self) -> dict:
        return {
            "token": self.token,
            "node": self.node_id,
            "old_parent": self.old_parent_id,
            "new_parent": self.new_parent_id,
            "households_restamped": self.households_restamped,
            "hub_links_dropped": list(self.hub_links_dropped),
            "hub_links_restored": list(self.hub_links_restored),
            "grids_left": [{"id": pk, "name": name, "buildings": count} for pk, name, count in self.grids_left],
            "grants_moving": self.grants_moving,
            "summary": self.describe(),
        }


def _check_move(node: OrgNode, new_parent: OrgNode) -> None:
    if CHILD_KIND[new_parent.kind] != node.kind:
        raise ZhubaoError(
            ErrorCode.WRONG_PARENT_KIND,
            _("A %(kind)s can only be placed under a %(parent_kind)s.")
            % {
                "kind": OrgNodeKind(node.kind).label,
                "parent_kind": OrgNodeKind(_parent_kind_of(node.kind)).label,
            },
            {"parent": [_("Choose a node of the level above.")]},
        )
    if new_parent.tree_id == node.tree_id and node.lft <= new_parent.lft <= node.rght:
        raise ZhubaoError(ErrorCode.MOVE_INTO_OWN_SUBTREE, _("A node cannot be moved under itself."))
    if not new_parent.is_active:
        raise ZhubaoError(ErrorCode.NODE_INACTIVE, _("You cannot move a node under a deactivated node."))


def org_node_move_plan(*, node: OrgNode, new_parent: OrgNode) -> MovePlan:
    """What ``org_node_move`` would do (nothing is written). Raises the move's own errors.

    Callers check access to both nodes first, as for the move itself. The tree fields are read
    afresh (an mptt instance's lft/rght go stale when anything is inserted before it).
    """
    fresh = OrgNode.objects.in_bulk([node.pk, new_parent.pk])
    node, new_parent = fresh[node.pk], fresh[new_parent.pk]
    _check_move(node, new_parent)
    plan = MovePlan(
        node_id=node.pk,
        node_name=node.name,
        kind=node.kind,
        old_parent_id=node.parent_id,
        new_parent_id=new_parent.pk,
        new_parent_name=new_parent.name,
    )
    if node.parent_id == new_parent.pk:
        return plan
    subtree = OrgNode.objects.filter(tree_id=node.tree_id, lft__gte=node.lft, lft__lte=node.rght)
    grants = OrgNode._meta.get_field("grants").related_model.objects  # accounts.RoleGrant, held at nodes
    changes = {"grants_moving": grants.filter(org_node__in=subtree, revoked_at__isnull=True).count()}
    if node.kind == OrgNodeKind.HUB:
        changes["hub_links_dropped"] = tuple(
            Household.objects.filter(hub=node)
            .exclude(building_id=new_parent.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        earlier = set()
        for dropped in OrgNodeMove.objects.filter(node=node).values_list("dropped_hub_links", flat=True):
            earlier.update(dropped or ())
        changes["hub_links_restored"] = tuple(
            Household.objects.active()
            .filter(pk__in=earlier, building_id=new_parent.pk, hub__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    else:
        column = "building" if node.kind == OrgNodeKind.BUILDING else "compound"
        changes["households_restamped"] = Household.objects.active().filter(**{column: node}).count()
        new_community_id = new_parent.pk if node.kind == OrgNodeKind.COMPOUND else new_parent.parent_id
        leaving = (
            GridBuilding.objects.filter(building__in=subtree)
            .exclude(grid__community_id=new_community_id)
            .values("grid_id", "grid__name")
            .annotate(count=Count("pk"))
            .order_by("grid_id")
        )
        changes["grids_left"] = tuple((row["grid_id"], row["grid__name"], row["count"]) for row in leaving)
    return replace(plan, **changes)


@transaction.atomic
def org_node_move(*, actor, node: OrgNode, new_parent: OrgNode, expected_token: str | None = None) -> OrgNode:
    """Move a subtree under another parent of the right kind, e.g. a building to another compound.

    Does what ``org_node_move_plan`` says, computed again under the lock of both trees: the
    households are re-stamped with their new compound and community (they are current
    state), a building that leaves its community leaves its grid, a hub moved to another
    building drops the links of the households it no longer serves and restores those an
    earlier move dropped. The move and the links it dropped or restored are kept in
    OrgNodeMove. With ``expected_token`` (the plan the user confirmed) a changed plan is
    refused, so nobody confirms one thing and gets another.
    """
    for tree_id in sorted({node.tree_id, new_parent.tree_id}):
        org_tree_lock(tree_id=tree_id)
    node.refresh_from_db()
    new_parent.refresh_from_db()
    plan = org_node_move_plan(node=node, new_parent=new_parent)
    old_parent = node.parent
    if old_parent is not None and old_parent.pk == new_parent.pk:
        return node
    if expected_token is not None and expected_token != plan.token:
        raise ZhubaoError(
            ErrorCode.MOVE_CHANGED,
            _("What this move would do has changed since you looked at it. Please check it again."),
            status_code=409,
        )
    node.move_to(new_parent, position="last-child")
    node.refresh_from_db()
    new_parent.refresh_from_db()
    _restamp_households(node, plan)
    if plan.grids_left:
        community_id = node.get_root().pk
        GridBuilding.objects.filter(building__in=node.get_descendants(include_self=True)).exclude(
            grid__community_id=community_id
        ).delete()
    OrgNodeMove.objects.create(
        node=node,
        old_parent=old_parent,
        new_parent=new_parent,
        moved_by=actor,
        dropped_hub_links=list(plan.hub_links_dropped),
        restored_hub_links=list(plan.hub_links_restored),
    )
    audit_record(
        user=actor,
        action=AuditEvent.Action.TREE_CHANGED,
        obj=node,
        detail={
            "op": "move",
            "from": old_parent.pk if old_parent else None,
            "to": new_parent.pk,
            "households_restamped": plan.households_restamped,
            "hub_links_cleared": len(plan.hub_links_dropped),
            "hub_links_restored": len(plan.hub_links_restored),
            "grids_left": [grid_id for grid_id, _name, _count in plan.grids_left],
        },
    )
    return node


def _parent_kind_of(kind: str) -> str:
    return next(parent for parent, child in CHILD_KIND.items() if child == kind)


def _restamp_households(node: OrgNode, plan: MovePlan) -> None:
    """Re-stamp the households under a moved node, or change a moved hub's links as planned."""
    if node.kind == OrgNodeKind.HUB:
        # A hub looks after its own building's households; in another building those links are void.
        Household.objects.filter(pk__in=plan.hub_links_dropped, hub=node).update(hub=None)
        Household.objects.filter(pk__in=plan.hub_links_restored, hub__isnull=True).update(hub=node)
    elif node.kind == OrgNodeKind.BUILDING:
        compound = node.parent
        Household.objects.filter(building=node).update(compound=compound, community_id=compound.parent_id)
    elif node.kind == OrgNodeKind.COMPOUND:
        Household.objects.filter(compound=node).update(community_id=node.parent_id)


@transaction.atomic
def org_node_deactivate(*, actor, node: OrgNode) -> OrgNode:
    """Deactivate a node and its subtree. Refused while active households live under it."""
    org_tree_lock(tree_id=node.tree_id)
    node.refresh_from_db()  # lft/rght as they are now that the tree is ours
    subtree = node.get_descendants(include_self=True)
    column = {
        OrgNodeKind.COMMUNITY: "community",
        OrgNodeKind.COMPOUND: "compound",
        OrgNodeKind.BUILDING: "building",
        OrgNodeKind.HUB: "hub",
    }[node.kind]
    active = Household.objects.active().filter(**{column: node}).count()
    if active and node.kind != OrgNodeKind.HUB:
        raise ZhubaoError(
            ErrorCode.NODE_HAS_ACTIVE_HOUSEHOLDS,
            _("%(count)s active households live under this node. Move them or record them as moved out first.")
            % {"count": active},
        )
    now = timezone.now()
    subtree.filter(is_active=True).update(is_active=False, deactivated_at=now)
    tree_changed()  # an update sends no signal (grid.caching)
    node.refresh_from_db()
    audit_record(user=actor, action=AuditEvent.Action.TREE_CHANGED, obj=node, detail={"op": "deactivate"})
    return node


@transaction.atomic
def org_node_reactivate(*, actor, node: OrgNode) -> OrgNode:
    """Reactivate a node (its ancestors must be active); descendants stay as they are."""
    org_tree_lock(tree_id=node.tree_id)
    node.refresh_from_db()
    if node.parent_id and not OrgNode.objects.get(pk=node.parent_id).is_active:
        raise ZhubaoError(ErrorCode.NODE_INACTIVE, _("Reactivate the parent node first."))
    node.is_active = True
    node.deactivated_at = None
    node.save(update_fields=["is_active", "deactivated_at", "updated_at"])
    audit_record(user=actor, action=AuditEvent.Action.TREE_CHANGED, obj=node, detail={"op": "reactivate"})
    return node
