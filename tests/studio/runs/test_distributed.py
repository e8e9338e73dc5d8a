"""The distributed backend with real parts: a redis-server and a Celery worker process.

The worker shares the test database: on PostgreSQL it connects to it like the test
process does; on SQLite the test database is a file (see the settings' TEST name) that it
opens too. Every test is transactional, so what the test process writes is committed
before the worker looks for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import backends, services, streaming
from studio.runs.backends import LiveLog, distributed
from studio.runs.backends.distributed import DistributedBackend, log_key, read_stream
from studio.runs.events import Frame, make_frame
from studio.runs.models import Run, Status
from tests.studio.runs.conftest import (
    assistant,
    chatty_team,
    end_runs_left_going,
    human,
    is_type,
    make_team,
    open_socket,
    receive_until,
    run_worker_pid,
    scripted_model,
    transcript,
    wait_finished,
    wait_until,
)
from tests.studio.runs.processes import (
    CeleryWorker,
    expected_run_niceness,
    niceness,
    thread_niceness,
    use_broker,
)

INPUT_GRACE_SECONDS = 2

pytestmark = [
    pytest.mark.distributed,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("settle", "distributed_mode"),
]


@pytest.fixture(scope="module")
def worker(
    redis_url: str, django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CeleryWorker]:
    """A real Celery worker process on the test database, started as documented."""
    process = CeleryWorker(
        tmp_path_factory.mktemp("worker") / "worker.log",
        redis_url=redis_url,
        settings={
            "RUNS_HEARTBEAT_SECONDS": "1",
            "RUNS_LEASE_SECONDS": "3",
            "RUNS_CHECKPOINT_INTERVAL_MS": "0",
            "RUNS_INPUT_GRACE_SECONDS": str(INPUT_GRACE_SECONDS),
            "RUNS_STOP_GRACE_SECONDS": "5",
        },
    )
    try:
        process.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield process
    process.stop()


@pytest.fixture
def distributed_mode(settings: Any, redis_url: str, worker: CeleryWorker) -> Iterator[None]:
    """This test process talks to the same Redis and queue as the worker."""
    settings.REDIS_URL = redis_url
    settings.RUNS_BACKEND = "distributed"
    settings.RUNS_INPUT_GRACE_SECONDS = INPUT_GRACE_SECONDS
    previous = use_broker(redis_url)
    backends.get_backend.cache_clear()
    yield
    end_runs_left_going()
    use_broker(previous)
    backends.get_backend.cache_clear()


async def test_the_worker_runs_its_runs_below_a_servers_priority(
    owner: User, worker: CeleryWorker
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2, delay=0.0)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say hello")
    assert (await wait_finished(run.pk)).status == Status.COMPLETED
    assert worker.process is not None
    pid = worker.process.pid
    # Its run host's loop went lower; its main thread (and the database threads) did not.
    assert expected_run_niceness() in thread_niceness(pid)
    assert niceness(pid) == niceness(os.getpid()) < expected_run_niceness()


def message_count(run_id: int) -> int:
    return sum(e.type == "message" and not e.discarded for e in transcript(run_id))


async def test_a_worker_runs_a_team_and_a_viewer_sees_every_event_once(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=6, delay=0.05)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    connected, socket_ = await open_socket(run.pk, owner)
    assert connected
    first = await receive_until(socket_, lambda frame: frame.get("seq") == 5, limit=20)
    await socket_.disconnect()
    connected, socket_ = await open_socket(run.pk, owner, after=5)
    assert connected
    second = await receive_until(socket_, is_type("run.finished"), limit=20)
    await socket_.disconnect()
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED and done.backend == "distributed"
    persisted = [e.seq for e in await sync_to_async(transcript)(run.pk)]
    assert [f["seq"] for f in first + second if f["seq"] is not None] == persisted


async def test_a_run_survives_its_worker_being_killed_mid_run(
    owner: User, worker: CeleryWorker
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=10, delay=0.15)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Tell a long story")
    await wait_until(lambda: message_count(run.pk) >= 4, limit=20)
    pid = await sync_to_async(run_worker_pid)(run.pk)
    assert worker.process is not None and pid == worker.process.pid
    # SIGKILL, so no clean-up runs and the run's lease just stops being renewed; the
    # worker started again sweeps and resumes the run once the lease lapses.
    await asyncio.to_thread(worker.restart)
    done = await wait_finished(run.pk, limit=40)
    assert done.status == Status.COMPLETED
    assert done.attempts == 2
    events = await sync_to_async(transcript)(run.pk)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kept = [e for e in events if e.type == "message" and not e.discarded]
    assert len(kept) == 11
    assert len({e.data["id"] for e in kept}) == 11
    resumed = [e for e in events if e.type == "run.resumed"]
    assert len(resumed) == 1
    discarded = [e.seq for e in events if e.discarded]
    if discarded:
        assert discarded == list(
            range(resumed[0].data["discarded_from"], resumed[0].data["discarded_to"] + 1)
        )


async def test_the_human_seat_parks_its_worker_and_the_answer_resumes_it(owner: User) -> None:
    def build() -> Any:
        model = scripted_model(owner, ["Tell me more."] * 4)
        agents = [assistant(owner, "guide", model), human(owner, "traveller")]
        return make_team(owner, agents, max_messages=4)

    team = await sync_to_async(build)()
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a trip")
    await wait_until(lambda: Run.objects.get(pk=run.pk).is_parked, limit=INPUT_GRACE_SECONDS + 10)
    parked = await Run.objects.aget(pk=run.pk)
    assert parked.worker == "" and parked.status == Status.AWAITING_INPUT
    await sync_to_async(services.provide_input)(owner, run.pk, parked.pending_request_id, "Oslo")
    done = await wait_finished(run.pk, limit=20)
    assert done.status == Status.COMPLETED
    said = [
        e.data["content"]
        for e in await sync_to_async(transcript)(run.pk)
        if e.type == "message" and not e.discarded
    ]
    assert said == ["Plan a trip", "Tell me more.", "Oslo", "Tell me more."]


async def test_a_distributed_run_answers_input_and_stops_within_a_second(owner: User) -> None:
    def build() -> Any:
        quick = scripted_model(owner, ["Your name?"], name="quick")
        slow = scripted_model(owner, ["..."] * 3, delay=30, name="slow")
        agents = [
            assistant(owner, "asker", quick),
            human(owner, "person"),
            assistant(owner, "sloth", slow),
        ]
        return make_team(owner, agents, max_messages=6)

    team = await sync_to_async(build)()
    run = await sync_to_async(services.start_run)(owner, team.pk, "Introductions")
    connected, socket_ = await open_socket(run.pk, owner)
    assert connected
    request = (await receive_until(socket_, is_type("input.requested"), limit=20))[-1]
    await socket_.send_json_to(
        {"type": "input", "request_id": request["data"]["request_id"], "content": "Ada"}
    )
    await receive_until(
        socket_,
        lambda frame: (
            frame.get("source") == "Ada"
            or (frame.get("type") == "message" and frame["data"]["content"] == "Ada")
        ),
        limit=10,
    )
    await asyncio.sleep(0.2)  # the slow agent is now thinking
    started = time.monotonic()
    await socket_.send_json_to({"type": "stop"})
    frames = await receive_until(socket_, is_type("run.finished"), limit=10)
    assert time.monotonic() - started < 1.0
    assert frames[-1]["data"]["status"] == "cancelled"
    await socket_.disconnect()
    assert (await wait_finished(run.pk)).status == Status.CANCELLED


async def test_a_socket_closed_while_its_run_streams_ends_its_consumer_at_once(
    owner: User,
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=40, delay=0.02)
    for _ in range(5):
        run = await sync_to_async(services.start_run)(owner, team.pk, "Talk")
        connected, socket_ = await open_socket(run.pk, owner)
        assert connected
        await receive_until(socket_, is_type("message"), limit=20)
        # The communicator waits this long for the consumer to finish, then fails.
        await socket_.disconnect(timeout=1)


def message_frame(run_id: int, seq: int) -> Frame:
    """A message event's frame, as a run's sink would append it."""
    envelope = {"run": run_id, "seq": seq, "type": "message", "source": "a", "data": {}}
    return make_frame({**envelope, "at": "2026-01-01T00:00:00Z"})


async def test_hundreds_of_runs_on_one_loop_publish_at_once() -> None:
    """More commands under way than the Redis pool holds connections wait for one; none
    fails (a run's events would miss its live log)."""
    backend = backends.get_backend()
    assert isinstance(backend, DistributedBackend)
    runs = range(900_001, 900_301)
    frames = {run_id: message_frame(run_id, 1) for run_id in runs}
    await asyncio.gather(*(backend.log(run_id).append([frames[run_id]]) for run_id in runs))
    client = backend.async_client()
    read = await asyncio.gather(
        *(read_stream(client, log_key(run_id), (0, 0), 0) for run_id in runs)
    )
    assert read == [[frames[run_id]] for run_id in runs]


async def test_a_reader_inside_a_batch_gets_only_what_follows_its_position() -> None:
    """A batch is one stream entry: a reader whose position falls inside it (a watcher
    that reconnects from its last seq, the chunks after a seq) gets only what follows."""
    backend = backends.get_backend()
    assert isinstance(backend, DistributedBackend)
    run_id = 900_401

    def event(seq: int) -> Frame:
        return message_frame(run_id, seq)

    chunk = make_frame(
        {"run": run_id, "seq": None, "after": 3, "index": 1, "type": "chunk", "data": {"c": "\n"}}
    )
    await backend.log(run_id).append([event(1), event(2), event(3), chunk])
    # The server's own writes (a run ended without an executor) go the same way.
    await sync_to_async(backend.publish)(run_id, [event(4), event(5)])
    client = backend.async_client()
    key = log_key(run_id)
    assert await read_stream(client, key, (0, 0), 0) == [
        event(1), event(2), event(3), chunk, event(4), event(5)
    ]  # fmt: skip
    assert await read_stream(client, key, (2, 0), 0) == [event(3), chunk, event(4), event(5)]
    assert await read_stream(client, key, (3, 0), 0) == [chunk, event(4), event(5)]
    assert await read_stream(client, key, (3, 1), 0) == [event(4), event(5)]
    assert await read_stream(client, key, (4, 0), 0) == [event(5)]
    assert await read_stream(client, key, (5, 0), 0) == []
    # A batch wholly at or before the stream's top is refused, and nothing else changes.
    await sync_to_async(backend.publish)(run_id, [event(2), event(3)])
    assert await read_stream(client, key, (0, 0), 0) == [
        event(1), event(2), event(3), chunk, event(4), event(5)
    ]  # fmt: skip


async def test_a_watcher_joining_a_live_run_reads_redis_not_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first watcher of a run in this process starts its tail; what the stream
    holds already comes from Redis at once, without a trip to the database."""
    backend = backends.get_backend()
    assert isinstance(backend, DistributedBackend)
    run_id = 900_501
    events = [message_frame(run_id, seq) for seq in (1, 2, 3)]
    await backend.log(run_id).append(events)
    asked: list[int] = []

    def persisted_frames(run: int, after: int, limit: int = 0) -> list[Frame]:
        asked.append(after)
        return []

    monkeypatch.setattr(streaming, "persisted_frames", persisted_frames)
    follower = streaming.follow_run(run_id, 0, backend, block=0.5)
    try:
        assert await asyncio.wait_for(anext(follower), 5) == events
    finally:
        await follower.aclose()
    assert asked == []


async def log_holding_the_first_of_three(
    run_id: int,
) -> tuple[DistributedBackend, list[Frame], LiveLog]:
    """The backend, three events of run ``run_id``, and its live log holding the first."""
    backend = backends.get_backend()
    assert isinstance(backend, DistributedBackend)
    events = [message_frame(run_id, seq) for seq in (1, 2, 3)]
    log = backend.log(run_id)
    await log.append(events[:1])
    return backend, events, log


async def test_a_tail_follows_while_watched_and_stops_once_its_watchers_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A watcher waiting inside a read keeps the run's tail following, however long it
    waits; once nobody reads it the tail stops (its blocked read and connection go), and
    a watcher that comes back later gets a new tail that misses nothing."""
    monkeypatch.setattr(distributed, "TAIL_IDLE_SECONDS", 0.3)
    monkeypatch.setattr(distributed, "TAIL_BLOCK_SECONDS", 0.1)
    run_id = 900_551
    backend, events, log = await log_holding_the_first_of_three(run_id)
    assert await log.read((0, 0), 0) == events[:1]
    tail = backend.tail(run_id, (1, 0))
    waiting = asyncio.create_task(log.read((1, 0), 2.0))
    await asyncio.sleep(0.8)
    assert not tail.is_done
    await log.append(events[1:2])
    assert await asyncio.wait_for(waiting, 5) == events[1:2]
    await wait_until(lambda: tail.is_done, limit=5)
    await log.append(events[2:])
    assert await log.read((2, 0), 2.0) == events[2:]
    assert backend.tail(run_id, (3, 0)) is not tail


async def test_a_tail_nobody_reads_stops_asking_redis_until_a_watcher_is_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once its watchers have left (a run that ended), a tail sends no more blocked
    reads; a watcher that comes back within the idle time gets what came meanwhile."""
    monkeypatch.setattr(distributed, "TAIL_IDLE_SECONDS", 5.0)
    monkeypatch.setattr(distributed, "TAIL_READ_AHEAD_SECONDS", 0.2)
    monkeypatch.setattr(distributed, "TAIL_BLOCK_SECONDS", 0.05)
    reads: list[float] = []
    real_read_stream = distributed.read_stream

    async def counted(*args: Any) -> list[Frame]:
        reads.append(time.monotonic())
        return await real_read_stream(*args)

    monkeypatch.setattr(distributed, "read_stream", counted)
    run_id = 900_571
    backend, events, log = await log_holding_the_first_of_three(run_id)
    tail = backend.tail(run_id, (0, 0))
    assert await log.read((0, 0), 1.0) == events[:1]
    left = time.monotonic()
    await asyncio.sleep(1.0)
    # Reading ahead goes on for 0.2 s after the watcher left, then stops (Redis ends a
    # blocked read on its 100 ms clock, so that is one to four reads).
    assert len([at for at in reads if at > left + 0.5]) == 0
    assert 1 <= len([at for at in reads if at > left]) <= 8
    assert not tail.is_done
    await log.append(events[1:])
    assert await asyncio.wait_for(log.read((1, 0), 2.0), 5) == events[1:]
    assert backend.tail(run_id, (3, 0)) is tail


async def test_a_run_going_on_keeps_its_log_and_a_refused_entry_is_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = backends.get_backend()
    assert isinstance(backend, DistributedBackend)
    run_id = 900_601

    def event(seq: int) -> Frame:
        return message_frame(run_id, seq)

    client = backend.async_client()
    key = log_key(run_id)
    ended = backend.log(run_id)
    await ended.append([event(1)])
    await ended.finish()
    assert await client.ttl(key) > 0
    going_on = backend.log(run_id)  # the executor of a resumed run
    await going_on.append([event(2)])
    assert await client.ttl(key) == -1  # no expiry any more
    await going_on.append([event(3)])
    await going_on.append([event(3)])  # at the stream's top: refused, logged
    await backend.log(run_id).append([event(2)])  # the same, from a new writer
    assert await read_stream(client, key, (0, 0), 0) == [event(1), event(2), event(3)]
    assert sum("refused an entry" in record.getMessage() for record in caplog.records) == 2


async def test_an_entry_written_before_frames_still_reads() -> None:
    """A stream entry of the earlier format (a JSON list of envelopes, left by a server
    of the previous release while a run went on) reads as frames."""
    backend = backends.get_backend()
    assert isinstance(backend, DistributedBackend)
    run_id = 900_701
    envelopes = [message_frame(run_id, seq).envelope() for seq in (1, 2)]
    client = backend.async_client()
    await client.xadd(log_key(run_id), {"b": json.dumps(envelopes)}, id="2-0")
    found = await read_stream(client, log_key(run_id), (1, 0), 0)
    assert [frame.envelope() for frame in found] == envelopes[1:]
