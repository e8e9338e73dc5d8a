"""One Redis connection pool per address and options for the whole process.

Django's Redis cache builds a client, and with it a connection pool, for every cache
object it hands out, and under ASGI it hands out a new one for every request (the cache
handler keeps its objects per context, not per thread): each request opened a Redis
connection of its own, a TCP connect and a handshake on the way to its first throttle
check. The cache's ``pool_class`` option names :class:`SharedConnectionPool`, whose
``from_url`` hands every client the same pool.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from redis import ConnectionPool


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


def _after_fork_in_child() -> None:
    """A fresh lock in a forked child (a worker's pool process): the parent may have
    held it while forking. The pools themselves reset on first use in the child."""
    global POOLS_LOCK
    POOLS_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
