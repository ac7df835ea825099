"""Redis down (the cache at a port nothing listens on): every page and the API keep answering, the
import's progress page too, the login lockout still locks, and the failure is logged, once a minute.

Defect 14 of issue 6: with Django's plain RedisCache the progress page answered 500 on every poll.
"""

import logging
import socket
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

import core.cache
from core.cache import RETRY_AFTER_SECONDS, WARN_EVERY_SECONDS, CacheUnavailable, ResilientRedisCache
from grid.models import ImportJob

CLOSED_PORT = 6390
CLOSED = f"redis://127.0.0.1:{CLOSED_PORT}/0"
WRONG = "wrong-password"


def cache_at(location, backend="core.cache.ResilientRedisCache", timeout=0.5):
    return override_settings(
        CACHES={
            "default": {
                "BACKEND": backend,
                "LOCATION": location,
                "KEY_PREFIX": "zhubao-test-down",
                "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
            }
        }
    )


@pytest.fixture(autouse=True)
def _forget_outages():
    core.cache.reset_outages()
    yield
    core.cache.reset_outages()


@pytest.fixture
def redis_down():
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", CLOSED_PORT)) == 0:
            pytest.skip(f"something listens on port {CLOSED_PORT}")
    with cache_at(CLOSED):
        yield


@pytest.fixture
def cache_warnings(caplog):
    caplog.set_level(logging.WARNING, logger="core.cache")
    return lambda: [record for record in caplog.records if record.name == "core.cache"]


class Clock:
    """core.cache's monotonic clock, moved by hand."""

    def __init__(self, monkeypatch):
        self.now = time.monotonic()
        monkeypatch.setattr(core.cache.time, "monotonic", lambda: self.now)

    def advance(self, seconds):
        self.now += seconds


# --- the backend ------------------------------------------------------------------------------------


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: the file cache is used")
def test_the_redis_cache_is_the_resilient_one_with_short_socket_timeouts():
    default = settings.CACHES["default"]
    assert default["BACKEND"] == "core.cache.ResilientRedisCache"
    assert 0 < default["OPTIONS"]["socket_connect_timeout"] <= 1
    assert 0 < default["OPTIONS"]["socket_timeout"] <= 2


def test_reads_answer_as_if_nothing_were_cached_and_writes_do_nothing(redis_down):
    started = time.monotonic()
    assert isinstance(caches["default"], ResilientRedisCache)
    assert cache.get("progress") is None
    assert cache.get("progress", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.has_key("a") is False
    assert cache.set("a", 1) is None
    assert cache.add("a", 1) is False
    assert cache.touch("a") is False
    assert cache.delete("a") is False
    assert cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert cache.delete_many(["a", "b"]) is None
    assert cache.get_or_set("computed", lambda: 42) == 42
    assert cache.clear() is False
    assert time.monotonic() - started < 1  # a refused connection costs milliseconds


def test_a_counter_has_no_stand_in_value_so_incr_and_decr_say_the_cache_is_unavailable(redis_down):
    with pytest.raises(CacheUnavailable):
        cache.incr("attempts")
    with pytest.raises(CacheUnavailable):
        cache.decr("attempts")


def test_the_outage_is_logged_once_a_minute_with_the_number_of_failed_calls(redis_down, cache_warnings, monkeypatch):
    clock = Clock(monkeypatch)
    for _call in range(10):
        cache.get("progress")
        cache.get("skipped")  # within RETRY_AFTER_SECONDS of the failure: not tried, still counted
        clock.advance(RETRY_AFTER_SECONDS)  # the next call tries Redis again
    assert len(cache_warnings()) == 1
    assert str(CLOSED_PORT) in cache_warnings()[0].getMessage()

    clock.advance(WARN_EVERY_SECONDS)
    cache.get("progress")
    assert len(cache_warnings()) == 2
    assert "20 failed cache calls" in cache_warnings()[1].getMessage()


def test_after_a_failure_redis_is_left_alone_for_a_few_seconds_then_tried_again(redis_down, monkeypatch):
    clock = Clock(monkeypatch)
    assert cache.get("progress") is None
    tried = []
    monkeypatch.setattr(cache._cache, "get", lambda key, default: tried.append(key) or default)

    cache.get("progress")
    assert tried == []  # skipped: a hanging Redis would cost every call its timeout

    clock.advance(RETRY_AFTER_SECONDS + 0.1)
    cache.get("progress")
    assert len(tried) == 1


def test_a_redis_that_accepts_but_never_answers_costs_one_timeout_then_nothing(cache_warnings):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections queue in the backlog; nothing ever answers them
        with cache_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.3):
            started = time.monotonic()
            assert cache.get("progress", "default") == "default"
            first = time.monotonic() - started
            started = time.monotonic()
            for _call in range(10):
                cache.get("progress")
            rest = time.monotonic() - started
    assert 0.2 < first < 1.5
    assert rest < 0.1
    assert "TimeoutError" in cache_warnings()[0].getMessage() or "Timeout" in cache_warnings()[0].getMessage()


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: no Redis to come back")
def test_a_redis_that_answers_is_used_as_usual_and_its_return_is_logged(cache_warnings, monkeypatch):
    clock = Clock(monkeypatch)
    with cache_at(settings.REDIS_URL):
        outage = cache._outage
        outage.failed("get", redis.ConnectionError("earlier"))
        clock.advance(RETRY_AFTER_SECONDS + 0.1)
        cache.set("health-test", {"phase": "reading"}, timeout=30)
        assert cache.get("health-test") == {"phase": "reading"}
        assert cache.add("health-counter", 1, timeout=30) is True
        assert cache.incr("health-counter") == 2
        cache.delete_many(["health-test", "health-counter"])
    assert cache_warnings()[-1].getMessage().endswith("answers again")


def test_other_redis_errors_are_not_hidden(redis_down, monkeypatch):
    def wrong_type(key, default):
        raise redis.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    monkeypatch.setattr(cache._cache, "get", wrong_type)
    with pytest.raises(redis.ResponseError):
        cache.get("progress")


# --- the pages ----------------------------------------------------------------------------------------


def running_job(user, status=ImportJob.Status.APPLYING):
    return ImportJob.objects.create(
        created_by=user,
        file="imports/test/running.xlsx",
        original_name="台账.xlsx",
        status=status,
        started_at=timezone.now() - timedelta(seconds=5),
    )


def test_djangos_plain_redis_cache_raises_when_redis_is_down():
    """The defect's cause: every page reading the cache (the progress poll) answered 500."""
    with cache_at(CLOSED, backend="django.core.cache.backends.redis.RedisCache"):
        with pytest.raises(redis.ConnectionError):
            cache.get("progress")


@pytest.mark.parametrize("status", [ImportJob.Status.CHECKING, ImportJob.Status.APPLYING])
def test_the_import_job_page_and_its_progress_poll_answer_while_redis_is_down(
    org, login, redis_down, cache_warnings, status
):
    job = running_job(org.users.staff, status=status)
    client = login(org.users.staff)
    for name in ("imports:job-detail", "imports:job-progress"):
        for _poll in range(3):
            assert client.get(reverse(name, kwargs={"pk": job.pk})).status_code == 200
    if status == ImportJob.Status.APPLYING:  # its progress is read from the cache
        assert len(cache_warnings()) == 1


def test_every_kind_of_page_and_the_api_answer_while_redis_is_down(org, client, password, redis_down):
    assert client.get(reverse("accounts:login")).status_code == 200
    response = client.post(reverse("accounts:login"), {"username": "staff", "password": password})
    assert response.status_code == 302  # signed in: the session is in the database
    for url in (
        reverse("home"),
        reverse("grid:household-list"),
        reverse("grid:grid-list"),
        reverse("imports:index"),
        "/api/v1/households/",
        "/api/v1/org-nodes/",
        "/healthz",
    ):
        assert client.get(url).status_code == 200, url


def test_the_login_lockout_still_locks_while_redis_is_down(org, client, password, redis_down):
    """It counts failures in the database (accounts/lockout.py), so a cache outage cannot switch it off."""
    login_url = reverse("accounts:login")
    for _attempt in range(4):
        assert client.post(login_url, {"username": "cadre1", "password": WRONG}).status_code == 200
    assert client.post(login_url, {"username": "cadre1", "password": WRONG}).status_code == 429
    assert client.post(login_url, {"username": "cadre1", "password": password}).status_code == 429
