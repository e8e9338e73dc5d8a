"""Who is watching a run: the names behind the sockets open on it, for the run view.

Presence is a websocket frame, not an event: it is not persisted, has no seq and is not
replayed. A socket that asks for it (``?presence=1``) is counted while it is open and
gets ``{"type": "presence", "watchers": ["alice", "bob"]}`` when it connects and whenever
the set of names changes (sorted, each name once however many tabs it has open).

Two registries, chosen like the execution backend:

- embedded: a dict in the server process, where every socket lives; changes are sent at
  once.
- distributed: a Redis hash per run (sockets live on several servers). Each socket
  refreshes its entry and entries nobody refreshed expire, so a server that dies leaves
  no ghosts; watchers look again every :data:`POLL_SECONDS`.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings

from studio.runs.backends.distributed import KEY_PREFIX, LoopClients

logger = logging.getLogger(__name__)

#: how often a distributed watcher looks for changes (and a failing registry is retried)
POLL_SECONDS = 2.0
#: how long a distributed entry lives without being refreshed
ENTRY_TTL_SECONDS = 30

SendFrame = Callable[[dict[str, Any]], Awaitable[None]]


class Registry(abc.ABC):
    """The sockets open on each run, by socket id."""

    @abc.abstractmethod
    async def join(self, run_id: int, socket_id: str, name: str) -> None:
        """Count the socket as watching (again: refreshes it)."""

    @abc.abstractmethod
    async def leave(self, run_id: int, socket_id: str) -> None:
        """The socket closed."""

    @abc.abstractmethod
    async def watchers(self, run_id: int) -> list[str]:
        """The names watching the run, sorted, each once."""

    @abc.abstractmethod
    async def wait(self, run_id: int, known: list[str]) -> None:
        """Return when the watchers may differ from ``known`` (or after a while)."""


class LocalRegistry(Registry):
    """Sockets of this process (embedded mode: they all run on the server's loop)."""

    def __init__(self) -> None:
        self._sockets: dict[int, dict[str, str]] = {}
        self._changed: dict[int, asyncio.Event] = {}

    def _notify(self, run_id: int) -> None:
        event = self._changed.pop(run_id, None)
        if event is not None:
            event.set()

    async def join(self, run_id: int, socket_id: str, name: str) -> None:
        """See :meth:`Registry.join`."""
        sockets = self._sockets.setdefault(run_id, {})
        if sockets.get(socket_id) != name:
            sockets[socket_id] = name
            self._notify(run_id)

    async def leave(self, run_id: int, socket_id: str) -> None:
        """See :meth:`Registry.leave`."""
        sockets = self._sockets.get(run_id, {})
        if sockets.pop(socket_id, None) is not None:
            if not sockets:
                del self._sockets[run_id]
            self._notify(run_id)

    async def watchers(self, run_id: int) -> list[str]:
        """See :meth:`Registry.watchers`."""
        return sorted(set(self._sockets.get(run_id, {}).values()))

    async def wait(self, run_id: int, known: list[str]) -> None:
        """See :meth:`Registry.wait`: returns at the next change after ``known``."""
        if await self.watchers(run_id) != known:
            return
        event = self._changed.setdefault(run_id, asyncio.Event())
        await event.wait()


class RedisRegistry(Registry):
    """Sockets of every server, in a Redis hash per run: socket id -> "expiry:name"."""

    def __init__(self, url: str) -> None:
        self._clients = LoopClients(url)

    def client(self) -> aioredis.Redis:
        """The client of the running event loop."""
        return self._clients.get()

    @staticmethod
    def key(run_id: int) -> str:
        """The hash of a run's watchers."""
        return f"{KEY_PREFIX}:{run_id}:watchers"

    async def join(self, run_id: int, socket_id: str, name: str) -> None:
        """See :meth:`Registry.join`."""
        expires = int(time.time()) + ENTRY_TTL_SECONDS
        async with self.client().pipeline(transaction=False) as pipe:
            pipe.hset(self.key(run_id), socket_id, f"{expires}:{name}")
            pipe.expire(self.key(run_id), ENTRY_TTL_SECONDS)
            await pipe.execute()

    async def leave(self, run_id: int, socket_id: str) -> None:
        """See :meth:`Registry.leave`."""
        await self.client().hdel(self.key(run_id), socket_id)

    async def watchers(self, run_id: int) -> list[str]:
        """See :meth:`Registry.watchers`; drops entries that expired."""
        entries = await self.client().hgetall(self.key(run_id))
        now = time.time()
        names: set[str] = set()
        expired = []
        for socket_id, value in entries.items():
            text = value.decode() if isinstance(value, bytes) else value
            expires, _, name = text.partition(":")
            if expires.isdigit() and int(expires) >= now:
                names.add(name)
            else:
                expired.append(socket_id)
        if expired:
            await self.client().hdel(self.key(run_id), *expired)
        return sorted(names)

    async def wait(self, run_id: int, known: list[str]) -> None:
        """See :meth:`Registry.wait`: other servers' sockets are seen by looking again."""
        await asyncio.sleep(POLL_SECONDS)


_local = LocalRegistry()


@functools.cache
def _redis_registry(url: str) -> RedisRegistry:
    return RedisRegistry(url)


def get_registry() -> Registry:
    """The registry of the configured execution backend."""
    if settings.RUNS_BACKEND == "distributed":
        return _redis_registry(settings.REDIS_URL)
    return _local


async def follow_presence(run_id: int, socket_id: str, name: str, send: SendFrame) -> None:
    """Count a socket as watching ``run_id`` and send it the watchers as they change.

    Runs until cancelled (the socket closed), then takes the socket off the list. A
    registry that fails (Redis restarting) is retried: presence never closes a socket.
    """
    registry = get_registry()
    sent: list[str] | None = None
    try:
        while True:
            try:
                await registry.join(run_id, socket_id, name)  # also refreshes the entry
                names = await registry.watchers(run_id)
                if names != sent:
                    await send({"type": "presence", "watchers": names})
                    sent = names
                await registry.wait(run_id, names)
            except (OSError, redis.RedisError) as exc:
                logger.warning("run %s: presence is unavailable (%s); retrying", run_id, exc)
                await asyncio.sleep(POLL_SECONDS)
    finally:
        try:
            await registry.leave(run_id, socket_id)
        except (OSError, redis.RedisError) as exc:  # the entry expires on its own
            logger.warning("run %s: could not take a watcher off (%s)", run_id, exc)
