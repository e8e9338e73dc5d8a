"""Fault injection: every run completes gap-free, and every watcher sees each event once.

Distributed mode with real parts (a redis-server, a prefork Celery worker, daphne) and
the scripted model. The faults a deployment meets, injected mid-run:

- the worker process (whose run host executes every run it took) stopped at random
  moments: SIGKILLed (nothing is redelivered; it is started again, and its own sweeper
  resumes the runs once their leases lapse), or shut down cleanly with SIGTERM (it hands
  its runs back to the queue, and the new worker resumes them at once);
- Redis restarted empty: queued tasks, live logs and inboxes are gone;
- the database connection killed: ``pg_terminate_backend`` of the worker's connections
  on PostgreSQL, and on either database the executor's connection closed under it in
  the middle of writing a batch;
- daphne restarted under a client that reconnects with ``?after=<last seq>``.

``FAULT_INJECTION_KILLS`` sets how many worker kills (default 4, under a minute);
``make fault-injection`` runs 20. ``FAULT_INJECTION_SEED`` replays a kill schedule (the
seed is printed, run with ``-s`` to see it).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import http.client
import json
import os
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection

from studio.runs import backends, services
from studio.runs.models import FINISHED_STATUSES, Run, Status
from studio.teams.models import Team
from tests.studio.runs.conftest import (
    assistant,
    make_team,
    open_socket,
    scripted_model,
    session_cookie,
    transcript,
    wait_finished,
    wait_until,
)
from tests.studio.runs.faults import QueryFault, is_sink_write
from tests.studio.runs.processes import (
    CeleryWorker,
    Daphne,
    RedisServer,
    database_url,
    use_broker,
)
from tests.studio.runs.wsclient import HandshakeRefused, WebSocket

KILLS = int(os.environ.get("FAULT_INJECTION_KILLS") or 4)
SEED = int(os.environ.get("FAULT_INJECTION_SEED") or random.randrange(1 << 30))
TURNS = 14
REPLIES = {"writer": "Here is a draft.", "critic": "Here is a critique."}
WORKER_SETTINGS = {
    "RUNS_HEARTBEAT_SECONDS": "1",
    "RUNS_LEASE_SECONDS": "3",
    "RUNS_SWEEP_SECONDS": "1",
    "RUNS_QUEUED_RELAUNCH_SECONDS": "2",
    "RUNS_MAX_ATTEMPTS": "100",
    "RUNS_DATABASE_RETRY_SECONDS": "30",
    "RUNS_CHECKPOINT_INTERVAL_MS": "0",
    # Two at a time, so that more runs wait in the queue (and are lost with Redis).
    "RUNS_PER_PROCESS": "2",
    "RUNS_DATABASE_THREADS": "2",
    "DATABASE_POOL_MAX_SIZE": "4",
    # Below the lease, as the defaults are (10 s and 30 s): waiting for a connection after
    # the database dropped them all must not cost a run its lease.
    "DATABASE_POOL_TIMEOUT": "1",
}

WORKER_APPLICATION = "roundtable-fault-worker"
SERVER_APPLICATION = "roundtable-fault-server"

pytestmark = [pytest.mark.distributed, pytest.mark.django_db(transaction=True)]
ON_POSTGRESQL = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in {"postgres", "postgresql", "pgsql"},
    reason="needs PostgreSQL (the in-process connection test covers SQLite)",
)


# --- the cluster ---


@dataclass
class Cluster:
    """A Redis and a worker that tests may kill; each test finds them running."""

    redis: RedisServer
    worker: CeleryWorker

    def ensure_running(self) -> None:
        """Start whatever a previous test left dead."""
        if not self.redis.is_running:
            self.redis.start()
        if not self.worker.is_running:
            self.worker.start()

    def worker_log_count(self, text: str) -> int:
        """How often the worker's log says ``text``."""
        return self.worker.log.read_text(errors="replace").count(text)


@pytest.fixture(scope="module")
def cluster(django_db_setup: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A redis-server and a Celery worker with short leases and a quick sweeper."""
    folder = tmp_path_factory.mktemp("faults")
    redis_server = RedisServer(folder / "redis.log")
    redis_server.start()
    settings = dict(WORKER_SETTINGS)
    if connection.vendor == "postgresql":  # so that its sessions can be told apart
        settings["DATABASE_URL"] = f"{database_url()}?application_name={WORKER_APPLICATION}"
    worker = CeleryWorker(folder / "worker.log", redis_url=redis_server.url, settings=settings)
    try:
        worker.start()
    except RuntimeError as exc:
        redis_server.stop()
        pytest.fail(str(exc))
    yield Cluster(redis_server, worker)
    worker.stop()
    redis_server.stop()


@pytest.fixture
async def faults(settings: Any, cluster: Cluster, settle: None) -> AsyncIterator[Cluster]:
    """This process launches runs on the cluster and watches them through its Redis."""
    await asyncio.to_thread(cluster.ensure_running)
    settings.REDIS_URL = cluster.redis.url
    settings.RUNS_BACKEND = "distributed"
    settings.RUNS_QUEUED_RELAUNCH_SECONDS = 2
    previous = use_broker(cluster.redis.url)
    backends.get_backend.cache_clear()
    yield cluster
    use_broker(previous)
    backends.get_backend.cache_clear()


# --- teams, runs and what must hold of them ---


def talking_team(owner: User, *, turns: int = TURNS, delay: float = 0.1) -> Team:
    """A writer and a critic, each with its own script, for ``turns`` agent messages."""
    agents = [
        assistant(owner, name, scripted_model(owner, [reply] * (turns + 2), delay=delay, name=name))
        for name, reply in REPLIES.items()
    ]
    return make_team(owner, agents, max_messages=turns + 1)


def check_transcript(run_id: int, turns: int = TURNS) -> list[int]:
    """Assert the run completed with a gap-free, duplicate-free transcript; its seqs.

    The kept conversation is exactly the script: the task, then writer and critic in
    turn, each saying its own line. What an interrupted attempt said after its last
    checkpoint is discarded, exactly in the ranges the ``run.resumed`` events announced.
    """
    run = Run.objects.get(pk=run_id)
    events = transcript(run_id)
    seqs = [event.seq for event in events]
    assert run.status == Status.COMPLETED, (run.status, run.stop_reason)
    assert seqs == list(range(1, len(events) + 1)), "the transcript has a gap"
    assert [e.type for e in events if e.type == "run.finished"] == ["run.finished"]
    assert events[-1].type == "run.finished"
    kept = [e for e in events if e.type == "message" and not e.discarded]
    speakers = ["user"] + [list(REPLIES)[turn % 2] for turn in range(turns)]
    assert [e.source for e in kept] == speakers
    assert all(e.data["content"] == REPLIES[e.source] for e in kept[1:])
    assert len({e.data["id"] for e in kept}) == len(kept), "a message was kept twice"
    announced: set[int] = set()
    resumed = [e for e in events if e.type == "run.resumed"]
    for event in resumed:
        announced.update(range(event.data["discarded_from"], event.data["discarded_to"] + 1))
    assert {e.seq for e in events if e.discarded} == announced
    assert len(resumed) <= run.attempts - 1
    return seqs


def executing_workers(run_ids: list[int]) -> list[tuple[int, int]]:
    """(run id, process id) of the runs among ``run_ids`` that an executor holds now."""
    rows = Run.objects.filter(pk__in=run_ids, status=Status.RUNNING).exclude(worker="")
    return [(run.pk, int(run.worker.rsplit(":", 1)[1])) for run in rows]


def executing_or_done(run_ids: list[int]) -> bool:
    """Whether an executor holds one of the runs now, or none is left to hold."""
    return bool(executing_workers(run_ids)) or unfinished(run_ids) == 0


def unfinished(run_ids: list[int]) -> int:
    """How many of the runs have not ended."""
    return Run.objects.filter(pk__in=run_ids).exclude(status__in=FINISHED_STATUSES).count()


# --- watchers ---


@dataclass
class Watcher:
    """A client of a run's websocket that reconnects from its last seq, as the browser does.

    It keeps every frame as received, without de-duplicating: the server must send each
    event once.
    """

    run_id: int
    user: User
    frames: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0

    @property
    def seqs(self) -> list[int]:
        """The seqs of the events received, in order, repeats included."""
        return [frame["seq"] for frame in self.frames if frame.get("seq") is not None]

    async def watch(self, limit: float = 120.0) -> None:
        """Follow the run through the ASGI application until its ``run.finished``."""
        async with asyncio.timeout(limit):
            while True:
                after = max(self.seqs, default=0)
                connected, socket_ = await open_socket(self.run_id, self.user, after=after)
                if not connected:
                    await asyncio.sleep(0.2)
                    continue
                self.connections += 1
                try:
                    if await self.receive_all(socket_):
                        return
                finally:
                    await socket_.disconnect()

    async def receive_all(self, socket_: Any) -> bool:
        """Frames until the run finished (True) or the server closed the socket (False)."""
        while True:
            output = await socket_.receive_output(timeout=60)
            if output["type"] == "websocket.close":
                return False
            frame = json.loads(output["text"])
            self.frames.append(frame)
            if frame.get("type") == "run.finished":
                return True


def watch(run_id: int, user: User) -> tuple[Watcher, asyncio.Task[None]]:
    """A watcher of the run, already watching."""
    watcher = Watcher(run_id, user)
    return watcher, asyncio.create_task(watcher.watch())


async def finish_and_check(
    watched: list[tuple[int, Any, asyncio.Task[None]]], *, turns: int = TURNS, limit: float = 90.0
) -> None:
    """Wait for every run and its watcher; check the transcripts and what was seen."""
    for run_id, _watcher, task in watched:
        await wait_finished(run_id, limit=limit)
        await asyncio.wait_for(task, limit)
    for run_id, watcher, _task in watched:
        seqs = await sync_to_async(check_transcript)(run_id, turns)
        assert watcher.seqs == seqs, f"run {run_id}: the watcher saw {watcher.seqs}"


# --- the faults ---


async def test_every_run_completes_gap_free_across_worker_kills(
    owner: User, faults: Cluster
) -> None:
    rng = random.Random(SEED)
    print(f"\nfault injection: {KILLS} worker kills, seed {SEED} (FAULT_INJECTION_SEED replays it)")
    team = await sync_to_async(talking_team)(owner)
    watched: list[tuple[int, Watcher, asyncio.Task[None]]] = []

    async def start_run() -> None:
        run = await sync_to_async(services.start_run)(owner, team.pk, f"Topic {len(watched)}")
        watched.append((run.pk, *watch(run.pk, owner)))

    kills: collections.Counter[str] = collections.Counter()
    for _ in range(2):
        await start_run()
    # Bounded, so that a stuck fault shows where it stuck instead of hanging the suite.
    async with asyncio.timeout(60 + 15 * KILLS):
        while sum(kills.values()) < KILLS:
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            run_ids = [run_id for run_id, _, _ in watched]
            if await sync_to_async(unfinished)(run_ids) < 2:
                await start_run()
                run_ids.append(watched[-1][0])
            await wait_until(lambda ids=run_ids: executing_or_done(ids), limit=30)
            executing = await sync_to_async(executing_workers)(run_ids)
            if not executing:
                continue  # they finished meanwhile: start another
            if rng.random() < 0.5:
                await asyncio.to_thread(faults.worker.restart)
                kills["killed"] += 1
            else:
                await asyncio.to_thread(faults.worker.restart_cleanly)
                kills["stopped"] += 1
        await finish_and_check(watched)
    attempts = [run.attempts async for run in Run.objects.filter(pk__in=[w[0] for w in watched])]
    print(
        f"\nfault injection (seed {SEED}): {len(watched)} runs completed gap-free across "
        f"{kills['killed']} SIGKILLs and {kills['stopped']} clean stops of the worker; "
        f"{sum(attempts) - len(attempts)} resumptions"
    )
    assert sum(attempts) > len(attempts), "no kill interrupted a run"


async def test_runs_go_on_when_redis_restarts_empty_mid_run(owner: User, faults: Cluster) -> None:
    team = await sync_to_async(talking_team)(owner, turns=10)
    watched = []
    for index in range(5):  # two execute, three wait in the queue
        run = await sync_to_async(services.start_run)(owner, team.pk, f"Topic {index}")
        watched.append((run.pk, *watch(run.pk, owner)))
    relaunched = faults.worker_log_count("its launch was lost")
    await wait_until(lambda: executing_workers([w[0] for w in watched]), limit=20)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(faults.redis.restart)
    await finish_and_check(watched, turns=10)
    assert faults.worker_log_count("its launch was lost") > relaunched


@ON_POSTGRESQL
async def test_runs_and_their_watchers_go_on_when_postgresql_terminates_every_session(
    owner: User, faults: Cluster, tmp_path: Path
) -> None:
    server = await start_server(faults, tmp_path)
    try:
        team = await sync_to_async(talking_team)(owner)
        cookie = (await sync_to_async(session_cookie)(owner)).decode()
        watched = []
        for index in range(2):
            run = await sync_to_async(services.start_run)(owner, team.pk, f"Topic {index}")
            client = RemoteWatcher(server.port, run.pk, cookie)
            watched.append((run.pk, client, asyncio.create_task(client.watch())))
        lost = faults.worker_log_count("lost its database connection")
        terminated = 0
        for _ in range(3):
            await wait_until(lambda: executing_workers([w[0] for w in watched]), limit=20)
            await asyncio.sleep(0.3)
            terminated += await sync_to_async(terminate_sessions)(
                WORKER_APPLICATION, SERVER_APPLICATION
            )
        await finish_and_check(watched)
    finally:
        await asyncio.to_thread(server.stop)
    assert terminated >= 6, "the worker's and the server's sessions were terminated"
    assert faults.worker_log_count("lost its database connection") > lost
    attempts = [run.attempts async for run in Run.objects.filter(pk__in=[w[0] for w in watched])]
    assert attempts == [1, 1], "the runs went on without resuming"


def terminate_sessions(*applications: str) -> int:
    """Kill every session of these applications (busy or idle) on the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = ANY(%s)",
            [list(applications)],
        )
        return int(cursor.fetchone()[0])


async def start_server(faults: Cluster, folder: Path, **settings: str) -> Daphne:
    """A daphne server of the cluster whose database sessions can be told apart."""
    url = await sync_to_async(database_url)()
    if connection.vendor == "postgresql":
        url = f"{url}?application_name={SERVER_APPLICATION}"
    server = Daphne(
        folder / "daphne.log",
        redis_url=faults.redis.url,
        settings={"DATABASE_URL": url, **settings},
    )
    await asyncio.to_thread(server.start)
    return server


# --- a connection closed under the executor, in process (either database) ---


@pytest.mark.usefixtures("settle")
async def test_a_run_goes_on_when_its_connection_dies_in_the_middle_of_a_write(
    owner: User,
) -> None:
    team = await sync_to_async(talking_team)(owner, delay=0.02)
    # The embedded executor and this test share asgiref's one sync thread, so the fault
    # sits on the executor's connection.
    fault = QueryFault(is_sink_write, times=3, every=2)
    async with fault.installed():
        run = await sync_to_async(services.start_run)(owner, team.pk, "Write an essay")
        watcher, task = watch(run.pk, owner)
        await finish_and_check([(run.pk, watcher, task)], limit=60)
    assert fault.hits == 3
    done = await Run.objects.aget(pk=run.pk)
    assert done.attempts == 1, "the run went on without resuming"


# --- daphne restarted under a client ---


@dataclass
class RemoteWatcher:
    """A websocket client of a real daphne that reconnects from its last seq."""

    port: int
    run_id: int
    cookie: str
    frames: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0

    @property
    def seqs(self) -> list[int]:
        """The seqs of the events received, in order, repeats included."""
        return [frame["seq"] for frame in self.frames if frame.get("seq") is not None]

    async def watch(self, limit: float = 120.0) -> None:
        """Follow the run until its ``run.finished``, reconnecting after every close."""
        async with asyncio.timeout(limit):
            while True:
                if await self.watch_once():
                    return
                await asyncio.sleep(0.2)  # daphne may still be starting

    async def watch_once(self) -> bool:
        """One connection: True once the run finished, False when it closed before."""
        after = max(self.seqs, default=0)
        try:
            socket_ = await WebSocket.connect(
                "127.0.0.1",
                self.port,
                f"/ws/runs/{self.run_id}/?after={after}",
                {"Origin": f"http://127.0.0.1:{self.port}", "Cookie": self.cookie},
            )
        except (OSError, HandshakeRefused):
            return False  # daphne is down or not serving yet: try again
        self.connections += 1
        try:
            while True:
                text = await socket_.receive()
                if text is None:
                    return False
                frame = json.loads(text)
                self.frames.append(frame)
                if frame.get("type") == "run.finished":
                    return True
        finally:
            await socket_.close()


async def test_a_client_sees_every_event_once_across_a_daphne_restart(
    owner: User, faults: Cluster, tmp_path: Path
) -> None:
    server = await start_server(faults, tmp_path)
    try:
        team = await sync_to_async(talking_team)(owner, delay=0.15)
        run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a garden")
        cookie = (await sync_to_async(session_cookie)(owner)).decode()
        client = RemoteWatcher(server.port, run.pk, cookie)
        task = asyncio.create_task(client.watch())
        await wait_until(lambda: len(client.seqs) >= 6, limit=30)
        await asyncio.to_thread(server.restart)
        await asyncio.wait_for(task, 60)
    finally:
        await asyncio.to_thread(server.stop)
    await wait_finished(run.pk, limit=30)
    seqs = await sync_to_async(check_transcript)(run.pk)
    assert client.seqs == seqs
    assert client.connections >= 2, "the restart did not cut the connection"


# --- a server's connections stay within its pool ---


def server_sessions() -> int:
    """How many sessions the daphne under test holds on the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            [SERVER_APPLICATION],
        )
        return int(cursor.fetchone()[0])


def status_code(port: int, path: str, cookie: str) -> int:
    """GET ``path`` from the server; its status code."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        client.request("GET", path, headers={"Cookie": cookie})
        response = client.getresponse()
        response.read()
        return response.status
    finally:
        client.close()


@ON_POSTGRESQL
async def test_a_server_holds_no_more_connections_than_its_pool_after_many_requests(
    owner: User, faults: Cluster, tmp_path: Path
) -> None:
    pool_size = 4
    server = await start_server(
        faults, tmp_path, DATABASE_POOL_MAX_SIZE=str(pool_size), RUNS_DATABASE_THREADS="2"
    )
    try:
        team = await sync_to_async(talking_team)(owner, turns=2, delay=0)
        run = await sync_to_async(services.start_run)(owner, team.pk, "Say hello")
        cookie = (await sync_to_async(session_cookie)(owner)).decode()
        path = f"/api/runs/{run.pk}"
        with concurrent.futures.ThreadPoolExecutor(8) as requests:
            codes = await asyncio.to_thread(
                lambda: list(
                    requests.map(lambda _: status_code(server.port, path, cookie), range(100))
                )
            )
        held = await sync_to_async(server_sessions)()
    finally:
        await asyncio.to_thread(server.stop)
    assert codes == [200] * 100
    assert 0 < held <= pool_size
