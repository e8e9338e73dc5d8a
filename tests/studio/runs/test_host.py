"""The run host: where a process executes its runs, how many, and how it lets them go."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection, connections, transaction
from django.utils import timezone

from studio.runs.database import call_database
from studio.runs.execution import hand_back
from studio.runs.host import RunHost
from studio.runs.leases import worker_name
from studio.runs.models import Run, Status
from studio.sqlite import base as sqlite_backend
from studio.teams.models import TeamVersion
from tests.studio.runs.conftest import chatty_team
from tests.studio.runs.test_resilience import RecordingBackend


@pytest.fixture
def host() -> Iterator[RunHost]:
    """A host of its own, with room for one run."""
    made = RunHost(capacity=1, database_threads=1)
    yield made
    made.stop()


class Gate:
    """Runs on a host that wait until the test opens the gate (from its own thread)."""

    def __init__(self, host: RunHost) -> None:
        self.host = host
        self.is_open = False
        self.waiting: list[asyncio.Future[None]] = []
        self.threads: list[str] = []

    async def run(self) -> None:
        """A run that waits for the gate."""
        self.threads.append(threading.current_thread().name)
        if not self.is_open:
            future = asyncio.get_running_loop().create_future()
            self.waiting.append(future)
            await future

    def open(self) -> None:
        """Let every waiting run end (on the host's loop, like the runs themselves)."""

        def release() -> None:
            self.is_open = True
            for future in self.waiting:
                if not future.done():
                    future.set_result(None)

        self.host.loop.call_soon_threadsafe(release)


def test_a_full_host_makes_the_next_run_wait_for_room(host: RunHost) -> None:
    gate = Gate(host)
    host.submit(1, gate.run)
    assert not host.wait_for_room(timeout=0.2)
    gate.open()
    assert host.wait_for_room(timeout=10)
    assert host.run_count == 0


def test_runs_execute_off_the_callers_thread_and_stopping_names_those_cut_short(
    host: RunHost,
) -> None:
    gate = Gate(host)
    host.capacity = 2
    host.submit(7, gate.run)
    host.submit(8, gate.run)
    deadline = time.monotonic() + 10
    while len(gate.waiting) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert gate.threads == ["roundtable-runs", "roundtable-runs"]
    assert sorted(host.stop()) == [7, 8]
    assert not host.is_running(7) and not host.is_running(8)


@pytest.mark.django_db
def test_a_worker_shutting_down_hands_back_only_the_runs_it_still_holds(owner: User) -> None:
    team = chatty_team(owner)
    version = TeamVersion.objects.filter(team=team).latest("number")

    def running(worker: str) -> int:
        return Run.objects.create(
            team=team,
            team_version=version,
            task="Go",
            status=Status.RUNNING,
            lease="token",
            worker=worker,
            heartbeat_at=timezone.now(),
        ).pk

    mine, taken = running(worker_name()), running("elsewhere:1")
    backend = RecordingBackend()
    assert hand_back([mine, taken], backend) == [mine]
    assert backend.launched == [mine]
    handed = Run.objects.get(pk=mine)
    assert handed.status == Status.QUEUED and handed.lease == "" and handed.worker == ""
    assert Run.objects.get(pk=taken).status == Status.RUNNING


@pytest.mark.django_db(transaction=True)
def test_a_host_connects_its_database_threads_when_asked_and_survives_a_refusal(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    made = RunHost(capacity=1, database_threads=2)
    try:
        made.open_connections()
        opened: list[bool] = []
        made.database.on_every_thread(lambda: opened.append(connection.connection is not None))
        assert opened == [True, True]

        def refuse(self: object) -> None:
            raise OSError("database down")

        made.database.on_every_thread(lambda: connection.close())
        monkeypatch.setattr(type(connections["default"]), "ensure_connection", refuse)
        with caplog.at_level("WARNING", logger="studio.runs.host"):
            made.open_connections()
        assert "could not connect to the database yet: database down" in caplog.text
    finally:
        monkeypatch.undo()
        made.stop()


def niceness_on(host: RunHost) -> tuple[int, set[int]]:
    """The niceness of the host's loop thread and those of its database threads."""

    async def own() -> int:
        return os.nice(0)  # the calling thread's, on Linux

    loop = asyncio.run_coroutine_threadsafe(own(), host.loop).result(10)
    database: set[int] = set()
    host.database.on_every_thread(lambda: database.add(os.nice(0)))
    return loop, database


def test_a_hosts_loop_runs_at_a_lower_priority_and_its_database_threads_do_not(
    host: RunHost, settings: Any
) -> None:
    mine = os.nice(0)
    loop, database = niceness_on(host)
    assert loop == min(mine + settings.RUNS_NICENESS, 19) > mine
    assert database == {mine}


def test_a_niceness_of_zero_keeps_the_loop_level(settings: Any) -> None:
    settings.RUNS_NICENESS = 0
    level = RunHost(capacity=1, database_threads=2)
    try:
        assert niceness_on(level) == (os.nice(0), {os.nice(0)})
    finally:
        level.stop()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's one write lock")
def test_a_hosts_loop_stands_still_while_its_database_thread_holds_the_write_lock(
    host: RunHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Far longer than the test waits: the loop goes on because the transaction ended.
    monkeypatch.setattr(sqlite_backend, "LONGEST_PAUSE", 30.0)
    ran = threading.Event()

    def write() -> bool:
        with transaction.atomic():
            Group.objects.create(name="batch")
            host.loop.call_soon_threadsafe(ran.set)
            time.sleep(0.1)
            return ran.is_set()

    async def on_the_loop() -> bool:
        return await call_database(write)

    assert asyncio.run_coroutine_threadsafe(on_the_loop(), host.loop).result(10) is False
    assert ran.wait(5)
    assert Group.objects.filter(name="batch").exists()
