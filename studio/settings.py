"""Roundtable settings: one module, in sections, every environment variable read once.

Each variable goes through a small typed reader below that raises `ImproperlyConfigured`
with the variable's name when its value cannot be used. Defaults give the embedded mode:
SQLite in the data folder, no Redis, runs on the server's own event loop.
"""

import os
import secrets
import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from studio.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Typing ---

# Let classes that django-stubs declares generic take type arguments at run time too
# (`admin.ModelAdmin[Team]`), so mypy checks what each admin class handles.
django_stubs_ext.monkeypatch()


# --- Environment readers ---


def env_str(name: str, default: str = "") -> str:
    """Return the variable as text, or `default` when unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    """Return the variable as a boolean (1/0, true/false, yes/no, on/off)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    """Return the variable as an integer no smaller than `minimum`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Return the variable as a comma-separated list with blanks dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_key_urls(name: str) -> dict[str, str]:
    """Return a comma-separated list of NAME or NAME=URL entries as {NAME: URL or ""}."""
    mapping: dict[str, str] = {}
    for entry in env_list(name, []):
        variable, _, url = entry.partition("=")
        variable, url = variable.strip(), url.strip()
        if not variable.isidentifier() or (url and urlsplit(url).scheme not in {"http", "https"}):
            raise ImproperlyConfigured(
                f"{name} entries are NAME or NAME=http(s)://…, not {entry!r}."
            )
        mapping[variable] = url
    return mapping


def env_path(name: str, default: Path) -> Path:
    """Return the variable as an absolute path (relative paths start at the project)."""
    raw = os.environ.get(name, "").strip()
    path = Path(raw) if raw else default
    return path if path.is_absolute() else (BASE_DIR / path).resolve()


def sqlite_database(path: Path) -> dict[str, object]:
    """SQLite set up for a server with concurrent writers (runs write while requests do).

    Write transactions start IMMEDIATE so two of them queue on the lock instead of one
    failing with "database is locked"; WAL lets readers proceed while a run writes. The
    studio's backend (:mod:`studio.sqlite.base`) hands the lock to a waiting writer as
    soon as it is free.
    """
    return {
        "ENGINE": "studio.sqlite",
        "NAME": path,
        # Tests use a file rather than Django's in-memory default so that the Celery
        # worker process the distributed tests start can open the same database; the
        # process id keeps concurrent test sessions apart.
        "TEST": {"NAME": Path(tempfile.gettempdir()) / f"roundtable-test-{os.getpid()}.sqlite3"},
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def postgres_pool() -> dict[str, object] | None:
    """Pool sizes for PostgreSQL, per process (a server, a worker); None: no pool.

    Each process holds at most DATABASE_POOL_MAX_SIZE connections, so the database needs
    about that many per daphne server and per worker child; a request or a run that finds
    the pool busy waits up to DATABASE_POOL_TIMEOUT seconds for a connection.
    """
    max_size = env_int("DATABASE_POOL_MAX_SIZE", 10, minimum=0)
    if max_size == 0:
        return None
    min_size = env_int("DATABASE_POOL_MIN_SIZE", 1, minimum=0)
    if min_size > max_size:
        raise ImproperlyConfigured(
            f"DATABASE_POOL_MIN_SIZE ({min_size}) must not exceed DATABASE_POOL_MAX_SIZE "
            f"({max_size})."
        )
    timeout = env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1)
    return {"min_size": min_size, "max_size": max_size, "timeout": float(timeout)}


def database_from_url(url: str, data_dir: Path) -> dict[str, object]:
    """Turn DATABASE_URL into a Django DATABASES entry (PostgreSQL or SQLite).

    PostgreSQL connections come from a bounded pool (see :func:`postgres_pool`) and go
    back to it after each request and each database call of a run: persistent
    connections (CONN_MAX_AGE) leaked under ASGI, where each request's thread kept its
    own until it was collected.
    """
    if not url:
        return sqlite_database(data_dir / "roundtable.sqlite3")
    parts = urlsplit(url)
    if parts.scheme in {"postgres", "postgresql", "pgsql"}:
        options: dict[str, object] = dict(parse_qsl(parts.query))
        pool = postgres_pool()
        if pool is not None:
            options["pool"] = pool
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")) or "roundtable",
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 0,
            # With a pool: connections are checked before they are handed out, so one
            # the server dropped while idle is replaced instead of failing a query.
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    if parts.scheme == "sqlite":
        name = unquote(url[len("sqlite://") :]).lstrip("/")
        path = Path("/" + name) if url.startswith("sqlite:////") else data_dir / name
        return sqlite_database(path)
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with postgresql:// or sqlite://, not {parts.scheme}://."
    )


def load_secret_key(data_dir: Path) -> str:
    """Return SECRET_KEY, generating it once into a 0600 file in the data folder."""
    configured = env_str("SECRET_KEY").strip()
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


# --- Core ---

DATA_DIR = env_path("DATA_DIR", BASE_DIR / "data")
DATA_DIR.mkdir(parents=True, exist_ok=True)
SECRET_KEY = load_secret_key(DATA_DIR)
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "ninja",
    "studio.accounts",
    "studio.teams",
    "studio.runs",
    "studio.web",
]

MIDDLEWARE = [
    "studio.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "studio.middleware.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "studio.urls"
ASGI_APPLICATION = "studio.asgi.application"
WSGI_APPLICATION = None

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
            ],
        },
    },
]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# --- Database ---

DATABASE_URL = env_str("DATABASE_URL").strip()
DATABASES = {"default": database_from_url(DATABASE_URL, DATA_DIR)}
# Threads that serve HTTP requests and the websockets' database calls, each one call at a
# time (see studio.server_threads); on SQLite each keeps its connection open (1 to 64).
SERVER_THREADS = env_int("SERVER_THREADS", 8, minimum=1)
if SERVER_THREADS > 64:
    raise ImproperlyConfigured(f"SERVER_THREADS must be at most 64, not {SERVER_THREADS}.")


# --- Accounts and security ---

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# A stale form (a session that ended, a page open since before a log-in) gets a page that
# says to reload, not Django's bare one.
CSRF_FAILURE_VIEW = "studio.web.errors.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Encrypts provider API keys at rest; derived from SECRET_KEY unless set on its own, so
# rotating SECRET_KEY without setting this makes stored keys unreadable.
CREDENTIALS_SECRET = env_str("CREDENTIALS_SECRET").strip()
# Largest accepted request body; larger API requests get 413.
MAX_REQUEST_BYTES = env_int("MAX_REQUEST_BYTES", 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES


# --- HTTPS and browser security (deployment) ---

# Off by default so `make run` works on http://127.0.0.1; behind HTTPS turn them all on
# (`manage.py check --deploy` then reports no warnings; see README, "Going further").
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (run daphne with
# --proxy-headers too, so client addresses, which throttling counts by, are the real ones).
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sent on every response by studio.middleware.ContentSecurityPolicyMiddleware. No inline
# code anywhere: pages load their scripts and styles from /static/. The run view's
# websocket is allowed on the page's own host (ws:// or wss:// as the page was served).
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


# --- Static files ---

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"


# --- Redis, Channels and Celery ---

# Empty means embedded mode: no Redis, runs on the server loop. Websockets need no
# channel layer: a consumer follows its run's live log itself (studio.runs.streaming).
REDIS_URL = env_str("REDIS_URL").strip()
# How long a watcher's read of the live log blocks (XREAD BLOCK) before it looks at the
# database again, in seconds; no blocking Redis read (BLPOP included) waits longer.
# redis-py 8 cuts socket reads at 5 s, so every client's socket timeout stays above this.
REDIS_BLOCK_SECONDS = env_int("REDIS_BLOCK_SECONDS", 5, minimum=1)
REDIS_SOCKET_TIMEOUT = REDIS_BLOCK_SECONDS + 20
# Redis connections an event loop opens at most (a server's watched runs each hold one
# while their read blocks); commands beyond wait for a free one.
REDIS_MAX_CONNECTIONS = env_int("REDIS_MAX_CONNECTIONS", 1000, minimum=10)
# The longest a run may take; the broker redelivers unacknowledged tasks after this.
RUN_MAX_SECONDS = env_int("RUN_MAX_SECONDS", 6 * 3600, minimum=60)

CELERY_BROKER_URL = REDIS_URL or "memory://"
# kombu's Redis transport builds a Redis client for every publish and every task it
# acknowledges; ours keeps one (see studio/broker.py). rediss:// (kombu sets up its TLS
# from the scheme) and memory:// keep kombu's own transport.
if REDIS_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "studio.broker:Transport"
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A run's task only hands the run to the process's run host (RUNS_PER_PROCESS runs) and
# returns, so the plain `celery -A studio worker` is one process that takes tasks one at
# a time, and stops taking them while its host is full.
CELERY_WORKER_POOL = "solo"
# Workers log through LOGGING like the server (run ids, LOG_FORMAT), not Celery's own setup.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": RUN_MAX_SECONDS + 3600,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
CELERY_TIMEZONE = TIME_ZONE


# --- Cache, throttling and run limits ---

# Throttle counters live in the cache, which every server process must share: Redis in
# distributed mode, else a database table (created by `migrate`, see studio.accounts.apps).
if REDIS_URL:
    CACHES: dict[str, dict[str, object]] = {
        "default": {
            "BACKEND": "studio.redis_pool.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "roundtable",
            # One pool and one client for the process, not one per request or per call
            # (see the module).
            "OPTIONS": {"pool_class": "studio.redis_pool.SharedConnectionPool"},
        }
    }
else:
    CACHES = {
        "default": {
            # Django's, with each write one statement (see the module).
            "BACKEND": "studio.database_cache.DatabaseCache",
            "LOCATION": "roundtable_cache",
            # Culling would forget counters: keep plenty before the oldest entries go.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# Failed log-ins (the login page and the admin's) allowed per username and per client
# address within the window; past either, log-ins are refused (429, a form error) until
# the window ends, even with the right password.
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 900, minimum=1)
LOGIN_MAX_FAILURES_PER_USERNAME = env_int("LOGIN_MAX_FAILURES_PER_USERNAME", 10, minimum=1)
LOGIN_MAX_FAILURES_PER_IP = env_int("LOGIN_MAX_FAILURES_PER_IP", 30, minimum=1)
# Wrong bearer tokens (API and websockets) allowed per client address in the same window;
# past it every bearer request from that address gets 429.
API_MAX_BAD_TOKENS_PER_IP = env_int("API_MAX_BAD_TOKENS_PER_IP", 20, minimum=1)
# Runs one user may start (start, continue and fork alike) per minute, and have active at
# once (queued, running, or waiting for an answer without being parked). 0: no limit.
RUNS_STARTS_PER_MINUTE = env_int("RUNS_STARTS_PER_MINUTE", 30, minimum=0)
RUNS_MAX_ACTIVE_PER_USER = env_int("RUNS_MAX_ACTIVE_PER_USER", 10, minimum=0)
# Ceilings on one run, from each start or continue: turns of the team, and calls to model
# providers. A run that reaches one ends as budget_exhausted with a reason naming it; a
# team's own smaller max_turns still ends it as completed.
RUNS_MAX_TURNS = env_int("RUNS_MAX_TURNS", 200, minimum=1)
RUNS_MAX_MODEL_CALLS = env_int("RUNS_MAX_MODEL_CALLS", 500, minimum=1)


# --- Logging ---

# How long /health/ waits for Celery workers to answer a ping (distributed mode).
HEALTH_WORKER_TIMEOUT_SECONDS = env_int("HEALTH_WORKER_TIMEOUT_MS", 1000, minimum=50) / 1000
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# text: readable lines; json: one JSON object per line for log collectors. Records about a
# run carry its id either way (see studio/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "text").lower()
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, not {LOG_FORMAT!r}.")
LOGGING = logging_config(LOG_LEVEL, LOG_FORMAT)


# --- Teams ---

# Built-in URL fetcher: private, loopback and link-local addresses are refused unless set.
FETCH_ALLOW_PRIVATE_ADDRESSES = env_bool("FETCH_ALLOW_PRIVATE_ADDRESSES", False)
# Environment variables a credential may name as its key, as NAME (the key goes only to
# the provider's own URL) or NAME=URL (only to that URL). Nothing else in the server's
# environment can be read through a credential. Example: OPENAI_API_KEY,OLLAMA_KEY=http://…
CREDENTIAL_KEY_ENV_VARS = env_key_urls("CREDENTIAL_KEY_ENV_VARS")
# Model servers on private, loopback or link-local addresses that model base URLs may
# reach, as host, host:port or a network (for Ollama on this machine: localhost:11434).
# Every other non-public address is refused after DNS, on every connection.
MODEL_PRIVATE_HOSTS = env_list("MODEL_PRIVATE_HOSTS", [])


# --- Runs ---

# Where runs execute: "embedded" (the server's loop) or "distributed" (Celery + Redis).
RUNS_BACKEND = env_str("RUNS_BACKEND", "distributed" if REDIS_URL else "embedded").strip()
if RUNS_BACKEND not in {"embedded", "distributed"}:
    raise ImproperlyConfigured(
        f"RUNS_BACKEND must be embedded or distributed, not {RUNS_BACKEND!r}."
    )
# An executor renews its lease this often; a lease older than RUNS_LEASE_SECONDS is dead.
RUNS_HEARTBEAT_SECONDS = env_int("RUNS_HEARTBEAT_SECONDS", 5, minimum=1)
RUNS_LEASE_SECONDS = env_int("RUNS_LEASE_SECONDS", 30, minimum=2)
# A run that lost its executor this many times fails instead of resuming again.
RUNS_MAX_ATTEMPTS = env_int("RUNS_MAX_ATTEMPTS", 5, minimum=1)
# The human seat: park (release the worker) after the grace, time out after the limit.
RUNS_INPUT_GRACE_SECONDS = env_int("RUNS_INPUT_GRACE_SECONDS", 60, minimum=0)
RUNS_INPUT_TIMEOUT_SECONDS = env_int("RUNS_INPUT_TIMEOUT_SECONDS", 24 * 3600, minimum=1)
# A checkpoint is written after every completed agent turn (0, the default), so a run can
# resume, or be forked, from any of its messages; checkpoints after the first are deltas,
# so this stays cheap as a conversation grows. A positive value spaces them at least that
# many ms apart (forking is then possible only from messages that ended a checkpointed
# turn); teams with a human seat always checkpoint after every turn.
RUNS_CHECKPOINT_INTERVAL_MS = env_int("RUNS_CHECKPOINT_INTERVAL_MS", 0, minimum=0)
# A run that ignores stop for this long is terminated.
RUNS_STOP_GRACE_SECONDS = env_int("RUNS_STOP_GRACE_SECONDS", 10, minimum=1)
# Live logs: entries kept per run (a watcher further behind reads the database), and how
# long a finished run's log stays.
RUNS_LOG_MAXLEN = env_int("RUNS_LOG_MAXLEN", 1_000, minimum=100)
RUNS_LOG_TTL_SECONDS = env_int("RUNS_LOG_TTL_SECONDS", 3600, minimum=1)
# Upkeep (every worker and every embedded server sweeps; no separate beat is needed): how
# often to look for lost runs at most (sooner when a lease is about to expire), and when a
# queued run whose task is no longer in the queue (Redis restarted) is launched again. A
# launch still in the queue is repeated only after ten times that (a duplicate is harmless:
# the claim is a conditional update, the second task finds the run taken and leaves).
RUNS_SWEEP_SECONDS = env_int("RUNS_SWEEP_SECONDS", 10, minimum=1)
RUNS_QUEUED_RELAUNCH_SECONDS = env_int("RUNS_QUEUED_RELAUNCH_SECONDS", 30, minimum=1)
# A run's database writes that lose their connection are retried on a new one for this
# long (the run goes on); a run that cannot be claimed for this long fails with the reason.
RUNS_DATABASE_RETRY_SECONDS = env_int("RUNS_DATABASE_RETRY_SECONDS", 60, minimum=1)
# An embedded server resumes the runs it was executing when it stopped (off in tests).
RUNS_RECOVER_ON_START = env_bool("RUNS_RECOVER_ON_START", True)
# Every process (a server, a worker) executes its runs on one run host: a thread with its
# own event loop, off the server's. It holds at most RUNS_PER_PROCESS runs (a worker takes
# no more from the queue meanwhile), and their database calls share RUNS_DATABASE_THREADS
# threads, each with its own connection (1 to 8).
RUNS_PER_PROCESS = env_int("RUNS_PER_PROCESS", 1000, minimum=1)
# Where an embedded server's run host lives: "process" (the default) starts child processes
# (RUNS_HOST_PROCESSES), so a busy run never competes with the server's sockets for the
# interpreter; "thread" keeps it in the server's process. Only the server (studio.asgi)
# starts children: management commands, shells and in-process tests run runs on a thread.
RUNS_HOST = env_str("RUNS_HOST", "process").strip()
if RUNS_HOST not in {"process", "thread"}:
    raise ImproperlyConfigured(f"RUNS_HOST must be process or thread, not {RUNS_HOST!r}.")
# How many run host processes an embedded server starts: one run host is bound to one core
# (its interpreter lock), so by default one per core, at most 4; runs are handed to them in
# turn.
RUNS_HOST_PROCESSES = env_int("RUNS_HOST_PROCESSES", min(os.cpu_count() or 1, 4), minimum=1)
RUNS_DATABASE_THREADS = env_int("RUNS_DATABASE_THREADS", 4, minimum=1)
if RUNS_DATABASE_THREADS > 8:
    raise ImproperlyConfigured(
        f"RUNS_DATABASE_THREADS must be at most 8, not {RUNS_DATABASE_THREADS}."
    )
_options = DATABASES["default"].get("OPTIONS")
_pool = _options.get("pool") if isinstance(_options, dict) else None
if isinstance(_pool, dict) and _pool["max_size"] <= RUNS_DATABASE_THREADS:
    raise ImproperlyConfigured(
        f"RUNS_DATABASE_THREADS ({RUNS_DATABASE_THREADS}) must be below "
        f"DATABASE_POOL_MAX_SIZE ({_pool['max_size']}): the run host's threads keep their "
        "connections, and requests and upkeep need some too."
    )
# How far below the server's the CPU priority of a run host's loop is (where runs execute,
# in a run host process, a Celery worker or a server): Linux's niceness, of that thread
# only; 0 keeps it level. Where a server shares the machine with busy runs, a request or a
# socket then gets a core first and the runs share what is left.
RUNS_NICENESS = env_int("RUNS_NICENESS", 10)
if RUNS_NICENESS > 19:
    raise ImproperlyConfigured(f"RUNS_NICENESS must be at most 19, not {RUNS_NICENESS}.")
# Largest websocket frame a client may send.
RUNS_WS_MAX_FRAME_BYTES = env_int("RUNS_WS_MAX_FRAME_BYTES", 64 * 1024, minimum=1024)
# An open websocket re-checks its user's rights this often and closes when they are gone.
RUNS_WS_RIGHTS_CHECK_SECONDS = env_int("RUNS_WS_RIGHTS_CHECK_SECONDS", 5, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "runs-sweep": {"task": "runs.sweep", "schedule": float(RUNS_SWEEP_SECONDS)},
}


# --- Run review and retention ---

# `manage.py prune_runs` deletes finished runs older than this many days when no
# --older-than is given; 0 keeps runs forever (the command then needs --older-than).
RUN_RETENTION_DAYS = env_int("RUN_RETENTION_DAYS", 0, minimum=0)


# --- Web ---
