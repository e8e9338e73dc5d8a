"""The run host: one thread with its own event loop that executes every run of a process.

A run mostly waits (on its model, on a human), so one loop holds hundreds of them. Off
the server's loop, a busy run never delays accepting a socket or relaying a frame; in a
Celery worker the task hands its run to the host and returns, so one worker process
holds up to ``RUNS_PER_PROCESS`` runs instead of one per pool slot. Database calls of all
the host's runs go through its :class:`~studio.runs.database.DatabaseThreads`, so a
process holds ``RUNS_DATABASE_THREADS`` connections for its runs, however many it runs.

Both backends use the one host of their process (:func:`get_host`). Durability does not
rest on it: every run holds a lease it renews, and a run whose host went away resumes
from its last checkpoint once a sweep finds the lease lapsed.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from django.conf import settings
from django.db import connection

from studio.runs.database import DatabaseThreads, serve_database_calls

logger = logging.getLogger(__name__)

RunStarter = Callable[[], Coroutine[Any, Any, None]]
#: seconds a thread may hold the interpreter lock while another waits for it: far below
#: Python's 5 ms, so a run's loop never waits long behind a database thread (or the
#: server's loop behind a request), but not so far that two busy threads hand the lock
#: back and forth every 100 us, which cost both of them CPU (ten concurrent runs: the
#: run host 310 -> 280 us a message against 0.1 ms, with no slower first message or
#: human round trip)
SWITCH_INTERVAL = 0.001


def freeze_start_up_objects() -> None:
    """Keep the collector off everything the process loaded at start (``gc.freeze``).

    For a process that has imported everything it serves with: a server, the run host
    process, a worker. Every full collection walked the models of the SDKs and Django
    loaded at start, a million objects: 150 to 200 ms during which a run, or its
    watchers' sockets, stood still.
    """
    gc.freeze()


def lower_priority() -> None:
    """Lower the CPU priority of the calling thread by ``RUNS_NICENESS`` (a run host's
    loop, where the runs' own work happens; Linux keeps a niceness per thread).

    Ten busy runs keep both cores of a two-core machine busy, and a server beside them
    waited its turn for one. Only the loop goes lower: the host's database threads keep
    the process's priority, for one of them may hold SQLite's write lock that a request
    waits for, and a lowered holder kept it longer.
    """
    if settings.RUNS_NICENESS:
        os.nice(settings.RUNS_NICENESS)


def shorten_switch_interval() -> None:
    """Make a thread that wants the interpreter lock wait at most ``SWITCH_INTERVAL``."""
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))


class RunHost:
    """A thread running an event loop, and the runs executing on it."""

    def __init__(self, *, capacity: int, database_threads: int) -> None:
        self.capacity = capacity
        self.database = DatabaseThreads(database_threads)
        self.loop = asyncio.new_event_loop()
        # Starts the database threads from here, not from the loop: a thread starts at its
        # creator's priority, and the loop lowers its own (see lower_priority).
        serve_database_calls(self.loop, self.database)
        self._runs: dict[int, asyncio.Task[None]] = {}
        #: runs submitted whose task the loop has not created yet
        self._starting: set[int] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._room = threading.Condition()
        self._admitted = 0
        self.is_stopped = False
        self._thread = threading.Thread(target=self._serve, name="roundtable-runs", daemon=True)
        # A busy run holds the interpreter lock for up to the switch interval (5 ms by
        # default) whenever the server's loop wants it; a shorter one keeps the loop prompt.
        shorten_switch_interval()
        self._thread.start()

    def _serve(self) -> None:
        lower_priority()
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def open_connections(self) -> None:
        """Connect every database thread now (blocking; never on the host's loop), so
        the first runs after a start do not wait for connections to open. A database
        that does not answer is only logged: each thread connects at its first call."""
        try:
            self.database.on_every_thread(lambda: connection.ensure_connection())
        except Exception as exc:
            logger.warning("the run host could not connect to the database yet: %s", exc)

    # --- runs ---

    @property
    def run_count(self) -> int:
        """Runs handed to this host that have not ended yet."""
        return self._admitted

    def wait_for_room(self, timeout: float | None = None) -> bool:
        """Block until the host executes fewer than ``capacity`` runs; False on timeout."""
        with self._room:
            return self._room.wait_for(lambda: self._admitted < self.capacity, timeout)

    def submit(self, run_id: int, start: RunStarter) -> None:
        """Execute ``start()`` as run ``run_id``'s task on the host (from any thread)."""
        with self._room:
            self._admitted += 1
            self._starting.add(run_id)
        # A fresh context: the caller's (a request's, a sync_to_async thread's) must not
        # leak into the run.
        self.loop.call_soon_threadsafe(self._start, run_id, start, context=contextvars.Context())

    def _start(self, run_id: int, start: RunStarter) -> None:
        task = self.loop.create_task(start(), context=contextvars.Context())
        self._tasks.add(task)
        running = self._runs.get(run_id)
        if running is None or running.done():
            # A second launch of a run already here (a recovery racing its launch) only
            # finds it claimed and ends: it must not hide the execution from stop timers.
            self._runs[run_id] = task
        with self._room:
            self._starting.discard(run_id)
        task.add_done_callback(functools.partial(self._ended, run_id))

    def _ended(self, run_id: int, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if self._runs.get(run_id) is task:
            del self._runs[run_id]
        if not task.cancelled() and task.exception() is not None:
            logger.error("run %s: its execution failed", run_id, exc_info=task.exception())
        with self._room:
            self._admitted -= 1
            self._room.notify()

    def is_running(self, run_id: int) -> bool:
        """Whether the run was handed to this host and its task has not ended."""
        if run_id in self._starting:
            return True
        task = self._runs.get(run_id)
        return task is not None and not task.done()

    def running(self) -> list[int]:
        """The ids of the runs executing here now."""
        return [run_id for run_id, task in list(self._runs.items()) if not task.done()]

    def cancel(self, run_id: int) -> None:
        """Cancel the run's task (the last resort for a run that ignores stop)."""
        task = self._runs.get(run_id)
        if task is not None:
            self.loop.call_soon_threadsafe(task.cancel)

    # --- other work on the host's loop ---

    def call_later(self, delay: float, callback: Callable[[], object]) -> None:
        """Call ``callback()`` on the host's loop after ``delay`` seconds."""
        self.loop.call_soon_threadsafe(self.loop.call_later, delay, callback)

    def call_if_still_running(
        self, run_id: int, delay: float, callback: Callable[[], object]
    ) -> None:
        """After ``delay`` seconds, call ``callback()`` if the run's current execution
        still runs then (the timer goes with the execution when it ends)."""

        def arm() -> None:
            task = self._runs.get(run_id)
            if task is None or task.done():
                return
            timer = self.loop.call_later(delay, callback)
            task.add_done_callback(lambda _: timer.cancel())

        self.loop.call_soon_threadsafe(arm)

    def spawn(self, start: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run a background coroutine (a sweeper) on the host's loop until it ends."""

        def create() -> None:
            task = self.loop.create_task(start(), context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.loop.call_soon_threadsafe(create)

    # --- the end ---

    def cancel_all(self, timeout: float = 10.0) -> list[int]:
        """Cancel every task on the host and wait for them; the ids of the runs cancelled.

        Runs cancelled this way keep their lease: they are the sweep's (or, in a worker
        shutting down, handed back by :func:`studio.runs.execution.hand_back`).
        """
        if not self.loop.is_running():
            return []

        async def cancel() -> list[int]:
            ids = self.running()
            tasks = list(self._tasks)
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)
            # The cancelled runs' last batches may still be on their way to the database:
            # once this returns, nothing of theirs touches it (it may be emptied next).
            # Imported here: the sink needs the models, this module must not.
            from studio.runs.sink import writes_settled

            try:
                await asyncio.wait_for(writes_settled(), timeout)
            except TimeoutError:
                logger.warning("the cancelled runs' last writes did not end in %s s", timeout)
            return ids

        return asyncio.run_coroutine_threadsafe(cancel(), self.loop).result(timeout + 5)

    def stop(self, timeout: float = 10.0) -> list[int]:
        """Cancel everything, stop the loop and the thread; the ids of the runs cancelled."""
        if self.is_stopped:
            return []
        self.is_stopped = True
        ids = self.cancel_all(timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        self.database.close()
        return ids


#: the process's host, with the id of the process that made it (a fork gets its own)
hosts: dict[int, RunHost] = {}
hosts_lock = threading.Lock()


def get_host() -> RunHost:
    """This process's run host, started on first use."""
    with hosts_lock:
        host = hosts.get(os.getpid())
        if host is None:
            hosts.clear()  # a forked child inherits its parent's, without the thread
            host = hosts[os.getpid()] = RunHost(
                capacity=settings.RUNS_PER_PROCESS,
                database_threads=settings.RUNS_DATABASE_THREADS,
            )
        return host


def current_host() -> RunHost | None:
    """This process's run host if it was started."""
    return hosts.get(os.getpid())


def stop_host(timeout: float = 10.0) -> list[int]:
    """Stop this process's host if it runs; the ids of the runs it was executing."""
    with hosts_lock:
        host = hosts.pop(os.getpid(), None)
    return host.stop(timeout) if host is not None else []
