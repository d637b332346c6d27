"""Ventanilla settings: every value comes from the environment (see .env.example).

The defaults give the embedded set-up (SQLite in a data folder, tasks in-process) so that a laptop in a
border office needs nothing else. With DEBUG off, a missing secret stops start-up and names the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.utils.translation import gettext_lazy as _

from ventanilla.core.env import EnvironmentError_, env_bool, env_int, env_list, env_str

django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("VENTANILLA_DATA_DIR", str(Path.cwd() / "data"))).resolve()

DEBUG = env_bool("DEBUG", False)

_DEV_ONLY = "insecure-development-only"


def _secret(name: str, dev_default: str) -> str:
    """A secret is required in production; in DEBUG a fixed, visibly unsafe value keeps hacking easy."""
    if DEBUG:
        return env_str(name, dev_default)
    return env_str(name)


SECRET_KEY = _secret("SECRET_KEY", f"{_DEV_ONLY}-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
# Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: put the new key first).
FIELD_ENCRYPTION_KEYS = env_list(
    "FIELD_ENCRYPTION_KEYS",
    ["bm90LWEtcmVhbC1rZXktZGV2ZWxvcG1lbnQtb25seSE="] if DEBUG else [],
)
if not FIELD_ENCRYPTION_KEYS:
    raise EnvironmentError_("The environment variable FIELD_ENCRYPTION_KEYS is required but not set.")
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key.encode())
    except (ValueError, TypeError):
        # Fail at start-up, not at the first sign-in; name the entry, never its value.
        raise EnvironmentError_(
            f"The environment variable FIELD_ENCRYPTION_KEYS has an invalid key at position {_position} "
            "(expected 32 url-safe base64 bytes; make one with `ventanilla generate-key`)."
        ) from None
BLIND_INDEX_KEY = _secret("BLIND_INDEX_KEY", f"{_DEV_ONLY}-blind-index-key")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise EnvironmentError_("The environment variable ALLOWED_HOSTS is required but not set.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "ventanilla.core",
    "ventanilla.accounts",
    "ventanilla.areas",
    "ventanilla.directory",
    "ventanilla.hub",
    "ventanilla.questionnaires",
    "ventanilla.registration",
    "ventanilla.messaging",
    "ventanilla.referrals",
    "ventanilla.cases",
    "ventanilla.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ventanilla.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ventanilla.accounts.middleware.SessionIdleTimeoutMiddleware",
    # The one-time password is replaced first, then two-factor is set up.
    "ventanilla.accounts.middleware.PasswordChangeRequiredMiddleware",
    "ventanilla.accounts.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "ventanilla.urls"
WSGI_APPLICATION = "ventanilla.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ventanilla.core.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ventanilla.sqlite3'}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
except Exception as error:  # dj-database-url raises bare ValueError/KeyError on unknown schemes
    raise EnvironmentError_(f"The environment variable DATABASE_URL cannot be understood: {error}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded database lives in the data folder: make it on first use, not fail on it.
    Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Opening a SQLite connection costs more than a kept search answer (Django registers its SQL
    # functions on each): keep it for DATABASE_CONN_MAX_AGE too. gunicorn's sync workers use it from one
    # thread; between requests it holds no transaction, so it blocks no writer and no WAL checkpoint.
    _db["OPTIONS"] = {
        # Concurrent writers (gunicorn workers, in-process tasks) need WAL and immediate write locks.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------------------
CACHE_URL = env_str("CACHE_URL", "")
CACHES: dict[str, dict[str, Any]] = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        # Each worker's memory: kept search answers (5-60 KB each) for a few hundred searches a minute.
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 2000}}
    )
}

# --- Authentication and sessions ------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 10, minimum=1) * 3600
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Flash messages live in the session, not a cookie: one of them may carry a referral link shown once.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15, minimum=1)
# A whole centre often shares one address: this limit is per address, the one above per username.
LOGIN_FAILURE_ADDRESS_LIMIT = env_int("LOGIN_FAILURE_ADDRESS_LIMIT", 50, minimum=1)
# How many reverse proxies of ours add to X-Forwarded-For (0: use the connection's address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
# OpenRosa (ODK Collect, KoboCollect): the largest submission accepted, told to phones in
# X-OpenRosa-Accept-Content-Length so they split bigger ones.
OPENROSA_MAX_SUBMISSION_BYTES = env_int("OPENROSA_MAX_SUBMISSION_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- HTTPS and headers ----------------------------------------------------------------------------
HTTPS = env_bool("HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# Preloading commits the domain and every subdomain to HTTPS in browsers for months, so it is the
# operator's decision: opt-in, and Django's reminder about it (security.W021) is silenced while it is off.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
if env_bool("BEHIND_PROXY", HTTPS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSP_EXTRA_IMG_SOURCES = env_list("CSP_EXTRA_IMG_SOURCES", [])

# --- Languages, time ------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("fr", _("French")), ("ar", _("Arabic"))]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(DATA_DIR / "static")))
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"

# --- Email ----------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    # Never the console: mail may name a person, and consoles end up in logs.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = DATA_DIR / "outbox"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ventanilla@localhost")

# --- SMS ------------------------------------------------------------------------------------------
# A gateway that takes {"to", "text"} as JSON with a bearer token. Without one, SMS are held in the
# outbox (visible to staff) rather than pretending to be sent.
SMS_GATEWAY_URL = env_str("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = env_str("SMS_GATEWAY_TOKEN", "")
# Urgent messages (possible calls for help): an alert nobody acknowledges within this many minutes goes
# one level up (the on-duty focal point, then every site manager, then the administrators too).
URGENT_ESCALATE_MINUTES = env_int("URGENT_ESCALATE_MINUTES", 15, minimum=1)
# An extra classifier beside the urgent-message rules, "package.module:function" (text -> reason or "").
URGENT_CLASSIFIER = env_str("URGENT_CLASSIFIER", "")
# The address partners without accounts reach referral links at (links in SMS and email are absolute).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Background work ------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_EAGER_PROPAGATES = env_bool("TASKS_EAGER_PROPAGATES", False)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "purge-login-failures": {
        "task": "ventanilla.accounts.purge_login_failures",
        "schedule": crontab(minute=17),
    },
    # Personal data past each organisation's retention period is erased at night; the de-identified
    # registrations stay. Safe to run late or twice: an erased person is not erased again.
    "apply-retention": {
        "task": "ventanilla.registration.apply_retention",
        "schedule": crontab(minute=30, hour=2),
    },
    # Export files are kept (encrypted) for a day.
    "purge-expired-exports": {
        "task": "ventanilla.registration.purge_expired_exports",
        "schedule": crontab(minute=41),
    },
    # Referrals past the partner's committed answer time expire and go to the site manager.
    "expire-referrals": {
        "task": "ventanilla.referrals.expire_overdue",
        "schedule": crontab(minute="*/15"),
    },
    # Each morning, caseworkers and site managers get their overdue list by email and in the app.
    "overdue-reminders": {
        "task": "ventanilla.cases.send_overdue_reminders",
        "schedule": crontab(minute=0, hour=7),
    },
    # Webhook deliveries that failed are retried with backoff.
    "retry-webhooks": {
        "task": "ventanilla.referrals.retry_webhooks",
        "schedule": crontab(minute="*/10"),
    },
    # Urgent alerts nobody acknowledged in time go one level up (URGENT_ESCALATE_MINUTES).
    "escalate-urgent-alerts": {
        "task": "ventanilla.messaging.escalate_alerts",
        "schedule": crontab(minute="*/5"),
    },
}

# --- API ------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ventanilla.accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "ventanilla.api.errors.exception_handler",
    # Only the public read endpoints throttle, and only anonymous callers (per address): generous, since
    # a whole shelter or a mobile carrier may share one address. Signed-in staff are never throttled.
    "DEFAULT_THROTTLE_RATES": {"anon": "600/minute"},
    # The client address behind our own proxies only; a client-sent X-Forwarded-For is not trusted.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # The browsable API's forms list related rows; outside development, JSON only (docs at /api/docs/).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Ventanilla API",
    "DESCRIPTION": "Services, registration, referrals and communication for migrant resource centres.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # One name per choice set that several endpoints share, so clients get one enum each.
    "ENUM_NAME_OVERRIDES": {
        "ServiceCategoryEnum": "ventanilla.directory.models.Category",
        "PublicationStatusEnum": "ventanilla.directory.models.PublicationStatus",
        "ProviderKindEnum": "ventanilla.directory.api.PROVIDER_KINDS",
        "ContentKindEnum": "ventanilla.hub.models.ContentKind",
        "ArticleKindEnum": "ventanilla.hub.api.ARTICLE_KINDS",
        "TranslationStatusEnum": "ventanilla.hub.models.TranslationStatus",
        "SiteLanguageEnum": "ventanilla.settings.LANGUAGES",
        "FlagSeverityEnum": "ventanilla.registration.models.FlagSeverity",
        "SeverityEnum": "ventanilla.hub.models.Severity",  # the alerts' (unchanged name)
        "FormPurposeEnum": "ventanilla.questionnaires.models.Purpose",
        "ConsentPurposeEnum": "ventanilla.registration.models.ConsentPurpose",
        "ReferralStatusEnum": "ventanilla.referrals.models.ReferralStatus",
        "ReferralStatusChangeEnum": "ventanilla.referrals.api.referrals.STATUS_CHANGES",
        "CaseStatusEnum": "ventanilla.cases.models.CaseStatus",
        "CaseStatusChangeEnum": "ventanilla.cases.api.STATUS_CHANGES",
        "CaseCloseReasonEnum": "ventanilla.cases.models.CloseReason",
        "ChannelKindEnum": "ventanilla.messaging.models_inbox.GatewayKind",
        "ConversationCategoryEnum": "ventanilla.messaging.models_inbox.Category",
        "ConversationStatusEnum": "ventanilla.messaging.models_inbox.ConversationStatus",
        "ConversationUrgencyEnum": "ventanilla.messaging.models_inbox.Urgency",
        "UrgencyEnum": "ventanilla.referrals.models.Urgency",  # the referrals' (unchanged name)
    },
}

# --- Logging: never personal data ----------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # Celery's trace logger prints task return values at INFO: keep it quiet so no value reaches logs.
    "loggers": {"django.db.backends": {"level": "WARNING"}, "celery.app.trace": {"level": "WARNING"}},
}

# --- Service directory and content ---------------------------------------------------------------------
# Items not verified for this many days are flagged to staff as stale.
DIRECTORY_STALE_DAYS = env_int("DIRECTORY_STALE_DAYS", 90, minimum=1)
# Hotline numbers on the public home page, "label=number;label=number" (empty: none shown).
HUB_HOTLINES: list[tuple[str, str]] = []
for _entry in filter(None, (part.strip() for part in env_str("HUB_HOTLINES", "").split(";"))):
    _label, _equals, _number = (piece.strip() for piece in _entry.partition("="))
    if not (_label and _number):
        raise EnvironmentError_(
            f"The environment variable HUB_HOTLINES must read label=number;label=number, not {_entry!r}."
        )
    HUB_HOTLINES.append((_label, _number))
# The optional public map: a tile URL such as https://tiles.example.org/{z}/{x}/{y}.png (empty: no map,
# the list only). Add the tile host to CSP_EXTRA_IMG_SOURCES too, or the browser refuses the tiles.
MAP_TILE_URL = env_str("MAP_TILE_URL", "")

# --- Ventanilla -----------------------------------------------------------------------------------
ENQUEUE_IN_PROCESS = not CELERY_BROKER_URL
