"""Django's Redis cache objects share one connection pool, and one Redis client, per
address in a process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured

from studio.redis_pool import SharedClientRedisCache, SharedConnectionPool
from tests.studio.test_deployment import read_settings

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


@pytest.mark.distributed
def test_two_requests_caches_hand_out_one_client_and_it_still_reads_and_writes(
    redis_url: str,
) -> None:
    # Two cache objects, as two requests get them; each call used to build a new client.
    first = SharedClientRedisCache(redis_url, {"OPTIONS": OPTIONS})
    second = SharedClientRedisCache(redis_url, {"OPTIONS": OPTIONS})

    client = first._cache.get_client()
    assert isinstance(client, redis.Redis)
    assert first._cache.get_client(write=True) is client
    assert second._cache.get_client() is client
    assert client.connection_pool is first._cache._get_connection_pool(write=False)

    first.set("greeting", {"text": "hello"}, 30)
    assert second.get("greeting") == {"text": "hello"}
    assert first.add("counter", 1)
    assert second.incr("counter") == 2
    assert first.get_many(["greeting", "counter"]) == {"greeting": {"text": "hello"}, "counter": 2}
    second.delete_many(["greeting", "counter"])
    assert first.get("greeting") is None


@pytest.mark.distributed
def test_another_address_gets_another_client(redis_url: str) -> None:
    other_db = redis_url.rsplit("/", 1)[0] + "/1"
    here = SharedClientRedisCache(redis_url, {"OPTIONS": OPTIONS})
    there = SharedClientRedisCache(other_db, {"OPTIONS": OPTIONS})

    assert here._cache.get_client() is not there._cache.get_client()
    here.set("where", "db 0", 30)
    assert there.get("where") is None


def test_the_shared_client_cache_refuses_a_pool_per_cache_object() -> None:
    # Its clients are kept per pool for good, so a pool per request would pile them up.
    cache = SharedClientRedisCache("redis://127.0.0.1:6399/3", {"OPTIONS": {}})
    with pytest.raises(ImproperlyConfigured, match="SharedConnectionPool"):
        cache.get("anything")


@pytest.mark.distributed
def test_the_settings_cache_for_a_redis_url_shares_its_client(
    redis_url: str, tmp_path: Path, settings: Any
) -> None:
    configured: Any = read_settings(tmp_path, {"REDIS_URL": redis_url}, "CACHES")["CACHES"]
    assert configured["default"]["BACKEND"] == "studio.redis_pool.SharedClientRedisCache"

    settings.CACHES = configured
    first, second = caches.create_connection("default"), caches.create_connection("default")
    assert isinstance(first, SharedClientRedisCache)
    assert first._cache.get_client() is second._cache.get_client()
    first.set("configured", True, 30)
    assert second.get("configured") is True


@pytest.mark.distributed
def test_an_increment_is_one_round_trip_and_never_makes_a_key_without_its_expiry(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = SharedClientRedisCache(redis_url, {"OPTIONS": OPTIONS})
    client = cache._cache.get_client(write=True)
    cache.set("window", 5, 60)
    cache.incr("window")  # the script's first run loads it
    sent: list[Any] = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        send(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    assert cache.incr("window", 3) == 9
    assert len(sent) == 1  # Django's asked EXISTS, then INCRBY
    monkeypatch.undo()

    assert cache.get("window") == 9
    assert 0 < client.ttl(cache.make_key("window")) <= 60
    with pytest.raises(ValueError):
        cache.incr("gone")
    assert not client.exists(cache.make_key("gone"))
    cache.delete("window")
