"""The sink's writer: batches of several runs in one transaction, each failing alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studio.runs import leases
from studio.runs import sink as sink_module
from studio.runs.accounting import Accountant
from studio.runs.backends import LiveLog, Position
from studio.runs.checkpoints import EncodedCheckpoint
from studio.runs.database import is_query_error
from studio.runs.events import EventType, Frame, Moment, format_time
from studio.runs.models import Checkpoint, CheckpointKind, Run, RunEvent, Status
from studio.runs.sink import (
    FIRST_BATCH,
    MAX_BATCH,
    BatchWriter,
    PendingEvent,
    PendingRunUpdate,
    RunSink,
    SinkClosed,
    WriteJob,
    beat,
    is_batch_saved,
    next_batch,
    pending_event,
    statement_sizes,
    write_jobs,
)
from studio.teams.models import TeamVersion
from tests.studio.runs.conftest import chatty_team
from tests.studio.runs.faults import QueryFault, is_sink_write

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


def held_run(owner: User, lease: str) -> int:
    """A run an executor holds with ``lease``."""
    team = chatty_team(owner)
    version = TeamVersion.objects.filter(team=team).latest("number")
    run = Run.objects.create(
        team=team, team_version=version, task="Go", status=Status.RUNNING, lease=lease
    )
    return run.pk


def job(run_id: int, lease: str, seq: int = 1) -> WriteJob:
    """A batch of one message event."""
    at = Moment.now()
    data = {"content": f"Message {seq}"}
    event = pending_event(run_id, seq, "message", "writer", data, at)
    return WriteJob(run_id, lease, [event], [], {"prompt_tokens": seq})


def stored(run_id: int) -> list[int]:
    return list(RunEvent.objects.filter(run_id=run_id).values_list("seq", flat=True))


async def test_batches_of_several_runs_commit_together_and_a_lost_lease_fails_alone(
    owner: User,
) -> None:
    mine = await sync_to_async(held_run)(owner, "mine")
    taken = await sync_to_async(held_run)(owner, "theirs")
    writer = BatchWriter()
    outcomes = await asyncio.gather(
        writer.write(job(mine, "mine")),
        writer.write(job(taken, "mine")),  # another executor took this run
        writer.write(job(mine, "mine", seq=2)),
        return_exceptions=True,
    )
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], SinkClosed)
    assert await sync_to_async(stored)(mine) == [1, 2]
    assert await sync_to_async(stored)(taken) == []
    assert (await Run.objects.aget(pk=mine)).prompt_tokens == 2


async def test_a_shared_transaction_whose_connection_dies_is_written_again_once(
    owner: User,
) -> None:
    first = await sync_to_async(held_run)(owner, "one")
    second = await sync_to_async(held_run)(owner, "two")
    writer = BatchWriter()
    fault = QueryFault(is_sink_write, times=1)
    async with fault.installed():
        outcomes = await asyncio.gather(
            writer.write(job(first, "one")), writer.write(job(second, "two"))
        )
    assert fault.hits == 1
    assert outcomes == [True, True]
    assert await sync_to_async(stored)(first) == [1]
    assert await sync_to_async(stored)(second) == [1]


async def test_a_batch_larger_than_one_statement_takes_is_stored_whole(owner: User) -> None:
    run_id = await sync_to_async(held_run)(owner, "mine")
    events = []
    for seq in range(1, 401):  # 8 columns a row: several statements on SQLite
        at = Moment.now()
        data = {"content": f"Message {seq} \u00e9\u0000"}
        events.append(pending_event(run_id, seq, "message", "writer", data, at))
    assert await BatchWriter().write(WriteJob(run_id, "mine", events, [], {}))
    rows = await sync_to_async(list)(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", "data")
    )
    assert [seq for seq, _ in rows] == list(range(1, 401))
    assert rows[-1][1] == {"content": "Message 400 \u00e9\u0000"}


def test_batches_of_any_size_take_a_handful_of_statement_shapes() -> None:
    # The driver keeps every statement it prepared: one shape per batch size held tens
    # of megabytes in a long-lived run host.
    assert list(statement_sizes(300, 256)) == [256, 32, 8, 4]
    assert list(statement_sizes(7, 3)) == [2, 2, 2, 1]
    assert list(statement_sizes(1, 1)) == [1]
    shapes = set()
    for count in range(1, 2000):
        sizes = list(statement_sizes(count, 300))
        assert sum(sizes) == count and sizes == sorted(sizes, reverse=True)
        shapes.update(sizes)
    assert shapes == {1 << power for power in range(9)}


async def test_an_events_time_reads_back_alike_from_its_row_its_frame_and_the_orm(
    owner: User,
) -> None:
    """The time a sink stamps an event with is stored, sent and found again as one
    moment: a whole second (which ``isoformat`` writes without a fraction), a second
    before it and an ordinary one."""
    run_id = await sync_to_async(held_run)(owner, "mine")
    moments = [
        Moment.of(datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        Moment.of(datetime(2027, 1, 1, 0, 0, 0, 0, tzinfo=UTC)),
        Moment.now(),
    ]
    events = [
        pending_event(run_id, seq, "message", "writer", {"content": "hi"}, at)
        for seq, at in enumerate(moments, start=1)
    ]
    assert await BatchWriter().write(WriteJob(run_id, "mine", events, [], {}))
    stored_at = await sync_to_async(list)(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("created_at", flat=True)
    )
    assert stored_at == [at.as_datetime() for at in moments]
    for event, created_at in zip(events, stored_at, strict=True):
        assert json.loads(event.frame.text)["at"] == format_time(created_at)
        assert Moment.of(created_at) == event.at
    assert json.loads(events[1].frame.text)["at"] == "2027-01-01T00:00:00Z"
    assert await sync_to_async(is_batch_saved)(run_id, events[1:], [])


async def test_a_beat_renews_a_held_lease_and_reports_a_lost_one(owner: User) -> None:
    run_id = await sync_to_async(held_run)(owner, "mine")
    assert await beat(run_id, "mine")
    assert (await Run.objects.aget(pk=run_id)).heartbeat_at is not None
    assert not await beat(run_id, "stale")


def test_the_batches_of_many_runs_take_a_few_statements_in_all(owner: User) -> None:
    runs = [held_run(owner, f"lease-{index}") for index in range(12)]
    jobs = []
    for index, run_id in enumerate(runs):
        batch = job(run_id, f"lease-{index}")
        batch.checkpoints = [EncodedCheckpoint(1, CheckpointKind.FULL, 1, None, '{"turn": 1}')]
        if index // 4 == 1:  # another set of columns, a JSON one and dates among them
            batch.changes = {**leases.waiting_changes(f"ask-{index}"), "usage": {"calls": index}}
        elif index // 4 == 2:
            batch.changes = leases.finish_changes(Status.COMPLETED, "Done.")
        jobs.append(batch)
    jobs.append(WriteJob(runs[0], "lease-0", [], [], {"heartbeat_at": timezone.now()}, True))
    with CaptureQueriesContext(connection) as queries:
        assert write_jobs(jobs, [0]) == [True] * len(jobs)
    # the transaction, events, checkpoints (on PostgreSQL through the driver's cursor,
    # not counted here), then one update per neighbouring runs of the same columns (three,
    # and the beat): 8 statements at most, where each run alone took 5
    assert len(queries) <= 8, [query["sql"][:60] for query in queries]
    for index, run_id in enumerate(runs):
        run = Run.objects.get(pk=run_id)
        assert stored(run_id) == [1]
        assert Checkpoint.objects.get(run_id=run_id).state_json == '{"turn": 1}'
        if index // 4 == 0:
            assert (run.status, run.prompt_tokens) == (Status.RUNNING, 1)
        elif index // 4 == 1:
            assert (run.status, run.pending_request_id) == (Status.AWAITING_INPUT, f"ask-{index}")
            assert run.pending_answer is None and run.waiting_since is not None
            assert run.usage == {"calls": index}
        else:
            assert (run.status, run.lease, run.stop_reason) == (Status.COMPLETED, "", "Done.")
            assert run.finished_at is not None and run.heartbeat_at is None
    assert Run.objects.get(pk=runs[0]).heartbeat_at is not None


def test_a_refused_batch_among_many_fails_alone(owner: User) -> None:
    runs = [held_run(owner, "mine") for _ in range(4)]
    RunEvent.objects.create(
        run_id=runs[1], seq=1, type="message", source="writer", data={}, created_at=timezone.now()
    )
    jobs = [job(run_id, "mine") for run_id in runs]
    jobs[2].lease = "stale"  # another executor holds it
    stale_beat = WriteJob(runs[3], "stale", [], [], {"heartbeat_at": timezone.now()}, True)
    outcomes = write_jobs([*jobs, stale_beat], [0])
    assert outcomes[0] is True and outcomes[3] is True
    assert is_query_error(outcomes[1])  # its seq is taken
    assert isinstance(outcomes[2], SinkClosed)
    assert outcomes[4] is False  # a beat with a lost lease says so
    assert [stored(run_id) for run_id in runs] == [[1], [1], [], [1]]
    assert [Run.objects.get(pk=run_id).prompt_tokens for run_id in runs] == [1, 0, 0, 1]


def queued_event(seq: int) -> PendingEvent:
    return pending_event(1, seq, "message", "writer", {"content": "hi"}, Moment.now())


def test_a_burst_is_written_in_bounded_batches_but_a_run_change_never_apart() -> None:
    burst = [queued_event(seq) for seq in range(1, MAX_BATCH * 3)]
    first, rest = next_batch(burst)
    assert first == burst[:MAX_BATCH] and rest == burst[MAX_BATCH:]
    # A change of the run in or right after the window goes with everything queued:
    # the final status with the final checkpoint, an answer with its event.
    change = PendingRunUpdate({"status": "completed"})
    for at in (0, MAX_BATCH - 1, MAX_BATCH, MAX_BATCH + 2):
        queued = [*burst[:at], change, *burst[at:]]
        assert next_batch(queued) == (queued, [])
    later = [*burst, change]
    assert next_batch(later)[0] == later[:MAX_BATCH]
    assert next_batch(burst[:MAX_BATCH]) == (burst[:MAX_BATCH], [])
    # A run's first batches are smaller (its first events go out soon).
    assert next_batch(burst, FIRST_BATCH) == (burst[:FIRST_BATCH], burst[FIRST_BATCH:])


class RecordedLog(LiveLog):
    """A live log that keeps what is appended to it, once ``open`` is set."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self.open = asyncio.Event()
        self.open.set()

    async def append(self, frames: Sequence[Frame]) -> None:
        await self.open.wait()
        self.frames.extend(frames)

    async def read(self, position: Position, block: float) -> list[Frame]:
        return []

    async def finish(self) -> None:
        return None


async def started_sink(owner: User, log: LiveLog) -> RunSink:
    """A started sink of a run held with the lease ``ours``."""
    run_id = await sync_to_async(held_run)(owner, "ours")
    accountant = Accountant(budget_tokens=None, budget_usd=None)
    sink = RunSink(run_id, lease="ours", next_seq=1, log=log, accountant=accountant)
    sink.start()
    return sink


async def test_the_first_turn_is_out_before_the_team_goes_on(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that answers at once must not hold the first message back behind the
    writes of the turns after it; later turns do not wait for their writes."""
    monkeypatch.setattr(sink_module, "FIRST_TURN_WAIT_SECONDS", 10.0)  # a slow machine
    log = RecordedLog()
    sink = await started_sink(owner, log)
    await sink.record(EventType.MESSAGE, "writer", {"content": "First."})
    await sink.turn_completed("writer")
    assert [frame.seq for frame in log.frames] == [1]
    assert await sync_to_async(stored)(sink.run_id) == [1]
    await sink.record(EventType.MESSAGE, "critic", {"content": "Second."})
    await sink.turn_completed("critic")
    assert sink.published_seq == 1  # on its way, not waited for
    await sink.close()
    assert [frame.seq for frame in log.frames] == [1, 2]
    assert await sync_to_async(stored)(sink.run_id) == [1, 2]


async def test_an_event_sent_out_is_stored_and_published_when_the_wait_ends(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A human's answer is sent out before the team goes on with it."""
    monkeypatch.setattr(sink_module, "FIRST_TURN_WAIT_SECONDS", 10.0)  # a slow machine
    log = RecordedLog()
    sink = await started_sink(owner, log)
    await sink.record(
        EventType.INPUT_PROVIDED, "ann", {"request_id": "r1", "content": "Go", "user": "ann"}
    )
    await sink.send_out()
    assert [frame.seq for frame in log.frames] == [1]
    assert await sync_to_async(stored)(sink.run_id) == [1]
    await sink.close()


async def test_the_team_waits_for_its_first_turn_only_so_long(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sink_module, "FIRST_TURN_WAIT_SECONDS", 0.05)
    log = RecordedLog()
    log.open.clear()  # the live log does not answer
    sink = await started_sink(owner, log)
    await sink.record(EventType.MESSAGE, "writer", {"content": "First."})
    await asyncio.wait_for(sink.turn_completed("writer"), 5)
    assert log.frames == []
    log.open.set()
    await sink.close()
    assert [frame.seq for frame in log.frames] == [1]
