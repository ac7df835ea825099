"""All settings, read from the environment. dev/test/prod override only what differs.

Environment:
- DATABASE_URL   PostgreSQL in production (postgres://user@host:5432/name); SQLite when unset.
- REDIS_URL      Celery broker and cache (redis://host:6379/0); an embedded filesystem
                 broker and file cache when unset, so the portal runs with nothing installed.
- SECRET_KEY, ALLOWED_HOSTS, DEBUG, CSRF_TRUSTED_ORIGINS.
- CACHE_CONNECT_TIMEOUT, CACHE_TIMEOUT  seconds the Redis cache waits (0.5 and 1).
- CELERY_TASK_SOFT_TIME_LIMIT, CELERY_TASK_TIME_LIMIT  every task's limits in seconds (1500, 1800).
- ZHUBAO_VAR_DIR where SQLite, the embedded broker, cache and uploads live (default ./var).
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


VAR_DIR = Path(os.environ.get("ZHUBAO_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEVELOPMENT_SECRET_KEY = "insecure-development-key-change-me"  # zhubao.settings.prod refuses it
SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    # The admin, with the access module deciding who may enter (core/admin_site.py).
    "core.admin_config.ZhubaoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",  # login lockout (accounts/lockout.py)
    "mptt",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "django_htmx",
    "core",
    "accounts",
    "grid",
    "liaison",
    "issues",
    "demo",  # seed_demo: above every app, imported by none
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",  # django-csp: see CONTENT_SECURITY_POLICY below
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Chinese unless the user chose another language (the set_language cookie); Accept-Language is ignored.
    "core.middleware.DefaultLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",  # logs out after ZHUBAO_SESSION_IDLE_MINUTES
    "accounts.middleware.PasswordChangeRequiredMiddleware",  # a password set by someone else is changed first
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into accounts.lockout.lockout_response
]

ROOT_URLCONF = "zhubao.urls"
WSGI_APPLICATION = "zhubao.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
                "liaison.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "zhubao.sqlite3",
            "OPTIONS": {
                # WAL lets the web process read while the worker writes an import;
                # IMMEDIATE takes the write lock up front instead of failing mid-transaction.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker and cache ------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {
        "default": {
            # Redis down or unreachable: answers "not cached" and logs, never breaks a page (core/cache.py).
            "BACKEND": "core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "zhubao"),
            # Seconds: a Redis that hangs costs a page this much, not the operating system's minutes.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("CACHE_CONNECT_TIMEOUT", "0.5")),
                "socket_timeout": float(os.environ.get("CACHE_TIMEOUT", "1")),
            },
        }
    }
else:
    # Embedded default: kombu's filesystem transport needs no server; the web
    # process and the worker share the folder (and the file cache for progress).
    BROKER_DIR = VAR_DIR / "broker"
    BROKER_DIR.mkdir(parents=True, exist_ok=True)
    (BROKER_DIR / "processed").mkdir(exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR),
        "data_folder_out": str(BROKER_DIR),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Exchange tables; kombu's default is ./control in whatever directory the process started.
        "control_folder": str(BROKER_DIR / "control"),
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Celery (schedules live in zhubao/celery.py) ----------------------------------
CELERY_TIMEZONE = "Asia/Shanghai"  # without it django-celery-beat crontabs run in UTC
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Every task is stopped after these many seconds: at the soft limit it gets SoftTimeLimitExceeded
# (and can record why it stopped), at the hard limit its process is killed. A task may set tighter
# ones (the import's: grid/importing/reaping.py). Enforced by the prefork pool only, not by --pool=solo
# (run_portal): there, and for a worker that died, the reapers fail what was left running.
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", str(25 * 60)))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", str(30 * 60)))
if REDIS_URL:
    # A task not acknowledged within this is delivered again (acks late): longer than any time limit,
    # or a long task would be handed to a second worker while the first still runs it.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": max(60 * 60, 2 * CELERY_TASK_TIME_LIMIT)}

# --- Auth ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Every new or changed password (accounts.services.user_set_password, the forms, the API): at least
# 10 characters of three classes, not the username (nor like it), not a common password.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email")},
    },
    {"NAME": "accounts.password_validation.NotContainingUsernameValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "accounts.password_validation.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes checks the lockout before the password (accounts/lockout.py).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working day at most
SESSION_COOKIE_HTTPONLY = True
# Logged out after this many minutes without a request (accounts.middleware.IdleTimeoutMiddleware).
ZHUBAO_SESSION_IDLE_MINUTES = int(os.environ.get("ZHUBAO_SESSION_IDLE_MINUTES", "30"))
# API tokens expire this many hours after they were issued (accounts.authentication).
ZHUBAO_TOKEN_TTL_HOURS = int(os.environ.get("ZHUBAO_TOKEN_TTL_HOURS", "12"))

# Lockout (django-axes): a username is locked for 10 minutes after 5 failed logins within 10 minutes,
# on the login page, the admin's and the token endpoint. Only the username is locked, never an address:
# behind the reverse proxy every request would otherwise share the proxy's.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=10)  # the lock's length, and the window failures are counted in
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_HANDLER = "accounts.lockout.SlidingWindowHandler"  # counts only the failures of the last 10 minutes
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failure: the window is counted from them
AXES_DISABLE_ACCESS_LOG = True  # logins and logouts are in core's audit log
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the lock ends 10 minutes after the 5th failure
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"  # Chinese page or {"code": "locked_out"}, 429
AXES_ENABLE_ADMIN = False  # global admins unlock with the action on the people page of the admin
# W006 asks to lock addresses too: behind the proxy that locks everyone; the username lock holds
# whatever address or browser an attacker rotates through.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# The client's address (lockout records, audit rows): ZHUBAO_PROXY_COUNT reverse proxies stand in front
# of Django (0 in development, 1 behind the production nginx). Each appends the address it saw to
# X-Forwarded-For, so the client is the entry our outermost proxy wrote; what a client puts in the
# header itself comes before it and is ignored. ipware counts only the proxies listed in the header.
ZHUBAO_PROXY_COUNT = int(os.environ.get("ZHUBAO_PROXY_COUNT", "0"))
if ZHUBAO_PROXY_COUNT > 0:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = ZHUBAO_PROXY_COUNT - 1
    IPWARE_STRICT = False  # a chain longer than ours (the client's own entries first) is still read
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)  # no proxy: the header is the client's to forge
    AXES_IPWARE_PROXY_COUNT = None

# --- Language and time ----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and uploads (no CDN: assets come from npm's lock file, served locally) -----
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/bootstrap-icons", NODE_MODULES / "bootstrap-icons" / "font"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Tokens expire; both refuse a user who must change their password first (accounts/authentication.py).
        # The token class first, so a refused token answers 401 with WWW-Authenticate.
        "accounts.authentication.ExpiringTokenAuthentication",
        "accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhubao API",
    "DESCRIPTION": "筑堡工程 liaison portal: org tree, households, grids, people.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security headers ---------------------------------------------------------------------
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): every script and style is a file of our own origin; no
# inline script, no inline style, no eval. A page that needs more relaxes only its own policy with
# csp.decorators (none does today: the API docs load their start-up script from a second request);
# under /admin/ style attributes are allowed for django-mptt's tree list (core/middleware.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    },
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # django-axes logs every login at INFO; the audit log (core.AuditEvent) already records them.
    "loggers": {"axes": {"level": os.environ.get("AXES_LOG_LEVEL", "WARNING")}},
}
