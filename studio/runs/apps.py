"""App configuration for runs."""

from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.signals import request_started

START_UID = "runs-start-backend"


def start_backend(**kwargs: Any) -> None:
    """On the first request a server handles, let the backend do its start-up duties."""
    from studio.runs.backends import get_backend

    get_backend().ensure_started()
    request_started.disconnect(dispatch_uid=START_UID)


def embedded_backend() -> Any:
    """The embedded backend: a server's runs in a run host process, anyone else's on a
    thread of their own (``manage.py run_team``, a shell)."""
    from studio.runs.backends.embedded import EmbeddedBackend
    from studio.runs.backends.hosted import ServerBackend, is_server_process

    if settings.RUNS_HOST == "process" and is_server_process():
        return ServerBackend()
    return EmbeddedBackend()


class RunsConfig(AppConfig):
    """Registers the runs app and its start-up hook."""

    name = "studio.runs"
    label = "runs"
    verbose_name = "Runs"

    def ready(self) -> None:
        """Register the backends and hook the backend's start-up onto the first request."""
        from studio.runs.backends import register_backend
        from studio.runs.backends.distributed import DistributedBackend

        register_backend("embedded", embedded_backend)
        register_backend("distributed", lambda: DistributedBackend(settings.REDIS_URL))
        request_started.connect(start_backend, dispatch_uid=START_UID)
