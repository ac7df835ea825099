"""Writes for role grants: who holds which role at which place."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record

from ..models import Role, RoleGrant, User


def _check_actor_may_grant(*, actor, role: str, org_node, grid, department) -> None:
    """Refuse a grant the actor could not hold power over (no escalation, even past a careless caller).

    ``actor=None`` is the system itself (demo data, imports run by a global admin, tests).
    A global admin may grant anything. Otherwise: a place-less or department grant, or a
    system-admin grant, needs a global admin; a node must lie in the actor's MANAGE_PEOPLE
    scope; a grid in their MANAGE_GRID scope (community staff fill grid posts).
    """
    if actor is None:
        return
    from core.access import Action, scope, user_scope
    from grid.models import Grid, OrgNode

    if user_scope(actor).is_global(Action.MANAGE_PEOPLE):
        return
    refused = ZhubaoError(ErrorCode.PERMISSION_DENIED, _("You may not give this role at this place."), status_code=403)
    if role == Role.SYSTEM_ADMIN or department is not None or (org_node is None and grid is None):
        raise refused
    if org_node is not None and not scope(OrgNode.objects.filter(pk=org_node.pk), actor, Action.MANAGE_PEOPLE).exists():
        raise refused
    if grid is not None and not scope(Grid.objects.filter(pk=grid.pk), actor, Action.MANAGE_GRID).exists():
        raise refused


@transaction.atomic
def role_grant_add(*, actor, user: User, role: str, org_node=None, grid=None, department=None) -> RoleGrant:
    """Give a role at a place. Granting the same role at the same place twice returns the first grant."""
    _check_actor_may_grant(actor=actor, role=role, org_node=org_node, grid=grid, department=department)
    existing = RoleGrant.objects.active().filter(
        user=user, role=role, org_node=org_node, grid=grid, department=department
    )
    if existing.exists():
        return existing.first()
    grant = RoleGrant(
        user=user,
        role=role,
        org_node=org_node,
        grid=grid,
        department=department,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    full_clean_or_raise(grant)
    if org_node is not None and not org_node.is_active:
        raise ZhubaoError(ErrorCode.NODE_INACTIVE, _("You cannot grant a role at a deactivated node."))
    grant.save()
    audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=grant, detail={"op": "add", "role": role})
    _forget(user)
    return grant


@transaction.atomic
def role_grant_revoke(*, actor, grant: RoleGrant) -> RoleGrant:
    _check_actor_may_grant(
        actor=actor, role=grant.role, org_node=grant.org_node, grid=grant.grid, department=grant.department
    )
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=grant, detail={"op": "revoke"})
    _forget(grant.user)
    return grant


def _forget(user) -> None:
    from core.access import forget_scope

    forget_scope(user)
