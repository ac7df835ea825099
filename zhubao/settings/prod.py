"""Production: PostgreSQL + Redis from the environment, a strong SECRET_KEY, HTTPS only, manifest static files.

It refuses to start (ImproperlyConfigured) rather than run half-secured:
- without DATABASE_URL (no SQLite fallback in production);
- without SECRET_KEY, or with a weak one (shorter than 50 characters, fewer than 5 distinct
  characters, Django's "django-insecure-" prefix, or the development default).

Environment (besides base.py's): SECURE_SSL_REDIRECT (default on), SECURE_HSTS_SECONDS
(default 31536000, one year), SECURE_HSTS_INCLUDE_SUBDOMAINS (default on), SECURE_HSTS_PRELOAD
(default off: preloading is a commitment to the browsers' lists), SECURE_COOKIES (default on).
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import DEVELOPMENT_SECRET_KEY

DEBUG = env_bool("DEBUG", False)  # noqa: F405

# --- Refuse to start misconfigured ------------------------------------------------------------
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def weak_secret_key_reason(key: str) -> str:
    """Why ``key`` is too weak for production ("" when it is strong enough); Django's W009 rule and more."""
    if not key:
        return "SECRET_KEY must be set in production."
    if key == DEVELOPMENT_SECRET_KEY or key.startswith("django-insecure-"):
        return "SECRET_KEY is the development default; generate a new one for production."
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"SECRET_KEY must be at least {SECRET_KEY_MIN_LENGTH} characters long."
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY must contain at least {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different characters."
    return ""


_weak = weak_secret_key_reason(os.environ.get("SECRET_KEY", ""))
if _weak:
    raise ImproperlyConfigured(
        _weak + ' Generate one with: python -c "import secrets; print(secrets.token_urlsafe(64))"'
    )
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL must be set in production (postgres://user:password@host:5432/name); there is no SQLite fallback."
    )

# --- Static files -------------------------------------------------------------------------------
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- HTTPS ---------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)  # noqa: F405
# Behind a TLS-terminating proxy: trust its X-Forwarded-Proto header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)  # noqa: F405
# The load balancer probes /healthz over plain HTTP: answer it there instead of redirecting.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)  # noqa: F405
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)  # noqa: F405
