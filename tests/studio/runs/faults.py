"""Database faults injected into the statements of the calling thread's connection.

Installed with Django's ``execute_wrapper`` hook. ``break`` kills the live connection just
before a matching statement runs, so it fails as it would after a dropped link (SQLite:
the handle closed; PostgreSQL: the session terminated from another one). ``refuse``
answers it with the error a full server gives, without running it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.db import OperationalError, connection, connections

from studio.runs.host import get_host
from studio.server_threads import server_threads


def is_sink_write(sql: str) -> bool:
    """The run update that ends a batch of the sink (usage totals, status)."""
    return sql.startswith('UPDATE "runs_run"') and "prompt_tokens" in sql


def is_claim(sql: str) -> bool:
    """The conditional update that claims a run for an executor."""
    return sql.startswith('UPDATE "runs_run"') and '"attempts"' in sql


def is_event_read(sql: str) -> bool:
    """A read of a run's persisted events."""
    return sql.startswith("SELECT") and '"runs_runevent"' in sql


class QueryFault:
    """Fails every ``every``-th statement that ``matches``, ``times`` times in all."""

    def __init__(
        self,
        matches: Callable[[str], bool],
        *,
        times: int,
        every: int = 1,
        action: Literal["break", "refuse"] = "break",
    ) -> None:
        self.matches = matches
        self.times = times
        self.every = every
        self.action = action
        self.seen = 0
        self.hits = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if self.hits < self.times and self.matches(sql):
            self.seen += 1
            if self.seen % self.every == 0:
                self.hits += 1
                if self.action == "refuse":
                    raise OperationalError("sorry, too many clients already")
                break_connection(context["connection"])
        return execute(sql, params, many, context)

    @contextlib.asynccontextmanager
    async def installed(self) -> AsyncIterator[QueryFault]:
        """On the connections of the run host's database threads (where runs query), of
        the server threads (where consumers query) and of asgiref's shared sync thread
        (where tests query)."""
        # Looked up inside each thread: ``connection`` is per thread.
        pools = [get_host().database, server_threads()]
        await sync_to_async(lambda: connection.execute_wrappers.append(self))()
        for threads in pools:
            await asyncio.to_thread(
                threads.on_every_thread, lambda: connection.execute_wrappers.append(self)
            )
        try:
            yield self
        finally:
            await sync_to_async(lambda: connection.execute_wrappers.remove(self))()
            for threads in pools:
                await asyncio.to_thread(
                    threads.on_every_thread, lambda: connection.execute_wrappers.remove(self)
                )


def break_connection(wrapper: Any) -> None:
    """Kill the live connection of a Django connection wrapper."""
    raw = wrapper.connection
    if wrapper.vendor == "sqlite":
        raw.close()
        return
    other = connections.create_connection(wrapper.alias)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [raw.info.backend_pid])
    finally:
        other.close()
