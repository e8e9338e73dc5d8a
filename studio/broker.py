"""kombu's Redis transport, with channels that keep their Redis client.

kombu's Redis channel builds a new ``redis.Redis`` every time it talks to Redis outside
its polling loop (``conn_or_acquire`` calls ``_create_client``): two for every publish
(the routing table, then the push; on a server, one publish per run started) and one for
the bookkeeping of each task delivered and each acknowledged (on a worker). redis-py 8
spends 0.05 to 0.2 ms building one: it fills a table of some 170 response callbacks. A
client object holds no connection of its own, each command checks one out of the
channel's pool, so :class:`Channel` builds one per pool and keeps it; when kombu
replaces the pool (a reconnect, a fork) the next call builds a client for the new one.

Settings name :class:`Transport` in ``CELERY_BROKER_TRANSPORT`` for ``redis://`` brokers.
kombu parses such a URL the same way whether the transport is named or not: neither
transport parses URLs itself (``can_parse_url`` is false), so ``kombu.Connection`` reads
host, port, database and credentials with its own ``parse_url`` either way.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    """A kombu Redis channel that builds its commands' client once per connection pool."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Set before kombu's __init__, which already talks to Redis (it pings).
        self._pool_and_client: tuple[Any, Any] | None = None
        super().__init__(*args, **kwargs)

    def _create_client(self, asynchronous: bool = False) -> Any:
        """kombu's client for this channel's pool, built on the first call per pool."""
        # kombu-stubs leave out the private _create_client: hence the ignores below.
        if asynchronous:
            # The polling clients (BRPOP, and the one pub/sub starts from), which kombu
            # builds once per channel anyway and pins a connection on: they stay its own.
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool
        if self._pool_and_client is None or self._pool_and_client[0] is not pool:
            self._pool_and_client = (pool, super()._create_client())  # type: ignore[misc]
        return self._pool_and_client[1]


class Transport(redis.Transport):
    """kombu's Redis transport with :class:`Channel`."""

    Channel = Channel
