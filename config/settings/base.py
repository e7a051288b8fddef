"""Base settings: everything comes from the environment, with development defaults.

Every management command works with nothing but DATABASE_URL (and optionally
CELERY_BROKER_URL) set. With no DATABASE_URL the app uses a SpatiaLite file under
var/; with no broker, Celery runs tasks in-process (eager).
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=False)
# Keys that are public (this repository, its examples): production refuses every one of them.
DEVELOPMENT_SECRET_KEYS = frozenset(
    {"dev-only-insecure-key-change-me", "test-only-key", "replace-with-50-random-characters", "build-only"}
)
SECRET_KEY = env_secret("SECRET_KEY", "dev-only-insecure-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Geometry: one place, used everywhere -------------------------------------------
# Units arrive in CGCS2000; storing them in CGCS2000 geographic (EPSG:4490) keeps the
# delivered coordinates without a datum shift. GeoJSON leaves in WGS84 (EPSG:4326; the
# two frames differ by centimetres). Areas are computed in the global equal-area
# projection EPSG:6933 (EASE-Grid 2.0), never in degrees.
STORAGE_SRID = env.int("STORAGE_SRID", default=4490)
API_SRID = env.int("API_SRID", default=4326)
AREA_SRID = env.int("AREA_SRID", default=6933)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "supervision.zoning",
    "supervision.cases",
    "supervision.remote_sensing",
    "supervision.assessment",
    "supervision.field",
    "supervision.permitting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.api_limits.ApiLimitsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "supervision.web.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"spatialite:///{VAR_DIR / 'supervision.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("spatialite"):
    SPATIALITE_LIBRARY_PATH = env.str("SPATIALITE_LIBRARY_PATH", default="mod_spatialite")
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # A persistent connection the server dropped (restart, failover, pg_terminate_backend)
    # is tested before each request reuses it, and replaced instead of failing the request.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

# --- i18n: Chinese first, English through Django i18n ----------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
MEDIA_URL = "/media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "config.auth.ExpiringTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=100),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "supervision.api_input.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
# --- API limits (413/400 naming the field; README "API: errors and limits") ---------------
# Any request body but a multipart upload (bytes); geometries are checked again below.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=8 * 1024 * 1024)
# Multipart uploads (change layers are GeoTIFFs of up to CHANGE_LAYER_MAX_UPLOAD_MB).
API_UPLOAD_MAX_BYTES = env.int("API_UPLOAD_MAX_BYTES", default=0) or None  # set after CHANGE_LAYER_MAX_UPLOAD_MB
GEOMETRY_MAX_VERTICES = env.int("GEOMETRY_MAX_VERTICES", default=100_000)
# Width or height of an input geometry in storage degrees (a province is about 10).
GEOMETRY_MAX_EXTENT_DEGREES = env.float("GEOMETRY_MAX_EXTENT_DEGREES", default=10.0)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)
SPECTACULAR_SETTINGS = {
    "TITLE": "supervision API",
    "DESCRIPTION": "生态环境分区管控 监督执法 API (zoning, siting, leads, cases, assessment)",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "config.api_schema.postprocess"],
}

# Anonymous read of plans, units and access lists (the public end, 公众端).
PUBLIC_ZONING = env.bool("PUBLIC_ZONING", default=False)
# What the public sees of a unit's outline (map-publication rules): generalised by this many metres,
# coordinates rounded to this many decimal places of a degree (4 ≈ 11 m). Only effective and
# superseded plan versions are public.
PUBLIC_GEOMETRY_TOLERANCE_M = env.float("PUBLIC_GEOMETRY_TOLERANCE_M", default=50.0)
PUBLIC_COORDINATE_DECIMALS = env.int("PUBLIC_COORDINATE_DECIMALS", default=4)

# --- Celery -------------------------------------------------------------------------------
_broker = env.str("CELERY_BROKER_URL", default="")
# No broker: tasks run in-process, synchronously (the embedded demo default).
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not _broker)
CELERY_BROKER_URL = _broker or "memory://"
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=_broker or "cache+memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXTENDED = True
CELERY_TIMEZONE = TIME_ZONE
# Soft limit below the hard one; the broker's visibility timeout above the longest task.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
# Publishing must fail fast when Redis is down: a request that queues a task waits at most
# a few seconds (connect timeout, one retry), logs the failure and still answers; the sweep
# (beat `change-layers-requeue`, `manage.py requeue_queued`) sends the task again once the broker is back.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 60 * 60,
    "socket_connect_timeout": CELERY_BROKER_CONNECTION_TIMEOUT,
    "socket_timeout": 10.0,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# The Redis result backend connects too when a task is sent: same short timeouts.
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECTION_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = 10.0
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
}
# Queued work whose task never reached a worker (broker down when it was sent) is sent
# again by this sweep after TASKS_REQUEUE_AFTER_MINUTES; sending twice is harmless.
TASKS_REQUEUE_AFTER_MINUTES = env.int("TASKS_REQUEUE_AFTER_MINUTES", default=10)
# A done layer whose leads still wait for their chips this long after the chip tasks were
# sent has them sent again (a big layer's chips take minutes; a second send is harmless).
SCAN_CHIPS_REQUEUE_MINUTES = env.int("SCAN_CHIPS_REQUEUE_MINUTES", default=60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ROUTES = {"supervision.remote_sensing.tasks.*": {"queue": env.str("RASTER_QUEUE", default="celery")}}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

SILENCED_SYSTEM_CHECKS = [
    # GDAL 3.6 (Debian 12) cannot block file/network access from spatial references; we
    # only open files the bureau itself registers, and the machines have no internet.
    "gis.W001",
]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="supervision@localhost")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- remote sensing ---
# Scans fan out one task per window; heavy raster work can have its own queue
# (RASTER_QUEUE, also used by CELERY_TASK_ROUTES above) with prefetch 1.
RASTER_QUEUE = env.str("RASTER_QUEUE", default="celery")
SCAN_WINDOW_SIZE = env.int("SCAN_WINDOW_SIZE", default=2048)  # pixels per side; memory per task ~ this²
# Where uploaded change layers are kept, and the inbox a beat task watches (GeoTIFF + sidecar .json).
CHANGE_LAYER_DIR = env.str("CHANGE_LAYER_DIR", default=str(VAR_DIR / "change_layers"))
CHANGE_LAYER_INBOX = env.str("CHANGE_LAYER_INBOX", default=str(VAR_DIR / "inbox"))
CHANGE_LAYER_MAX_UPLOAD_MB = env.int("CHANGE_LAYER_MAX_UPLOAD_MB", default=4096)
API_UPLOAD_MAX_BYTES = API_UPLOAD_MAX_BYTES or (CHANGE_LAYER_MAX_UPLOAD_MB + 16) * 1024 * 1024
# A lead names the nearest enforcement target within this distance (metres), if any.
LEAD_TARGET_MAX_DISTANCE_M = env.float("LEAD_TARGET_MAX_DISTANCE_M", default=200.0)
# Monitoring: the period the decline rule compares with the one before it, and the margin
# (percent worse than the previous period) when a plan has no rule set of its own.
MONITORING_PERIOD_DAYS = env.int("MONITORING_PERIOD_DAYS", default=30)
MONITORING_DECLINE_MARGIN_PCT = env.float("MONITORING_DECLINE_MARGIN_PCT", default=10.0)
# Findings of one station (or unit), parameter and rule separated by at most this many days
# without a finding are one episode, and so one lead (a plan's rule set may override it).
MONITORING_EPISODE_GAP_DAYS = env.int("MONITORING_EPISODE_GAP_DAYS", default=2)
# Surface water is sampled, not measured daily: failing samples up to this many days apart
# (a monthly programme's next sample, with slack) are one episode.
MONITORING_WATER_EPISODE_GAP_DAYS = env.int("MONITORING_WATER_EPISODE_GAP_DAYS", default=45)
# Year-on-year decline compares a season (the 90 days ending on the evaluated day) with the
# same days a year before: a month's mean swings too much with the weather alone.
MONITORING_DECLINE_PERIOD_DAYS = env.int("MONITORING_DECLINE_PERIOD_DAYS", default=90)
# HJ 663-2013 completeness for a year-on-year comparison: valid daily values per 30 days
# (27, as for a monthly mean), scaled to the period length; both periods must meet it.
MONITORING_MIN_VALID_DAYS_PER_30 = env.int("MONITORING_MIN_VALID_DAYS_PER_30", default=27)
# Enterprise CEMS (HJ 212): a device silent this many hours raises a data-gap lead; the
# receiver re-reads the permitted devices this often, and writes a batch at this size or age.
CEMS_GAP_HOURS = env.int("CEMS_GAP_HOURS", default=6)
CEMS_DEVICE_REFRESH_SECONDS = env.float("CEMS_DEVICE_REFRESH_SECONDS", default=30.0)
CEMS_BATCH_SIZE = env.int("CEMS_BATCH_SIZE", default=500)
# A free writer waits at most this long for a batch to fill: devices wait for their ack
# before sending on, so a long wait lowers the rate; while writers are busy, batches fill anyway.
CEMS_BATCH_SECONDS = env.float("CEMS_BATCH_SECONDS", default=0.01)
# Batches stored at once (one thread and database connection each; commits overlap).
CEMS_WRITERS = env.int("CEMS_WRITERS", default=3)
# How far back evaluate_cems looks for exceedance episodes (days).
CEMS_EVALUATE_DAYS = env.int("CEMS_EVALUATE_DAYS", default=7)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "change-layer-inbox": {
        "task": "supervision.remote_sensing.tasks.change_layer_inbox",
        "schedule": env.float("CHANGE_LAYER_INBOX_SECONDS", default=300.0),
    },
    # The sweep of queued-but-not-started scans (`manage.py requeue_queued` by hand).
    "change-layers-requeue": {
        "task": "supervision.remote_sensing.tasks.change_layers_requeue",
        "schedule": env.float("TASKS_REQUEUE_SECONDS", default=300.0),
    },
    # Chip tasks lost with the broker (`manage.py requeue_chips` by hand).
    "change-layer-chips-requeue": {
        "task": "supervision.remote_sensing.tasks.change_layer_chips_requeue",
        "schedule": env.float("TASKS_REQUEUE_SECONDS", default=300.0),
    },
    "monitoring-evaluate": {
        "task": "supervision.remote_sensing.tasks.monitoring_evaluate_all",
        "schedule": env.float("MONITORING_EVALUATE_SECONDS", default=24 * 3600.0),
    },
}

# --- cases ---
# Attachments (photos, PDFs, image chips): JPEG / PNG / PDF only, checked by content, up to this size.
CASES_ATTACHMENT_MAX_BYTES = env.int("CASES_ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
# Images are fully decoded before they are accepted; more pixels than this is refused (decompression bombs).
CASES_ATTACHMENT_MAX_PIXELS = env.int("CASES_ATTACHMENT_MAX_PIXELS", default=60_000_000)
# Default deadlines when a request names none: lead verification and case rectification.
CASES_VERIFICATION_DAYS = env.int("CASES_VERIFICATION_DAYS", default=5)
CASES_VERIFICATION_DAY_KIND = env.str("CASES_VERIFICATION_DAY_KIND", default="working")
# "Deadline in N days" reminder, and days overdue between escalation levels (督办 → 重点督办 → 挂牌督办).
CASES_REMINDER_DAYS = env.int("CASES_REMINDER_DAYS", default=3)
CASES_ESCALATION_STEP_DAYS = env.int("CASES_ESCALATION_STEP_DAYS", default=7)
# Separation of duties: the officer who ordered a rectification cannot accept it.
SEPARATION_OF_DUTIES = env.bool("SEPARATION_OF_DUTIES", default=True)
# Base URL used in notification emails.
CASES_SITE_URL = env.str("CASES_SITE_URL", default="http://127.0.0.1:8000")
# --- assessment ---
# A lead is the division's from the moment it is raised: not dispatched within this many
# calendar days of being raised, it is late on that day (verification timeliness, backlog).
ASSESSMENT_LEAD_RESPONSE_DAYS = env.int("ASSESSMENT_LEAD_RESPONSE_DAYS", default=7)
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "assessment-track-bottom-lines": {
        "task": "supervision.assessment.tasks.bottom_lines_track_all",
        "schedule": env.float("BOTTOM_LINES_TRACK_SECONDS", default=24 * 3600.0),
    },
    "cases-escalate-overdue": {"task": "supervision.cases.tasks.escalate_overdue", "schedule": 15 * 60},
    "cases-deadline-reminders": {"task": "supervision.cases.tasks.deadline_reminders", "schedule": 60 * 60},
    # Emails whose send task was lost (broker down after the notifications committed).
    "cases-notification-emails": {"task": "supervision.cases.tasks.send_notification_emails", "schedule": 15 * 60},
    # Five-year plan revisions that fell due: the planners are told once (idempotent).
    "zoning-plan-revisions-due": {"task": "supervision.zoning.tasks.plan_revisions_due", "schedule": 24 * 3600},
}
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "LeadStatusEnum": "supervision.cases.choices.LeadStatus",
        "CaseStatusEnum": "supervision.cases.choices.CaseStatus",
        "InspectionStatusEnum": "supervision.cases.choices.InspectionStatus",
        "InspectionPlanStatusEnum": "supervision.cases.choices.InspectionPlanStatus",
        "LeadSourceEnum": "supervision.cases.choices.LeadSource",
        "DayKindEnum": "supervision.cases.choices.DayKind",
        "EvidenceKindEnum": "supervision.cases.choices.EvidenceKind",
        "CaseEventKindEnum": "supervision.cases.choices.CaseEventKind",
        "LeadEventKindEnum": "supervision.cases.choices.LeadEventKind",
        "NotificationKindEnum": "supervision.cases.choices.NotificationKind",
        "LayerKindEnum": "supervision.remote_sensing.choices.LayerKind",
        "OverlayKindEnum": "supervision.zoning.choices.OverlayKind",
        "DrillSubjectEnum": "supervision.assessment.choices.Subject",
        "DismissReasonEnum": "supervision.cases.choices.DismissReason",
    }
)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["EiaKindEnum"] = "supervision.permitting.choices.EiaKind"

# --- web ---
# Basemap tiles are optional (intranets have none): e.g. a Tianditu URL with its key,
# "https://t{s}.tianditu.gov.cn/vec_w/wmts?...&tk=KEY". Empty: the plan's own layers on a plain background.
BASEMAP_URL = env.str("BASEMAP_URL", default="")
BASEMAP_ATTRIBUTION = env.str("BASEMAP_ATTRIBUTION", default="")
TEMPLATES[0]["OPTIONS"]["context_processors"].append("supervision.web.web_context")

# --- security: sign-in lockout, API throttles, tokens ---
# Failed sign-ins are counted per (username, client IP) by django-axes, in the database
# (an audit trail of attempts); after LOGIN_FAILURE_LIMIT failures the pair is locked out
# for LOGIN_LOCKOUT_MINUTES, on the web login and the token endpoint alike (429).
INSTALLED_APPS += ["axes", "pgtrigger"]  # pgtrigger: append-only tables in PostgreSQL (supervision/triggers.py)
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]  # last, as axes requires
AUTHENTICATION_BACKENDS = ["config.auth.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "config.auth.client_ip"
AXES_VERBOSE = False
# How many reverse proxies (nginx, a load balancer) append to X-Forwarded-For; 0 = trust none.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# A shared cache for the throttles (and anything else cached): Redis from CACHE_URL or
# REDIS_URL, else the broker's Redis; the embedded demo, with none, keeps it in process memory.
CACHE_URL = (
    env.str("CACHE_URL", default="")
    or env.str("REDIS_URL", default="")
    or (_broker if _broker.startswith(("redis://", "rediss://")) else "")
)
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="supervision"),
            # Short timeouts: a request never waits long on a Redis that is down (throttles fail open).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
# Requests per period ("N/second|minute|hour|day"); `auth_token` counts sign-in attempts per address.
API_THROTTLE_RATES = {
    "anon": env.str("API_THROTTLE_ANON", default="600/minute"),
    "user": env.str("API_THROTTLE_USER", default="6000/minute"),
    "auth_token": env.str("API_THROTTLE_AUTH_TOKEN", default="20/minute"),
}
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    # Token first: its "WWW-Authenticate: Token" makes an unauthenticated API request a 401.
    "config.auth.ExpiringTokenAuthentication",
    "rest_framework.authentication.SessionAuthentication",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = ["config.auth.AnonThrottle", "config.auth.UserThrottle"]
# Throttles identify anonymous clients by address: X-Forwarded-For only as far as our own proxies
# wrote it (DRF's default would believe whatever a client puts there).
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# API tokens expire this many hours after they were issued; each sign-in issues a new one.
API_TOKEN_TTL_HOURS = env.float("API_TOKEN_TTL_HOURS", default=12.0)

# --- change-layer scans: never stuck (the `scans` work) ---
# Soft time limits per raster task (seconds); each hard limit is a little above its soft
# one (tasks.py). A window of SCAN_WINDOW_SIZE² pixels takes seconds; the merge grows with
# the patches cut by window edges and the leads written.
SCAN_START_SOFT_SECONDS = env.int("SCAN_START_SOFT_SECONDS", default=10 * 60)
SCAN_WINDOW_SOFT_SECONDS = env.int("SCAN_WINDOW_SOFT_SECONDS", default=10 * 60)
SCAN_MERGE_SOFT_SECONDS = env.int("SCAN_MERGE_SOFT_SECONDS", default=60 * 60)
SCAN_CHIPS_SOFT_SECONDS = env.int("SCAN_CHIPS_SOFT_SECONDS", default=10 * 60)
# A running layer with no progress (no window started or finished, no merge begun) for
# this long is requeued by the sweep, up to SCAN_MAX_REQUEUES times, then failed.
SCAN_STALL_SECONDS = env.float("SCAN_STALL_SECONDS", default=900.0)
SCAN_MAX_REQUEUES = env.int("SCAN_MAX_REQUEUES", default=2)
# Redis redelivers an unacknowledged (acks_late) message after the visibility timeout:
# it must be above the longest hard time limit, or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    **globals().get("CELERY_BROKER_TRANSPORT_OPTIONS", {}),
    "visibility_timeout": max(
        env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 60 * 60),
        SCAN_MERGE_SOFT_SECONDS + 120 + 600,
    ),
}
# acks_late / reject_on_worker_lost are set per raster task (tasks.py): they are idempotent.
CELERY_BEAT_SCHEDULE = {
    **globals().get("CELERY_BEAT_SCHEDULE", {}),
    "change-layer-sweep": {
        "task": "supervision.remote_sensing.tasks.change_layer_sweep",
        "schedule": env.float("SCAN_SWEEP_SECONDS", default=60.0),
    },
}

# Content-Security-Policy (supervision.web.csp): scripts only from our static files, no inline
# script. CSP_POLICY replaces the whole built-in policy; CSP_REPORT_ONLY sends it as Report-Only.
CSP_POLICY = env.str("CSP_POLICY", default="")
CSP_REPORT_ONLY = env.bool("CSP_REPORT_ONLY", default=False)
