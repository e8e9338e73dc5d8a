"""The sink's writer: batches of several runs in one transaction, each failing alone."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.utils import timezone

from studio.runs.events import make_envelope
from studio.runs.models import Run, RunEvent, Status
from studio.runs.sink import (
    FIRST_BATCH,
    MAX_BATCH,
    BatchWriter,
    PendingEvent,
    PendingRunUpdate,
    SinkClosed,
    WriteJob,
    beat,
    next_batch,
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
    at = timezone.now()
    data = {"content": f"Message {seq}"}
    envelope = make_envelope(run_id, seq, "message", "writer", at, data)
    event = PendingEvent(seq, "message", "writer", data, at, envelope)
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
        at = timezone.now()
        data = {"content": f"Message {seq} \u00e9\u0000"}
        envelope = make_envelope(run_id, seq, "message", "writer", at, data)
        events.append(PendingEvent(seq, "message", "writer", data, at, envelope))
    assert await BatchWriter().write(WriteJob(run_id, "mine", events, [], {}))
    rows = await sync_to_async(list)(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", "data")
    )
    assert [seq for seq, _ in rows] == list(range(1, 401))
    assert rows[-1][1] == {"content": "Message 400 \u00e9\u0000"}


async def test_a_beat_renews_a_held_lease_and_reports_a_lost_one(owner: User) -> None:
    run_id = await sync_to_async(held_run)(owner, "mine")
    assert await beat(run_id, "mine")
    assert (await Run.objects.aget(pk=run_id)).heartbeat_at is not None
    assert not await beat(run_id, "stale")


def pending_event(seq: int) -> PendingEvent:
    return PendingEvent(seq, "message", "writer", {"content": "hi"}, None, {})  # type: ignore[arg-type]


def test_a_burst_is_written_in_bounded_batches_but_a_run_change_never_apart() -> None:
    burst = [pending_event(seq) for seq in range(1, MAX_BATCH * 3)]
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
