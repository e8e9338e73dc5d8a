"""The embedded mode with its run host in a child process (``RUNS_HOST=process``).

The test process plays the server: its backend starts the real run host process on the
test database (a file on SQLite), its sockets read the live logs the child feeds, and
answers and stops go to the child. Every test is transactional, so what the test writes
is committed before the child looks for it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from studio.runs import backends, services
from studio.runs.backends.hosted import (
    HostedBackend,
    Link,
    ServerBackend,
    mark_server_process,
)
from studio.runs.events import Frame
from studio.runs.models import Run, Status
from tests.studio.runs.conftest import (
    assistant,
    chatty_team,
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
    database_url,
    expected_run_niceness,
    niceness,
    thread_niceness,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("settle"),
]

#: the child reads its settings from the environment, as a server's would
CHILD_SETTINGS = {
    "RUNS_BACKEND": "embedded",
    "REDIS_URL": "",
    "RUNS_HOST": "process",
    "RUNS_HEARTBEAT_SECONDS": "1",
    "RUNS_LEASE_SECONDS": "3",
    "RUNS_CHECKPOINT_INTERVAL_MS": "0",
    "RUNS_RECOVER_ON_START": "true",
    "RUNS_STOP_GRACE_SECONDS": "5",
    "RUNS_INPUT_GRACE_SECONDS": "60",
}


@pytest.fixture
def hosted(
    request: pytest.FixtureRequest, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ServerBackend]:
    """This process's backend, with its run host processes started on the test database
    (one, or as many as the test's indirect parameter says)."""
    monkeypatch.setenv("DATABASE_URL", database_url())
    for key, value in CHILD_SETTINGS.items():
        monkeypatch.setenv(key, value)
    settings.RUNS_HOST = "process"
    settings.RUNS_HOST_PROCESSES = getattr(request, "param", 1)
    mark_server_process()  # as studio.asgi does (this module imports it already)
    backends.get_backend.cache_clear()
    backend = backends.get_backend()
    assert isinstance(backend, ServerBackend)
    backend.ensure_started()
    yield backend
    backend.close()
    backends.get_backend.cache_clear()


def messages(run_id: int) -> list[str]:
    return [
        e.data["content"] for e in transcript(run_id) if e.type == "message" and not e.discarded
    ]


async def test_a_run_executes_in_the_child_and_streams_through_the_server(
    owner: User, hosted: ServerBackend
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=6, delay=0.1)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    connected, socket_ = await open_socket(run.pk, owner)
    assert connected
    await wait_until(lambda: run_worker_pid(run.pk) != 0, limit=30)
    pid = await sync_to_async(run_worker_pid)(run.pk)
    # The child says it serves before it takes the run, but the server's link thread may
    # read that after the run's row shows the child's pid.
    await wait_until(lambda: hosted.host_pid is not None, limit=10)
    assert pid == hosted.host_pid and pid != os.getpid()
    frames = await receive_until(socket_, is_type("run.finished"), limit=30)
    await socket_.disconnect()
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED and done.backend == "embedded"
    persisted = [e.seq for e in await sync_to_async(transcript)(run.pk)]
    assert [f["seq"] for f in frames if f.get("seq") is not None] == persisted
    # What the socket got came from this process's copy of the live log.
    assert [e.seq for e in await hosted.log(run.pk).read((0, 0), 0)][-1] == persisted[-1]


async def test_a_killed_child_is_replaced_and_its_runs_resume(
    owner: User, hosted: ServerBackend
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=12, delay=0.15)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Tell a long story")
    await wait_until(lambda: len(messages(run.pk)) >= 4, limit=30)
    first = hosted.host_pid
    assert first is not None and await sync_to_async(run_worker_pid)(run.pk) == first
    os.kill(first, signal.SIGKILL)
    done = await wait_finished(run.pk, limit=60)
    assert done.status == Status.COMPLETED
    assert done.attempts == 2
    second = hosted.host_pid
    assert second is not None and second != first
    events = await sync_to_async(transcript)(run.pk)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(await sync_to_async(messages)(run.pk)) == 13
    assert [e.type for e in events].count("run.resumed") == 1


async def test_the_child_stops_when_the_server_goes_and_the_next_one_resumes_its_runs(
    owner: User, hosted: ServerBackend
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=10, delay=0.15)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Count sheep")
    await wait_until(lambda: len(messages(run.pk)) >= 3, limit=30)
    child = hosted._children[0]
    assert child is not None
    await asyncio.to_thread(hosted.close)
    assert child.process.returncode is not None
    left = await Run.objects.aget(pk=run.pk)
    assert left.status == Status.RUNNING  # cut short, lease kept: the next start resumes it
    backends.get_backend.cache_clear()
    successor = backends.get_backend()
    assert isinstance(successor, ServerBackend) and successor is not hosted
    successor.ensure_started()
    try:
        done = await wait_finished(run.pk, limit=60)
    finally:
        successor.close()
    assert done.status == Status.COMPLETED and done.attempts == 2


async def wait_serving(backend: ServerBackend, count: int) -> list[int]:
    """The pids of the backend's run host processes once ``count`` of them serve."""
    await wait_until(lambda: len(backend.host_pids) == count, limit=30)
    return backend.host_pids


async def start_chatty_runs(
    owner: User, backend: ServerBackend, count: int
) -> tuple[list[int], list[Run], list[int]]:
    """Once both run host processes serve, ``count`` runs of a slow team, each once it
    wrote a few messages: the hosts' pids, the runs and each run's executing pid."""
    pids = await wait_serving(backend, 2)
    team = await sync_to_async(chatty_team)(owner, turns=12, delay=0.15)
    runs = [
        await sync_to_async(services.start_run)(owner, team.pk, f"Story {n}") for n in range(count)
    ]
    for run in runs:
        await wait_until(lambda run=run: len(messages(run.pk)) >= 3, limit=30)
    executors = [await sync_to_async(run_worker_pid)(run.pk) for run in runs]
    return pids, runs, executors


@pytest.mark.parametrize("hosted", [2], indirect=True)
async def test_runs_are_spread_over_the_run_host_processes(
    owner: User, hosted: ServerBackend
) -> None:
    pids, runs, executors = await start_chatty_runs(owner, hosted, 4)
    assert sorted(executors) == sorted(pids * 2)
    for run in runs:
        done = await wait_finished(run.pk, limit=60)
        assert done.status == Status.COMPLETED and done.attempts == 1
        assert len(await sync_to_async(messages)(run.pk)) == 13


@pytest.mark.parametrize("hosted", [2], indirect=True)
async def test_a_dead_run_host_process_s_runs_resume_and_its_sibling_s_go_on(
    owner: User, hosted: ServerBackend
) -> None:
    pids, runs, executors = await start_chatty_runs(owner, hosted, 2)
    assert sorted(executors) == sorted(pids)
    os.kill(executors[0], signal.SIGKILL)
    lost, kept = [await wait_finished(run.pk, limit=60) for run in runs]
    assert lost.status == kept.status == Status.COMPLETED
    assert (lost.attempts, kept.attempts) == (2, 1)
    for run in runs:
        events = await sync_to_async(transcript)(run.pk)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert len(await sync_to_async(messages)(run.pk)) == 13
    successors = await wait_serving(hosted, 2)
    assert executors[1] in successors and executors[0] not in successors


@pytest.mark.parametrize("hosted", [1, 2], indirect=True)
async def test_answers_and_stops_reach_a_run_on_any_run_host_process(
    owner: User, hosted: ServerBackend
) -> None:
    await wait_serving(hosted, hosted.host_count)

    def build() -> Any:
        model = scripted_model(owner, ["Where to?", "Noted.", "Anything else?"] * 3)
        agents = [assistant(owner, "guide", model), human(owner, "traveller")]
        return make_team(owner, agents, max_messages=8)

    team = await sync_to_async(build)()
    runs = [
        await sync_to_async(services.start_run)(owner, team.pk, f"Plan trip {n}")
        for n in range(hosted.host_count)
    ]
    sockets = []
    for run in runs:
        connected, socket_ = await open_socket(run.pk, owner)
        assert connected
        sockets.append(socket_)
    for socket_ in sockets:
        request = (await receive_until(socket_, is_type("input.requested"), limit=30))[-1]
        await socket_.send_json_to(
            {"type": "input", "request_id": request["data"]["request_id"], "content": "Oslo"}
        )
    executors = {await sync_to_async(run_worker_pid)(run.pk) for run in runs}
    assert executors == set(hosted.host_pids)
    for run, socket_ in zip(runs, sockets, strict=True):
        echoed = await receive_until(socket_, is_type("input.provided"), limit=10)
        assert echoed[-1]["data"]["content"] == "Oslo"
        await receive_until(socket_, is_type("input.requested"), limit=10)
        await sync_to_async(services.stop_run)(owner, run.pk)
        await receive_until(socket_, is_type("run.finished"), limit=10)
        await socket_.disconnect()
    for run in runs:
        done = await wait_finished(run.pk)
        assert done.status == Status.CANCELLED and done.attempts == 1
        assert "Oslo" in await sync_to_async(messages)(run.pk)


def test_health_names_the_run_host_process(hosted: ServerBackend) -> None:
    started = time.monotonic()
    while hosted.host_pid is None and time.monotonic() - started < 10:
        time.sleep(0.05)
    body = Client().get("/health/").json()
    assert body["mode"] == "embedded"
    check = body["checks"]["run_host"]
    assert check["ok"] is True and check["pid"] == hosted.host_pid != os.getpid()


def test_the_run_host_process_runs_its_runs_below_the_servers_priority(
    hosted: ServerBackend,
) -> None:
    started = time.monotonic()
    while hosted.host_pid is None and time.monotonic() - started < 10:
        time.sleep(0.05)
    pid = hosted.host_pid
    assert pid is not None
    while expected_run_niceness() not in thread_niceness(pid) and time.monotonic() < started + 10:
        time.sleep(0.05)
    # Its loop went lower; its main thread (and the database threads) did not.
    assert thread_niceness(pid) == {niceness(os.getpid()), expected_run_niceness()}
    assert niceness(pid) == niceness(os.getpid())


async def test_the_child_forwards_its_runs_logs_to_the_server() -> None:
    """What the runs put in one turn of the run host's loop goes as one message, in
    order; a single message as it is; a publish from a database thread at once."""
    ours, theirs = socket.socketpair()
    server_end = Connection(theirs.detach())
    backend = HostedBackend(Link(Connection(ours.detach()), "test-link"))
    try:
        message = Frame((1, 0), '{"run":5,"seq":1,"type":"message"}')
        other = Frame((1, 0), '{"run":7,"seq":1,"type":"message"}')
        await backend.log(5).append([message])
        await backend.log(7).append([other])
        await backend.log(5).finish()
        await asyncio.sleep(0)  # the turn ends
        assert server_end.recv() == (
            "batch",
            0,
            [("log", 5, [message]), ("log", 7, [other]), ("finish", 5)],
        )
        await backend.log(7).finish()
        await asyncio.sleep(0)
        assert server_end.recv() == ("finish", 7)
        finished = Frame((3, 0), '{"run":6,"seq":3,"type":"run.finished"}')
        await asyncio.to_thread(backend.publish, 6, [finished])
        assert server_end.poll(5)
        assert server_end.recv() == ("log", 6, [finished])
    finally:
        server_end.close()


async def test_the_server_takes_a_batch_from_a_child_as_its_messages_in_order() -> None:
    """A batch arrives on the link's thread; the readers waiting on its logs wake."""
    backend = ServerBackend()
    first = Frame((1, 0), '{"run":5,"seq":1,"type":"message"}')
    last = Frame((2, 0), '{"run":5,"seq":2,"type":"run.finished"}')
    other = Frame((1, 0), '{"run":7,"seq":1,"type":"message"}')
    waiting = [asyncio.create_task(backend.log(run_id).read((0, 0), 5)) for run_id in (5, 7)]
    await asyncio.sleep(0.05)
    batch = [("log", 5, [first]), ("log", 7, [other]), ("log", 5, [last]), ("finish", 5)]
    await asyncio.to_thread(backend._receive, ("batch", 0, batch))
    woken = await asyncio.wait_for(asyncio.gather(*waiting), 2)
    assert woken == [[first, last], [other]]
    assert await backend.log(5).read((0, 0), 0) == [first, last]
    assert backend.log(5).is_finished
    assert await backend.log(7).read((0, 0), 0) == [other]
    assert not backend.log(7).is_finished


def test_only_the_server_starts_a_run_host_process() -> None:
    # A management command or a shell beside a running server must not start a second
    # run host process: its start-up recovery would take the server's runs over.
    import subprocess
    import sys

    probe = (
        "from studio.runs.backends import get_backend;"
        "print(type(get_backend()).__name__);"
        "import studio.asgi;"
        "get_backend.cache_clear();"
        "print(type(get_backend()).__name__)"
    )
    env = {**os.environ, **CHILD_SETTINGS, "DATABASE_URL": database_url()}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split()[-2:] == ["EmbeddedBackend", "ServerBackend"]


async def test_the_child_forgets_runs_it_no_longer_holds() -> None:
    ours, theirs = socket.socketpair()
    backend = HostedBackend(Link(Connection(ours.detach()), "test-link"))
    try:
        backend.post(7, {"type": "input", "request_id": "r1", "content": "late"})
        backend.forget_idle_runs(every=0)  # first look: run 7 is not on this host
        backend.post(8, {"type": "input", "request_id": "r2", "content": "new"})
        backend.forget_idle_runs(every=0)  # second look: 7 goes, 8 was seen idle once
        assert await backend.inbox(7).get(0) is None
        assert (await backend.inbox(8).get(0) or {}).get("content") == "new"
    finally:
        theirs.close()
