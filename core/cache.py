"""The Redis cache, made so that Redis being down or unreachable cannot break a page.

Nothing the portal keeps in the cache is needed to answer a request: the import's and the
export's progress (shown while a job runs), and whatever later apps keep there to save work.
Sessions are in the database (Django's default ``SESSION_ENGINE``) and the login lockout
counts failures in the database too (django-axes' database handler, ``accounts/lockout.py``),
so neither depends on Redis: a Redis outage cannot sign anyone out nor switch the lockout off.
Keep it that way: a security counter never goes in the cache.

``ResilientRedisCache`` is Django's ``RedisCache`` whose reads and writes, when Redis does
not answer (a refused or timed-out connection, ``redis.ConnectionError`` / ``TimeoutError``):

- answer as if the cache were empty: ``get`` returns the default, ``get_many`` ``{}``,
  ``has_key`` / ``add`` / ``touch`` / ``delete`` / ``clear`` ``False``, ``set`` does nothing,
  ``set_many`` returns every key as not stored; ``get_or_set`` therefore computes the value;
- except ``incr`` / ``decr``: a counter has no safe stand-in value, so they raise
  ``CacheUnavailable`` and the caller decides whether to fail open or closed;
- log a warning at most once a minute per process (with the number of calls that failed since);
- then skip Redis for ``RETRY_AFTER_SECONDS``, so that a Redis that hangs instead of refusing
  costs a page one connect timeout every few seconds, not one per cache call.

Other errors (a wrong type, a full memory refusing writes, a bug) are raised as before.
The short socket timeouts are set in the settings' ``CACHES["default"]["OPTIONS"]``.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNAVAILABLE_ERRORS = (RedisConnectionError, RedisTimeoutError)
# After a failure, calls answer "empty" without trying Redis for this long (per process and server).
RETRY_AFTER_SECONDS = 5.0
# At most one warning per process and server in this time; the calls that failed meanwhile are counted.
WARN_EVERY_SECONDS = 60.0


class CacheUnavailable(Exception):
    """``incr`` / ``decr`` could not reach the cache: there is no counter value to stand in."""


class _Outage:
    """What one process knows of one Redis server being down (shared by its threads)."""

    def __init__(self, location: str):
        self.location = location
        self.lock = threading.Lock()
        self.skip_until = 0.0  # monotonic time before which Redis is not tried
        self.warned_at = None  # monotonic time of the last warning
        self.failures = 0  # calls that failed (or were skipped) since the last warning
        self.down = False

    def skipping(self) -> bool:
        if not self.down or time.monotonic() >= self.skip_until:
            return False
        with self.lock:
            self.failures += 1
        return True

    def failed(self, operation: str, error: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.down = True
            self.skip_until = now + RETRY_AFTER_SECONDS
            self.failures += 1
            if self.warned_at is not None and now - self.warned_at < WARN_EVERY_SECONDS:
                return
            self.warned_at, failures, self.failures = now, self.failures, 0
        logger.warning(
            "The cache at %s is unavailable (%s: %s); pages are served without it "
            "(%s failed cache calls in this process since the last warning; next try in %s s)",
            self.location,
            operation,
            error,
            failures,
            RETRY_AFTER_SECONDS,
        )

    def answered(self) -> None:
        if not self.down:
            return
        with self.lock:
            if not self.down:
                return
            self.down, self.failures, self.warned_at = False, 0, None
        logger.warning("The cache at %s answers again", self.location)


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        outage = _outages.get(location)
        if outage is None:
            outage = _outages[location] = _Outage(location)
        return outage


def reset_outages() -> None:
    """Forget every recorded outage (for tests)."""
    with _outages_lock:
        _outages.clear()


class ResilientRedisCache(RedisCache):
    """Django's Redis cache answering "not cached" while Redis is down (see the module's docstring)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._outage = _outage_for(",".join(self._servers))

    def _guarded(self, operation: str, fallback, call, *args, always_try: bool = False, **kwargs):
        """``always_try``: tried even while the process skips Redis after a failure (an invalidation:
        skipping it would leave the other processes, which may still reach Redis, reading stale data)."""
        if not always_try and self._outage.skipping():
            return fallback
        try:
            result = call(*args, **kwargs)
        except UNAVAILABLE_ERRORS as error:
            self._outage.failed(operation, error)
            return fallback
        self._outage.answered()
        return result

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("add", False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._guarded("get", default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._guarded("set", None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("touch", False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded("delete", False, super().delete, key, version, always_try=True)

    def get_many(self, keys, version=None):
        return self._guarded("get_many", {}, super().get_many, list(keys), version)

    def has_key(self, key, version=None):
        return self._guarded("has_key", False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        unavailable = object()
        result = self._guarded("incr", unavailable, super().incr, key, delta, version)
        if result is unavailable:
            raise CacheUnavailable(f"The cache is unavailable: {key!r} was not incremented")
        return result

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded("set_many", list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        self._guarded("delete_many", None, super().delete_many, list(keys), version, always_try=True)

    def clear(self):
        return self._guarded("clear", False, super().clear)
