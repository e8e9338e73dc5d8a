"""Who watches a run: presence frames on the run websocket, and the Redis registry that
carries them between servers in distributed mode."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import presence, services
from studio.runs.presence import RedisRegistry, follow_presence
from tests.studio.runs.conftest import VIEWER, chatty_team, is_type, open_socket, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


def watching(*names: str) -> Any:
    """A ``receive_until`` stop for the presence frame naming exactly ``names``."""
    return lambda frame: frame == {"type": "presence", "watchers": list(names)}


async def shared_run(owner: User, teammate: User) -> int:
    team = await sync_to_async(chatty_team)(owner, turns=2, shared_with={teammate: VIEWER})
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say hello")
    return run.pk


async def test_watchers_learn_who_else_watches_and_who_left(owner: User, teammate: User) -> None:
    run_id = await shared_run(owner, teammate)
    _, first = await open_socket(run_id, owner, presence=True)
    await receive_until(first, watching("olivia"))

    _, second = await open_socket(run_id, teammate, presence=True)
    await receive_until(second, watching("olivia", "tomas"))
    await receive_until(first, watching("olivia", "tomas"))

    await second.disconnect()
    await receive_until(first, watching("olivia"))
    await first.disconnect()


async def test_two_tabs_of_one_person_count_once(owner: User, teammate: User) -> None:
    run_id = await shared_run(owner, teammate)
    _, first = await open_socket(run_id, owner, presence=True)
    await receive_until(first, watching("olivia"))
    _, second = await open_socket(run_id, owner, presence=True)
    await receive_until(second, watching("olivia"))
    await second.disconnect()
    _, third = await open_socket(run_id, teammate, presence=True)
    frames = await receive_until(first, watching("olivia", "tomas"))
    assert not [f for f in frames if f.get("type") == "presence" and f != frames[-1]]
    for socket in (first, third):
        await socket.disconnect()


async def test_a_socket_that_does_not_ask_gets_no_presence_and_is_not_counted(
    owner: User, teammate: User
) -> None:
    run_id = await shared_run(owner, teammate)
    _, quiet = await open_socket(run_id, teammate)
    frames = await receive_until(quiet, is_type("run.finished"))
    _, watcher = await open_socket(run_id, owner, presence=True)
    await receive_until(watcher, watching("olivia"))
    await quiet.send_json_to({"type": "ping"})
    frames += await receive_until(quiet, is_type("pong"))
    assert all(frame["type"] != "presence" for frame in frames)
    for socket in (quiet, watcher):
        await socket.disconnect()


@pytest.mark.distributed
async def test_the_redis_registry_shares_watchers_and_forgets_the_stale(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(presence, "POLL_SECONDS", 0.05)
    server_a, server_b = RedisRegistry(redis_url), RedisRegistry(redis_url)
    await server_b.client().delete(server_b.key(7))
    frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    monkeypatch.setattr(presence, "get_registry", lambda: server_a)
    follower = asyncio.create_task(follow_presence(7, "socket-a", "olivia", frames.put))
    assert await asyncio.wait_for(frames.get(), 5) == {"type": "presence", "watchers": ["olivia"]}

    await server_b.join(7, "socket-b", "tomas")
    changed = await asyncio.wait_for(frames.get(), 5)
    assert changed["watchers"] == ["olivia", "tomas"]

    # A server that died cannot take its sockets off: their entries expire.
    await server_b.client().hset(server_b.key(7), "socket-b", "1:tomas")
    assert (await asyncio.wait_for(frames.get(), 5))["watchers"] == ["olivia"]

    follower.cancel()
    await asyncio.gather(follower, return_exceptions=True)
    assert await server_b.watchers(7) == []
