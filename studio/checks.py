"""Django system checks for configuration that would fail later and obscurely.

Ids are stable (`roundtable.E001` …) so deployments can silence a warning on purpose.
"""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import connections


@register(Tags.compatibility)
def check_redis(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """REDIS_URL must be a redis URL, and reads must outlive the longest block."""
    problems: list[CheckMessage] = []
    if settings.REDIS_URL and urlsplit(settings.REDIS_URL).scheme not in {"redis", "rediss"}:
        problems.append(
            Error(
                "REDIS_URL must start with redis:// or rediss://.",
                hint="Unset REDIS_URL to use the embedded mode.",
                id="roundtable.E001",
            )
        )
    if settings.REDIS_SOCKET_TIMEOUT <= settings.REDIS_BLOCK_SECONDS:
        problems.append(
            Error(
                "REDIS_SOCKET_TIMEOUT must be longer than REDIS_BLOCK_SECONDS.",
                hint="Otherwise blocking reads time out and drop the connection.",
                id="roundtable.E002",
            )
        )
    return problems


@register(Tags.compatibility)
def check_celery(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Late acknowledgement needs a visibility timeout longer than any run."""
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    if options.get("visibility_timeout", 0) <= settings.RUN_MAX_SECONDS:
        return [
            Error(
                "The broker visibility_timeout must be longer than RUN_MAX_SECONDS.",
                hint="A shorter timeout makes the broker hand a running run to a second worker.",
                id="roundtable.E003",
            )
        ]
    return []


@register(Tags.database)
def check_database_for_distributed_mode(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Workers and servers in separate processes should share PostgreSQL, not SQLite."""
    if settings.REDIS_URL and connections["default"].vendor == "sqlite":
        return [
            Warning(
                "REDIS_URL is set (distributed mode) but the database is SQLite.",
                hint="Set DATABASE_URL to a PostgreSQL database for several processes.",
                id="roundtable.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_credentials_secret(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """In production, keep the credentials key independent of SECRET_KEY rotation."""
    if not settings.CREDENTIALS_SECRET:
        return [
            Warning(
                "CREDENTIALS_SECRET is not set; stored API keys are encrypted with a key "
                "derived from SECRET_KEY.",
                hint="Set CREDENTIALS_SECRET so rotating SECRET_KEY keeps keys readable.",
                id="roundtable.W002",
            )
        ]
    return []


#: cache backends that keep nothing other processes can read
PROCESS_LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


@register(Tags.security)
def check_throttle_cache(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Login, token and run-start throttles count in the cache: every process must share it."""
    if settings.CACHES["default"]["BACKEND"] in PROCESS_LOCAL_CACHES:
        return [
            Warning(
                "The default cache is not shared between processes, so login, API token "
                "and run-start throttles count separately in each (or not at all).",
                hint="Keep the database cache (the default) or set REDIS_URL.",
                id="roundtable.W003",
            )
        ]
    return []
