"""Django's SQLite backend, with writers that take the write lock as soon as it is free.

SQLite has one write lock per database file, and every process and thread that writes
(the server's requests, each run's batches and claims) takes it in turn. A writer that
finds it taken is left to SQLite's busy handler, which sleeps between attempts for longer
each time (1, 2, 5, 10, 15, 20, 25 ms ... then 100 ms a try) and so misses every release
in between: with ten runs writing, a run's ``POST`` waited up to 110 ms and a batch up to
80 ms for a lock each writer holds for a few milliseconds at a time.

Here connections have no busy handler. A statement that finds the lock taken (a
transaction's ``BEGIN IMMEDIATE``, a write outside a transaction) is tried again after
naps of at most :data:`LONGEST_NAP`, until the connection's ``timeout`` has passed since
its first attempt, and then fails with SQLite's "database is locked" as before. A
statement that found the lock taken did nothing, so trying it again is what the busy
handler does too.

A connection may also name an event loop to pause while it holds the lock
(:attr:`DatabaseWrapper.pauses_loop`): a run host's database threads name the host's loop.
SQLite lets go of the interpreter lock around each statement it steps, and a thread that
wants it back waits for the busy thread holding it, here the loop running the host's runs
(on a busy two-core machine, waits for a core too). A batch of a few milliseconds' work so
held the write lock for 60 to 400 ms while every request that writes waited. With the
loop paused for the transaction, it holds the lock for about as long as its work takes.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from django.db.backends.sqlite3 import base

#: The longest a writer waiting for the lock sleeps between attempts: its wait ends at
#: most this long after the lock is let go; a failed attempt costs a few microseconds.
LONGEST_NAP = 0.001

#: The first nap; each next one is twice as long, up to :data:`LONGEST_NAP`.
FIRST_NAP = 0.0001

#: Python's default ``timeout`` (seconds) of a SQLite connection, which Django keeps.
DEFAULT_TIMEOUT = 5.0

#: The longest a loop stays paused for one transaction (seconds): a transaction that
#: takes longer goes on beside the running loop.
LONGEST_PAUSE = 1.0

#: SQLite's code for a transaction whose snapshot went stale: trying again cannot help,
#: and its busy handler never waits for it either.
SQLITE_BUSY_SNAPSHOT = 517

ResultT = TypeVar("ResultT")


def found_lock_taken(error: sqlite3.OperationalError) -> bool:
    """Whether ``error`` says another connection holds the lock (so trying again may
    work)."""
    code = getattr(error, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY and code != SQLITE_BUSY_SNAPSHOT


def when_free(attempt: Callable[[], ResultT], patience: float) -> ResultT:
    """``attempt()``, tried again while it finds the lock taken, for ``patience`` seconds
    from the first try; then its error."""
    deadline = time.monotonic() + patience
    nap = FIRST_NAP
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as error:
            if not found_lock_taken(error) or time.monotonic() + nap > deadline:
                raise
        time.sleep(nap)
        nap = min(nap * 2, LONGEST_NAP)


class PatientCursor(base.SQLiteCursorWrapper):
    """Django's SQLite cursor, trying a statement again while the lock is taken."""

    #: seconds to wait for the lock; :class:`DatabaseWrapper` sets its connection's own
    patience = DEFAULT_TIMEOUT

    def execute(self, query: str, params: Any = None) -> Any:
        run = super().execute
        return when_free(lambda: run(query, params), self.patience)

    def executemany(self, query: str, param_list: Iterable[Any]) -> Any:
        if self.connection.in_transaction:
            # Its transaction holds the lock already (they all begin IMMEDIATE): nothing
            # to wait for, and two statements fewer while the lock is held (a run's batch
            # updates its runs so).
            return super().executemany(query, param_list)
        # Outside a transaction each row is a statement of its own, and the first rows
        # may be stored when a later one finds the lock taken: each waits as SQLite waits.
        with self.busy_handler():
            return super().executemany(query, param_list)

    def executescript(self, sql_script: str) -> Any:
        # A script commits as it goes: each statement waits as SQLite waits.
        with self.busy_handler():
            return super().executescript(sql_script)

    @contextlib.contextmanager
    def busy_handler(self) -> Iterator[None]:
        """SQLite's own busy handler on the connection meanwhile."""
        self.connection.execute(f"PRAGMA busy_timeout = {round(self.patience * 1000)}")
        try:
            yield
        finally:
            self.connection.execute("PRAGMA busy_timeout = 0")


class DatabaseWrapper(base.DatabaseWrapper):
    """Django's SQLite wrapper; how a statement waits for the lock differs, and a
    connection may pause an event loop while it holds the lock."""

    #: the event loop to pause while this connection's transaction holds the write lock
    #: (set on the thread's connection; not the loop of the thread itself)
    pauses_loop: asyncio.AbstractEventLoop | None = None
    _resume: threading.Event | None = None

    def get_new_connection(self, conn_params: dict[str, Any]) -> sqlite3.Connection:
        # Set up as Django sets it up, with the busy handler (turning WAL on may wait for
        # the lock), then without.
        conn: sqlite3.Connection = super().get_new_connection(conn_params)
        conn.execute("PRAGMA busy_timeout = 0")
        return conn

    def _start_transaction_under_autocommit(self) -> None:
        # Every transaction begins IMMEDIATE (see the settings): from here it holds the
        # write lock, until it commits or rolls back.
        super()._start_transaction_under_autocommit()  # type: ignore[misc]
        loop = self.pauses_loop
        if loop is None:
            return
        resume = threading.Event()
        try:
            loop.call_soon_threadsafe(resume.wait, LONGEST_PAUSE)
        except RuntimeError:  # the loop is closed: nothing to pause
            return
        self._resume = resume

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._resume_loop()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._resume_loop()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._resume_loop()

    def _resume_loop(self) -> None:
        """Let the paused loop go on (it may not have reached the pause yet: it then
        passes through)."""
        resume, self._resume = self._resume, None
        if resume is not None:
            resume.set()

    def create_cursor(self, name: str | None = None) -> PatientCursor:
        cursor: PatientCursor = self.connection.cursor(factory=PatientCursor)
        cursor.patience = float(self.settings_dict["OPTIONS"].get("timeout", DEFAULT_TIMEOUT))
        return cursor
