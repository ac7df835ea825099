"""Writes of the core app: audit events and the heartbeat."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import AuditEvent, Heartbeat


def _client_ip(request) -> str | None:
    """The client's address as the lockout sees it: behind the reverse proxy, the one it forwarded
    (ZHUBAO_PROXY_COUNT in the settings), never the proxy's own."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(getattr(request, "_request", request)) or None


def audit_record(*, user, action: str, obj=None, detail: dict | None = None, request=None) -> AuditEvent:
    """Record one audit event. Never raises for a missing request (tasks audit too)."""
    event = AuditEvent(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail or {},
        ip_address=_client_ip(request),
    )
    event.full_clean()
    event.save()
    return event


def heartbeat_record(*, now=None) -> bool:
    """Write this minute's heartbeat; True if new. Beat may fire twice: the unique key absorbs it."""
    minute = (now or timezone.now()).replace(second=0, microsecond=0)
    try:
        with transaction.atomic():
            Heartbeat.objects.create(minute=minute)
    except IntegrityError:
        return False
    Heartbeat.objects.filter(minute__lt=minute - timezone.timedelta(days=7)).delete()
    return True
