"""Console: a run written to the terminal the way AutoGen's Console writes it."""

from __future__ import annotations

import io

import pytest

from runtime import (
    AssistantAgent,
    CancellationToken,
    Console,
    MaxMessageTermination,
    Response,
    RoundRobinGroupChat,
    TaskResult,
)
from runtime.testing import ScriptedModelClient


def team(stream: bool = False) -> RoundRobinGroupChat:
    agents = [
        AssistantAgent(name, ScriptedModelClient([f"{name} says hi"]), model_client_stream=stream)
        for name in ("alice", "bob")
    ]
    return RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))


async def test_each_message_is_written_under_its_kind_and_source_and_the_result_returned() -> None:
    out = io.StringIO()

    result = await Console(team().run_stream(task="Greet."), output=out)

    assert isinstance(result, TaskResult)
    assert out.getvalue() == (
        "---------- TextMessage (user) ----------\nGreet.\n"
        "---------- TextMessage (alice) ----------\nalice says hi\n"
        "---------- TextMessage (bob) ----------\nbob says hi\n"
    )


async def test_streamed_replies_are_written_once_as_their_chunks_arrive() -> None:
    out = io.StringIO()

    await Console(team(stream=True).run_stream(task="Greet."), output=out)

    text = out.getvalue()
    assert text.count("alice says hi") == 1
    assert "---------- ModelClientStreamingChunkEvent (alice) ----------\nalice says hi\n" in text


async def test_stats_sum_the_tokens_and_give_the_stop_reason() -> None:
    out = io.StringIO()

    result = await Console(team().run_stream(task="Greet."), output_stats=True, output=out)

    summary = out.getvalue().split("---------- Summary ----------\n")[1]
    lines = summary.splitlines()
    assert lines[0] == "Number of messages: 3"
    assert lines[1] == f"Finish reason: {result.stop_reason}"
    prompt = sum(m.models_usage.prompt_tokens for m in result.messages if m.models_usage)
    assert lines[2] == f"Total prompt tokens: {prompt}"
    assert lines[3] == "Total completion tokens: 6"
    assert lines[4].startswith("Duration: ")


async def test_one_agent_s_turn_is_shown_and_its_response_returned() -> None:
    agent = AssistantAgent("solo", ScriptedModelClient(["done"]))
    out = io.StringIO()

    response = await Console(agent.on_messages_stream([], CancellationToken()), output=out)

    assert isinstance(response, Response)
    assert out.getvalue() == "---------- TextMessage (solo) ----------\ndone\n"


async def test_an_agent_s_run_stream_works_too() -> None:
    agent = AssistantAgent("solo", ScriptedModelClient(["done"]))
    out = io.StringIO()

    result = await Console(agent.run_stream(task="go"), output=out)

    assert [m.content for m in result.messages] == ["go", "done"]


async def test_a_stream_without_a_result_is_an_error() -> None:
    async def nothing():  # type: ignore[no-untyped-def]
        if False:
            yield

    with pytest.raises(ValueError, match="without a TaskResult"):
        await Console(nothing(), output=io.StringIO())
