"""Every event type the studio reports, produced through the real path and checked
against its schema (the transcript helper checks persisted events the same way)."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import services
from studio.runs.events import DATA_SCHEMAS, EventType, validate_data
from studio.teams.models import Team, TeamKind
from tests.studio.runs.conftest import (
    assistant,
    is_type,
    make_team,
    open_socket,
    receive_until,
    scripted_model,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


def tool_call(name: str, arguments: str, thought: str | None = None) -> dict[str, object]:
    """A scripted reply that calls a tool."""
    reply: dict[str, object] = {
        "content": [{"id": f"call_{name}", "name": name, "arguments": arguments}],
        "finish_reason": "function_calls",
        "usage": {"prompt_tokens": 12, "completion_tokens": 4},
    }
    if thought:
        reply["thought"] = thought
    return reply


def swarm_with_tools(owner: User) -> Team:
    planner_model = scripted_model(
        owner,
        [
            tool_call("calculator", '{"expression": "2 + 3"}', thought="Add first."),
            tool_call("transfer_to_solver", "{}"),
        ],
        name="planner-model",
    )
    # Slow enough that the socket is open when the (live-only) chunks stream: the run
    # executes beside the test, which may first have to load the websocket stack.
    solver_model = scripted_model(owner, ["The answer is five."], name="solver-model", delay=1.5)
    planner = assistant(owner, "planner", planner_model, tools=["calculator"], handoffs=["solver"])
    solver = assistant(owner, "solver", solver_model, model_client_stream=True)
    team = make_team(owner, [planner, solver], max_messages=4)
    Team.objects.filter(pk=team.pk).update(kind=TeamKind.SWARM)
    from studio.teams.services import snapshot_team

    team.refresh_from_db()
    snapshot_team(team, owner)
    return team


async def test_a_swarm_with_tools_and_streaming_reports_every_agent_event_type(
    owner: User,
) -> None:
    team = await sync_to_async(swarm_with_tools)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "What is 2 + 3?")
    connected, socket = await open_socket(run.pk, owner)
    assert connected
    frames = await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    assert frames[-1]["data"]["status"] == "completed", frames[-1]
    for frame in frames:
        validate_data(frame["type"], frame["data"])
    seen = {frame["type"] for frame in frames}
    expected = {
        "run.status",
        "message",
        "message.chunk",
        "thought",
        "tool.call",
        "tool.result",
        "handoff",
        "usage",
        "run.finished",
    }
    assert expected <= seen, expected - seen
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["data"]["results"][0]["content"] == "5"
    assert len(result["data"]["durations_ms"]) == 1 and result["data"]["durations_ms"][0] >= 0
    handoff = next(f for f in frames if f["type"] == "handoff")
    assert handoff["source"] == "planner" and handoff["data"]["target"] == "solver"
    chunks = "".join(f["data"]["content"] for f in frames if f["type"] == "message.chunk")
    assert chunks == "The answer is five."


def test_every_event_type_has_a_schema() -> None:
    assert set(DATA_SCHEMAS) == set(EventType)
