"""Writes for people and their role grants."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ErrorCode, ZhubaoError
from core.models import AuditEvent
from core.services import audit_record

from .models import Department, RoleGrant, User


def _full_clean(instance, **kwargs) -> None:
    try:
        instance.full_clean(**kwargs)
    except ValidationError as error:
        raise ZhubaoError.from_validation_error(error) from error


@transaction.atomic
def user_create(
    *, actor, username: str, password: str | None, full_name: str = "", phone: str = "", check_password=True
) -> User:
    user = User(username=username.strip(), full_name=full_name.strip(), phone=phone.strip())
    if password:
        if check_password:
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise ZhubaoError(ErrorCode.INVALID, error.messages[0], {"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    _full_clean(user, exclude=["password"])
    user.save()
    return user


@transaction.atomic
def department_create(*, actor, name: str, code: str) -> Department:
    department = Department(name=name.strip(), code=code.strip())
    _full_clean(department)
    department.save()
    return department


@transaction.atomic
def role_grant_add(*, actor, user: User, role: str, org_node=None, grid=None, department=None) -> RoleGrant:
    """Give a role at a place. Granting the same role at the same place twice returns the first grant."""
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
    _full_clean(grant)
    if org_node is not None and not org_node.is_active:
        raise ZhubaoError(ErrorCode.NODE_INACTIVE, _("You cannot grant a role at a deactivated node."))
    grant.save()
    audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=grant, detail={"op": "add", "role": role})
    _forget(user)
    return grant


@transaction.atomic
def role_grant_revoke(*, actor, grant: RoleGrant) -> RoleGrant:
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at"])
        audit_record(user=actor, action=AuditEvent.Action.GRANT_CHANGED, obj=grant, detail={"op": "revoke"})
    _forget(grant.user)
    return grant


def _forget(user) -> None:
    from core.access import forget_scope

    forget_scope(user)
