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

from .health import heartbeat_last, queue_checks

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
    try:
        last = heartbeat_last()
    except Exception:
        logger.exception("Health check: could not read the heartbeat")
        last = None
    if last is None:
        return {"last": None, "age_seconds": None}
    age = max(0, int((timezone.now() - last).total_seconds()))
    return {"last": last.isoformat(), "age_seconds": age}


def _queues() -> dict:
    try:
        return queue_checks()
    except Exception:  # each check is guarded; this is the last net under the probe
        logger.exception("Health check: the queue checks failed")
        return {}


@never_cache
@require_safe
def healthz(request):
    """503 when the database or the broker does not answer; else 200, "ok" or "degraded".

    Reported besides: the last heartbeat, and each background queue (``core.health``: waiting,
    running, stuck jobs and how long the oldest has waited). A stuck queue, or a queue whose check
    failed, makes the status "degraded" but keeps the 200: a stopped or dead worker must not take
    the web servers out of the load balancer while the pages still answer; monitoring alerts on
    "degraded". The heartbeat's age alone changes nothing (no heartbeat before beat first runs);
    jobs waiting while it is stale make their queue stuck.
    """
    database = "ok" if _database_ok() else "down"
    broker = _broker_status()
    if database == "ok":
        heartbeat, queues = _heartbeat(), _queues()
    else:
        heartbeat, queues = {"last": None, "age_seconds": None}, {}
    healthy = database == "ok" and broker in {"ok", "embedded"}
    degraded = any(queue.get("status") != "ok" for queue in queues.values())
    body = {
        "status": ("degraded" if degraded else "ok") if healthy else "error",
        "database": database,
        "broker": broker,
        "heartbeat": heartbeat,
        "queues": queues,
    }
    return JsonResponse(body, status=200 if healthy else 503)


@cache_control(max_age=86400, public=True)
@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the static file (hashed in production)."""
    return HttpResponseRedirect(static("favicon.ico"))
