"""How long a watcher's reads of the live log wait: ``REDIS_BLOCK_SECONDS``, and no
blocking Redis read waits longer (every Redis client's socket timeout is set above it)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import services
from studio.runs.backends import LiveLog
from studio.runs.backends.distributed import DistributedBackend
from studio.runs.backends.embedded import FINISHED_KEEP, FINISHED_WHOLE, EmbeddedBackend
from studio.runs.events import Frame
from studio.runs.streaming import follow_run
from tests.studio.runs.conftest import (
    chatty_team,
    is_type,
    open_socket,
    receive_until,
    transcript,
    wait_until,
)
from tests.studio.runs.faults import QueryFault, is_event_read
from tests.studio.runs.processes import RedisServer


class RecordingLog(LiveLog):
    """A live log that notes how long each waiting read may block and then never answers."""

    def __init__(self) -> None:
        self.blocks: list[float] = []
        self.was_read = asyncio.Event()

    async def append(self, envelopes: Any) -> None:
        pass

    async def read(self, position: Any, block: float) -> list[Any]:
        if block <= 0:  # a look without waiting (a follower's first)
            return []
        self.blocks.append(block)
        self.was_read.set()
        await asyncio.Event().wait()
        return []

    async def finish(self) -> None:
        pass


class RecordingLogBackend(EmbeddedBackend):
    """An embedded backend whose live log records its reads."""

    def __init__(self) -> None:
        super().__init__()
        self.recorded = RecordingLog()

    def log(self, run_id: int) -> RecordingLog:
        return self.recorded


async def first_read_block(block: float | None) -> float:
    """The block of the first live-log read of a follower given ``block``."""
    backend = RecordingLogBackend()
    follower = (
        follow_run(1, 0, backend) if block is None else follow_run(1, 0, backend, block=block)
    )
    reading = asyncio.ensure_future(anext(follower))
    try:
        async with asyncio.timeout(5):
            await backend.recorded.was_read.wait()
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
    return backend.recorded.blocks[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("settle")
async def test_a_watcher_waits_on_the_live_log_for_redis_block_seconds_unless_told(
    settings: Any,
) -> None:
    settings.REDIS_BLOCK_SECONDS = 3
    assert await first_read_block(None) == 3
    assert await first_read_block(0.5) == 0.5


@pytest.mark.distributed
async def test_no_blocking_redis_read_waits_longer_than_redis_block_seconds(
    settings: Any, tmp_path: Path
) -> None:
    settings.REDIS_BLOCK_SECONDS = 1
    server = RedisServer(tmp_path / "redis.log")
    server.start()
    backend = DistributedBackend(server.url)
    try:
        started = time.monotonic()
        async with asyncio.timeout(6):
            assert await backend.log(1).read((0, 0), block=60) == []
            assert await backend.inbox(1).get(wait=60) is None
        assert time.monotonic() - started >= 1.8
    finally:
        await backend.release()
        server.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("settle")
async def test_a_watcher_joining_a_live_run_is_served_from_its_live_log(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=8, delay=0.1)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    await wait_until(lambda: len(transcript(run.pk)) >= 3)
    # Event reads refused: only the live log can serve this watcher.
    fault = QueryFault(is_event_read, times=1000, action="refuse")
    async with fault.installed():
        connected, socket_ = await open_socket(run.pk, owner)
        assert connected
        frames = await receive_until(socket_, is_type("run.finished"), limit=20)
        await socket_.disconnect()
    assert fault.hits == 0
    seqs = [event.seq for event in await sync_to_async(transcript)(run.pk)]
    assert [frame["seq"] for frame in frames if frame["seq"] is not None] == seqs


async def test_a_finished_short_run_stays_whole_in_memory_and_a_long_one_keeps_its_end() -> None:
    """A watcher that opens a short run just after it ended reads all of it from the
    live log; of a long one, only the last entries stay (the rest is in the database)."""
    backend = EmbeddedBackend()

    def frames(run_id: int, count: int) -> list[Frame]:
        return [Frame((seq, 0), f'{{"run":{run_id},"seq":{seq}}}') for seq in range(1, count + 1)]

    short, long = frames(1, FINISHED_WHOLE), frames(2, FINISHED_WHOLE + 1)
    for run_id, written in ((1, short), (2, long)):
        log = backend.log(run_id)
        await log.append(written)
        await log.finish()
    assert await backend.log(1).read((0, 0), 0) == short
    assert await backend.log(2).read((0, 0), 0) == long[-FINISHED_KEEP:]
