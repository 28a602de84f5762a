"""Django settings for SafeCam, read from the environment (see CONTRACT.md and the README).

With nothing set, SafeCam runs on one machine: SQLite, a file-based Celery broker and local file
storage, all under ``SAFECAM_DATA_DIR`` (``var/``). Production points ``DATABASE_URL``,
``CELERY_BROKER_URL`` and ``SAFECAM_STORAGE_URL`` at PostgreSQL, Redis/RabbitMQ and SFTP/S3, sets
``SAFECAM_SECRET_KEY`` and ``SAFECAM_HTTPS=true``. Every variable is read here and only here,
through the typed helpers in :mod:`safecam.config`, which stop start-up on a malformed value.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from safecam import config

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = config.env_path("SAFECAM_DATA_DIR", BASE_DIR / "var")

DEBUG = config.env_bool("SAFECAM_DEBUG", False)
SECRET_KEY = config.secret_key("SAFECAM_SECRET_KEY", DATA_DIR)
SECRET_KEY_FALLBACKS = config.env_list("SAFECAM_SECRET_KEY_FALLBACKS", [])
ALLOWED_HOSTS = config.env_list("SAFECAM_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = config.env_list("SAFECAM_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our own static files, not a CDN
    "guardian",
    "django_otp",                      # two-factor authentication: TOTP apps and recovery codes
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",                            # lockout after repeated failed logins
    "csp",                             # Content-Security-Policy header
    "safecam",
    "cameras",
    "footage",
    "access_requests",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "safecam.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "safecam.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "safecam.middleware.SessionIdleMiddleware",
    "safecam.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "safecam.urls"
WSGI_APPLICATION = "safecam.wsgi.application"

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
                "footage.context_processors.recording_alert",
            ],
        },
    },
]

DATABASES = {"default": config.database_url("DATABASE_URL", DATA_DIR / "safecam.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out user or address before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "safecam.lockout.AddressLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Nobody anonymous holds a permission: no guardian anonymous user row is created.
ANONYMOUS_USER_NAME = None
# SafeCam's own object-permission tables, so that bulk grants are audited too (safecam.models).
GUARDIAN_USER_OBJ_PERMS_MODEL = "safecam.AuditedUserObjectPermission"
GUARDIAN_GROUP_OBJ_PERMS_MODEL = "safecam.AuditedGroupObjectPermission"
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Language and time: Lithuanian first, English on request; stored in UTC, shown in Vilnius time.
LANGUAGE_CODE = "lt"
LANGUAGES = [("lt", _("Lithuanian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["safecam.formats"]
USE_I18N = True
USE_THOUSAND_SEPARATOR = True
USE_TZ = True
TIME_ZONE = config.env_time_zone("SAFECAM_TIME_ZONE", "Europe/Vilnius")

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

# The separate storage server: footage and everything else SafeCam keeps as files.
STORAGE_URL_CONFIG = config.storage_url("SAFECAM_STORAGE_URL", DATA_DIR / "storage")
STORAGES = {
    "default": STORAGE_URL_CONFIG,
    "footage": STORAGE_URL_CONFIG,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
SPOOL_DIR = config.env_path("SAFECAM_SPOOL_DIR", DATA_DIR / "spool")

# Celery: a file-based broker under the data dir unless CELERY_BROKER_URL names a server.
CELERY_BROKER_URL = config.broker_url("CELERY_BROKER_URL")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery closes the database connection around every task; on a recording worker that is one new
# PostgreSQL connection per segment. Reuse each thread's connection for up to 1000 tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = "UTC"
# Recording runs on its own queue (one long task per camera, a thread each); ingest, retention and
# the rest on the default queue, so a slow storage server never starves the recorders.
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"footage.tasks.camera_record": {"queue": "recording"}}
# Each worker also consumes its own queue: ingest jobs go to the host whose spool holds the file.
CELERY_WORKER_DIRECT = True
# A broker restart must not end a worker or beat: reconnect at start-up and after a loss, for ever
# (a queue lost with a Redis that keeps nothing is rebuilt from the job rows by the resume jobs).
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None

# Recording (see footage/recorder.py). Segment length: ≤ 10 s so a lost or damaged segment costs
# little and playback can start near any second; the camera's keyframe interval rounds it.
SAFECAM_SEGMENT_SECONDS = config.env_int("SAFECAM_SEGMENT_SECONDS", 10, minimum=2, maximum=10)
# A worker holds a camera for this long after its last heartbeat (it beats every third of it).
SAFECAM_RECORDER_LEASE_SECONDS = config.env_int("SAFECAM_RECORDER_LEASE_SECONDS", 30, minimum=3)
# How often beat starts lapsed recorders, sweeps the spool and refreshes health.
SAFECAM_SUPERVISE_SECONDS = config.env_int("SAFECAM_SUPERVISE_SECONDS", 20, minimum=1)
SAFECAM_RECONNECT_MAX_SECONDS = config.env_int("SAFECAM_RECONNECT_MAX_SECONDS", 60, minimum=1)
# Alert when the spool holds this share of its limit (the storage server is not taking segments).
SAFECAM_SPOOL_LIMIT_MB = config.env_int("SAFECAM_SPOOL_LIMIT_MB", 20_480, minimum=1)
SAFECAM_SPOOL_ALERT_PERCENT = config.env_int("SAFECAM_SPOOL_ALERT_PERCENT", 80, minimum=1, maximum=100)
# Free space the spool always leaves on its disk: room for every camera's open segment to close. The
# spool is full at SAFECAM_SPOOL_LIMIT_MB or when its disk's free space falls to this, whichever comes
# first; recorders then stop with the reason "spool full" (audited) instead of dropping old footage.
SAFECAM_SPOOL_RESERVE_MB = config.env_int("SAFECAM_SPOOL_RESERVE_MB", 256, minimum=0)
# "hash": read every stored copy back and compare SHA-256 (default); "size": compare sizes only.
SAFECAM_INGEST_VERIFY = config.env_choice("SAFECAM_INGEST_VERIFY", "hash", ("hash", "size"))
SAFECAM_OFFLINE_ALERT_MINUTES = config.env_int("SAFECAM_OFFLINE_ALERT_MINUTES", 5, minimum=1)
SAFECAM_RETENTION_EVERY_MINUTES = config.env_int("SAFECAM_RETENTION_EVERY_MINUTES", 10, minimum=1)
# A shortened retention deletes nothing for this long, and the users who will lose footage see it.
SAFECAM_RETENTION_NOTICE_HOURS = 24

# Playback (footage.playback): a viewing session ends this long after the player's last request or
# heartbeat, and its signed links stop working; a session open longer is audited once per stretch.
SAFECAM_PLAYBACK_IDLE_SECONDS = config.env_int("SAFECAM_PLAYBACK_IDLE_SECONDS", 120, minimum=30)
SAFECAM_VIEWING_EVENT_MINUTES = config.env_int("SAFECAM_VIEWING_EVENT_MINUTES", 60, minimum=1)
# Longest range one playlist covers (the player asks for the next stretch as it plays).
SAFECAM_PLAYLIST_MAX_HOURS = config.env_int("SAFECAM_PLAYLIST_MAX_HOURS", 6, minimum=1, maximum=24)
# Segments newest-first in a near-live playlist.
SAFECAM_LIVE_PLAYLIST_SEGMENTS = config.env_int("SAFECAM_LIVE_PLAYLIST_SEGMENTS", 4, minimum=2, maximum=20)
# true: answer a segment request with a redirect to a short-lived signed URL where the storage can
# issue one (S3), instead of streaming it through SafeCam. The bucket then needs CORS for the portal.
SAFECAM_PLAYBACK_REDIRECT = config.env_bool("SAFECAM_PLAYBACK_REDIRECT", False)
SAFECAM_SIGNED_URL_SECONDS = config.env_int("SAFECAM_SIGNED_URL_SECONDS", 60, minimum=5, maximum=3600)
# A preview picture for the timeline every this many seconds of footage per camera.
SAFECAM_THUMBNAIL_SECONDS = config.env_int("SAFECAM_THUMBNAIL_SECONDS", 60, minimum=10)

# The address people reach SafeCam at, for links in mails.
SAFECAM_BASE_URL = config.env_str("SAFECAM_BASE_URL", "http://127.0.0.1:8000")
# GDPR requests (access_requests). Holds on a request's footage end this many days after it closes
# (time for a complaint to the State Data Protection Inspectorate to be raised before the footage goes).
SAFECAM_REQUEST_HOLD_DAYS = config.env_int("SAFECAM_REQUEST_HOLD_DAYS", 30, minimum=0)
# The DPO's search reaches this far around the requester's time window.
SAFECAM_REQUEST_SEARCH_MARGIN_HOURS = config.env_int("SAFECAM_REQUEST_SEARCH_MARGIN_HOURS", 2, minimum=0)
# Download links: valid this many days, for this many downloads, unless the DPO chooses otherwise.
SAFECAM_DELIVERY_DAYS = config.env_int("SAFECAM_DELIVERY_DAYS", 14, minimum=1, maximum=90)
SAFECAM_DELIVERY_DOWNLOADS = config.env_int("SAFECAM_DELIVERY_DOWNLOADS", 3, minimum=1, maximum=20)
# Longest footage range one export may cover (a longer one is several exports).
SAFECAM_EXPORT_MAX_MINUTES = config.env_int("SAFECAM_EXPORT_MAX_MINUTES", 120, minimum=1)
# An export job whose heartbeat is this old has lost its worker (killed, host down) and is resumed
# by the beat job "resume-exports", which runs every SAFECAM_RESUME_SECONDS.
SAFECAM_EXPORT_STALE_SECONDS = config.env_int("SAFECAM_EXPORT_STALE_SECONDS", 300, minimum=2)
SAFECAM_RESUME_SECONDS = config.env_int("SAFECAM_RESUME_SECONDS", 120, minimum=1)
# The public request form: submissions per address per hour (django-ratelimit syntax).
SAFECAM_PUBLIC_FORM_RATE = config.env_str("SAFECAM_PUBLIC_FORM_RATE", "5/h")

CELERY_BEAT_SCHEDULE: dict = {
    "resume-exports": {"task": "access_requests.tasks.exports_resume", "schedule": float(SAFECAM_RESUME_SECONDS)},
    # 05:00 UTC is 07:00 or 08:00 in Vilnius: before the working day starts.
    "remind-requests": {"task": "access_requests.tasks.requests_remind", "schedule": crontab(hour=5, minute=0)},
    "close-viewing-sessions": {"task": "footage.tasks.viewing_sessions_close", "schedule": 60.0},
    "make-thumbnails": {"task": "footage.tasks.thumbnails_make", "schedule": 60.0},
    "verify-audit-trail": {"task": "safecam.tasks.audit_trail_verify", "schedule": 6 * 3600.0},
    "supervise-recording": {"task": "footage.tasks.recording_supervise",
                            "schedule": float(SAFECAM_SUPERVISE_SECONDS)},
    # Today's and yesterday's figures, while their footage is still stored (reports.rollup).
    "roll-up-statistics": {"task": "reports.tasks.statistics_rollup", "schedule": 5 * 60.0},
    "resume-reports": {"task": "reports.tasks.reports_resume", "schedule": 120.0},
    "apply-retention": {"task": "footage.tasks.retention_apply",
                        "schedule": SAFECAM_RETENTION_EVERY_MINUTES * 60.0},
}

# Camera registry rules.
SAFECAM_RETENTION_DEFAULT_HOURS = 72
SAFECAM_RETENTION_JUSTIFY_ABOVE_HOURS = 72
SAFECAM_RETENTION_MAX_HOURS = config.env_int("SAFECAM_RETENTION_MAX_HOURS", 30 * 24, minimum=1)
# Camera credentials are encrypted with a key derived from SECRET_KEY (plus fallbacks) and this salt.
SALT_KEY = [config.env_str("SAFECAM_FIELD_SALT", "safecam-camera-credentials")]

# Behind a reverse proxy that sets X-Forwarded-For / X-Forwarded-Proto.
SAFECAM_BEHIND_PROXY = config.env_bool("SAFECAM_BEHIND_PROXY", False)
if SAFECAM_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Production over HTTPS: secure cookies, HSTS, redirect. `check --deploy` is clean with these.
HTTPS = config.env_bool("SAFECAM_HTTPS", False)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A session ends after this long without a request (safecam.middleware.SessionIdleMiddleware; a
# playing player's heartbeats count as activity) and, in any case, this many hours after login.
SAFECAM_SESSION_IDLE_MINUTES = config.env_int("SAFECAM_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = config.env_int("SAFECAM_SESSION_HOURS", 10, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# An API token is valid this long after it was issued (safecam/authentication.py).
SAFECAM_TOKEN_HOURS = config.env_int("SAFECAM_TOKEN_HOURS", 12, minimum=1)

# Two-factor authentication (safecam/twofactor.py): "sensitive" asks it of everyone who may see
# footage or personal data (everyone but a user whose rights are the coordinator's aggregates);
# "all" asks it of every user.
SAFECAM_2FA_REQUIRED = config.env_choice("SAFECAM_2FA_REQUIRED", "sensitive", ("sensitive", "all"))
OTP_TOTP_ISSUER = "SafeCam Biržai"
OTP_TOTP_THROTTLE_FACTOR = 1  # a wrong code makes the next try wait 1 s, 2 s, 4 s …
OTP_STATIC_THROTTLE_FACTOR = 1
SAFECAM_RECOVERY_CODES = 10

# Lockout after repeated failed logins: per user name (django-axes) and per address (a larger
# allowance, since a whole office may share one address; safecam/lockout.py). Both are audited.
AXES_FAILURE_LIMIT = config.env_int("SAFECAM_LOCKOUT_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=config.env_int("SAFECAM_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "safecam.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "safecam.views_accounts.locked_out"
AXES_VERBOSE = False
SAFECAM_LOCKOUT_ADDRESS_FAILURES = config.env_int("SAFECAM_LOCKOUT_ADDRESS_FAILURES", 30, minimum=1)
# axes warns when it does not lock addresses itself: SafeCam does, with a larger allowance (above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]

# Content Security Policy (django-csp): only SafeCam's own scripts, styles and fonts, no inline
# script or style anywhere; hls.js plays through MediaSource (blob: media) with a blob: worker.
# With SAFECAM_PLAYBACK_REDIRECT the player fetches segments from the S3 endpoint itself.
_s3_endpoint = urlsplit(config.env_str("AWS_S3_ENDPOINT_URL", ""))
_MEDIA_ORIGINS = [f"{_s3_endpoint.scheme}://{_s3_endpoint.netloc}"] if (
    _s3_endpoint.netloc and config.env_bool("SAFECAM_PLAYBACK_REDIRECT", False)) else []
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "media-src": [SELF, "blob:", *_MEDIA_ORIGINS],
        "connect-src": [SELF, *_MEDIA_ORIGINS],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Counters shared by every process: the public form's rate limit. Redis when the broker is Redis,
# else a database table (`make migrate` creates it), so the limit holds across gunicorn workers.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CELERY_BROKER_URL,
         "KEY_PREFIX": "safecam-ratelimit"}
        if CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "safecam_ratelimit"}
    ),
}
RATELIMIT_USE_CACHE = "ratelimit"
# The client's address as the audit trail sees it (X-Forwarded-For's last hop behind a proxy), so a
# proxy does not make every visitor share one allowance.
RATELIMIT_IP_META_KEY = "safecam.middleware.client_ip"

EMAIL_BACKEND = config.env_str("SAFECAM_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = config.env_str("SAFECAM_FROM_EMAIL", "safecam@birzai.lt")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "safecam.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["safecam.permissions.Reach"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "safecam.schema.AutoSchema",  # documents the error answers too
    "EXCEPTION_HANDLER": "safecam.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": "20/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SafeCam API",
    "DESCRIPTION": "Biržai district municipality CCTV records and compliance portal (Interreg LLI-457).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name per choice set used in several places (a request's state, and the state a move asks for).
    "ENUM_NAME_OVERRIDES": {"RequestStateEnum": "access_requests.models.RequestState",
                            "RequestKindEnum": "access_requests.models.RequestKind",
                            "ExportStatusEnum": "access_requests.models.ExportStatus"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "safecam.logging.RedactCredentialsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": config.env_str("SAFECAM_LOG_LEVEL", "INFO")},
    # Django's default config gives "django" handlers of its own (a DEBUG console, mail to ADMINS) that do
    # not redact; drop them so Django's records, like every other, go through the redacting console.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True},
                # WeasyPrint logs every layout step at INFO; its warnings (missing fonts, bad CSS) matter.
                "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"},
                # django-axes logs every login at INFO; the audit trail already records them.
                "axes": {"level": "WARNING"}},
}

# --- request size limits (issue 7: bad input; safecam/uploads.py) -------------------------------------
# Form fields and JSON bodies: 2.5 MB (Django's default, said out loud); multipart uploads (an activity
# photo is at most 15 MB, checked again by the service) up to SAFECAM_UPLOAD_MAX_BYTES, refused before
# any of it is stored. An oversized body is a 413 with a message (handler400 in safecam/urls.py).
DATA_UPLOAD_MAX_MEMORY_SIZE = config.env_int("SAFECAM_BODY_MAX_BYTES", 2_621_440, minimum=65_536)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
SAFECAM_UPLOAD_MAX_BYTES = config.env_int("SAFECAM_UPLOAD_MAX_BYTES", 16 * 1024 * 1024, minimum=65_536)
FILE_UPLOAD_HANDLERS = ["safecam.uploads.LimitedUploadHandler",
                        "django.core.files.uploadhandler.MemoryFileUploadHandler",
                        "django.core.files.uploadhandler.TemporaryFileUploadHandler"]
REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"] = ["safecam.uploads.LimitedJSONParser",
                                            "rest_framework.parsers.FormParser",
                                            "rest_framework.parsers.MultiPartParser"]
