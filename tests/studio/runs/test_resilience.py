"""What keeps runs alive and visible when parts fail, checked one piece at a time.

The whole-system proof, with real processes killed, is in test_fault_injection.py.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studio.runs import backends, leases, recovery, services
from studio.runs.backends import LiveLog
from studio.runs.backends.embedded import EmbeddedBackend
from studio.runs.database import call_database
from studio.runs.execution import execute_run
from studio.runs.models import Run, RunEvent, Status
from tests.studio.runs.conftest import (
    chatty_team,
    open_socket,
    receive_until,
    transcript,
    wait_finished,
)
from tests.studio.runs.faults import QueryFault, is_claim, is_event_read

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


# --- database calls that outlive their connection ---


async def test_a_database_call_is_retried_on_a_new_connection_after_its_own_died(
    owner: User,
) -> None:
    fault = QueryFault(lambda sql: '"auth_user"' in sql, times=2)
    async with fault.installed():
        name = await call_database(lambda: User.objects.get(pk=owner.pk).username)
    assert name == owner.username
    assert fault.hits == 2


async def test_a_refused_query_is_not_retried(owner: User) -> None:
    def duplicate() -> None:
        User.objects.create(username=owner.username)

    calls = 0

    def counted() -> None:
        nonlocal calls
        calls += 1
        duplicate()

    with pytest.raises(IntegrityError):
        await call_database(counted)
    assert calls == 1


async def test_a_database_that_stays_away_fails_the_call_after_the_retry_time(
    owner: User, settings: Any
) -> None:
    fault = QueryFault(lambda sql: '"auth_user"' in sql, times=1000, action="refuse")
    async with fault.installed():
        with pytest.raises(Exception, match="too many clients"):
            await call_database(lambda: User.objects.get(pk=owner.pk), give_up_after=0.5)
    assert fault.hits >= 3


# --- starting: a run that cannot start says so ---


async def test_a_run_that_cannot_be_claimed_fails_with_the_reason_instead_of_staying_queued(
    owner: User, settings: Any
) -> None:
    settings.RUNS_DATABASE_RETRY_SECONDS = 1
    team = await sync_to_async(chatty_team)(owner)
    fault = QueryFault(is_claim, times=1000, action="refuse")
    async with fault.installed():
        run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
        done = await wait_finished(run.pk, limit=10)
    assert done.status == Status.FAILED
    assert "could not start" in done.stop_reason and "too many clients" in done.stop_reason
    events = await sync_to_async(transcript)(run.pk)
    assert [(e.type, e.data.get("code")) for e in events] == [
        ("error", "start_failed"),
        ("run.finished", None),
    ]
    connected, socket_ = await open_socket(run.pk, owner)
    assert connected
    frames = await receive_until(socket_, lambda frame: frame.get("type") == "run.finished")
    await socket_.disconnect()
    assert frames[0]["data"]["code"] == "start_failed"


@pytest.mark.usefixtures("unreachable_broker")
async def test_a_run_that_cannot_be_queued_fails_with_the_reason(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    done = await Run.objects.aget(pk=run.pk)
    assert done.status == Status.FAILED
    assert done.stop_reason.startswith("The run could not be queued")
    codes = [e.data.get("code") async for e in RunEvent.objects.filter(run=run).order_by("seq")]
    assert codes == ["launch_failed", None]


# --- claiming: a duplicate launch leaves, a redelivery waits ---


def running_run(owner: User, task_id: str) -> Run:
    team = chatty_team(owner)
    run = services.start_run(owner, team.pk, "Plan a picnic")
    Run.objects.filter(pk=run.pk).update(
        status=Status.RUNNING, lease="theirs", task_id=task_id, heartbeat_at=timezone.now()
    )
    return run


def test_a_duplicate_task_leaves_a_run_another_task_holds(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(monkeypatch)
    run = running_run(owner, task_id="task-1")
    assert leases.try_claim(run.pk, "elsewhere:1", "task-2")[0] is leases.ClaimResult.GONE
    assert leases.try_claim(run.pk, "elsewhere:1", "task-1")[0] is leases.ClaimResult.BUSY


def test_a_queued_run_is_claimed_and_read_in_two_statements(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(monkeypatch)
    team = chatty_team(owner)
    run = services.start_run(owner, team.pk, "Plan a picnic")
    with CaptureQueriesContext(connection) as queries:
        result, claim = leases.try_claim(run.pk, "here:1", "task-1")
    assert result is leases.ClaimResult.CLAIMED and claim is not None
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    assert (claim.next_seq, claim.checkpoint_seq, claim.checkpoint_state) == (1, 0, None)
    assert (claim.task, claim.resume_reason, claim.pending_answer) == ("Plan a picnic", "", None)
    assert claim.spec == Run.objects.get(pk=run.pk).team_version.spec
    held = Run.objects.get(pk=run.pk)
    assert (held.status, held.lease, held.task_id, held.attempts) == (
        Status.RUNNING,
        claim.lease,
        "task-1",
        1,
    )
    # Held now: a second claim waits for the lease to lapse.
    assert leases.try_claim(run.pk, "elsewhere:1", "task-1")[0] is leases.ClaimResult.BUSY


def test_a_run_whose_executor_went_silent_is_taken_over(
    owner: User, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    recording(monkeypatch)
    run = running_run(owner, task_id="task-1")
    lapsed = timezone.now() - timedelta(seconds=settings.RUNS_LEASE_SECONDS + 1)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=lapsed, attempts=1)
    result, claim = leases.try_claim(run.pk, "here:1", "task-1")
    assert result is leases.ClaimResult.CLAIMED and claim is not None
    assert claim.resume_reason == "its executor stopped sending heartbeats"
    held = Run.objects.get(pk=run.pk)
    assert (held.status, held.lease, held.worker, held.attempts) == (
        Status.RUNNING,
        claim.lease,
        "here:1",
        2,
    )
    assert held.heartbeat_at is not None and held.heartbeat_at > lapsed
    # The new executor's lease is fresh: nobody takes it over in turn.
    assert leases.try_claim(run.pk, "elsewhere:1", "task-1")[0] is leases.ClaimResult.BUSY


def test_a_claim_reads_back_what_the_run_holds(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(monkeypatch)
    team = chatty_team(owner)
    run = services.start_run(owner, team.pk, "Plan a picnic", budget_tokens=900, budget_usd=1.5)
    usage = {"by_model": {"gpt": {"prompt_tokens": 3}}, "by_agent": {}}
    answer = {"type": "input", "request_id": "r1", "content": "Sunday \u00e9t\u00e9"}
    Run.objects.filter(pk=run.pk).update(
        usage=usage,
        pending_answer=answer,
        prompt_tokens=3,
        completion_tokens=4,
        cost_usd=0.25,
        next_task="and a second one",
        next_task_after_seq=7,
        resume_reason="answered after parking",
    )
    task_id = Run.objects.get(pk=run.pk).task_id
    result, claim = leases.try_claim(run.pk, "here:1", "")
    assert result is leases.ClaimResult.CLAIMED and claim is not None
    assert (claim.usage, claim.pending_answer) == (usage, answer)
    assert (claim.budget_tokens, claim.budget_usd) == (900, 1.5)
    assert (claim.prompt_tokens, claim.completion_tokens, claim.cost_usd) == (3, 4, 0.25)
    assert (claim.task, claim.resume_reason) == ("and a second one", "answered after parking")
    held = Run.objects.get(pk=run.pk)
    # No task id given: the one the run had stays.
    assert (held.status, held.lease, held.worker, held.task_id) == (
        Status.RUNNING,
        claim.lease,
        "here:1",
        task_id,
    )
    assert held.started_at is not None and held.heartbeat_at is not None
    assert held.parked_at is None


def test_a_resumption_announces_what_an_earlier_one_discarded_unannounced(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording(monkeypatch)
    run = running_run(owner, task_id="task-1")
    for seq in (1, 2, 3):
        RunEvent.objects.create(run=run, seq=seq, type="message", source="writer", data={})
    # An attempt discarded 2 and 3 after the checkpoint at 1, then died before it could
    # write its run.resumed event; the next attempt resumes from the same checkpoint.
    RunEvent.objects.filter(run=run, seq__gt=1).update(discarded=True)
    assert leases.discard_after(run.pk, 1) == (2, 3)
    assert leases.discard_after(run.pk, 3) == (4, 3)  # nothing after: an empty range
    kept = RunEvent.objects.filter(run=run, discarded=False).values_list("seq", flat=True)
    assert list(kept) == [1]


async def test_a_resumed_run_tells_why_once(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    recording(monkeypatch)
    team = await sync_to_async(chatty_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    await Run.objects.filter(pk=run.pk).aupdate(resume_reason="its worker shut down")
    await execute_run(run.pk, EmbeddedBackend())
    done = await Run.objects.aget(pk=run.pk)
    assert (done.status, done.resume_reason) == (Status.COMPLETED, "")
    resumed = [event.data async for event in RunEvent.objects.filter(run=run, type="run.resumed")]
    assert [data["reason"] for data in resumed] == ["its worker shut down"]


# --- sweeping: in every worker, concurrently, promptly ---


class RecordingBackend(EmbeddedBackend):
    """An embedded backend that records launches instead of executing them."""

    def __init__(self, *, pending: bool = False) -> None:
        super().__init__()
        self.launched: list[int] = []
        self.pending = pending
        self._launch_lock = threading.Lock()

    def launch(self, run_id: int) -> str:
        with self._launch_lock:
            self.launched.append(run_id)
        return ""

    def is_launch_pending(self, run_id: int) -> bool:
        return self.pending


def recording(monkeypatch: pytest.MonkeyPatch, *, pending: bool = False) -> RecordingBackend:
    """Make a recording backend the process's backend for this test."""
    backend = RecordingBackend(pending=pending)
    # Cached like the real one, which fixtures clear between tests.
    monkeypatch.setattr(backends, "get_backend", functools.cache(lambda: backend))
    return backend


def forgotten_queued_run(owner: User, settings: Any) -> Run:
    team = chatty_team(owner)
    run = services.start_run(owner, team.pk, "Plan a picnic")
    old = timezone.now() - timedelta(seconds=settings.RUNS_QUEUED_RELAUNCH_SECONDS + 5)
    Run.objects.filter(pk=run.pk).update(updated_at=old)
    return run


def sweep_concurrently(sweepers: int = 4) -> None:
    """Several sweeps at the same moment, as several workers would run them."""
    threads = [threading.Thread(target=recovery.sweep_once) for _ in range(sweepers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def test_concurrent_sweepers_relaunch_a_lost_queued_run_once(
    owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = recording(monkeypatch)
    run = forgotten_queued_run(owner, settings)
    backend.launched.clear()
    sweep_concurrently()
    assert backend.launched == [run.pk]


def test_a_queued_run_whose_launch_is_still_pending_is_left_alone(
    owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = recording(monkeypatch, pending=True)
    forgotten_queued_run(owner, settings)
    backend.launched.clear()
    recovery.sweep_runs()
    assert backend.launched == []


def test_concurrent_sweepers_requeue_a_run_whose_executor_died_once(
    owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = recording(monkeypatch)
    run = running_run(owner, task_id="task-1")
    dead = timezone.now() - timedelta(seconds=settings.RUNS_LEASE_SECONDS + 5)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=dead)
    backend.launched.clear()
    sweep_concurrently()
    assert backend.launched == [run.pk]
    assert Run.objects.get(pk=run.pk).status == Status.QUEUED


def test_the_next_sweep_comes_when_the_oldest_lease_lapses(
    owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RUNS_SWEEP_SECONDS = 30
    settings.RUNS_LEASE_SECONDS = 10
    recording(monkeypatch)
    assert recovery.next_sweep_in() == 30
    run = running_run(owner, task_id="task-1")
    beat = timezone.now() - timedelta(seconds=6)
    Run.objects.filter(pk=run.pk).update(heartbeat_at=beat)
    assert 4 <= recovery.next_sweep_in() <= 5


def test_a_worker_sweeps_as_soon_as_it_is_ready_and_stops_with_it(
    owner: User, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.runs import tasks

    backend = recording(monkeypatch)
    run = forgotten_queued_run(owner, settings)
    backend.launched.clear()
    tasks.start_sweeping()
    sweeper = tasks.sweepers[0]
    try:
        deadline = timezone.now() + timedelta(seconds=10)
        while not backend.launched and timezone.now() < deadline:
            sweeper.stopping.wait(0.05)
    finally:
        tasks.stop_sweeping()
        sweeper.join(10)
        tasks.sweepers.clear()
    assert backend.launched == [run.pk]
    assert not sweeper.is_alive()


# --- watching: a follower that fails makes the client reconnect ---


class UnreachableLog(LiveLog):
    """A live log whose store is away (Redis restarting)."""

    async def append(self, envelopes: Any) -> None:
        raise ConnectionError("Redis is restarting")

    async def read(self, position: Any, block: float) -> list[Any]:
        raise ConnectionError("Redis is restarting")

    async def finish(self) -> None:
        raise ConnectionError("Redis is restarting")


class UnreachableLogBackend(EmbeddedBackend):
    """An embedded backend whose live logs cannot be read."""

    def log(self, run_id: int) -> Any:
        return UnreachableLog()


async def test_a_watcher_whose_follower_fails_is_told_to_reconnect_and_then_sees_everything(
    owner: User,
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=4)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    await wait_finished(run.pk)
    # A server that did not execute the run has no live log of it: the database must answer.
    backends.get_backend.cache_clear()
    fault = QueryFault(is_event_read, times=1, action="refuse")
    async with fault.installed():
        connected, socket_ = await open_socket(run.pk, owner)
        assert connected
        closing = await socket_.receive_output(timeout=5)
    assert closing == {"type": "websocket.close", "code": 1011}
    connected, socket_ = await open_socket(run.pk, owner)
    assert connected
    frames = await receive_until(socket_, lambda frame: frame.get("type") == "run.finished")
    await socket_.disconnect()
    seqs = [e.seq for e in await sync_to_async(transcript)(run.pk)]
    assert [frame["seq"] for frame in frames] == seqs


async def test_a_watcher_keeps_receiving_from_the_database_while_the_live_log_fails(
    owner: User, settings: Any
) -> None:
    from studio.runs.streaming import follow_run

    team = await sync_to_async(chatty_team)(owner, turns=4)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED
    seqs = [e.seq for e in await sync_to_async(transcript)(run.pk)]
    follower = follow_run(run.pk, 2, UnreachableLogBackend(), block=0.1)
    received: list[int] = []
    async with asyncio.timeout(5):
        async for batch in follower:
            received += [frame.seq for frame in batch]
            if received[-1] == seqs[-1]:
                break
    assert received == seqs[2:]


# --- the database pool ---


def test_postgresql_connections_come_from_a_bounded_pool(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from studio.settings import database_from_url

    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "6")
    monkeypatch.setenv("DATABASE_POOL_MIN_SIZE", "2")
    monkeypatch.setenv("DATABASE_POOL_TIMEOUT", "5")
    config = database_from_url("postgresql://me@db.example/rt?sslmode=require", tmp_path)
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"] == {
        "sslmode": "require",
        "pool": {"min_size": 2, "max_size": 6, "timeout": 5.0},
    }


def test_a_pool_size_of_zero_turns_the_pool_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from studio.settings import database_from_url

    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "0")
    config = database_from_url("postgresql://me@db.example/rt", tmp_path)
    assert "pool" not in config["OPTIONS"] and config["CONN_MAX_AGE"] == 0


def test_a_pool_smaller_than_its_minimum_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from studio.settings import database_from_url

    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "2")
    monkeypatch.setenv("DATABASE_POOL_MIN_SIZE", "3")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOL_MIN_SIZE"):
        database_from_url("postgresql://me@db.example/rt", tmp_path)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pools are for PostgreSQL")
def test_the_test_database_itself_uses_the_pool() -> None:
    assert connection.pool is not None
