"""BaseChatAgent as AutoGen users write it: on_messages only, run and run_stream alone."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from runtime import (
    AssistantAgent,
    BaseChatAgent,
    BaseChatMessage,
    CancellationToken,
    MaxMessageTermination,
    ModelClientStreamingChunkEvent,
    Response,
    RoundRobinGroupChat,
    TaskResult,
    TextMessage,
    ThoughtEvent,
)
from runtime.testing import ScriptedModelClient


class CountDownAgent(BaseChatAgent):
    """A custom agent written the AutoGen way: on_messages, produced types and on_reset."""

    def __init__(self, name: str, count: int = 3) -> None:
        super().__init__(name, "Counts down.")
        self._count = count
        self.heard: list[str] = []

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (TextMessage,)

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        self.heard.extend(m.content for m in messages)
        self._count -= 1
        return Response(
            chat_message=TextMessage(content=str(self._count), source=self.name),
            inner_messages=[ThoughtEvent(content="counting", source=self.name)],
        )

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self._count = 3


async def test_an_on_messages_agent_streams_its_inner_items_then_the_response() -> None:
    agent = CountDownAgent("counter")

    items = [i async for i in agent.on_messages_stream([], CancellationToken())]

    assert isinstance(items[0], ThoughtEvent)
    assert isinstance(items[1], Response)
    assert items[1].chat_message.content == "2"


async def test_an_on_messages_agent_takes_turns_in_a_team() -> None:
    agent = CountDownAgent("counter")
    echo = CountDownAgent("echo", count=10)
    team = RoundRobinGroupChat([agent, echo], termination_condition=MaxMessageTermination(4))

    result = await team.run(task="start")

    said = [m.content for m in result.messages if isinstance(m, TextMessage)]
    assert said == ["start", "2", "9", "1"]
    assert agent.heard == ["start", "9"]


def test_an_agent_defining_neither_turn_method_cannot_be_created() -> None:
    class Mute(BaseChatAgent):
        async def on_reset(self, cancellation_token: CancellationToken) -> None:
            return None

    with pytest.raises(TypeError, match="must define on_messages or on_messages_stream"):
        Mute("mute", "says nothing")


async def test_an_agent_runs_alone_and_can_leave_the_task_out_of_the_result() -> None:
    agent = CountDownAgent("counter")

    with_task = await agent.run(task="go")
    without = await agent.run(task="again", output_task_messages=False)

    assert [m.type for m in with_task.messages] == ["TextMessage", "ThoughtEvent", "TextMessage"]
    assert [m.type for m in without.messages] == ["ThoughtEvent", "TextMessage"]
    assert without.messages[-1].content == "1"


async def test_an_assistant_run_stream_yields_task_chunks_and_answer_then_the_result() -> None:
    agent = AssistantAgent("helper", ScriptedModelClient(["Hello there"]), model_client_stream=True)

    items = [item async for item in agent.run_stream(task="Say hello")]

    assert [type(i).__name__ for i in items] == [
        "TextMessage",
        "ModelClientStreamingChunkEvent",
        "ModelClientStreamingChunkEvent",
        "TextMessage",
        "TaskResult",
    ]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert [m.content for m in result.messages] == ["Say hello", "Hello there"]
    assert not any(isinstance(m, ModelClientStreamingChunkEvent) for m in result.messages)


async def test_run_stream_without_task_messages_starts_with_the_agent_s_items() -> None:
    agent = CountDownAgent("counter")

    items = [item async for item in agent.run_stream(task="go", output_task_messages=False)]

    assert [type(i).__name__ for i in items] == ["ThoughtEvent", "TextMessage", "TaskResult"]
