"""Test settings: whatever DATABASE_URL / REDIS_URL name (CI: PostgreSQL and Redis)."""

import os
import uuid

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
# The lockout stays on in tests; only the test client's login() (which has no request) skips its check.
AUTHENTICATION_BACKENDS = ["accounts.lockout.RequestOptionalAxesBackend", "django.contrib.auth.backends.ModelBackend"]
LANGUAGE_CODE = "zh-hans"
# Keep parallel or repeated runs from reading each other's cache entries.
CACHES["default"]["KEY_PREFIX"] = f"zhubao-test-{uuid.uuid4().hex[:8]}"  # noqa: F405
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    CACHES["default"]["LOCATION"] = str(VAR_DIR / f"test-cache-{os.getpid()}")  # noqa: F405
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# django-zeal raises on N+1 queries inside tests.
INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]  # noqa: F405
MIDDLEWARE = [
    *MIDDLEWARE,  # noqa: F405
    "zeal.middleware.zeal_middleware",
    "zhubao.settings.zeal_admin.admin_forms_allow_gets",
]
ZEAL_RAISE = True
# No collectstatic in tests: WhiteNoise finds files through the finders (and does not warn
# about a missing STATIC_ROOT).
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
