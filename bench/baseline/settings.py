"""The bare Django 5.2 page the portal's pages are measured against (bench/README.md).

Django's defaults as ``startproject`` writes them (middleware, database sessions, the template
engine, password hashers), production switches (DEBUG off, a strong secret key), the same
PostgreSQL database and connection settings as the portal (``DATABASE_URL``, ``conn_max_age=60``,
health checks), and nothing else: no i18n middleware, no context processors beyond the default four.
Its own tables live in that database beside the portal's (bench/baseline/setup.py creates them):
``auth_user`` (Django's own user model; the portal's users are ``accounts_user``),
``bench_baseline_place`` and ``bench_baseline_household``.
"""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ["SECRET_KEY"]
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "bench.baseline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bench.baseline.urls"
WSGI_APPLICATION = "bench.baseline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Its tables are made by bench/baseline/setup.py, not by migrations: the database's django_migrations
# table is the portal's.
MIGRATION_MODULES = {"baseline": None}

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/households/"
SESSION_COOKIE_AGE = 8 * 60 * 60

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
