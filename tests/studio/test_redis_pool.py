"""Django's Redis cache objects share one connection pool per address in a process."""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache

from studio.redis_pool import SharedConnectionPool

OPTIONS = {"pool_class": "studio.redis_pool.SharedConnectionPool"}


def test_every_cache_object_of_one_address_gets_the_same_pool() -> None:
    # Under ASGI Django makes a cache object per request; each used to open a connection.
    first = RedisCache("redis://127.0.0.1:6399/3", {"OPTIONS": OPTIONS})
    second = RedisCache("redis://127.0.0.1:6399/3", {"OPTIONS": OPTIONS})
    elsewhere = RedisCache("redis://127.0.0.1:6399/4", {"OPTIONS": OPTIONS})

    pool = first._cache._get_connection_pool(write=True)
    assert isinstance(pool, SharedConnectionPool)
    assert second._cache._get_connection_pool(write=True) is pool
    assert elsewhere._cache._get_connection_pool(write=True) is not pool


def test_other_options_get_a_pool_of_their_own() -> None:
    url = "redis://127.0.0.1:6399/5"
    assert SharedConnectionPool.from_url(url) is SharedConnectionPool.from_url(url)
    assert SharedConnectionPool.from_url(url, socket_timeout=3) is not (
        SharedConnectionPool.from_url(url)
    )
