"""Pages of the project itself, with no login and no personal data: the health check for load
balancers, uptime probes and operators, and the favicon browsers ask for at /favicon.ico."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# A probe must get an answer quickly even when Redis hangs.
REDIS_TIMEOUT_SECONDS = 2


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("Health check: the database did not answer")
        return False


def _broker_status() -> str:
    """'ok' when Redis answers a PING, 'embedded' when the filesystem broker's folder exists, else 'down'."""
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            return "ok" if client.ping() else "down"
        except Exception:
            logger.exception("Health check: Redis did not answer")
            return "down"
        finally:
            client.close()
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    folder = options.get("data_folder_in")
    if folder and Path(folder).is_dir():
        return "embedded"
    logger.error("Health check: the embedded broker folder %s is missing", folder)
    return "down"


def _heartbeat() -> dict:
    from .models import Heartbeat

    try:
        last = Heartbeat.objects.order_by("-minute").values_list("minute", flat=True).first()
    except Exception:
        logger.exception("Health check: could not read the heartbeat")
        last = None
    if last is None:
        return {"last": None, "age_seconds": None}
    age = max(0, int((timezone.now() - last).total_seconds()))
    return {"last": last.isoformat(), "age_seconds": age}


@never_cache
@require_safe
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise; the last heartbeat is reported.

    The heartbeat's age says whether beat and a worker run; it does not change the status
    (a stopped worker must not take the web servers out of the load balancer).
    """
    database = "ok" if _database_ok() else "down"
    broker = _broker_status()
    heartbeat = _heartbeat() if database == "ok" else {"last": None, "age_seconds": None}
    healthy = database == "ok" and broker in {"ok", "embedded"}
    body = {
        "status": "ok" if healthy else "error",
        "database": database,
        "broker": broker,
        "heartbeat": heartbeat,
    }
    return JsonResponse(body, status=200 if healthy else 503)


@cache_control(max_age=86400, public=True)
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the static file (hashed in production)."""
    return HttpResponseRedirect(static("favicon.ico"))
