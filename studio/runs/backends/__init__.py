"""Execution backends: where a run executes, its live event log and its inbox.

One interface, two implementations (see DESIGN §4):

- ``embedded`` (default): the run is an asyncio task on the server's own event loop; the
  live log is in memory; the inbox is in memory.
- ``distributed`` (``REDIS_URL`` set): the run is a Celery task; the live log is a Redis
  Stream per run; the inbox is a Redis list plus a cancel flag key.

The database is the record; the live log only tells watchers what is new and lets them
tail from a position. Services, the sink and the consumer use only :class:`Backend`.
"""

from __future__ import annotations

import abc
import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from studio.runs.events import Frame

Position = tuple[int, int]


class LiveLog(abc.ABC):
    """A run's recent events in order, readable from a position, waiting for more."""

    @abc.abstractmethod
    async def append(self, frames: Sequence[Frame]) -> None:
        """Publish events (already persisted, except chunks) in order."""

    @abc.abstractmethod
    async def read(self, position: Position, block: float) -> list[Frame]:
        """Events after ``position`` (``(seq, chunk index)``), waiting up to ``block`` s.

        May start later than ``position`` when older entries were trimmed: callers fill
        gaps in seq from the database.
        """

    @abc.abstractmethod
    async def finish(self) -> None:
        """The run ended: keep the log a while for late readers, then drop it."""


class Inbox(abc.ABC):
    """Messages to a running run: ``input``, ``stop``, ``interject``."""

    @abc.abstractmethod
    async def get(self, wait: float) -> dict[str, Any] | None:
        """The next message, or None after ``wait`` seconds."""


class Backend(abc.ABC):
    """Launches runs and carries their events and messages."""

    name: str = ""

    @abc.abstractmethod
    def launch(self, run_id: int) -> str:
        """Start executing run ``run_id`` (called once the transaction commits).

        Returns an id for the execution (a Celery task id, or "" in process).
        """

    @abc.abstractmethod
    def log(self, run_id: int) -> LiveLog:
        """The live log of a run (usable from async code on any loop)."""

    @abc.abstractmethod
    def inbox(self, run_id: int) -> Inbox:
        """The inbox the executor of a run reads."""

    @abc.abstractmethod
    def post(self, run_id: int, message: dict[str, Any]) -> None:
        """Put a message into a run's inbox, from synchronous code."""

    @abc.abstractmethod
    def publish(self, run_id: int, frames: Sequence[Frame]) -> None:
        """Append persisted events to a run's live log, from synchronous code."""

    @abc.abstractmethod
    def request_cancel(self, run_id: int) -> None:
        """Ask a run to stop: a stop message, and a flag a not-yet-started run honours."""

    @abc.abstractmethod
    async def is_cancel_requested(self, run_id: int) -> bool:
        """Whether a stop was requested before the executor started listening."""

    @abc.abstractmethod
    def reset_inbox(self, run_id: int) -> None:
        """Forget earlier messages and stop requests (a relaunched run starts afresh)."""

    @abc.abstractmethod
    def check_stop_later(self, run_id: int, delay: float) -> None:
        """After ``delay`` seconds, force-stop the run if it is still active."""

    def is_launch_pending(self, run_id: int) -> bool:
        """Whether a launch of the run may still be waiting to start (then a sweep leaves it)."""
        return False

    def launch_started(self, run_id: int) -> None:
        """The launched execution of the run started: it is no longer pending."""
        return None

    def terminate(self, run_id: int, task_id: str) -> None:
        """Last resort for a run that does not react to stop: kill its execution."""
        return None

    async def release(self) -> None:
        """Free per-loop resources of the calling event loop (end of a worker task)."""
        return None

    def ensure_started(self) -> None:
        """Process start-up duties (recovering interrupted runs); idempotent."""
        return None


async def wait_at_most(future: asyncio.Future[None], limit: float) -> None:
    """Wait for ``future`` at most ``limit`` seconds.

    Not ``asyncio.wait_for``: on Python 3.11 it swallows a cancellation that arrives as
    the future completes, and a watcher's follower then outlives its closed socket.
    """
    try:
        async with asyncio.timeout(limit):
            await future
    except TimeoutError:
        pass


#: Backend name (``RUNS_BACKEND``) -> a factory. The implementations launch executions,
#: which sit above the layers that use this interface, so they are registered at start-up
#: (:meth:`studio.runs.apps.RunsConfig.ready`) rather than imported here.
BACKEND_FACTORIES: dict[str, Callable[[], Backend]] = {}


def register_backend(name: str, factory: Callable[[], Backend]) -> None:
    """Make a backend available under ``name`` for ``RUNS_BACKEND``."""
    BACKEND_FACTORIES[name] = factory


@functools.cache
def get_backend() -> Backend:
    """The configured backend (``RUNS_BACKEND``), one instance per process."""
    factory = BACKEND_FACTORIES.get(settings.RUNS_BACKEND)
    if factory is None:
        raise ImproperlyConfigured(
            f"No runs backend named {settings.RUNS_BACKEND!r} is registered "
            f"(known: {', '.join(sorted(BACKEND_FACTORIES)) or 'none'})."
        )
    return factory()
