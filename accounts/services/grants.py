"""Writes for role grants: who holds which role at which place.

Who may give or revoke which grant is accounts' people policy in the access module
(``accounts.access.grant_refusal``); these services enforce it whatever face calls them, so
the admin, the portal, the API and the import all refuse the same grants.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import Action, forget_scope, is_global
from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record

from ..access import grant_refusal, grant_revoke_refusal
from ..models import RoleGrant, User
from .people import user_create


def _refuse(message: str | None) -> None:
    if message:
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, message, status_code=403)


@transaction.atomic
def role_grant_add(*, actor, user: User, role: str, org_node=None, grid=None, department=None) -> RoleGrant:
    """Give a role at a place. Granting the same role at the same place twice returns the first grant.

    ``actor=None`` is the system itself (demo data, tests). Anyone else is held to
    ``grant_refusal``: no escalation, and only to people who work wholly inside the actor's part.
    """
    _refuse(grant_refusal(actor, user=user, role=role, org_node=org_node, grid=grid, department=department))
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
    forget_scope(user)
    return grant


@transaction.atomic
def role_grant_revoke(*, actor, grant: RoleGrant) -> RoleGrant:
    """Revoke a grant (never deleted, so who could see what stays on record): the same rule as giving it."""
    _refuse(grant_revoke_refusal(actor, grant=grant))
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=grant, detail={"op": "revoke"})
    forget_scope(grant.user)
    return grant


@transaction.atomic
def user_create_with_grant(
    *,
    actor,
    username: str,
    password: str | None,
    full_name: str = "",
    phone: str = "",
    grant: dict | None = None,
) -> User:
    """A new person and their first role grant, or neither.

    ``grant`` holds ``role`` and one of ``org_node`` / ``grid`` / ``department``. Only an
    admin of every community may create a person without one: anyone else's new person
    starts inside their part of the organisation.
    """
    if grant is None and actor is not None and not is_global(actor, Action.MANAGE_PEOPLE):
        message = _("Give the new person a role at a place you manage.")
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, message, {"grant": [message]}, status_code=403)
    user = user_create(actor=actor, username=username, password=password, full_name=full_name, phone=phone)
    if grant is not None:
        role_grant_add(
            actor=actor,
            user=user,
            role=grant["role"],
            org_node=grant.get("org_node"),
            grid=grant.get("grid"),
            department=grant.get("department"),
        )
    return user
