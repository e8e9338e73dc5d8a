"""The SQLite backend: a writer that finds the lock taken takes it soon after it is let
go, within the connection's timeout, and fails as SQLite does past it."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction

from studio.sqlite import base as sqlite_backend

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own write lock"),
]

#: how long the other connection holds the lock in these tests
HELD_SECONDS = 0.05


class Naps:
    """Stands in for the backend's ``time``: real clock, recorded (real) naps."""

    def __init__(self) -> None:
        self.taken: list[float] = []
        self.monotonic = time.monotonic

    def sleep(self, seconds: float) -> None:
        self.taken.append(seconds)
        time.sleep(seconds)


@pytest.fixture
def naps(monkeypatch: pytest.MonkeyPatch) -> Naps:
    recorder = Naps()
    monkeypatch.setattr(sqlite_backend, "time", recorder)
    return recorder


@pytest.fixture
def other_writer() -> Iterator[sqlite3.Connection]:
    """Another connection to the test database, as another process would hold it."""
    connection.ensure_connection()
    other = sqlite3.connect(
        connection.settings_dict["NAME"], isolation_level=None, timeout=5, check_same_thread=False
    )
    try:
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


def hold_lock(other: sqlite3.Connection, seconds: float | None) -> threading.Thread | None:
    """Take the write lock on ``other``; let it go after ``seconds`` (None: keep it)."""
    other.execute("BEGIN IMMEDIATE")
    if seconds is None:
        return None
    releaser = threading.Timer(seconds, lambda: other.execute("COMMIT"))
    releaser.start()
    return releaser


def busy_timeout() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        return int(cursor.fetchone()[0])


def test_connections_have_no_busy_handler_of_sqlites() -> None:
    assert busy_timeout() == 0


def test_a_transaction_takes_the_lock_once_the_other_writer_lets_it_go(
    other_writer: sqlite3.Connection, naps: Naps
) -> None:
    releaser = hold_lock(other_writer, HELD_SECONDS)
    with transaction.atomic():
        Group.objects.create(name="waited")
    assert releaser is not None
    releaser.join()
    assert Group.objects.filter(name="waited").exists()
    # It waited in short naps, never in SQLite's long sleeps.
    assert naps.taken
    assert max(naps.taken) <= sqlite_backend.LONGEST_NAP
    assert naps.taken[0] == sqlite_backend.FIRST_NAP


def test_a_write_outside_a_transaction_waits_for_the_lock_too(
    other_writer: sqlite3.Connection, naps: Naps
) -> None:
    group = Group.objects.create(name="before")
    releaser = hold_lock(other_writer, HELD_SECONDS)
    assert Group.objects.filter(pk=group.pk).update(name="after") == 1
    assert releaser is not None
    releaser.join()
    assert naps.taken
    group.refresh_from_db()
    assert group.name == "after"


def test_past_its_timeout_a_writer_fails_as_sqlite_does_and_the_connection_goes_on(
    other_writer: sqlite3.Connection, naps: Naps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.02)
    hold_lock(other_writer, None)
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"), transaction.atomic():
        Group.objects.create(name="never")
    assert time.monotonic() - started >= 0.02 - sqlite_backend.LONGEST_NAP
    assert naps.taken
    other_writer.execute("COMMIT")
    # Nothing was left half-open: the next transaction works.
    with transaction.atomic():
        Group.objects.create(name="later")
    assert list(Group.objects.values_list("name", flat=True)) == ["later"]


def test_an_error_other_than_a_taken_lock_is_not_tried_again(naps: Naps) -> None:
    with pytest.raises(OperationalError, match="no such table"), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table")
    assert naps.taken == []


def test_executemany_outside_a_transaction_waits_as_sqlite_does_and_drops_the_handler_after(
    other_writer: sqlite3.Connection,
) -> None:
    releaser = hold_lock(other_writer, HELD_SECONDS)
    table = Group._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {table} (name) VALUES (%s)", [["one"], ["two"]])
    assert releaser is not None
    releaser.join()
    assert sorted(Group.objects.values_list("name", flat=True)) == ["one", "two"]
    assert busy_timeout() == 0


def test_which_errors_mean_the_lock_is_taken() -> None:
    def error(code: int) -> sqlite3.OperationalError:
        made = sqlite3.OperationalError("database is locked")
        made.sqlite_errorcode = code  # type: ignore[attr-defined]
        return made

    assert sqlite_backend.found_lock_taken(error(sqlite3.SQLITE_BUSY))
    assert sqlite_backend.found_lock_taken(error(261))  # SQLITE_BUSY_RECOVERY
    assert not sqlite_backend.found_lock_taken(error(sqlite_backend.SQLITE_BUSY_SNAPSHOT))
    assert not sqlite_backend.found_lock_taken(error(sqlite3.SQLITE_ERROR))
    assert not sqlite_backend.found_lock_taken(sqlite3.OperationalError("no code"))


def test_a_nap_never_outlasts_the_timeout(naps: Naps) -> None:
    def always_locked() -> None:
        made = sqlite3.OperationalError("database is locked")
        made.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
        raise made

    with pytest.raises(sqlite3.OperationalError):
        sqlite_backend.when_free(always_locked, 0.01)
    assert sum(naps.taken) <= 0.01
    assert naps.taken == sorted(naps.taken)


def test_executemany_inside_a_transaction_leaves_the_busy_handler_alone() -> None:
    table = Group._meta.db_table
    connection.ensure_connection()
    statements: list[str] = []
    connection.connection.set_trace_callback(statements.append)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} (name) VALUES (%s)", [["one"], ["two"]])
    finally:
        connection.connection.set_trace_callback(None)
    assert not [statement for statement in statements if "busy_timeout" in statement]
    assert any(statement.startswith("INSERT") for statement in statements)
    assert sorted(Group.objects.values_list("name", flat=True)) == ["one", "two"]


@pytest.fixture
def running_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """An event loop running in a thread of its own, as a run host's does."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


#: a pause far longer than any test waits: a loop that goes on did not wait it out
LONG_PAUSE = 30.0


@pytest.fixture
def pausing(
    running_loop: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> Iterator[asyncio.AbstractEventLoop]:
    """This thread's connection pauses ``running_loop`` while it holds the lock (for
    ``LONG_PAUSE`` at most, unless the test says otherwise)."""
    monkeypatch.setattr(sqlite_backend, "LONGEST_PAUSE", LONG_PAUSE)
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.pauses_loop = running_loop
    try:
        yield running_loop
    finally:
        del wrapper.pauses_loop


def ran_while_held(loop: asyncio.AbstractEventLoop, seconds: float = 0.1) -> threading.Event:
    """Ask ``loop`` to run a callback, and hold on for ``seconds``: whether it ran by then
    is the returned event's state at that point."""
    ran = threading.Event()
    loop.call_soon_threadsafe(ran.set)
    time.sleep(seconds)
    return ran


def runs_soon(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether ``loop`` runs a callback within half a second (not paused)."""
    ran = threading.Event()
    loop.call_soon_threadsafe(ran.set)
    return ran.wait(0.5)


def test_a_connection_pauses_the_loop_it_names_while_its_transaction_holds_the_lock(
    pausing: asyncio.AbstractEventLoop,
) -> None:
    with transaction.atomic():
        Group.objects.create(name="held")
        ran = ran_while_held(pausing)
        assert not ran.is_set()
    assert ran.wait(5)
    # Reads outside a transaction hold no write lock: the loop goes on.
    assert Group.objects.count() == 1
    assert runs_soon(pausing)


def test_the_loop_goes_on_after_a_rollback(pausing: asyncio.AbstractEventLoop) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        Group.objects.create(name="dropped")
        ran = ran_while_held(pausing)
        assert not ran.is_set()
        raise RuntimeError("give up")
    assert not Group.objects.exists()
    assert ran.wait(5)


def test_a_loop_stays_paused_no_longer_than_the_longest_pause(
    pausing: asyncio.AbstractEventLoop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_backend, "LONGEST_PAUSE", 0.05)
    with transaction.atomic():
        assert ran_while_held(pausing, seconds=1.0).is_set()


def test_a_connection_naming_no_loop_pauses_none(running_loop: asyncio.AbstractEventLoop) -> None:
    with transaction.atomic():
        Group.objects.create(name="unpaused")
        assert runs_soon(running_loop)


def test_the_loop_goes_on_when_the_connection_closes_inside_the_transaction(
    pausing: asyncio.AbstractEventLoop,
) -> None:
    with transaction.atomic():
        Group.objects.create(name="cut short")
        ran = ran_while_held(pausing)
        assert not ran.is_set()
        connection.close()
        assert ran.wait(5)
    assert not Group.objects.exists()


def test_a_closed_loop_is_left_alone() -> None:
    closed = asyncio.new_event_loop()
    closed.close()
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.pauses_loop = closed
    try:
        with transaction.atomic():
            Group.objects.create(name="after the loop")
    finally:
        del wrapper.pauses_loop
    assert Group.objects.filter(name="after the loop").exists()
