"""Writes for people (accounts, their passwords, API tokens and lockouts) and departments.

Passwords: every new or changed password passes settings.AUTH_PASSWORD_VALIDATORS (10 characters,
three classes, not the username, not common) unless the system sets it (``check_password=False``:
the demo seeder). A password someone else set (an admin creating a person or resetting a password)
must be changed at the next login (``User.must_change_password``); the person's own change clears
it. A changed password or a deactivated account loses its API tokens.
"""

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from core.access import Action, forget_scope, is_global
from core.errors import ErrorCode, ZhubaoError, full_clean_or_raise
from core.models import AuditEvent
from core.services import audit_record
from core.text import normalise_text, refuse_unsafe_text
from grid.rules import normalise_phone, phone_is_valid

from ..access import account_refusal, may_manage_user
from ..authentication import token_has_expired
from ..models import Department, User


def _validate_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ZhubaoError(ErrorCode.INVALID, error.messages[0], {"password": error.messages}) from error


def _set_by_someone_else(actor, user: User) -> bool:
    """The system (actor None) sets passwords people keep; anyone but the person sets one to be changed."""
    return actor is not None and getattr(actor, "pk", None) != user.pk


@transaction.atomic
def user_create(
    *, actor, username: str, password: str | None, full_name: str = "", phone: str = "", check_password=True
) -> User:
    """A new person. With a password from someone other than the system, they change it at first login.

    Control characters or bidi overrides in the name or phone are refused as handed in (normalising
    would drop them silently); the rest of the text rules are the model's (``full_clean``)."""
    refuse_unsafe_text(username=username, full_name=full_name, phone=phone)
    user = User(username=username.strip(), full_name=normalise_text(full_name), phone=normalise_phone(phone))
    if user.phone and not phone_is_valid(user.phone):
        message = _("Enter an 11-digit mobile number or a landline such as 0471-1234567.")
        raise ZhubaoError(ErrorCode.INVALID, message, {"phone": [message]})
    if password:
        if check_password:
            _validate_password(password, user)
        user.set_password(password)
        user.password_changed_at = timezone.now()
        user.must_change_password = _set_by_someone_else(actor, user)
    else:
        user.set_unusable_password()
    full_clean_or_raise(user, exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_set_password(*, actor, user: User, password: str | None, check_password=True, request=None) -> User:
    """Set (or, with ``password=None``, disable) a person's password; ends their API tokens; audited.

    ``actor`` is the person themself (their own change clears ``must_change_password``), someone
    else (an admin: the person must change it at the next login) or None (the system).
    """
    if actor is not None and actor.pk != user.pk and not may_manage_user(actor, user):
        raise ZhubaoError(
            ErrorCode.PERMISSION_DENIED,
            _("You may change only people who work wholly inside your part of the organisation."),
            status_code=403,
        )
    if password is not None and check_password:
        _validate_password(password, user)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.must_change_password = password is not None and _set_by_someone_else(actor, user)
    user.password_changed_at = timezone.now()
    user.save(update_fields=["password", "must_change_password", "password_changed_at", "updated_at"])
    revoked = user_api_tokens_revoke(user=user)
    audit_record(
        user=actor,
        action=AuditEvent.Action.PASSWORD_CHANGED,
        obj=user,
        detail={
            "by": "self" if actor is not None and getattr(actor, "pk", None) == user.pk else "other",
            "must_change": user.must_change_password,
            "disabled": password is None,
            "tokens_revoked": revoked,
        },
        request=request,
    )
    return user


def _refuse_account_change(message: str | None) -> None:
    if message:
        raise ZhubaoError(ErrorCode.PERMISSION_DENIED, message, status_code=403)


@transaction.atomic
def user_deactivate(*, actor, user: User, request=None) -> User:
    """End a person's login: their sessions stop at the next request (Django refuses an inactive
    user) and their API tokens at once. Grants are kept, so reactivating gives back what they had.
    Held to ``accounts.access.account_refusal``; audited. Deactivating an inactive person changes nothing."""
    _refuse_account_change(account_refusal(actor, user=user, active=False))
    User.objects.select_for_update().filter(pk=user.pk).exists()
    user.refresh_from_db(fields=["is_active"])
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active", "updated_at"])
        revoked = user_api_tokens_revoke(user=user)
        audit_record(
            user=actor,
            action=AuditEvent.Action.ACCOUNT_DEACTIVATED,
            obj=user,
            detail={"tokens_revoked": revoked},
            request=request,
        )
    forget_scope(user)
    return user


@transaction.atomic
def user_reactivate(*, actor, user: User, request=None) -> User:
    """Let a deactivated person log in again, with the grants they still hold; audited."""
    _refuse_account_change(account_refusal(actor, user=user, active=True))
    User.objects.select_for_update().filter(pk=user.pk).exists()
    user.refresh_from_db(fields=["is_active"])
    if not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active", "updated_at"])
        audit_record(user=actor, action=AuditEvent.Action.ACCOUNT_REACTIVATED, obj=user, request=request)
    forget_scope(user)
    return user


@transaction.atomic
def user_deactivated(*, actor, user: User) -> User:
    """After a person's ``is_active`` went False (the admin's form): their API tokens end at once."""
    if not user.is_active:
        user_api_tokens_revoke(user=user)
    return user


def user_api_token_issue(*, user: User, request=None) -> Token:
    """The person's API token; a fresh one when the old one expired. A successful login: audited."""
    with transaction.atomic():
        # The person's row, locked: two logins at once would otherwise both find no token (or both
        # delete the expired one) and both create one, and the second fail on the one-to-one key.
        User.objects.select_for_update().filter(pk=user.pk).exists()
        token = Token.objects.filter(user=user).first()
        if token is not None and token_has_expired(token):
            token.delete()
            token = None
        if token is None:
            token = Token.objects.create(user=user)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        audit_record(
            user=user, action=AuditEvent.Action.LOGIN_SUCCEEDED, obj=user, detail={"via": "api_token"}, request=request
        )
    return token


def user_api_tokens_revoke(*, user: User) -> int:
    """End the person's API tokens (their own revoke, a password change, deactivation)."""
    deleted, _rows = Token.objects.filter(user=user).delete()
    return deleted


@transaction.atomic
def user_api_logout(*, user: User, request=None) -> int:
    """The person ends their own API token (POST /api/v1/auth/token/revoke/); audited as a logout."""
    revoked = user_api_tokens_revoke(user=user)
    audit_record(
        user=user,
        action=AuditEvent.Action.LOGOUT,
        obj=user,
        detail={"reason": "api_token_revoked", "tokens_revoked": revoked},
        request=request,
    )
    return revoked


@transaction.atomic
def user_unlock(*, actor, user: User, request=None) -> int:
    """Lift a login lockout of the username and count its failures afresh. Global admins only."""
    if actor is not None and not is_global(actor, Action.MANAGE_PEOPLE):
        raise ZhubaoError(
            ErrorCode.PERMISSION_DENIED, _("Only an admin of all communities may unlock logins."), status_code=403
        )
    removed = axes_reset(username=user.get_username())
    audit_record(
        user=actor,
        action=AuditEvent.Action.UNLOCKED,
        obj=user,
        detail={"username": user.get_username(), "attempts_removed": removed},
        request=request,
    )
    return removed


@transaction.atomic
def department_create(*, actor, name: str, code: str) -> Department:
    refuse_unsafe_text(name=name, code=code)  # before strip() drops a trailing U+000B
    department = Department(name=name.strip(), code=code.strip())
    full_clean_or_raise(department)
    department.save()
    return department
