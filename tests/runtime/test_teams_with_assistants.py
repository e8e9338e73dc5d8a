"""Teams of real AssistantAgents on the shipped scripted model client."""

from __future__ import annotations

import asyncio
import json

import pytest

from runtime import (
    AssistantAgent,
    BaseChatMessage,
    CancellationToken,
    CreateResult,
    FunctionCall,
    HandoffMessage,
    HandoffTermination,
    MaxMessageTermination,
    ModelClientError,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
    TeamStatus,
    TextMentionTermination,
    ToolCallExecutionEvent,
)
from runtime.testing import RecordingSink, ScriptedModelClient


def transfer(target: str) -> CreateResult:
    return CreateResult(
        content=[FunctionCall(id=f"call-{target}", arguments="{}", name=f"transfer_to_{target}")],
        finish_reason="function_calls",
    )


async def test_assistants_take_turns_until_one_says_terminate() -> None:
    writer = AssistantAgent("writer", ScriptedModelClient(["draft one", "draft two"]))
    critic = AssistantAgent("critic", ScriptedModelClient(["needs work", "TERMINATE"]))
    team = RoundRobinGroupChat(
        [writer, critic], termination_condition=TextMentionTermination("TERMINATE")
    )
    sink = RecordingSink()
    result = await team.run(task="write a haiku", sink=sink)
    assert [m.content for m in result.messages] == [
        "write a haiku", "draft one", "needs work", "draft two", "TERMINATE",
    ]  # fmt: skip
    assert result.stop_reason == "Text 'TERMINATE' mentioned"
    assert sink.turns == ["writer", "critic", "writer", "critic"]


async def test_swarm_of_assistants_routes_through_handoff_tools() -> None:
    triage = AssistantAgent(
        "triage", ScriptedModelClient([transfer("refunds")]), handoffs=["refunds", "user"]
    )
    refunds = AssistantAgent(
        "refunds", ScriptedModelClient(["refund issued", transfer("user")]), handoffs=["user"]
    )
    team = Swarm([triage, refunds], termination_condition=HandoffTermination("user"))
    result = await team.run(task="I want my money back")
    chat = [m for m in result.messages if isinstance(m, BaseChatMessage)]
    assert [m.source for m in chat] == ["user", "triage", "refunds", "refunds"]
    assert isinstance(chat[1], HandoffMessage) and chat[1].target == "refunds"
    assert result.stop_reason == "Handoff to user from refunds detected."
    assert any(isinstance(m, ToolCallExecutionEvent) for m in result.messages)
    assert team.current_speaker == "refunds"


async def test_a_model_error_surfaces_with_its_type_and_the_team_recovers() -> None:
    b_client = ScriptedModelClient(["b1"])
    agents = [
        AssistantAgent("a", ScriptedModelClient(["a1", "a2", "a3", "a4"])),
        AssistantAgent("b", b_client),
    ]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(4))
    assert (await team.run(task="go")).stop_reason is not None
    with pytest.raises(ModelClientError, match="ran out of replies"):
        await team.run(task="more")
    assert team.status is TeamStatus.IDLE
    await team.reset()
    b_client.reset()
    result = await team.run(task="again")
    assert [m.content for m in result.messages] == ["again", "a3", "b1", "a4"]


async def test_cancelling_a_slow_model_call_stops_the_team_promptly() -> None:
    slow = AssistantAgent("slow", ScriptedModelClient(["late"], delay=10))
    team = RoundRobinGroupChat([slow], max_turns=1)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.05, token.cancel)
    with pytest.raises(asyncio.CancelledError):
        await team.run(task="go", cancellation_token=token)
    assert team.status is TeamStatus.IDLE


async def test_a_selector_team_of_assistants_resumes_from_saved_state() -> None:
    def crew() -> list[AssistantAgent]:
        return [
            AssistantAgent("alice", ScriptedModelClient(["alice here"] * 3)),
            AssistantAgent("bob", ScriptedModelClient(["bob here"] * 3)),
            AssistantAgent("carol", ScriptedModelClient(["carol here"] * 3)),
        ]

    def selector() -> ScriptedModelClient:
        return ScriptedModelClient(["bob", "carol", "alice"])

    team = SelectorGroupChat(crew(), selector(), termination_condition=MaxMessageTermination(2))
    await team.run(task="who first?")
    state = json.loads(json.dumps(await team.save_state()))
    # Built from the same script, the selector model goes on after its first pick.
    restored = SelectorGroupChat(crew(), selector(), termination_condition=MaxMessageTermination(2))
    await restored.load_state(state)
    result = await restored.run()
    assert [m.source for m in result.messages] == ["carol", "alice"]
