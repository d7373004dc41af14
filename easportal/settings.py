"""easportal settings: every value comes from the environment (or an optional .env file).

Defaults give a working development setup on SQLite under var/. Values that must be secret in
production have no default: the process refuses to start with a one-line message naming them.
README.md lists every variable.
"""

import base64
import binascii
import os
import sys
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

from services.net.endpoints import HostPolicy

BASE_DIR = Path(__file__).resolve().parent.parent

# The test suite sets EASPORTAL_ENV_FILE to "" so that what `make run` wrote never changes a test.
ENV_FILE = os.environ.get("EASPORTAL_ENV_FILE", str(BASE_DIR / ".env"))
if ENV_FILE and os.path.isfile(ENV_FILE):
    environ.Env.read_env(ENV_FILE)


def refuse_to_start(name, problem):
    # One line on stderr and a non-zero exit: a traceback would bury the variable's name.
    sys.exit(f"easportal: refusing to start: {name} {problem}")


TRUE_WORDS, FALSE_WORDS = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() not in TRUE_WORDS | FALSE_WORDS:
        refuse_to_start(name, f"must be true or false (1/0, yes/no, on/off), not {value!r}.")
    return value.strip().lower() in TRUE_WORDS


def env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        refuse_to_start(name, f"must be a whole number, not {value!r}.")


def env_float(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        found = float(value)
    except ValueError:
        found = float("nan")
    if found != found or found in (float("inf"), float("-inf")):
        refuse_to_start(name, f"must be a number, not {value!r}.")
    return found


def env_list(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    refuse_to_start("SECRET_KEY", "is not set. Generate one with: python -c \"import secrets; "
                    "print(secrets.token_urlsafe(50))\"")
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
                  or SECRET_KEY.startswith("django-insecure-")):
    refuse_to_start("SECRET_KEY", "is too weak: use at least 50 random characters.")


def parse_token_keys(value):
    keys = [key.strip() for key in value.split(",") if key.strip()]
    if not keys:
        refuse_to_start("EASPORTAL_TOKEN_KEYS", "is not set. It holds the keys that encrypt "
                        "service tokens; make run writes one into .env.")
    for position, key in enumerate(keys, start=1):
        try:
            raw = base64.urlsafe_b64decode(key.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raw = b""
        if len(raw) != 32:
            refuse_to_start("EASPORTAL_TOKEN_KEYS", f"key #{position} is malformed: each key must "
                            "be 32 random bytes in url-safe base64 (44 characters).")
    return keys


# Comma-separated; the first key encrypts, all of them decrypt (rotate_token_keys re-encrypts).
EASPORTAL_TOKEN_KEYS = parse_token_keys(os.environ.get("EASPORTAL_TOKEN_KEYS", ""))

EASPORTAL_ALLOWED_ENDPOINT_HOSTS = env_list(
    "EASPORTAL_ALLOWED_ENDPOINT_HOSTS", ["*.pai-eas.aliyuncs.com"]
)
try:
    HostPolicy(EASPORTAL_ALLOWED_ENDPOINT_HOSTS)
except ValueError as exc:
    refuse_to_start("EASPORTAL_ALLOWED_ENDPOINT_HOSTS", f"is malformed: {exc}")

# A response is kept up to this many bytes, counted after decompression; the rest is cut.
EASPORTAL_MAX_RESPONSE_BYTES = env_int("EASPORTAL_MAX_RESPONSE_BYTES", 5 * 1024 * 1024)
# Calls older than this many days are removed by `manage.py prune_calls`; 0 keeps them all.
EASPORTAL_HISTORY_DAYS = env_int("EASPORTAL_HISTORY_DAYS", 90)
# Requests a minute that one personal key may make (the JSON API and the gateway together).
EASPORTAL_KEY_RATE_PER_MIN = env_int("EASPORTAL_KEY_RATE_PER_MIN", 600)
if EASPORTAL_KEY_RATE_PER_MIN < 1:
    refuse_to_start("EASPORTAL_KEY_RATE_PER_MIN", "must be 1 or more.")
# Where the keys' requests are counted when several processes serve: Redis if set (redis://...),
# else the database.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    refuse_to_start("REDIS_URL", "must be redis://host:port/db (or rediss:// or unix://).")

# Outbound calls in flight at once, per person and per team (services/inflight.py): past them,
# 429 at once, so that slow calls cannot hold every server thread.
EASPORTAL_CALLS_PER_USER = env_int("EASPORTAL_CALLS_PER_USER", 8)
EASPORTAL_CALLS_PER_TEAM = env_int("EASPORTAL_CALLS_PER_TEAM", 32)
for _name in ("EASPORTAL_CALLS_PER_USER", "EASPORTAL_CALLS_PER_TEAM"):
    if globals()[_name] < 1:
        refuse_to_start(_name, "must be 1 or more.")
# The short way through the framework of the invoke route and the gateway (services/fastpath.py);
# off, they take the way every other route takes. Both answer the same.
EASPORTAL_FAST_INVOKE = env_bool("EASPORTAL_FAST_INVOKE", True)
# Seconds a server process may keep the row of a logged-in request's session, user and service
# (services/kept.py): any change made through Django on this machine ends it at once; this bounds
# what no signal sees (another machine, SQL outside Django). 0 keeps nothing.
EASPORTAL_SESSION_CACHE_S = env_float("EASPORTAL_SESSION_CACHE_S", 2.0)
if EASPORTAL_SESSION_CACHE_S < 0:
    refuse_to_start("EASPORTAL_SESSION_CACHE_S", "must be 0 or more.")
# Capacity runs (services/runs/): their limits, and the backend of Django's tasks API that runs
# them: "database" (django-tasks-db; `manage.py run_worker`, which `make run` starts) or "rq"
# (django-tasks-rq on REDIS_URL; `manage.py rqworker --job-class django_tasks_rq.Job`).
EASPORTAL_RUN_MAX_TOTAL = env_int("EASPORTAL_RUN_MAX_TOTAL", 1000)
EASPORTAL_RUN_MAX_CONCURRENCY = env_int("EASPORTAL_RUN_MAX_CONCURRENCY", 64)
EASPORTAL_RUN_MAX_SECONDS = env_int("EASPORTAL_RUN_MAX_SECONDS", 300)
for _name in ("EASPORTAL_RUN_MAX_TOTAL", "EASPORTAL_RUN_MAX_CONCURRENCY",
              "EASPORTAL_RUN_MAX_SECONDS"):
    if globals()[_name] < 1:
        refuse_to_start(_name, "must be 1 or more.")
EASPORTAL_TASKS_BACKEND = os.environ.get("EASPORTAL_TASKS_BACKEND", "database").strip()
if EASPORTAL_TASKS_BACKEND not in ("database", "rq"):
    refuse_to_start("EASPORTAL_TASKS_BACKEND", "must be database or rq.")
if EASPORTAL_TASKS_BACKEND == "rq" and not REDIS_URL:
    refuse_to_start("EASPORTAL_TASKS_BACKEND", "is rq, which needs REDIS_URL.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    # Listed as an app so that the API docs page is served from our static files, not a CDN.
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "services",
]
if EASPORTAL_TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

MIDDLEWARE = [
    # The call routes' short way: the same steps as below, less those that do nothing on them.
    "services.fastpath.FastInvoke",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the switcher's cookie, else Accept-Language (services/views/language.py).
    "services.middleware.Locale",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Django's LoginRequiredMiddleware; a call's route reads its service with the user.
    "services.middleware.LoginRequired",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Pages answer services.errors.Refusal with its status and message, as the API does.
    "services.middleware.RefusalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, with the header built once.
    "services.middleware.ContentSecurityPolicy",
    # Axes must come last: it turns a locked-out login into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "easportal.urls"
WSGI_APPLICATION = "easportal.wsgi.application"

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
                # Whether the header links the audit log.
                "services.views.audit.nav",
            ],
        },
    },
]

try:
    DATABASES = {
        "default": environ.Env.db_url_config(
            os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'easportal.sqlite3'}"
        )
    }
except (ValueError, KeyError, environ.ImproperlyConfigured):
    DATABASES = {"default": {"ENGINE": ""}}
if DATABASES["default"]["ENGINE"] not in ("django.db.backends.sqlite3",
                                          "django.db.backends.postgresql"):
    refuse_to_start("DATABASE_URL", "must be postgres://user:password@host:5432/name or "
                    "sqlite:////absolute/path/to/file.")
_db = DATABASES["default"]
# Keep connections across requests: opening one per request costs more than the request.
_db["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 600)
# On by default. A kept connection dies with a database restart or failover; unchecked, the
# next request each server thread serves on it fails (up to workers x threads of them after
# every restart) and only then is it replaced. Checked, Django finds it dead at that request's
# first query and opens a new one: nothing fails once the database is back
# (tests/load/test_database_restart.py). The price, on PostgreSQL: a look at the connection's
# socket at the first query of a request (easportal/postgres/), and Django's SELECT 1 only when
# the server has sent something, as it does when it ends the session; SQLite's check costs
# nothing.
_db["CONN_HEALTH_CHECKS"] = env_bool("CONN_HEALTH_CHECKS", True)
if _db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_PREPARED_STATEMENTS",
                                                                   True):
    # Server-side parameters let PostgreSQL keep each query's plan once it has run a few
    # times: planning cost more than running our small queries. Off behind a pooler in
    # transaction mode (pgbouncer), which cannot keep prepared statements.
    _db.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 2})
if _db["ENGINE"] == "django.db.backends.postgresql" and not env_bool(
        "DATABASE_SYNCHRONOUS_COMMIT", False):
    # A commit waits for PostgreSQL to write it, not to flush it to disk: every call's history
    # row is committed, and seen by everyone, before the API answers, and survives any crash
    # of the portal; only a crash of the database server or its machine within about 0.6 s
    # (3 x wal_writer_delay) can lose the last commits, never corrupt them. This is what the
    # SQLite configuration below (WAL, synchronous=NORMAL) promises too, and it saves one
    # disk flush on every call (1-4 ms on this machine's disk). DATABASE_SYNCHRONOUS_COMMIT=1
    # flushes every commit before the answer instead.
    _db.setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
if _db["ENGINE"] == "django.db.backends.postgresql":
    # A database host that does not answer at all (not one that refuses) fails a new connection
    # after this many seconds, and the request with a 503, instead of holding its server thread
    # for the system's TCP timeout (minutes). ?connect_timeout= in DATABASE_URL overrides it.
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Django's backend, with a health check that costs no round trip (easportal/postgres/).
    _db["ENGINE"] = "easportal.postgres"
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside a writer; immediate transactions plus a busy timeout make
    # concurrent writers wait their turn instead of failing with "database is locked".
    _db.setdefault("OPTIONS", {}).update({
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    })

# A 1 MB body escaped into JSON must reach the gateway-limit check (413), not Django's 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = 8 * 1024 * 1024

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "services.auth.UserBackend",
]
SESSION_ENGINE = "services.sessions"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "service_list"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (services.auth.LoginThrottle): within the cool-off, AXES_FAILURE_LIMIT
# failures lock a (username, address) pair, so that one attacker mostly locks out only their own
# attempts; looser limits lock an address that guesses many usernames, and a username guessed
# from many addresses (0 turns either off). A lock lifts by itself after the cool-off.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(
    minutes=env_int("AXES_COOLOFF_MINUTES", 15)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "services.auth.LoginThrottle"
EASPORTAL_LOGIN_FAILURES_PER_ADDRESS = env_int("EASPORTAL_LOGIN_FAILURES_PER_ADDRESS", 20)
EASPORTAL_LOGIN_FAILURES_PER_USERNAME = env_int("EASPORTAL_LOGIN_FAILURES_PER_USERNAME", 10)
for _name in ("EASPORTAL_LOGIN_FAILURES_PER_ADDRESS", "EASPORTAL_LOGIN_FAILURES_PER_USERNAME"):
    if globals()[_name] < 0:
        refuse_to_start(_name, "must be 0 (no such limit) or more.")
# How many reverse proxies stand in front of the portal and append to X-Forwarded-For.
EASPORTAL_TRUSTED_PROXIES = env_int("EASPORTAL_TRUSTED_PROXIES", 0)
AXES_CLIENT_IP_CALLABLE = "services.auth.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Error reports and the debug page hide what @sensitive_variables and @sensitive_post_parameters
# mark (a service's token) with DEBUG on as well (easportal/reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "easportal.reporting.ReporterFilter"

LANGUAGE_CODE = "en-us"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switcher's choice outlives the browser session (and is kept in the profile as well).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "easportal.storage.StaticFilesStorage"},
}

# Production switches (README.md, "Production"): all off by default for plain-http development.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"services": {"level": os.environ.get("LOG_LEVEL", "INFO")}},
}
