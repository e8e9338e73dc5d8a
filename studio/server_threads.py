"""The server's threads for synchronous work, which keep their SQLite connection.

Django gives each thread its own database connection and, with ``CONN_MAX_AGE = 0``,
closes it after every request and every ``database_sync_to_async`` call. On SQLite,
opening one (the file, its WAL index and schema, Django's SQL functions) costs about
as much as a short request's queries. Persistent connections are no cure under ASGI:
Django serves each request on a thread started for it, and a finished thread's
connection stays open until it is collected.

:class:`ServerThreads` is a fixed set of long-lived threads, each running one call at a
time. HTTP requests (through :class:`ServerThreadsMiddleware`) and the websocket
consumers' database calls (:meth:`ServerThreads.call`) run on them. On SQLite a thread
keeps its connection between calls, and drops it once it no longer answers; PostgreSQL
connections still go back to the pool after each request and call, so the pool alone
bounds how many a process holds.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.signals import request_started
from django.db import close_old_connections, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

T = TypeVar("T")

_thread_state = threading.local()


def _mark_thread() -> None:
    """Initializer of the server threads: their connections may stay open."""
    _thread_state.keeps_connections = True


def keeps_sqlite_connection(wrapper: BaseDatabaseWrapper) -> bool:
    """Whether ``wrapper`` is a SQLite connection of a server thread."""
    return getattr(_thread_state, "keeps_connections", False) and wrapper.vendor == "sqlite"


def keep_sqlite_connection(sender: object, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Let a server thread's new SQLite connection outlive the call that opened it.

    Django's ``close_old_connections`` then closes it only when left outside autocommit;
    connections of other threads and other databases are untouched.
    """
    if keeps_sqlite_connection(connection):
        connection.close_at = None


def drop_dead_connection(**kwargs: Any) -> None:
    """Close a kept SQLite connection that no longer answers, before it is used.

    Django cannot tell a dead SQLite connection from a live one (its check says yes to
    both), and a kept one would fail every later call; the next query opens another.
    """
    raw = connection.connection
    if raw is None or not keeps_sqlite_connection(connection):
        return
    try:
        raw.execute("SELECT 1")
    except sqlite3.Error:
        connection.close()


connection_created.connect(keep_sqlite_connection, dispatch_uid="studio-server-threads")
request_started.connect(drop_dead_connection, dispatch_uid="studio-server-threads")


def call_with_connection(function: Callable[..., T], *args: Any) -> T:
    """``function(*args)`` between two checks of the thread's connections, as
    ``database_sync_to_async`` does: a dead one is dropped, a pooled one given back."""
    drop_dead_connection()
    close_old_connections()
    try:
        return function(*args)
    finally:
        close_old_connections()


class ServerThreads:
    """A fixed number of threads for the server's synchronous work.

    Each thread runs one call at a time; work goes to the thread with the fewest calls
    in hand, and waits in that thread's queue when every thread is busy.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"at least one server thread, not {size}")
        self.size = size
        self._executors = [
            ThreadPoolExecutor(
                1, thread_name_prefix=f"roundtable-server-{index}", initializer=_mark_thread
            )
            for index in range(size)
        ]
        self._load = [0] * size
        self._lock = threading.Lock()

    @contextmanager
    def lend(self) -> Iterator[ThreadPoolExecutor]:
        """The least busy thread (as a one-thread executor), counted busy meanwhile."""
        with self._lock:
            index = min(range(self.size), key=self._load.__getitem__)
            self._load[index] += 1
        try:
            yield self._executors[index]
        finally:
            with self._lock:
                self._load[index] -= 1

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on a server thread, in the caller's context (log fields)."""
        context = contextvars.copy_context()
        loop = asyncio.get_running_loop()
        with self.lend() as executor:
            return await loop.run_in_executor(
                executor, context.run, call_with_connection, function, *args
            )

    def on_every_thread(self, function: Callable[[], object], timeout: float = 30.0) -> None:
        """Run ``function`` once in each thread (close their connections); blocks."""
        futures = [executor.submit(function) for executor in self._executors]
        for future in futures:
            future.result(timeout)


@functools.cache
def server_threads() -> ServerThreads:
    """The process's server threads (``SERVER_THREADS`` of them)."""
    return ServerThreads(settings.SERVER_THREADS)


#: asgiref 3.13 lets a request's synchronous work run on an executor the caller owns
CAN_LEND_THREADS = "executor" in inspect.signature(ThreadSensitiveContext).parameters


class ServerThreadsMiddleware:
    """ASGI middleware: serve each HTTP request on one of the server threads.

    Django runs a request's synchronous parts (its middleware, the view, the signals
    around them) on one thread; here that thread is a server thread instead of one
    started for the request. With an older asgiref, requests keep Django's own threads.
    """

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        """Hand HTTP requests to the application on a lent thread; pass the rest on."""
        if scope["type"] != "http" or not CAN_LEND_THREADS:
            return await self.application(scope, receive, send)
        with server_threads().lend() as executor:
            async with ThreadSensitiveContext(executor=executor):
                return await self.application(scope, receive, send)
