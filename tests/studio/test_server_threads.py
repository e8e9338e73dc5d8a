"""The server threads: requests and socket database calls run on a fixed set of threads,
which keep a SQLite connection between calls and drop a dead one."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.db import DatabaseError, connection

from studio.server_threads import CAN_LEND_THREADS, ServerThreads, call_with_connection

pytestmark = pytest.mark.django_db(transaction=True)

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps connections")


def raw_connection() -> Any:
    """The calling thread's driver connection after a query (None when closed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return connection.connection


def is_connected() -> bool:
    return connection.connection is not None


def break_and_query() -> None:
    connection.connection.close()  # the handle dies under Django's feet
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@on_sqlite
async def test_a_server_thread_keeps_its_sqlite_connection_between_calls() -> None:
    threads = ServerThreads(1)
    first = await threads.call(raw_connection)
    assert await threads.call(is_connected)
    assert await threads.call(raw_connection) is first
    await sync_to_async(threads.on_every_thread)(lambda: connection.close())


@on_sqlite
async def test_other_threads_still_close_their_connection_after_each_call() -> None:
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1) as executor:
        assert await loop.run_in_executor(executor, call_with_connection, raw_connection)
        assert not await loop.run_in_executor(executor, is_connected)


@on_sqlite
async def test_a_broken_connection_is_replaced_on_the_next_call() -> None:
    threads = ServerThreads(1)
    first = await threads.call(raw_connection)
    with pytest.raises(DatabaseError):
        await threads.call(break_and_query)
    second = await threads.call(raw_connection)
    assert second is not None and second is not first
    await sync_to_async(threads.on_every_thread)(lambda: connection.close())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's pool")
async def test_on_postgresql_a_call_gives_its_connection_back() -> None:
    threads = ServerThreads(1)
    assert await threads.call(raw_connection) is not None
    assert not await threads.call(is_connected)


async def get(application: Any, path: str) -> int:
    """The status of a GET through ``application``."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(5)
    await communicator.receive_output(5)
    await communicator.wait(5)
    return int(start["status"])


@pytest.mark.skipif(not CAN_LEND_THREADS, reason="asgiref lends no executor before 3.13")
async def test_an_http_request_runs_on_a_server_thread() -> None:
    from studio.asgi import application

    seen: list[str] = []

    def note(**kwargs: Any) -> None:
        seen.append(threading.current_thread().name)

    request_started.connect(note, dispatch_uid="test-server-threads")
    request_finished.connect(note, dispatch_uid="test-server-threads-finished")
    try:
        assert await get(application, "/api/runs") == 401
    finally:
        request_started.disconnect(dispatch_uid="test-server-threads")
        request_finished.disconnect(dispatch_uid="test-server-threads-finished")
    assert len(seen) == 2 and seen[0] == seen[1]
    assert seen[0].startswith("roundtable-server-")
