"""zhubao.settings.prod: refuses to start misconfigured, and passes ``check --deploy``.

Each case runs manage.py in a subprocess with its own environment (settings are read once
per process).
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = secrets.token_urlsafe(64)
DEPLOY_WARNINGS_FIXED = ("security.W004", "security.W008", "security.W009")


def run_manage(*args, **env_overrides) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECURE_", "DJANGO_", "SECRET_KEY", "DEBUG"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="zhubao.settings.prod",
        SECRET_KEY=GOOD_KEY,
        DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/zhubao",
        ALLOWED_HOSTS="portal.example.org",
    )
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def last_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def test_check_deploy_passes_without_the_hsts_redirect_and_key_warnings():
    result = run_manage("check", "--deploy")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for warning in DEPLOY_WARNINGS_FIXED:
        assert warning not in output, output


@pytest.mark.parametrize(
    "key, reason",
    [
        ("x", "at least 50 characters"),
        ("ab" * 40, "at least 5 different characters"),
        ("insecure-development-key-change-me", "development default"),
        ("django-insecure-" + secrets.token_urlsafe(50), "development default"),
        ("", "must be set"),
    ],
)
def test_production_refuses_a_weak_secret_key(key, reason):
    result = run_manage("check", SECRET_KEY=key)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and reason in result.stderr, result.stderr


def test_production_refuses_to_start_without_a_database_url():
    result = run_manage("check", DATABASE_URL=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DATABASE_URL" in result.stderr, result.stderr


def test_production_turns_on_https_redirect_and_hsts_by_default_and_reads_them_from_the_environment():
    show = (
        "from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )
    default = run_manage("shell", "-v", "0", "-c", show)
    assert last_line(default).split()[:3] == ["True", "31536000", "True"], default.stderr
    changed = run_manage("shell", "-v", "0", "-c", show, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="600")
    assert last_line(changed).split()[:2] == ["False", "600"], changed.stderr


def test_healthz_answers_over_plain_http_in_production_while_pages_redirect_to_https():
    script = (
        "from django.test import Client; c = Client(); "
        "login = c.get('/accounts/login/'); "
        "print(c.get('/healthz').status_code, login.status_code, login.get('Location'))"
    )
    result = run_manage("shell", "-v", "0", "-c", script, ALLOWED_HOSTS="testserver")
    healthz, login, location = last_line(result).split()[:3]
    assert healthz in {"200", "503"}, result.stderr  # answered, not redirected (503 when Redis is down)
    assert login == "301" and location == "https://testserver/accounts/login/", result.stdout + result.stderr
