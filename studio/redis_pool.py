"""One Redis connection pool, and one Redis client, per address and options for the
whole process.

Django's Redis cache builds a client, and with it a connection pool, for every cache
object it hands out, and under ASGI it hands out a new one for every request (the cache
handler keeps its objects per context, not per thread): each request opened a Redis
connection of its own, a TCP connect and a handshake on the way to its first throttle
check. The cache's ``pool_class`` option names :class:`SharedConnectionPool`, whose
``from_url`` hands every client the same pool.

The cache also builds a new ``redis.Redis`` for every call (``get_client``), and redis-py
8 spends 0.05 to 0.2 ms on each: it fills a table of some 170 response callbacks. A client
object holds no connection of its own (each command checks one out of the pool, so
threads can share it), so :class:`SharedClientRedisCache` hands out one client per pool
for the whole process. A memo on the cache object would not do: there is one per request.

Its ``incr`` (every run start counts one in its throttle) is one command, not Django's two.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from redis import ConnectionPool, Redis


class SharedConnectionPool(ConnectionPool):
    """A ``ConnectionPool`` whose ``from_url`` returns one pool per URL and options."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> Any:
        """The pool for ``url`` and ``kwargs``, made on first use."""
        key = repr((url, sorted(kwargs.items(), key=lambda item: item[0])))
        with POOLS_LOCK:
            pool = POOLS.get(key)
            if pool is None:
                pool = POOLS[key] = super().from_url(url, **kwargs)
        return pool


#: the process's pools, by URL and options
POOLS: dict[str, ConnectionPool] = {}
POOLS_LOCK = threading.Lock()

#: the process's cache clients, by pool (pools live as long as the process: see POOLS)
CLIENTS: dict[ConnectionPool, Redis] = {}


class SharedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, giving every call the process's client for its pool."""

    def __init__(
        self,
        servers: list[str],
        pool_class: str | type[ConnectionPool] | None = None,
        **options: Any,
    ) -> None:
        if isinstance(pool_class, str):
            pool_class = import_string(pool_class)
        # Clients are kept per pool for good: pools made per cache object (one per
        # request) would pile up with them.
        if not (isinstance(pool_class, type) and issubclass(pool_class, SharedConnectionPool)):
            raise ImproperlyConfigured(
                "SharedClientRedisCache needs OPTIONS['pool_class'] = "
                "'studio.redis_pool.SharedConnectionPool'."
            )
        super().__init__(servers, pool_class=pool_class, **options)

    def get_client(self, key: Any = None, *, write: bool = False) -> Redis:
        """The process's client for the pool this call goes through."""
        # Django's private helper: it picks the server (reads may go to a replica).
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = CLIENTS.get(pool)
        if client is None:
            # Two threads may both build one; setdefault keeps the first for everyone.
            client = CLIENTS.setdefault(pool, Redis(connection_pool=pool))
        return client

    def incr(self, key: Any, delta: int) -> Any:
        """Add ``delta`` to the number at ``key``; ``ValueError`` when there is none.

        One script, run by Redis as one command. Django asked whether the key exists and
        then added: two round trips, and a key that expired between them was made again
        by the addition, without an expiry.
        """
        client = self.get_client(key, write=True)
        value = increment_script(client)(keys=[key], args=[delta])
        if value is None:
            raise ValueError(f"Key {key!r} not found.")
        return value


#: adds ARGV[1] to the number at KEYS[1] if the key exists; nil otherwise
INCREMENT_IF_PRESENT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
"""

#: the script, registered once per client (it sends its digest, and its text only the
#: first time a server does not know it)
SCRIPTS: dict[Redis, Any] = {}


def increment_script(client: Redis) -> Any:
    """:data:`INCREMENT_IF_PRESENT` for ``client``."""
    script = SCRIPTS.get(client)
    if script is None:
        script = SCRIPTS.setdefault(client, client.register_script(INCREMENT_IF_PRESENT))
    return script


class SharedClientRedisCache(RedisCache):
    """Django's Redis cache with one Redis client per pool for the whole process."""

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Django's RedisCache has no public hook for its client class.
        self._class = SharedClientRedisCacheClient


def _after_fork_in_child() -> None:
    """A fresh lock in a forked child (a worker's pool process): the parent may have
    held it while forking. The pools themselves reset on first use in the child."""
    global POOLS_LOCK
    POOLS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
