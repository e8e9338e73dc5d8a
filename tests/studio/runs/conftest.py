"""Teams on scripted models, settings for quick runs, and a clean backend per test."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from studio.runs import backends, services
from studio.runs.events import validate_data
from studio.runs.host import stop_host
from studio.runs.models import ACTIVE_STATUSES, FINISHED_STATUSES, Run, RunEvent
from studio.teams.models import Agent, AgentKind, ModelConfig, Provider, Role, Team, TeamMember
from studio.teams.services import snapshot_team
from tests.studio.runs.processes import free_port, use_broker


@pytest.fixture(autouse=True)
def quick_runs(settings: Any) -> Iterator[None]:
    """Short leases and heartbeats, a checkpoint every turn, a fresh embedded backend
    (the studio's conftest stops what a test left on the run host)."""
    settings.RUNS_BACKEND = "embedded"
    settings.RUNS_CHECKPOINT_INTERVAL_MS = 0
    settings.RUNS_HEARTBEAT_SECONDS = 1
    settings.RUNS_LEASE_SECONDS = 3
    settings.RUNS_RECOVER_ON_START = False
    settings.RUNS_STOP_GRACE_SECONDS = 5
    backends.get_backend.cache_clear()
    yield
    backends.get_backend.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def run_host_stopped_at_the_end() -> Iterator[None]:
    """The run host goes with the session (its connections would keep the database)."""
    yield
    stop_host()


def end_runs_left_going(limit: float = 20.0) -> None:
    """Stop the runs a test left going and wait until each has ended.

    A worker in another process still writing a run's batch would race the flush between
    tests; on PostgreSQL that TRUNCATE deadlocks with it.
    """
    for run in Run.objects.filter(status__in=ACTIVE_STATUSES).select_related("team__owner"):
        services.stop_run(run.team.owner, run.pk)
    deadline = time.monotonic() + limit
    while going := list(Run.objects.filter(status__in=ACTIVE_STATUSES).values_list("pk", "status")):
        if time.monotonic() > deadline:
            raise AssertionError(f"runs still going {limit} s after being stopped: {going}")
        time.sleep(0.05)


@pytest.fixture
def unreachable_broker(settings: Any) -> Iterator[str]:
    """The distributed backend, its task queue on a Redis address nobody listens on."""
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_URL = nowhere
    settings.RUNS_BACKEND = "distributed"
    backends.get_backend.cache_clear()
    previous = use_broker(nowhere)
    yield nowhere
    use_broker(previous)
    backends.get_backend.cache_clear()


@pytest.fixture
async def settle() -> AsyncIterator[None]:
    """After an async test, cancel run tasks it left on its loop."""
    yield
    loop = asyncio.get_running_loop()
    leftovers = [
        task
        for task in asyncio.all_tasks(loop)
        if task is not asyncio.current_task() and not task.done()
    ]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
    # Connections opened by sync_to_async's worker thread would keep the test database busy.
    await sync_to_async(connections.close_all)()


def scripted_model(
    owner: User,
    replies: list[Any],
    *,
    delay: float = 0.0,
    price_input: float = 0.0,
    price_output: float = 0.0,
    name: str = "scripted",
) -> ModelConfig:
    """A model that answers from a script."""
    return ModelConfig.objects.create(
        owner=owner,
        name=name,
        provider=Provider.SCRIPTED,
        model=name,
        params={"delay": delay} if delay else {},
        scripted_replies=replies,
        price_input_per_million=price_input,
        price_output_per_million=price_output,
    )


def assistant(owner: User, name: str, model: ModelConfig, **fields: Any) -> Agent:
    """An assistant agent."""
    return Agent.objects.create(
        owner=owner, name=name, kind=AgentKind.ASSISTANT, model=model, **fields
    )


def human(owner: User, name: str = "person") -> Agent:
    """A human seat."""
    return Agent.objects.create(owner=owner, name=name, kind=AgentKind.USER_PROXY)


def make_team(
    owner: User,
    agents: list[Agent],
    *,
    max_messages: int | None = None,
    max_turns: int | None = None,
    termination: dict[str, Any] | None = None,
    shared_with: dict[User, str] | None = None,
) -> Team:
    """A round-robin team of ``agents``, versioned."""
    if termination is None and max_messages is not None:
        termination = {"type": "max_messages", "max_messages": max_messages}
    team = Team.objects.create(
        owner=owner, name="crew", termination=termination, max_turns=max_turns
    )
    TeamMember.objects.bulk_create(
        TeamMember(team=team, agent=agent, position=index) for index, agent in enumerate(agents)
    )
    snapshot_team(team, owner)
    for user, role in (shared_with or {}).items():
        team.share_with(user=user, role=role)
    return team


def remote_team(owner: User, base_url: str, *, max_messages: int = 3) -> Team:
    """One assistant on an OpenAI-compatible server at ``base_url`` (no retries)."""
    model = ModelConfig.objects.create(
        owner=owner,
        name="remote",
        provider=Provider.OPENAI_COMPATIBLE,
        model="gpt-test",
        base_url=base_url,
        params={"max_retries": 0},
    )
    return make_team(owner, [assistant(owner, "remote_agent", model)], max_messages=max_messages)


def chatty_team(owner: User, *, turns: int = 4, delay: float = 0.0, **options: Any) -> Team:
    """Two assistants that talk for ``turns`` agent messages (plus the task)."""
    model = scripted_model(owner, ["I agree, and here is more."] * (turns + 4), delay=delay)
    agents = [assistant(owner, "writer", model), assistant(owner, "critic", model)]
    return make_team(owner, agents, max_messages=turns + 1, **options)


VIEWER = Role.VIEWER
EDITOR = Role.EDITOR


def finished(run_id: int) -> bool:
    """Whether the run has ended."""
    return Run.objects.get(pk=run_id).status in FINISHED_STATUSES


async def wait_until(check: Any, *args: Any, limit: float = 10.0) -> None:
    """Poll a synchronous ``check(*args)`` until it holds."""
    deadline = asyncio.get_running_loop().time() + limit
    while not await sync_to_async(check)(*args):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{check.__name__}{args} did not hold within {limit} s")
        await asyncio.sleep(0.02)


async def wait_finished(run_id: int, limit: float = 10.0) -> Run:
    """Wait for the run to end; return it."""
    await wait_until(finished, run_id, limit=limit)
    return await Run.objects.aget(pk=run_id)


def run_worker_pid(run_id: int) -> int:
    """The process executing the run (0 when none does), from its worker field ``host:pid``."""
    worker = Run.objects.get(pk=run_id).worker
    return int(worker.rsplit(":", 1)[1]) if worker else 0


def transcript(run_id: int) -> list[RunEvent]:
    """Every persisted event in seq order, each checked against its type's schema."""
    events = list(RunEvent.objects.filter(run_id=run_id).order_by("seq"))
    for event in events:
        validate_data(event.type, event.data)
    return events


# --- websockets ---


def session_cookie(user: User) -> bytes:
    """A Cookie header for a fresh session of ``user``."""
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def open_socket(
    run_id: int,
    user: User | None = None,
    *,
    after: int = 0,
    origin: bytes | None = b"http://testserver",
    token: str = "",
    host: bytes = b"testserver",
    presence: bool = False,
) -> tuple[bool, WebsocketCommunicator]:
    """Connect to a run's websocket through the whole ASGI stack (no Origin: None);
    ``presence`` asks for presence frames."""
    from studio.asgi import application

    headers = [(b"host", host)]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        headers.append((b"cookie", await sync_to_async(session_cookie)(user)))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    path = f"/ws/runs/{run_id}/?after={after}" + ("&presence=1" if presence else "")
    communicator = WebsocketCommunicator(application, path, headers)
    connected, _ = await communicator.connect(timeout=5)
    return connected, communicator


async def receive_until(
    communicator: WebsocketCommunicator, stop: Any, *, limit: float = 10.0
) -> list[dict[str, Any]]:
    """Frames until one for which ``stop(frame)`` holds (included)."""
    frames: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise AssertionError(f"no matching frame within {limit} s; got {frames[-5:]}")
        frame = json.loads(await communicator.receive_from(timeout=remaining))
        frames.append(frame)
        if stop(frame):
            return frames


def is_type(kind: str) -> Any:
    """A ``receive_until`` stop for frames of one type."""
    return lambda frame: frame.get("type") == kind
