"""Malformed input to runs: the API answers 4xx, the websocket an error frame and stays
open, and text a provider sends is stored exactly, NUL characters included.

The NUL tests matter most on PostgreSQL, whose text and jsonb cannot hold U+0000.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.runs import services
from studio.runs.models import Run, RunEvent, Status
from tests.fakes.llm_server import FakeLLMServer, text
from tests.studio.runs.conftest import (
    assistant,
    chatty_team,
    is_type,
    make_team,
    open_socket,
    receive_until,
    remote_team,
    scripted_model,
    transcript,
    wait_finished,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]

HUGE = 10**21
#: NUL, the character stored data escapes with, an escape-like sequence and a lone surrogate
AWKWARD = "before\x00after \ue000 \ue0000 \\u0000 \ud800 end"
#: the same without the surrogate, which no HTTP client can send back to a model
SENDABLE = AWKWARD.replace("\ud800", "")


async def client_for(user: User) -> AsyncClient:
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def finished_run(owner: User) -> int:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    await wait_finished(run.pk)
    return run.pk


def assert_error_shape(response: Any, status: int) -> None:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["message"] and isinstance(body["errors"], list)


# --- provider text is stored exactly ---


async def test_a_provider_reply_with_nul_characters_is_stored_and_replayed_exactly(
    owner: User, llm_server: FakeLLMServer, settings: Any
) -> None:
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.0/8"]
    llm_server.script([text(AWKWARD)])
    team = await sync_to_async(remote_team)(owner, llm_server.openai_url, max_messages=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say something odd")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED, done.stop_reason
    events = await sync_to_async(transcript)(run.pk)
    replies = [e for e in events if e.type == "message" and e.source == "remote_agent"]
    assert [reply.data["content"] for reply in replies] == [AWKWARD]
    assert "\x00" not in replies[0].text and "beforeafter" in replies[0].text
    client = await client_for(owner)
    replayed = (await client.get(f"/api/runs/{run.pk}/events")).json()
    assert AWKWARD in [event["data"].get("content") for event in replayed]
    found = (await client.get("/api/runs?q=beforeafter")).json()
    assert [found_run["id"] for found_run in found] == [run.pk]


async def test_a_reply_with_nul_characters_survives_checkpoints_and_continuing(
    owner: User, llm_server: FakeLLMServer, settings: Any
) -> None:
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.0/8"]
    llm_server.script([text(SENDABLE), text("second")])
    team = await sync_to_async(remote_team)(owner, llm_server.openai_url, max_messages=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Go")
    assert (await wait_finished(run.pk)).status == Status.COMPLETED
    await sync_to_async(services.continue_run)(owner, run.pk, "Again")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED, done.stop_reason
    contents = [
        event.data["content"]
        for event in await sync_to_async(transcript)(run.pk)
        if event.type == "message" and event.source == "remote_agent"
    ]
    assert contents == [SENDABLE, "second"]
    # The model was sent the first reply back, exactly, from the checkpoint.
    sent = json.dumps(llm_server.requests[-1].body)
    assert json.dumps(SENDABLE)[1:-1] in sent


def store_and_read_back(owner: User, data: dict[str, Any]) -> list[Any]:
    team = chatty_team(owner, turns=1)
    run = Run.objects.create(team=team, team_version=team.versions.get(), task="t")
    RunEvent.objects.create(run=run, seq=1, type="message", source="a", data=data)
    return [
        RunEvent.objects.get(run=run, seq=1).data,
        RunEvent.objects.filter(run=run).values_list("data", flat=True)[0],
    ]


async def test_event_data_with_nul_characters_round_trips_through_the_orm(owner: User) -> None:
    data = {"content": AWKWARD, "metadata": {"key\x00": "\ue000\x00"}, "list": ["\x00", 1]}
    assert await sync_to_async(store_and_read_back)(owner, data) == [data, data]


# --- the runs API ---


@pytest.mark.parametrize(
    "url",
    [
        "/api/runs?q=%00",
        "/api/runs?q=a%00b",
        f"/api/runs?offset={HUGE}",
        f"/api/runs?team={HUGE}",
        f"/api/runs/{HUGE}",
        f"/api/runs/{HUGE}/events",
        "/api/runs/1/events?after=" + str(HUGE),
    ],
)
async def test_queries_no_database_can_run_are_a_422(owner: User, url: str) -> None:
    response = await (await client_for(owner)).get(url)
    assert_error_shape(response, 422)


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/runs", {"team": HUGE, "task": "t"}),
        ("/api/runs", {"team": 1, "task": "a\x00b"}),
        ("/api/runs", {"team": 1, "task": "t", "budget": {"tokens": HUGE}}),
        ("/api/runs/{run}/interject", {"content": "\x00"}),
        ("/api/runs/{run}/input", {"request_id": "r", "content": "\x00"}),
        ("/api/runs/{run}/fork", {"from_seq": HUGE}),
        ("/api/runs/{run}/fork", {"from_seq": 2, "edited_content": "\x00"}),
        ("/api/runs/{run}/continue", {"task": "\x00"}),
    ],
)
async def test_bodies_no_database_can_store_are_a_422(
    owner: User, url: str, body: dict[str, Any]
) -> None:
    run_id = await finished_run(owner)
    client = await client_for(owner)
    response = await client.post(
        url.format(run=run_id), json.dumps(body), content_type="application/json"
    )
    assert_error_shape(response, 422)


async def test_a_budget_of_infinite_dollars_is_refused(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=1)
    client = await client_for(owner)
    body = f'{{"team": {team.pk}, "task": "t", "budget": {{"usd": Infinity}}}}'
    response = await client.post("/api/runs", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not await Run.objects.aexists()


# --- websocket frames ---


async def test_a_frame_of_5000_nested_brackets_gets_an_error_and_the_socket_stays_open(
    owner: User,
) -> None:
    run_id = await finished_run(owner)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    await receive_until(socket, is_type("run.finished"))
    for frame in ["[" * 5000, "[" * 5000 + "]" * 5000, '{"type": ' + "[" * 4000 + "]" * 4000 + "}"]:
        await socket.send_to(text_data=frame)
        error = (await receive_until(socket, is_type("error")))[-1]
        assert error["code"] == "bad_frame"
    await socket.send_json_to({"type": "ping"})
    assert (await receive_until(socket, is_type("pong")))[-1] == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "interject", "content": "a\\u0000b"}',
        '{"type": "input", "request_id": "\\u0000", "content": "x"}',
        '{"type": "interject", "content": "\\ud800"}',
        '{"type": "interject", "content": "x", "n": NaN}',
        '{"type": "interject", "content": "x", "deep": [[[[[[[[[[1]]]]]]]]]]}',
    ],
)
async def test_frames_no_database_can_store_get_an_error_frame(owner: User, frame: str) -> None:
    model = await sync_to_async(scripted_model)(owner, ["slow"] * 3, delay=30)
    agent = await sync_to_async(assistant)(owner, "slowpoke", model)
    team = await sync_to_async(make_team)(owner, [agent], max_messages=3)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Think")
    connected, socket = await open_socket(run.pk, owner)
    assert connected
    await socket.send_to(text_data=frame)
    error = (await receive_until(socket, is_type("error")))[-1]
    assert error["code"] == "bad_frame"
    await socket.send_json_to({"type": "stop"})
    await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    assert (await wait_finished(run.pk)).status == Status.CANCELLED


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["ping", "stop", "input", "interject", "type", "content", "request_id"])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(max_size=6) | st.sampled_from(["type", "content"]), children)
    ),
    max_leaves=12,
)
FRAME_SHAPES = st.fixed_dictionaries(
    {"type": st.sampled_from(["input", "interject", "ping", "dance"]) | JSON_SCALARS},
    optional={"content": JSON_VALUES, "request_id": JSON_VALUES},
)
FRAMES = (
    FRAME_SHAPES.map(json.dumps)
    | JSON_VALUES.map(json.dumps)
    | st.text(min_size=1, max_size=40)
    | st.integers(min_value=1, max_value=6000).map(lambda depth: "[" * depth)
)


def is_answer(frame: dict[str, Any]) -> bool:
    """A reply to a client frame (events carry a seq; answers do not)."""
    return "seq" not in frame and frame.get("type") in {"error", "pong", "ack"}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frames=st.lists(FRAMES, min_size=1, max_size=4))
async def test_random_frames_get_answers_and_never_close_the_socket(
    owner: User, frames: list[str]
) -> None:
    run = await Run.objects.filter(started_by=owner).afirst()
    run_id = run.pk if run is not None else await finished_run(owner)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    for frame in frames:
        await socket.send_to(text_data=frame)
        answer = (await receive_until(socket, is_answer))[-1]
        if answer["type"] == "error":
            assert isinstance(answer["message"], str) and answer["code"]
    await socket.send_json_to({"type": "ping"})
    assert (await receive_until(socket, is_type("pong")))[-1] == {"type": "pong"}
    await socket.disconnect()
