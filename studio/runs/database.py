"""Database calls of a run's executor that outlive a dropped connection.

A run writes for minutes or hours; in that time PostgreSQL may restart, an operator may
terminate a backend, a pool may hand out a connection the server already closed. Django
does not reconnect by itself outside a request: after such an error every later query of
the thread fails on the same dead connection. :func:`call_database` runs one synchronous
database function in the executor's thread and, when the error was the connection's
(not the query's), drops the connection and tries again on a fresh one with backoff.

Only idempotent functions go through it: a call may have committed just before its
connection died, and then runs a second time.

On a run host's loop (see :mod:`studio.runs.host`) every call goes to the host's
:class:`DatabaseThreads`, a small fixed pool whose threads each keep one connection: a
process holds as many connections for its runs as it has such threads, however many runs
it executes. Elsewhere (a test, a management command) a call runs through asgiref's
``sync_to_async``.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    connections,
)
from django.db import connection as default_connection

from studio.sqlite import base as sqlite_base

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: first and longest pause between two attempts, in seconds
FIRST_DELAY = 0.1
MAX_DELAY = 2.0


class ConnectionLost(Exception):
    """The call failed because its database connection broke; it may be retried."""


def is_connection_working() -> bool:
    """Whether the calling thread's connection still answers a trivial query."""
    try:
        with default_connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return False
    return True


def drop_connection() -> None:
    """Forget the calling thread's connection; the next query opens (or borrows) another.

    With a pool, also weed out the pool's idle connections: when one died the others
    usually did too (the server restarted, or an operator ended every session), and the
    pool's own check on borrowing waits ever longer (1 s, 2 s, 4 s…) between dead ones.
    """
    try:
        default_connection.close()
    except Exception:
        logger.debug("closing a broken database connection failed", exc_info=True)
    # A close inside a failed atomic block leaves the dead handle; let it go too.
    if not default_connection.in_atomic_block:
        default_connection.connection = None
    pool = getattr(default_connection, "pool", None)
    if pool is not None:
        try:
            pool.check()
        except Exception:
            logger.debug("checking the connection pool failed", exc_info=True)


def call_guarded(function: Callable[..., T], *args: Any) -> T:
    """Call ``function``; turn a broken connection into :class:`ConnectionLost`.

    Integrity and data errors are the query's fault and pass through; any other database
    error is the connection's when :func:`is_connection_lost` says so.
    """
    try:
        return function(*args)
    except Exception as exc:
        if is_database_error(exc) and not is_query_error(exc) and is_connection_lost(exc):
            drop_connection()
            raise ConnectionLost(str(exc)) from exc
        raise


def driver_errors(name: str) -> tuple[type[BaseException], ...]:
    """Django's exception class ``name`` and the database driver's own.

    Django wraps driver errors, but one raised while it cleans up after another (closing
    a cursor on a dead SQLite handle) reaches the caller unwrapped.
    """
    django_class = {
        "Error": DatabaseError,
        "IntegrityError": IntegrityError,
        "DataError": DataError,
        "OperationalError": OperationalError,
        "InterfaceError": InterfaceError,
        "ProgrammingError": ProgrammingError,
    }[name]
    # Every backend's wrapper names its driver module `Database`; the stubs leave it out.
    driver = default_connection.Database  # type: ignore[attr-defined]
    return (django_class, getattr(driver, name))


def is_database_error(error: BaseException) -> bool:
    """Whether ``error`` comes from the database layer at all."""
    return isinstance(error, driver_errors("Error"))


def is_query_error(error: BaseException) -> bool:
    """Whether the database refused the query itself (a constraint, a bad value)."""
    return isinstance(error, driver_errors("IntegrityError") + driver_errors("DataError"))


def is_connection_lost(error: BaseException) -> bool:
    """Whether a database error came from the connection rather than from the query."""
    if isinstance(error, driver_errors("OperationalError") + driver_errors("InterfaceError")):
        return True
    # SQLite has no link to lose, only a handle: it reports a closed one as a programming
    # error (and Django may already have replaced it by the time the error arrives here).
    if isinstance(error, driver_errors("ProgrammingError")) and "closed" in str(error).lower():
        return True
    # Django drops a connection it could not roll back on: it was broken.
    if default_connection.connection is None:
        return True
    return not is_connection_working()


async def call_database(
    function: Callable[..., T], *args: Any, give_up_after: float | None = None
) -> T:
    """Run ``function(*args)`` in the executor's thread, retrying on a new connection.

    Tries again with exponential backoff (0.1 s doubling up to 2 s) for up to
    ``give_up_after`` seconds (``RUNS_DATABASE_RETRY_SECONDS`` by default), then raises
    the last database error.
    """
    limit = settings.RUNS_DATABASE_RETRY_SECONDS if give_up_after is None else give_up_after
    deadline = time.monotonic() + limit
    delay = FIRST_DELAY
    attempt = 1
    threads = LOOP_THREADS.get(asyncio.get_running_loop())
    while True:
        try:
            if threads is not None:
                return await threads.call(call_guarded, function, *args)
            return await sync_to_async(call_guarded)(function, *args)
        except ConnectionLost as exc:
            if time.monotonic() + delay > deadline:
                raise (exc.__cause__ or exc) from None
            name = getattr(function, "__name__", "database call")
            logger.warning("%s lost its database connection (%s); retry %d", name, exc, attempt)
        await asyncio.sleep(delay)
        delay = min(delay * 2, MAX_DELAY)
        attempt += 1


class DatabaseThreads:
    """A fixed number of threads for database calls, each keeping its own connection.

    The threads are started on first use and live as long as the process (or until
    :meth:`close`). Calls queue for a free thread in the order they come.
    """

    def __init__(self, size: int, *, name: str = "roundtable-db") -> None:
        if not 1 <= size <= MAX_THREADS:
            raise ValueError(f"between 1 and {MAX_THREADS} database threads, not {size}")
        self.size = size
        self._executor = ThreadPoolExecutor(size, thread_name_prefix=name)

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in one of the threads, in the caller's context (log fields)."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, context.run, function, *args)

    def on_every_thread(self, function: Callable[[], object], timeout: float = 30.0) -> None:
        """Run ``function`` once in each thread (open or close connections, hook them).

        Blocks the caller; not for a coroutine on the loop that uses these threads.
        Each job waits at a barrier first, so that no thread can take two of them.
        """
        barrier = threading.Barrier(self.size, timeout=timeout)

        def job() -> None:
            barrier.wait()
            function()

        futures = [self._executor.submit(job) for _ in range(self.size)]
        for future in futures:
            future.result(timeout)

    def close(self) -> None:
        """Close every thread's connection and stop the threads."""
        try:
            self.on_every_thread(connections.close_all, timeout=10)
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)


#: the most threads one pool may have (each holds a database connection)
MAX_THREADS = 8
#: event loop -> the threads its database calls go to (a run host registers its own)
LOOP_THREADS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, DatabaseThreads] = (
    weakref.WeakKeyDictionary()
)


def serve_database_calls(loop: asyncio.AbstractEventLoop, threads: DatabaseThreads) -> None:
    """Send :func:`call_database` calls made on ``loop`` to ``threads``.

    Starts the threads now, from the calling thread (whose CPU priority they take), and
    has each thread's connection pause ``loop`` while it holds SQLite's write lock (see
    :mod:`studio.sqlite.base`; other databases have no such lock).
    """
    LOOP_THREADS[loop] = threads
    threads.on_every_thread(lambda: pause_while_writing(loop))


def pause_while_writing(loop: asyncio.AbstractEventLoop) -> None:
    """Have the calling thread's connection pause ``loop`` while it holds SQLite's
    write lock; nothing on another database."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    if isinstance(wrapper, sqlite_base.DatabaseWrapper):
        wrapper.pauses_loop = loop
