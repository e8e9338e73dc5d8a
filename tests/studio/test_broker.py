"""The Redis broker transport keeps one Redis client per channel pool, and carries
messages like kombu's own; settings use it for redis:// brokers only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu import Connection, Exchange, Producer, Queue

from studio import broker
from tests.studio.test_deployment import shell_json

TRANSPORT = "studio.broker:Transport"


@pytest.fixture
def connection(redis_url: str) -> Iterator[Connection]:
    """A kombu connection to the test Redis through the transport under test."""
    with Connection(redis_url, transport=TRANSPORT) as conn:
        yield conn


class CountedRedis(redis.Redis):
    """A Redis client that counts how many were built."""

    built = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        CountedRedis.built += 1
        super().__init__(*args, **kwargs)


@pytest.mark.distributed
def test_publishes_on_a_channel_share_one_client(connection: Connection) -> None:
    channel = connection.channel()
    assert isinstance(channel, broker.Channel)
    channel.Client = CountedRedis
    CountedRedis.built = 0
    queue = Queue("shared-client", Exchange("shared-client"), "shared-client")
    producer = Producer(channel, exchange=queue.exchange, routing_key="shared-client")
    for number in range(5):
        producer.publish({"number": number}, declare=[queue])

    # kombu's own channel builds a client for each publish.
    assert CountedRedis.built == 1
    assert channel.queue_declare("shared-client", passive=True).message_count == 5
    with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
        assert first is second
        assert isinstance(first, CountedRedis)
        assert first.connection_pool is channel.pool
    channel.close()


@pytest.mark.distributed
def test_a_message_published_through_the_transport_is_consumed_and_acknowledged(
    connection: Connection,
) -> None:
    queue = connection.SimpleQueue("round-trip")
    queue.clear()
    queue.put({"run": 7})
    message = queue.get(timeout=5)
    assert message.payload == {"run": 7}
    message.ack()
    # Acknowledged: nothing left for the broker to restore once the visibility timeout ends.
    with queue.channel.conn_or_acquire() as client:
        assert client.hlen(queue.channel.unacked_key) == 0
    queue.close()


@pytest.mark.distributed
def test_a_replaced_pool_gets_a_client_of_its_own(connection: Connection) -> None:
    channel = connection.channel()
    with channel.conn_or_acquire() as before:
        pass
    # What kombu does in a forked child: drop the pools, make new ones on next use.
    channel._after_fork()
    with channel.conn_or_acquire() as after:
        assert after is not before
        assert after.connection_pool is channel.pool
        assert after.ping()
    channel.close()


def celery_connection(tmp_path: Path, redis_url: str) -> dict[str, Any]:
    """What the settings' Celery app connects with, read in a process of its own (the
    settings read REDIS_URL once, at import)."""
    script = (
        "import json; from studio.celery import app; c = app.connection_for_write(); "
        "t = type(c.transport); print(json.dumps({'transport': f'{t.__module__}:"
        "{t.__name__}', 'hostname': c.hostname, 'port': c.port, "
        "'virtual_host': c.virtual_host, 'password': c.password}))"
    )
    reply: dict[str, Any] = shell_json(tmp_path, {"REDIS_URL": redis_url}, script)
    return reply


def test_the_celery_app_uses_the_transport_for_a_redis_url(tmp_path: Path) -> None:
    used = celery_connection(tmp_path, "redis://:s3cret@127.0.0.1:6390/3")
    # The URL reads as it does without a named transport.
    assert used == {
        "transport": TRANSPORT,
        "hostname": "127.0.0.1",
        "port": 6390,
        "virtual_host": "3",
        "password": "s3cret",
    }


@pytest.mark.parametrize(
    ("url", "transport"),
    [
        ("", "kombu.transport.memory:Transport"),
        ("rediss://127.0.0.1:6390/0", "kombu.transport.redis:Transport"),
    ],
)
def test_the_celery_app_keeps_kombus_transport_for_other_brokers(
    tmp_path: Path, url: str, transport: str
) -> None:
    assert celery_connection(tmp_path, url)["transport"] == transport
