"""Writes to the org tree: create, rename, move, deactivate, reactivate; the per-tree lock."""

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record

from ..models import (
    CHILD_KIND,
    GridBuilding,
    Household,
    OrgNode,
    OrgNodeKind,
    OrgNodeMove,
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
    from core.access import Action, user_scope

    if not user_scope(actor).is_global(Action.MANAGE_TREE):
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
def org_node_create(*, actor, name: str, parent: OrgNode | None = None, code: str = "") -> OrgNode:
    """Add a node; its kind follows from the parent (community → compound → building → hub)."""
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
    _check_unique_name(node)
    full_clean_or_raise(node, exclude=["lft", "rght", "tree_id", "level"])
    node.save()
    audit_record(user=actor, action=AuditEvent.Action.TREE_CHANGED, obj=node, detail={"op": "create"})
    return node


@transaction.atomic
def org_node_rename(*, actor, node: OrgNode, name: str, code: str | None = None) -> OrgNode:
    org_tree_lock(tree_id=node.tree_id)
    old_name = node.name
    node.name = name.strip()
    if code is not None:
        node.code = code.strip()
    _check_unique_name(node)
    full_clean_or_raise(node, exclude=["lft", "rght", "tree_id", "level"])
    node.save(update_fields=["name", "code", "updated_at"])
    audit_record(
        user=actor,
        action=AuditEvent.Action.TREE_CHANGED,
        obj=node,
        detail={"op": "rename", "from": old_name, "to": node.name},
    )
    return node


@transaction.atomic
def org_node_move(*, actor, node: OrgNode, new_parent: OrgNode) -> OrgNode:
    """Move a subtree under another parent of the right kind, e.g. a building to another compound.

    Households are current state, so they are re-stamped with their new compound and
    community in this transaction. A building that leaves its community leaves its
    grid too. The move itself is kept in OrgNodeMove, so the old shape stays on record.
    """
    for tree_id in sorted({node.tree_id, new_parent.tree_id}):
        org_tree_lock(tree_id=tree_id)
    node.refresh_from_db()
    new_parent.refresh_from_db()
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
    old_parent = node.parent
    if old_parent is not None and old_parent.pk == new_parent.pk:
        return node
    node.move_to(new_parent, position="last-child")
    node.refresh_from_db()
    new_parent.refresh_from_db()
    hub_links_cleared = _restamp_households(node)
    if node.kind in {OrgNodeKind.COMPOUND, OrgNodeKind.BUILDING}:
        community_id = node.get_root().pk
        GridBuilding.objects.filter(building__in=node.get_descendants(include_self=True)).exclude(
            grid__community_id=community_id
        ).delete()
    OrgNodeMove.objects.create(node=node, old_parent=old_parent, new_parent=new_parent, moved_by=actor)
    audit_record(
        user=actor,
        action=AuditEvent.Action.TREE_CHANGED,
        obj=node,
        detail={
            "op": "move",
            "from": old_parent.pk if old_parent else None,
            "to": new_parent.pk,
            "hub_links_cleared": hub_links_cleared,
        },
    )
    return node


def _parent_kind_of(kind: str) -> str:
    return next(parent for parent, child in CHILD_KIND.items() if child == kind)


def _restamp_households(node: OrgNode) -> int:
    """Re-stamp the households under a moved node; returns how many hub links a hub move cleared."""
    if node.kind == OrgNodeKind.HUB:
        # A hub looks after its own building's households; in another building those links are void.
        return Household.objects.filter(hub=node).exclude(building_id=node.parent_id).update(hub=None)
    if node.kind == OrgNodeKind.BUILDING:
        compound = node.parent
        Household.objects.filter(building=node).update(compound=compound, community_id=compound.parent_id)
    elif node.kind == OrgNodeKind.COMPOUND:
        Household.objects.filter(compound=node).update(community_id=node.parent_id)
    return 0


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
