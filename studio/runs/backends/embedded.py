"""The embedded backend: runs on this process's run host, logs and inboxes in memory.

Nothing here needs Redis. Runs execute on the process's :class:`~studio.runs.host.RunHost`
(a thread with its own event loop), never on the server's loop, so a busy run does not
delay the sockets the server serves. The live log and the inbox are safe to use from any
thread and any event loop: waiters are futures woken with ``call_soon_threadsafe``, so
the run host's loop appends and the server's loop reads without polling.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import functools
import logging
import threading
import time
from collections.abc import Collection, Sequence
from typing import Any

from django.conf import settings

from studio.runs.backends import (
    Backend,
    Inbox,
    LiveLog,
    Position,
    wait_at_most,
)
from studio.runs.database import call_database
from studio.runs.events import Frame
from studio.runs.host import current_host, get_host

logger = logging.getLogger(__name__)


class Waiters:
    """Futures, possibly on several loops, that one call wakes from any thread."""

    def __init__(self) -> None:
        self._futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def add(self) -> asyncio.Future[None]:
        """A future on the running loop, woken by the next :meth:`wake_all`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._futures.append((loop, future))
        return future

    def discard(self, future: asyncio.Future[None]) -> None:
        """Forget a future that is no longer waited for."""
        self._futures = [pair for pair in self._futures if pair[1] is not future]

    @property
    def count(self) -> int:
        """How many futures wait."""
        return len(self._futures)

    def wake_all(self) -> None:
        """Resolve every waiting future (call with the owner's lock held).

        One call per loop: waking two hundred watchers on the server's loop costs the
        run's loop one hand-over, not two hundred.
        """
        wake(self.take())

    def take(self) -> list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]:
        """The waiting futures with their loops, forgotten here: for :func:`wake`, which
        wakes those of several owners with one hand-over per loop."""
        futures, self._futures = self._futures, []
        return futures


def wake(futures: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]) -> None:
    """Resolve futures, each on its own loop: one hand-over per other loop."""
    if not futures:
        return
    try:
        current = asyncio.get_running_loop()
    except RuntimeError:
        current = None
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for loop, future in futures:
        by_loop.setdefault(loop, []).append(future)
    for loop, waiting in by_loop.items():
        if loop is current:
            resolve_all(waiting)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(resolve_all, waiting)


def resolve_all(futures: list[asyncio.Future[None]]) -> None:
    """Set each future's result unless it is already done."""
    for future in futures:
        if not future.done():
            future.set_result(None)


class MemoryLog(LiveLog):
    """A bounded in-memory log: the last ``keep`` entries, ordered by position.

    A finished run's entries are dropped shortly after it ended (its watchers have them
    by then, or read them from the database); the log remembers only the position it
    reached, so a reader that is behind it goes to the database instead of waiting.
    """

    def __init__(self, keep: int) -> None:
        self._lock = threading.Lock()
        self._positions: list[Position] = []
        self._entries: list[Frame] = []
        self._top: Position = (0, 0)
        self._waiters = Waiters()
        self._keep = keep
        self.is_finished = False
        self.finished_at = 0.0

    def append_nowait(
        self,
        frames: Sequence[Frame],
        woken: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] | None = None,
    ) -> None:
        """Append and wake readers; usable from synchronous code on any thread. With
        ``woken``, the readers' futures are added to it for the caller to :func:`wake`
        with those of other logs."""
        with self._lock:
            self.is_finished = False
            for frame in frames:
                self._positions.append(frame.position)
                self._entries.append(frame)
            if self._positions:
                self._top = self._positions[-1]
            if len(self._entries) > 2 * self._keep:
                del self._positions[: -self._keep]
                del self._entries[: -self._keep]
            if woken is None:
                self._waiters.wake_all()
            else:
                woken += self._waiters.take()

    async def append(self, frames: Sequence[Frame]) -> None:
        """See :meth:`LiveLog.append`."""
        self.append_nowait(frames)

    def _after(self, position: Position) -> list[Frame]:
        start = bisect.bisect_right(self._positions, position)
        return self._entries[start:]

    async def read(self, position: Position, block: float) -> list[Frame]:
        """See :meth:`LiveLog.read`."""
        with self._lock:
            found = self._after(position)
            # Behind an event that is no longer here: the database has it.
            if found or block <= 0 or position[0] < self._top[0]:
                return found
            future = self._waiters.add()
        await wait_at_most(future, block)
        with self._lock:
            self._waiters.discard(future)
            return self._after(position)

    async def finish(self) -> None:
        """See :meth:`LiveLog.finish`: keep the last few entries for watchers still
        reading them; the backend drops those, then the log, later."""
        self.finish_nowait()

    def finish_nowait(self) -> None:
        """:meth:`finish`, from synchronous code on any thread."""
        with self._lock:
            self.is_finished = True
            self.finished_at = time.monotonic()
            if len(self._entries) > FINISHED_WHOLE:
                del self._positions[:-FINISHED_KEEP]
                del self._entries[:-FINISHED_KEEP]

    def drop_entries(self) -> None:
        """Forget the entries (a finished run's, once its watchers had time to read them)."""
        with self._lock:
            self._positions.clear()
            self._entries.clear()
            self._waiters.wake_all()

    @property
    def is_idle(self) -> bool:
        """Finished, and nobody waits on it."""
        return self.is_finished and not self._waiters.count


class MemoryInbox(Inbox):
    """A FIFO of messages, fed from any thread, read by the run's executor."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: collections.deque[dict[str, Any]] = collections.deque()
        self._waiters = Waiters()

    def put_nowait(self, message: dict[str, Any]) -> None:
        """Queue a message and wake the reader."""
        with self._lock:
            self._messages.append(message)
            self._waiters.wake_all()

    async def get(self, wait: float) -> dict[str, Any] | None:
        """See :meth:`Inbox.get`."""
        with self._lock:
            if self._messages:
                return self._messages.popleft()
            future = self._waiters.add()
        await wait_at_most(future, wait)
        with self._lock:
            self._waiters.discard(future)
            return self._messages.popleft() if self._messages else None


class EmbeddedBackend(Backend):
    """Runs on this process's run host; logs and inboxes live in this process."""

    name = "embedded"
    #: whose runs a start resumes: every interrupted run (None), or only those the run
    #: host processes named here were executing (see :func:`recover_interrupted_runs`)
    resume_from: Collection[str] | None = None

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[int, MemoryLog] = {}
        self._inboxes: dict[int, MemoryInbox] = {}
        self._cancelled: set[int] = set()
        self._pruned_at = time.monotonic()
        self._is_started = False

    # --- logs and inboxes ---

    def log(self, run_id: int) -> MemoryLog:
        """See :meth:`Backend.log`."""
        with self._lock:
            self._prune()
            log = self._logs.get(run_id)
            if log is None:
                log = self._logs[run_id] = MemoryLog(settings.RUNS_LOG_MAXLEN)
            return log

    def _prune(self) -> None:
        """Bound the memory finished runs hold (at most once per ``PRUNE_SECONDS``).

        Their entries go ``FINISHED_ENTRIES_SECONDS`` after the end; their logs (and
        inboxes) once ``RUNS_LOG_TTL_SECONDS`` passed and nobody waits on them.
        """
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_SECONDS:
            return
        self._pruned_at = now
        for run_id, log in list(self._logs.items()):
            if not log.is_finished:
                continue
            if log.is_idle and log.finished_at < now - settings.RUNS_LOG_TTL_SECONDS:
                del self._logs[run_id]
                self._inboxes.pop(run_id, None)
                self._cancelled.discard(run_id)
            elif log.finished_at < now - FINISHED_ENTRIES_SECONDS:
                log.drop_entries()

    def inbox(self, run_id: int) -> MemoryInbox:
        """See :meth:`Backend.inbox`."""
        with self._lock:
            inbox = self._inboxes.get(run_id)
            if inbox is None:
                inbox = self._inboxes[run_id] = MemoryInbox()
            return inbox

    def post(self, run_id: int, message: dict[str, Any]) -> None:
        """See :meth:`Backend.post`."""
        self.inbox(run_id).put_nowait(message)

    def publish(self, run_id: int, frames: Sequence[Frame]) -> None:
        """See :meth:`Backend.publish`."""
        self.log(run_id).append_nowait(frames)

    def request_cancel(self, run_id: int) -> None:
        """See :meth:`Backend.request_cancel`."""
        with self._lock:
            self._cancelled.add(run_id)
        self.post(run_id, {"type": "stop"})

    async def is_cancel_requested(self, run_id: int) -> bool:
        """See :meth:`Backend.is_cancel_requested`."""
        return run_id in self._cancelled

    def reset_inbox(self, run_id: int) -> None:
        """See :meth:`Backend.reset_inbox`."""
        with self._lock:
            self._cancelled.discard(run_id)
            self._inboxes.pop(run_id, None)

    # --- execution ---

    def launch(self, run_id: int) -> str:
        """See :meth:`Backend.launch`: a task on the run host."""
        from studio.runs.execution import execute_run

        get_host().submit(run_id, functools.partial(execute_run, run_id, self))
        return ""

    def check_stop_later(self, run_id: int, delay: float) -> None:
        """See :meth:`Backend.check_stop_later`: a timer on the run host.

        The timer belongs to the run's execution and is dropped when it ends, so a run
        that obeyed the stop leaves nothing behind. A run with no execution here has
        nothing to terminate: a queued one honours the cancel flag when it starts, and a
        lost one is the sweeper's.
        """
        host = current_host()
        if host is not None:
            host.call_if_still_running(run_id, delay, functools.partial(self._force_stop, run_id))

    def _force_stop(self, run_id: int) -> None:
        from studio.runs.recovery import force_stop_if_active

        get_host().spawn(functools.partial(call_database, force_stop_if_active, run_id))

    def is_launch_pending(self, run_id: int) -> bool:
        """See :meth:`Backend.is_launch_pending`: the run has a task in this process."""
        host = current_host()
        return host is not None and host.is_running(run_id)

    def terminate(self, run_id: int, task_id: str) -> None:
        """See :meth:`Backend.terminate`: cancel the run's task on the host."""
        host = current_host()
        if host is not None:
            host.cancel(run_id)

    def ensure_started(self) -> None:
        """Once per process: resume interrupted runs, then sweep periodically."""
        with self._lock:
            if self._is_started:
                return
            self._is_started = True
        if settings.RUNS_RECOVER_ON_START:
            get_host().spawn(self._upkeep)

    async def _upkeep(self) -> None:
        from studio.runs.recovery import recover_interrupted_runs, sweep_forever

        loop = asyncio.get_running_loop()
        recover = closing_connections(recover_interrupted_runs)
        await loop.run_in_executor(None, recover, self, self.resume_from)
        await sweep_forever()


#: how often finished logs are looked for to forget, at most (seconds)
PRUNE_SECONDS = 1.0
#: how long a finished run's last entries stay for watchers still reading them (seconds),
#: and how many (a watcher further behind reads from the database); a short run (a
#: hundred messages or so, each with its usage) stays whole, for the watcher that opens
#: it just after it ended
FINISHED_ENTRIES_SECONDS = 10.0
FINISHED_KEEP = 100
FINISHED_WHOLE = 256


def closing_connections(function: Any) -> Any:
    """``function`` that closes the calling thread's database connections when done."""

    @functools.wraps(function)
    def wrapper(*args: Any) -> Any:
        from django.db import connections

        try:
            return function(*args)
        finally:
            connections.close_all()

    return wrapper
