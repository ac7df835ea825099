"""GET /healthz: the database, the broker (Redis or the embedded folder) and the last heartbeat."""

import datetime

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import override_settings
from django.utils import timezone

from core import views
from core.services import heartbeat_record

URL = "/healthz"


def test_healthz_answers_ok_without_login_and_without_personal_data(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "database", "broker", "heartbeat", "queues"}
    assert (body["status"], body["database"]) == ("ok", "ok")
    assert body["broker"] == ("ok" if settings.REDIS_URL else "embedded")
    assert body["heartbeat"] == {"last": None, "age_seconds": None}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.skipif(not settings.REDIS_URL, reason="REDIS_URL is not set: the embedded broker is used")
def test_healthz_pings_the_real_redis(client, db):
    assert client.get(URL).json()["broker"] == "ok"


def test_healthz_reports_the_last_heartbeat(client, db):
    now = timezone.now()
    heartbeat_record(now=now - datetime.timedelta(minutes=5))
    heartbeat_record(now=now - datetime.timedelta(minutes=2))
    heartbeat = client.get(URL).json()["heartbeat"]
    last = datetime.datetime.fromisoformat(heartbeat["last"])
    assert last == (now - datetime.timedelta(minutes=2)).replace(second=0, microsecond=0)
    assert 120 <= heartbeat["age_seconds"] < 180


def test_an_old_heartbeat_is_reported_but_does_not_fail_the_check(client, db):
    heartbeat_record(now=timezone.now() - datetime.timedelta(hours=3))
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["heartbeat"]["age_seconds"] >= 3 * 3600


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_an_unreachable_redis_is_a_503(client, db):
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert response.json()["broker"] == "down"
    assert response.json()["database"] == "ok"


def test_the_embedded_broker_is_reported_when_its_folder_exists(client, db, tmp_path):
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path)}
    with override_settings(REDIS_URL="", CELERY_BROKER_TRANSPORT_OPTIONS=options):
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["broker"] == "embedded"


def test_a_missing_embedded_broker_folder_is_a_503(client, db, tmp_path):
    options = {"data_folder_in": str(tmp_path / "missing"), "data_folder_out": str(tmp_path / "missing")}
    with override_settings(REDIS_URL="", CELERY_BROKER_TRANSPORT_OPTIONS=options):
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_a_database_that_does_not_answer_is_a_503(client, db, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())
    monkeypatch.setattr(views, "_heartbeat", lambda: pytest.fail("the heartbeat needs the database"))
    response = client.get(URL)
    assert response.status_code == 503
    assert response.json()["database"] == "down"
    assert response.json()["heartbeat"] == {"last": None, "age_seconds": None}


def test_healthz_only_answers_get_and_head(client, db):
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405
