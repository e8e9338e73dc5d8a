"""The embedded backend: runs as asyncio tasks on the server's loop, logs in memory.

Nothing here needs Redis. The live log and the inbox are safe to use from any thread and
any event loop: waiters are futures woken with ``call_soon_threadsafe``. A run executes
on the loop of the server process (daphne's), found from the calling context; a plain
synchronous caller with no loop at all (a management command, a script) gets a private
background loop.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextvars
import logging
import threading
from collections.abc import Sequence
from typing import Any

from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings

from studio.runs.backends import Backend, Envelope, Inbox, LiveLog, Position
from studio.runs.events import envelope_position

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

    def wake_all(self) -> None:
        """Resolve every waiting future (call with the owner's lock held)."""
        futures, self._futures = self._futures, []
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, future in futures:
            if loop is current:
                resolve(future)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(resolve, future)


def resolve(future: asyncio.Future[None]) -> None:
    """Set a future's result unless it is already done."""
    if not future.done():
        future.set_result(None)


class MemoryLog(LiveLog):
    """A bounded in-memory log: the last ``keep`` entries, ordered by position."""

    def __init__(self, keep: int) -> None:
        self._lock = threading.Lock()
        self._positions: list[Position] = []
        self._entries: list[Envelope] = []
        self._waiters = Waiters()
        self._keep = keep
        self.is_finished = False

    def append_nowait(self, envelopes: Sequence[Envelope]) -> None:
        """Append and wake readers; usable from synchronous code on any thread."""
        with self._lock:
            self.is_finished = False
            for envelope in envelopes:
                self._positions.append(envelope_position(envelope))
                self._entries.append(envelope)
            if len(self._entries) > 2 * self._keep:
                del self._positions[: -self._keep]
                del self._entries[: -self._keep]
            self._waiters.wake_all()

    async def append(self, envelopes: Sequence[Envelope]) -> None:
        """See :meth:`LiveLog.append`."""
        self.append_nowait(envelopes)

    def _after(self, position: Position) -> list[Envelope]:
        start = bisect.bisect_right(self._positions, position)
        return self._entries[start:]

    async def read(self, position: Position, block: float) -> list[Envelope]:
        """See :meth:`LiveLog.read`."""
        with self._lock:
            found = self._after(position)
            if found or block <= 0:
                return found
            future = self._waiters.add()
        try:
            await asyncio.wait_for(future, block)
        except TimeoutError:
            pass
        with self._lock:
            self._waiters.discard(future)
            return self._after(position)

    async def finish(self) -> None:
        """See :meth:`LiveLog.finish`; the backend drops finished logs later."""
        with self._lock:
            self.is_finished = True


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
        try:
            await asyncio.wait_for(future, wait)
        except TimeoutError:
            pass
        with self._lock:
            self._waiters.discard(future)
            return self._messages.popleft() if self._messages else None


class EmbeddedBackend(Backend):
    """Runs on the server's event loop; logs and inboxes live in this process."""

    name = "embedded"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._logs: dict[int, MemoryLog] = {}
        self._inboxes: dict[int, MemoryInbox] = {}
        self._cancelled: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: dict[int, asyncio.Task[None]] = {}
        self._server_loop: asyncio.AbstractEventLoop | None = None
        self._private_loop: asyncio.AbstractEventLoop | None = None
        self._is_started = False

    # --- logs and inboxes ---

    def log(self, run_id: int) -> MemoryLog:
        """See :meth:`Backend.log`."""
        with self._lock:
            log = self._logs.get(run_id)
            if log is None:
                log = self._logs[run_id] = MemoryLog(settings.RUNS_LOG_MAXLEN)
            return log

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

    def publish(self, run_id: int, envelopes: Sequence[Envelope]) -> None:
        """See :meth:`Backend.publish`."""
        self.log(run_id).append_nowait(envelopes)

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

    def check_stop_later(self, run_id: int, delay: float) -> None:
        """See :meth:`Backend.check_stop_later`: a timer on the run's loop.

        The timer belongs to the run's task and is dropped when the task ends, so a run
        that obeyed the stop leaves nothing behind. A run with no task here has nothing
        to terminate: a queued one honours the cancel flag when it starts, and a lost one
        is the sweeper's.
        """
        task = self._running.get(run_id)
        if task is None or task.done():
            return

        def arm() -> None:
            if task.done():
                return
            timer = task.get_loop().call_later(delay, self._force_stop, run_id)
            task.add_done_callback(lambda _: timer.cancel())

        task.get_loop().call_soon_threadsafe(arm)

    def _force_stop(self, run_id: int) -> None:
        from studio.runs.recovery import force_stop_if_active

        enforcing = asyncio.get_running_loop().create_task(
            sync_to_async(force_stop_if_active)(run_id), context=contextvars.Context()
        )
        self._tasks.add(enforcing)
        enforcing.add_done_callback(self._tasks.discard)

    def is_launch_pending(self, run_id: int) -> bool:
        """See :meth:`Backend.is_launch_pending`: the run has a task in this process."""
        task = self._running.get(run_id)
        return task is not None and not task.done()

    def terminate(self, run_id: int, task_id: str) -> None:
        """See :meth:`Backend.terminate`: cancel the run's asyncio task."""
        task = self._running.get(run_id)
        if task is not None and not task.done():
            task.get_loop().call_soon_threadsafe(task.cancel)

    def forget(self, run_id: int) -> None:
        """Drop a finished run's log and inbox after the retention time."""

        def drop() -> None:
            with self._lock:
                log = self._logs.get(run_id)
                if log is not None and log.is_finished:
                    del self._logs[run_id]
                    self._inboxes.pop(run_id, None)
                    self._cancelled.discard(run_id)

        timer = threading.Timer(settings.RUNS_LOG_TTL_SECONDS, drop)
        timer.daemon = True
        timer.start()

    # --- execution ---

    def launch(self, run_id: int) -> str:
        """See :meth:`Backend.launch`: a task on the server loop."""
        loop = self._choose_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._spawn(run_id)
        else:
            loop.call_soon_threadsafe(self._spawn, run_id, context=contextvars.Context())
        return ""

    def _spawn(self, run_id: int) -> None:
        from studio.runs.execution import execute_run

        # A fresh context: the launching code may be a sync_to_async thread whose context
        # variables would make this task's own sync_to_async calls deadlock.
        task = asyncio.get_running_loop().create_task(
            execute_run(run_id, self), context=contextvars.Context()
        )
        self._tasks.add(task)
        self._running[run_id] = task

        def forget_task(done: asyncio.Task[None]) -> None:
            self._tasks.discard(done)
            if self._running.get(run_id) is done:
                del self._running[run_id]

        task.add_done_callback(forget_task)

    def _choose_loop(self) -> asyncio.AbstractEventLoop:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            pass
        main_loop = _sync_main_loop()
        if main_loop is not None and main_loop.is_running():
            return main_loop
        if self._server_loop is not None and self._server_loop.is_running():
            return self._server_loop
        return self._background_loop()

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._private_loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="roundtable-runs", daemon=True
                )
                thread.start()
                self._private_loop = loop
            return self._private_loop

    async def wait_idle(self, limit: float = 10.0) -> None:
        """Wait for every run task of this backend on the current loop (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        tasks = [task for task in self._tasks if task.get_loop() is loop]
        if tasks:
            await asyncio.wait(tasks, timeout=limit)

    def ensure_started(self) -> None:
        """Remember the server loop and, once per process, recover interrupted runs."""
        try:
            self._server_loop = asyncio.get_running_loop()
        except RuntimeError:
            main_loop = _sync_main_loop()
            if main_loop is not None:
                self._server_loop = main_loop
        with self._lock:
            if self._is_started:
                return
            self._is_started = True
        from studio.runs.recovery import recover_interrupted_runs, sweep_forever

        if not settings.RUNS_RECOVER_ON_START:
            return
        loop = self._server_loop
        if loop is not None and _in_loop_thread(loop):
            loop.run_in_executor(None, recover_interrupted_runs, self)
        else:
            recover_interrupted_runs(self)
        if loop is not None:

            def start_sweeping() -> None:
                task = loop.create_task(sweep_forever(), context=contextvars.Context())
                self._tasks.add(task)

            loop.call_soon_threadsafe(start_sweeping)


def _sync_main_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop that called into this thread through ``sync_to_async``, if any."""
    loop: asyncio.AbstractEventLoop | None = getattr(
        SyncToAsync.threadlocal, "main_event_loop", None
    )
    return loop


def _in_loop_thread(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
