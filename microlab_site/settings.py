"""One settings file for both modes, driven by environment variables.

Embedded (the default, `make run`): SQLite, an in-memory channel layer and training
threads inside the server process. Production: DATABASE_URL (PostgreSQL) and REDIS_URL
(Celery broker and channels_redis), with separate Celery worker processes.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    return env(name, "1" if default else "0").lower() in ("1", "true", "yes", "on")


def env_int(name, default):
    return int(env(name, str(default)))


# Off unless explicitly on: `make run` (the embedded lab) and the tests turn it on.
DEBUG = env_bool("DEBUG", False)
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
# Keys that appear in public repositories and tutorials: anyone may sign sessions with them.
KNOWN_SECRET_KEYS = {DEV_SECRET_KEY, "changeme", "secret", "django-insecure"}
MIN_SECRET_KEY_LENGTH = 50
SECRET_KEY = env("SECRET_KEY")
if not DEBUG:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. For the embedded lab on your own "
            "machine set DEBUG=1 instead (as `make run` does)."
        )
    if (
        len(SECRET_KEY) < MIN_SECRET_KEY_LENGTH
        or len(set(SECRET_KEY)) < 5
        or SECRET_KEY in KNOWN_SECRET_KEYS
        or SECRET_KEY.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(
            f"SECRET_KEY is weak: use at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
        )
elif not SECRET_KEY:
    SECRET_KEY = DEV_SECRET_KEY

ALLOWED_HOSTS = env("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o]
SITE_NAME = "MicroLLM Lab"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "axes",
    "microlab_site",
    "notices",
    "packs_app",
    "runs",
    "classrooms",
    "lessons",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "microlab_site.input_guard.RefuseUnstorableInput",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # last, as django-axes asks: refuses a login from a locked-out account or address
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "microlab_site.urls"
ASGI_APPLICATION = "microlab_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "common.roles.role_context",
                "notices.context_processors.notices",
            ],
        },
    },
]

# --- Database: SQLite (WAL, busy timeout) unless DATABASE_URL is set -------------------
DATA_DIR = Path(env("LAB_DATA_DIR", str(BASE_DIR / "var")))
DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    # health checks: a connection the database dropped is replaced before use, not failed on
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=env_int("LAB_CONN_MAX_AGE", 60), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "db.sqlite3",
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Broker, channel layer and workers ---------------------------------------------------
REDIS_URL = env("REDIS_URL")
LAB_WORKER_MODE = env("LAB_WORKER_MODE", "celery" if REDIS_URL else "embedded")
LAB_EMBEDDED_WORKERS = env_int("LAB_EMBEDDED_WORKERS", 2)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "microlab_site.channel_layer.RecoveringRedisChannelLayer",
            # redis-py 8 reads with a 5 s socket timeout by default, exactly channels_redis's
            # blocking-receive time: an idle socket's receive would then fail every 5 s.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "prefix": env("LAB_CHANNEL_PREFIX", "microlab"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 15 * 60
CELERY_TASK_TIME_LIMIT = 16 * 60
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 20 * 60}
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# `celery -A microlab_site beat` runs these; `manage.py purge_expired` does the same by hand.
CELERY_BEAT_SCHEDULE = {
    "purge-expired-runs-and-uploads": {
        "task": "runs.tasks.purge_expired",
        "schedule": 6 * 60 * 60,  # seconds
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")

# --- The lab's rules -------------------------------------------------------------------
LAB_MAX_ACTIVE_RUNS = env_int("LAB_MAX_ACTIVE_RUNS", 3)
LAB_RETENTION_DAYS = env_int("LAB_RETENTION_DAYS", 90)
# the playground keeps this many MB of loaded models per server process (runs/playground_model.py)
LAB_PLAYGROUND_CACHE_MB = env_int("LAB_PLAYGROUND_CACHE_MB", 32)
# Samples one run may store in all (samples per batch × batches): 20 every 100 steps of
# a 2,000-step run
LAB_MAX_SAMPLES_PER_RUN = env_int("LAB_MAX_SAMPLES_PER_RUN", 400)
# Live pages (websockets) one user may have open at once, per server process
LAB_MAX_SOCKETS_PER_USER = env_int("LAB_MAX_SOCKETS_PER_USER", 20)
LAB_HEARTBEAT_STALE_SECONDS = env_int("LAB_HEARTBEAT_STALE_SECONDS", 30)
# Celery workers lower their CPU priority by this much (runs/tasks.py): on a machine they
# share with the web server, pages get the cores first. Off by default: a trainer announces
# its own steps, so a lower priority also delays the pushes of them (load_site measured
# fan-out p95 500 ms at 10 against 259 ms at 0, and no gain for the panel).
LAB_WORKER_NICE = env_int("LAB_WORKER_NICE", 0)
# A queued run nobody claimed this long after its dispatch is dispatched again (runs/reaper.py).
LAB_REDISPATCH_SECONDS = env_int("LAB_REDISPATCH_SECONDS", 300)
# /health/ shows its details to staff and to requests bearing this token (empty: staff only)
LAB_HEALTH_TOKEN = env("LAB_HEALTH_TOKEN")
LAB_UPLOAD_MAX_BYTES = 200 * 1024
# `load_packs` trains each built-in pack's showcase run (runs/showcase.py) when it has none.
LAB_SHOWCASES = env_bool("LAB_SHOWCASES", True)
# Request bodies over these are refused before they are read (microlab_site/body_limits.py):
# the upload page and the admin (a pack's text, urlencoded), and every other form.
LAB_UPLOAD_BODY_MAX_BYTES = env_int("LAB_UPLOAD_BODY_MAX_BYTES", 1024 * 1024)
LAB_FORM_MAX_BYTES = env_int("LAB_FORM_MAX_BYTES", 64 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(LAB_UPLOAD_BODY_MAX_BYTES, LAB_FORM_MAX_BYTES)
FILE_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

# --- Auth and security -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: counts failures, refuses when locked
    "django.contrib.auth.backends.ModelBackend",
]
# --- Guessing limits ----------------------------------------------------------------
# Logins (django-axes): after LAB_LOGIN_FAILURE_LIMIT failures for one account, or from one
# address, further attempts are refused (429) until LAB_LOGIN_COOLOFF_MINUTES have passed.
# A classroom behind one address shares that address's count.
AXES_FAILURE_LIMIT = env_int("LAB_LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = env_int("LAB_LOGIN_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False
# Join codes (django-ratelimit, in the cache): per account and per address, per 10 minutes.
LAB_JOIN_RATE_PER_USER = env("LAB_JOIN_RATE_PER_USER", "10/10m")
LAB_JOIN_RATE_PER_ADDRESS = env("LAB_JOIN_RATE_PER_ADDRESS", "60/10m")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("LAB_CHANNEL_PREFIX", "microlab"),
        }
    }
else:
    # The embedded lab is one process: its own memory is the shared cache
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- E-mail (password reset): printed to the console in the embedded lab; SMTP from the
# environment in production.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "MicroLLM Lab <lab@localhost>")
if env("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 10
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    # Behind a TLS proxy that sets X-Forwarded-Proto. `make run-prod` (plain http on
    # loopback) turns the redirect and HSTS off; a hosted site keeps the defaults.
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # /health/ answers plain http on loopback for probes and load balancers
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Logging: one JSON line per event; Sentry when SENTRY_DSN is set ---------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "microlab_site.logs.JsonFormatter"}},
    "filters": {"expected_client_errors": {"()": "microlab_site.logs.ExpectedClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["expected_client_errors"]},
        "daphne": {"level": "WARNING"},
        "celery": {"level": "WARNING"},
    },
}

SENTRY_DSN = env("SENTRY_DSN")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)
