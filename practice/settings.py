"""Settings, all from the environment (12-factor), parsed strictly.

A malformed value raises ImproperlyConfigured naming the variable; with no environment at all
the service runs on embedded defaults (SQLite, a filesystem Celery broker, SMS to the console)
so that `make run` needs no server. The README lists every variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))


def _parsed(name: str, cast: Any, default: Any) -> Any:
    """Read one variable, turning any parse failure into an error that names it."""
    try:
        return env(name, cast=cast, default=default)
    except (ValueError, TypeError, KeyError) as error:
        raise ImproperlyConfigured(f"{name} is malformed: {error}") from error


def _strict_bool(name: str, default: bool) -> bool:
    # environ's bool cast reads any unknown word as False; a typo in DEBUG must not pass.
    raw = env.str(name, default=None)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} is malformed: expected true or false, got {raw!r}")


def _url(name: str, default: str | None) -> str | None:
    value = env.str(name, default=default)
    if value is not None and "://" not in value:
        raise ImproperlyConfigured(f"{name} is malformed: expected a URL, got {value!r}")
    return value


DEBUG = _strict_bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-used-only-with-DEBUG"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS: list[str] = _parsed(
    "ALLOWED_HOSTS", cast=list, default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = _parsed("CSRF_TRUSTED_ORIGINS", cast=list, default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "phonenumber_field",
    "simple_history",
    "practice",
    "locations",
    "booking",
    "notifications",
    "fhir_api",
]

MIDDLEWARE = [
    "practice.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "practice.audit.AuditMiddleware",
]

ROOT_URLCONF = "practice.urls"
WSGI_APPLICATION = "practice.wsgi.application"

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
            ]
        },
    }
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = _url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
try:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
except (ValueError, KeyError, ImproperlyConfigured) as error:
    raise ImproperlyConfigured(f"DATABASE_URL is malformed: {error}") from error
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock at BEGIN, so two bookings serialise instead of both
    # reading "free" and both writing. WAL lets the web, worker and beat processes share it.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = _parsed("CONN_MAX_AGE", cast=int, default=60)
    # Django's health check is a `SELECT 1` round trip at the start of every request that reuses
    # a connection: as much as the token lookup itself. Off by default: a connection that broke
    # while kept open (PostgreSQL restarted) fails that one request with a 503 and Retry-After,
    # and is replaced for the next.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = _strict_bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Time -----------------------------------------------------------------------------------
# Stored and exchanged in UTC; each location computes in its own zone.
TIME_ZONE = "UTC"
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = "en-us"
# The languages texts and the visit page speak (Patient.language); catalogs in each app's locale/,
# compiled by `make` (scripts/compile_messages.py).
LANGUAGES = [("en", "English"), ("es", "Español")]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# gunicorn serves no files: WhiteNoise serves the admin's and Swagger UI's assets.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security when not in DEBUG ---------------------------------------------------------------
# Production sits behind a TLS-terminating proxy. Its X-Forwarded-Proto says whether the client
# spoke https, but only a proxy that always sets (overwrites) it may be believed: off by default.
if _strict_bool("TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _strict_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The container's health check calls plain http on 127.0.0.1, past the proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS: int = _parsed("SECURE_HSTS_SECONDS", cast=int, default=0 if DEBUG else 31_536_000)
if SECURE_HSTS_SECONDS < 0:
    raise ImproperlyConfigured(
        f"SECURE_HSTS_SECONDS is malformed: expected 0 or more, got {SECURE_HSTS_SECONDS}."
    )
SECURE_HSTS_INCLUDE_SUBDOMAINS = _strict_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = _strict_bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = _strict_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = _strict_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: its WWW-Authenticate header is what turns "not logged in" into a 401.
        "practice.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "practice.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "practice.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "practice.schema.AutoSchema",
    "EXCEPTION_HANDLER": "practice.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}


def _positive_int(name: str, default: int) -> int:
    value: int = _parsed(name, cast=int, default=default)
    if value < 1:
        raise ImproperlyConfigured(f"{name} is malformed: expected a positive whole number, got {value}.")
    return value


# An API token lapses after this long unused, and this long after its login whatever the use.
AUTH_TOKEN_IDLE_HOURS = _positive_int("AUTH_TOKEN_IDLE_HOURS", default=12)
AUTH_TOKEN_MAX_DAYS = _positive_int("AUTH_TOKEN_MAX_DAYS", default=7)
# Login throttling: this many refused logins for one username, or from one IP address, within
# the window lock that username or address out until the oldest of them leaves the window.
# How many proxies of our own stand in front of the app and append to X-Forwarded-For: the
# client's address (for the login lockout) is that many entries from the right. With 0, the
# socket's address; a client's own X-Forwarded-For is never trusted.
TRUSTED_PROXY_COUNT = _parsed("TRUSTED_PROXY_COUNT", cast=int, default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured(
        f"TRUSTED_PROXY_COUNT is malformed: expected 0 or more, got {TRUSTED_PROXY_COUNT}."
    )
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_MINUTES = 15

SPECTACULAR_SETTINGS = {
    "TITLE": "Surgical practice booking API",
    "DESCRIPTION": (
        "Locations, surgeons, slot search and bookings for a multi-location surgical practice. "
        "Every error has the shape {error: {code, message, fields}}."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "practice.schema.add_error_responses",
    ],
}

# --- Celery -------------------------------------------------------------------------------------
REDIS_URL = _url("REDIS_URL", default=None)
CELERY_BROKER_URL = _url("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_RESULT_BACKEND = _url(
    "CELERY_RESULT_BACKEND", default=REDIS_URL or f"file://{VAR_DIR / 'celery' / 'results'}"
)
if CELERY_BROKER_URL == "filesystem://":
    # The embedded broker: messages are files in var/, so `make run` needs no server.
    _broker_dir = VAR_DIR / "celery" / "broker"
    for _folder in (_broker_dir, VAR_DIR / "celery" / "control", VAR_DIR / "celery" / "results"):
        _folder.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery" / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown we use; long-range work is rows scanned by beat instead.
        "visibility_timeout": _parsed("CELERY_VISIBILITY_TIMEOUT", cast=int, default=3600),
        # A broker that accepts connections but never answers must fail a publish, not hang it:
        # the relay thread publishing a process's texts would otherwise stop for good.
        "socket_connect_timeout": 3,
        "socket_timeout": 5,
    }
CELERY_TASK_SOFT_TIME_LIMIT = _parsed("CELERY_TASK_SOFT_TIME_LIMIT", cast=int, default=60)
CELERY_TASK_TIME_LIMIT = _parsed("CELERY_TASK_TIME_LIMIT", cast=int, default=90)
CELERY_TASK_ALWAYS_EAGER = False

# --- Logging: one JSON object per line on stdout -------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL is malformed: {LOG_LEVEL!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "practice.logging.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # The request log below replaces Django's own, which would print each request twice.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- Practice-wide ------------------------------------------------------------------------------
PRACTICE_NAME = env.str("PRACTICE_NAME", default="Lakeside Spine")
PRACTICE_PHONE = env.str("PRACTICE_PHONE", default="+13125550100")
# Numbers typed without a country code ("(312) 555-0142") are read as this region's.
PHONE_REGION = env.str("PHONE_REGION", default="US")
if PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"PHONE_REGION is malformed: expected a 2-letter region such as US or CA, got {PHONE_REGION!r}."
    )
PHONENUMBER_DEFAULT_REGION = PHONE_REGION
# Slot starts step through each block on this grid, from the block's start.
SLOT_GRID_MINUTES = _parsed("SLOT_GRID_MINUTES", cast=int, default=15)
if not 1 <= SLOT_GRID_MINUTES <= 240:
    raise ImproperlyConfigured("SLOT_GRID_MINUTES is malformed: expected 1 to 240 minutes.")
# A hold keeps its slot from everyone else this long (booking.models.Hold).
HOLD_MINUTES = _parsed("HOLD_MINUTES", cast=int, default=5)
if not 1 <= HOLD_MINUTES <= 60:
    raise ImproperlyConfigured(f"HOLD_MINUTES is malformed: expected 1 to 60 minutes, got {HOLD_MINUTES}.")
# SMART Scheduling Links (/fhir/R4/$bulk-publish): how many days of free slots are published, and
# the number a patient calls to book them (each slot's booking-phone extension).
FHIR_PUBLISH_DAYS = _parsed("FHIR_PUBLISH_DAYS", cast=int, default=14)
if not 1 <= FHIR_PUBLISH_DAYS <= 62:
    raise ImproperlyConfigured(
        f"FHIR_PUBLISH_DAYS is malformed: expected 1 to 62 days, got {FHIR_PUBLISH_DAYS}."
    )
FHIR_BOOKING_PHONE = env.str("FHIR_BOOKING_PHONE", default=PRACTICE_PHONE)
# The appointment type whose slots are published (a code); empty: the shortest active type.
FHIR_PUBLISH_APPOINTMENT_TYPE = env.str("FHIR_PUBLISH_APPOINTMENT_TYPE", default="")

# --- SMS ------------------------------------------------------------------------------------------
# Development prints texts; production must say how it sends, so a deploy that forgot the
# setting fails at start instead of quietly "sending" every text to its own log.
SMS_BACKEND = env.str("SMS_BACKEND", default="console" if DEBUG else "")
if not SMS_BACKEND:
    raise ImproperlyConfigured(
        "SMS_BACKEND is required when DEBUG is off: twilio (or console to print texts deliberately)."
    )
if SMS_BACKEND not in {"console", "locmem", "twilio"}:
    raise ImproperlyConfigured(
        f"SMS_BACKEND is malformed: expected console, locmem or twilio, got {SMS_BACKEND!r}"
    )
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM_NUMBER = env.str("TWILIO_FROM_NUMBER", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
TWILIO_API_BASE_URL = _url("TWILIO_API_BASE_URL", default="https://api.twilio.com")
if SMS_BACKEND == "twilio":
    _missing = [
        name
        for name, value in [
            ("TWILIO_ACCOUNT_SID", TWILIO_ACCOUNT_SID),
            ("TWILIO_AUTH_TOKEN", TWILIO_AUTH_TOKEN),
        ]
        if not value
    ]
    if not (TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID):
        _missing.append("TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
    if _missing:
        raise ImproperlyConfigured(f"SMS_BACKEND=twilio needs {', '.join(_missing)}.")
# Replies tried locally (`manage.py sms_reply`, `sms_status`) are signed with a known token, and
# the webhooks accept it only while DEBUG is on and texts go to the console: nothing real is
# sent, and a server with DEBUG off never has a token anyone could know.
LOCAL_TWILIO_AUTH_TOKEN = "local-development-only-not-a-secret"  # noqa: S105 (DEBUG + console only)
if not TWILIO_AUTH_TOKEN and DEBUG and SMS_BACKEND == "console":
    TWILIO_AUTH_TOKEN = LOCAL_TWILIO_AUTH_TOKEN
# Webhook signatures are checked against this public URL (what Twilio called), not the
# Host header a proxy passed on.
PUBLIC_BASE_URL = _url("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# The visit page (the link in texts) offers new times with the visit's own surgeon only, or, when
# on, with any surgeon at the same location.
SELF_SERVICE_ANY_SURGEON = _strict_bool("SELF_SERVICE_ANY_SURGEON", default=False)


def _sms_int(name: str, default: int, low: int, high: int) -> int:
    value: int = _parsed(name, cast=int, default=default)
    if not low <= value <= high:
        raise ImproperlyConfigured(f"{name} is malformed: expected {low} to {high}, got {value}.")
    return value


def _hhmm(name: str, raw: str) -> tuple[int, int]:
    hours, _, minutes = raw.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ImproperlyConfigured(f"{name} is malformed: expected HH:MM-HH:MM, got {raw!r}.")
    return int(hours), int(minutes)


# Reminders before a visit, in hours (a list: "72,24").
_offsets: list[str] = _parsed("SMS_REMINDER_OFFSETS_HOURS", cast=list, default=["72", "24"])
if any(not (item.strip().isdigit() and 1 <= int(item) <= 24 * 60) for item in _offsets):
    raise ImproperlyConfigured(
        f"SMS_REMINDER_OFFSETS_HOURS is malformed: expected hours from 1 to 1440 like 72,24, got {_offsets!r}."
    )
SMS_REMINDER_OFFSETS_HOURS = sorted({int(item) for item in _offsets}, reverse=True)
# Nothing is sent in these local hours (in the visit's location's zone); "" turns them off.
_quiet = env.str("SMS_QUIET_HOURS", default="21:00-08:00").strip()
if _quiet:
    _quiet_start, _sep, _quiet_end = _quiet.partition("-")
    if not _sep:
        raise ImproperlyConfigured(f"SMS_QUIET_HOURS is malformed: expected HH:MM-HH:MM, got {_quiet!r}.")
    SMS_QUIET_HOURS: tuple[tuple[int, int], tuple[int, int]] | None = (
        _hhmm("SMS_QUIET_HOURS", _quiet_start),
        _hhmm("SMS_QUIET_HOURS", _quiet_end),
    )
else:
    SMS_QUIET_HOURS = None
# The zone for texts not tied to a location (follow-ups of a patient with no preferred clinic).
SMS_DEFAULT_TIMEZONE = env.str("SMS_DEFAULT_TIMEZONE", default="America/Chicago")
try:
    import zoneinfo

    zoneinfo.ZoneInfo(SMS_DEFAULT_TIMEZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError) as _error:
    raise ImproperlyConfigured(f"SMS_DEFAULT_TIMEZONE is malformed: {SMS_DEFAULT_TIMEZONE!r}") from _error
# The post-operative follow-up plan: offsets after surgery, each a number and d, w, m or y.
FOLLOW_UP_PLAN: list[str] = _parsed("FOLLOW_UP_PLAN", cast=list, default=["2w", "6w", "3m", "6m", "1y", "2y"])
if not FOLLOW_UP_PLAN or any(
    not (item[:-1].isdigit() and int(item[:-1]) > 0 and item[-1:] in {"d", "w", "m", "y"})
    for item in FOLLOW_UP_PLAN
):
    raise ImproperlyConfigured(
        f"FOLLOW_UP_PLAN is malformed: expected offsets like 2w,6w,3m,1y, got {FOLLOW_UP_PLAN!r}."
    )
# "Time to book your follow-up": at most once per this many days, at most this many times.
FOLLOW_UP_REMINDER_EVERY_DAYS = _sms_int("FOLLOW_UP_REMINDER_EVERY_DAYS", 7, 1, 365)
FOLLOW_UP_REMINDER_LIMIT = _sms_int("FOLLOW_UP_REMINDER_LIMIT", 3, 0, 52)
# Transient failures retry with exponential backoff and jitter, at most SMS_RETRY_MAX_SECONDS
# apart, until a deadline that fits the text: a reminder until its visit starts, any other text
# for SMS_RETRY_FOR_HOURS after it was written. Only then does it fail, to the worklist.
SMS_RETRY_BASE_SECONDS = _sms_int("SMS_RETRY_BASE_SECONDS", 30, 1, 3600)
SMS_RETRY_MAX_SECONDS = _sms_int("SMS_RETRY_MAX_SECONDS", 900, 1, 86400)
SMS_RETRY_FOR_HOURS = _sms_int("SMS_RETRY_FOR_HOURS", 24, 1, 168)
# A row claimed this long ago whose worker never recorded an outcome is reconciled by the sweep
# (which runs every minute). One send takes at most two calls of twice SMS_SEND_TIMEOUT_SECONDS.
SMS_STRANDED_AFTER_SECONDS = _sms_int("SMS_STRANDED_AFTER_SECONDS", 60, 1, 86400)
# The sweep leaves rows this young to the task enqueued when they were committed.
SMS_SWEEP_GRACE_SECONDS = _sms_int("SMS_SWEEP_GRACE_SECONDS", 30, 0, 3600)
SMS_SEND_TIMEOUT_SECONDS = _sms_int("SMS_SEND_TIMEOUT_SECONDS", 10, 1, 120)
# How many waitlist patients are offered a freed slot at once.
SMS_WAITLIST_OFFERS = _sms_int("SMS_WAITLIST_OFFERS", 3, 1, 50)
# An unanswered waitlist offer lapses after this many hours (or when the slot is near), and
# its patient waits for the next freed slot again.
SMS_WAITLIST_OFFER_HOURS = _sms_int("SMS_WAITLIST_OFFER_HOURS", 12, 1, 336)
# The API schema names the outbox's enums (a text's `status` and `kind`) apart from booking's.
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(  # type: ignore[attr-defined]
    {
        "MessageStatusEnum": "notifications.models.MessageStatus",
        "MessageKindEnum": "notifications.models.MessageKind",
        # Two components (AppointmentOutput, AppointmentBookedOutput) carry a visit's status.
        "AppointmentStatusEnum": "booking.models.AppointmentStatus",
        "ReferralStatusEnum": "booking.models.ReferralStatus",
        "ReferralCloseReasonEnum": "booking.models.ReferralCloseReason",
    }
)
# Publishing gives up after one quick retry: a booking commits its texts to the outbox and
# enqueues them after commit; with the broker down, kombu's default (retrying for its 4-second
# connect timeout) would hold the request that long, while the sweep sends the rows anyway.
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    {"max_retries": 1, "interval_start": 0, "interval_step": 0.1, "interval_max": 0.1}
)
# twilio-python logs every request's headers and query (phone numbers) at INFO.
LOGGING["loggers"]["twilio.http_client"] = {"level": "WARNING"}  # type: ignore[index]
