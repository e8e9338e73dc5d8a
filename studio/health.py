"""``GET /health/``: can this server do its work? For load balancers and operators.

Checks the database; in the embedded mode the run host processes (when runs execute in
them; at least one must serve), in the distributed mode Redis and the Celery workers. Answers
200 when every check passes and 503 otherwise, with one entry per check::

    {"status": "ok", "mode": "distributed",
     "checks": {"database": {"ok": true, "ms": 0.8},
                "redis": {"ok": true, "ms": 0.3},
                "workers": {"ok": true, "ms": 1001.2, "count": 2}}}

No login is needed, so a failed check names only the kind of error, never its message
(which may carry host names or credentials); the server log has the whole error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from studio.runs.backends import get_backend
from studio.runs.backends.distributed import DistributedBackend
from studio.runs.backends.hosted import ServerBackend

logger = logging.getLogger(__name__)

Check = dict[str, Any]


def timed(name: str, probe: Callable[[], dict[str, Any]]) -> Check:
    """Run one probe: ``ok``, the time it took, what it reported, or the kind of error."""
    started = time.perf_counter()
    try:
        result: Check = {"ok": True, **probe()}
    except Exception as exc:
        logger.warning("health check %s failed: %s", name, exc, exc_info=True)
        result = {"ok": False, "error": type(exc).__name__}
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def probe_database() -> dict[str, Any]:
    """A round trip to the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def probe_redis(backend: DistributedBackend) -> dict[str, Any]:
    """A round trip to Redis."""
    backend.sync_client().ping()
    return {}


def probe_workers() -> dict[str, Any]:
    """How many Celery workers answer a ping within ``HEALTH_WORKER_TIMEOUT_SECONDS``."""
    from studio.celery import app

    replies = app.control.ping(timeout=settings.HEALTH_WORKER_TIMEOUT_SECONDS)
    if not replies:
        raise NoWorkers("no worker answered")
    return {"count": len(replies)}


class NoWorkers(Exception):
    """No Celery worker answered: queued runs will not start."""


def probe_run_host(backend: ServerBackend) -> dict[str, Any]:
    """Whether the run host processes run (they are started if they do not): all of them,
    or some while a dead one's successor starts (``serving`` of ``processes``)."""
    backend.ensure_started()
    pids = backend.host_pids
    if not pids:
        raise RunHostDown("no run host process is running")
    return {"pid": pids[0], "pids": pids, "serving": len(pids), "processes": backend.host_count}


class RunHostDown(Exception):
    """The embedded server's run host processes are down: runs do not execute."""


def checks() -> tuple[str, dict[str, Check]]:
    """The execution mode and the result of each check it needs."""
    backend = get_backend()
    results = {"database": timed("database", probe_database)}
    if isinstance(backend, ServerBackend):
        results["run_host"] = timed("run host", lambda: probe_run_host(backend))
    if isinstance(backend, DistributedBackend):
        results["redis"] = timed("redis", lambda: probe_redis(backend))
        if results["redis"]["ok"]:
            results["workers"] = timed("workers", probe_workers)
        else:
            results["workers"] = {"ok": False, "error": "RedisUnavailable", "ms": 0.0}
    return backend.name, results


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 with the checks when all pass, 503 with them when one fails."""
    mode, results = checks()
    ok = all(result["ok"] for result in results.values())
    body = {"status": "ok" if ok else "failing", "mode": mode, "checks": results}
    return JsonResponse(body, status=200 if ok else 503)
