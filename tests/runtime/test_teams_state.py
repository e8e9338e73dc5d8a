"""Team state: compact JSON, lossless round trips, checkpoints that resume mid-run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from runtime import (
    AssistantAgent,
    BaseChatAgent,
    BaseChatMessage,
    BaseMessage,
    CancellationToken,
    HandoffMessage,
    MaxMessageTermination,
    RequestUsage,
    Response,
    RoundRobinGroupChat,
    StateError,
    TaskResult,
    TeamError,
    TextMentionTermination,
    TextMessage,
)
from runtime.testing import RecordingSink, ScriptedModelClient
from tests.runtime.scripted_agents import BlockingAgent, Handoff, ScriptedAgent


def trio() -> list[ScriptedAgent]:
    return [ScriptedAgent(name) for name in ("a", "b", "c")]


def contents(result: TaskResult) -> list[str]:
    return [str(m.content) for m in result.messages]


def through_json(state: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(state))
    return loaded


async def test_state_round_trips_and_the_next_run_continues_with_the_next_speaker() -> None:
    team = RoundRobinGroupChat(trio(), termination_condition=MaxMessageTermination(3))
    await team.run(task="go")
    state = through_json(await team.save_state())
    fresh = trio()
    restored = RoundRobinGroupChat(fresh, termination_condition=MaxMessageTermination(3))
    await restored.load_state(state)
    assert restored.thread == team.thread
    result = await restored.run()
    assert contents(result) == ["c 1", "a 2", "b 2"]
    assert fresh[2].heard == [["go", "a 1", "b 1"]]


async def test_agent_contexts_are_stored_as_references_into_the_thread_without_loss() -> None:
    agents = [ScriptedAgent("a", usage=RequestUsage(3, 4), metadata={"model": "m"}), *trio()[1:]]
    team = RoundRobinGroupChat(agents, max_turns=6)
    await team.run(task="go")
    state = through_json(await team.save_state())
    packed = state["participants"]["a"]["state"]["llm_context"]["messages"]
    assert all(isinstance(item, int) for item in packed)
    fresh = [ScriptedAgent(name) for name in ("a", "b", "c")]
    restored = RoundRobinGroupChat(fresh, max_turns=6)
    await restored.load_state(state)
    assert [agent.context for agent in fresh] == [agent.context for agent in agents]
    assert restored.thread[1].models_usage == RequestUsage(3, 4)
    assert restored.thread[1].metadata == {"model": "m"}


async def test_state_holds_each_message_once_and_stays_small() -> None:
    replies = [f"reply number {i} with a few words" for i in range(250)]
    agents = [AssistantAgent(f"agent_{i}", ScriptedModelClient(replies)) for i in range(4)]
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(1001))
    await team.run(task="start")
    text = json.dumps(await team.save_state())
    assert len(json.loads(text)["thread"]) == 1001
    assert len(text) < 1001 * 260
    fresh = [AssistantAgent(f"agent_{i}", ScriptedModelClient(replies)) for i in range(4)]
    restored = RoundRobinGroupChat(fresh, termination_condition=MaxMessageTermination(1001))
    await restored.load_state(json.loads(text))
    assert [await a.save_state() for a in fresh] == [await a.save_state() for a in agents]


async def test_a_checkpoint_taken_mid_run_resumes_with_its_counters() -> None:
    team = RoundRobinGroupChat(trio(), termination_condition=MaxMessageTermination(6))
    checkpoints: list[dict[str, Any]] = []

    class CheckpointSink(RecordingSink):
        async def turn_completed(self, speaker: str) -> None:
            checkpoints.append(through_json(await team.save_state()))

    full = await team.run(task="go", sink=CheckpointSink())
    assert contents(full) == ["go", "a 1", "b 1", "c 1", "a 2", "b 2"]
    resumed_team = RoundRobinGroupChat(trio(), termination_condition=MaxMessageTermination(6))
    await resumed_team.load_state(checkpoints[1])
    rest = await resumed_team.run()
    assert contents(rest) == ["c 1", "a 2", "b 2"]
    assert rest.stop_reason == full.stop_reason


async def test_the_last_checkpoint_of_a_finished_run_has_fresh_counters() -> None:
    condition = MaxMessageTermination(3)
    team = RoundRobinGroupChat(trio(), termination_condition=condition)
    checkpoints: list[dict[str, Any]] = []

    class CheckpointSink(RecordingSink):
        async def turn_completed(self, speaker: str) -> None:
            checkpoints.append(through_json(await team.save_state()))

    await team.run(task="go", sink=CheckpointSink())
    assert checkpoints[-1]["termination"] == {"terminated": False, "count": 0}
    assert checkpoints[-1]["turn"] == 0


async def test_nested_team_state_is_kept_inside_the_outer_state() -> None:
    inner = RoundRobinGroupChat([ScriptedAgent("x"), ScriptedAgent("y")], max_turns=2, name="inner")
    team = RoundRobinGroupChat([ScriptedAgent("a"), inner], max_turns=2)
    await team.run(task="go")
    state = through_json(await team.save_state())
    fresh_inner = RoundRobinGroupChat(
        [ScriptedAgent("x"), ScriptedAgent("y")], max_turns=2, name="inner"
    )
    restored = RoundRobinGroupChat([ScriptedAgent("a"), fresh_inner], max_turns=2)
    await restored.load_state(state)
    assert fresh_inner.thread == inner.thread


async def test_handoff_messages_with_context_survive_the_thread_encoding() -> None:
    team = RoundRobinGroupChat(
        [ScriptedAgent("a", [Handoff("b")]), ScriptedAgent("b")], max_turns=1
    )
    await team.run(task="go")
    restored = RoundRobinGroupChat([ScriptedAgent("a"), ScriptedAgent("b")], max_turns=1)
    await restored.load_state(through_json(await team.save_state()))
    handoff = restored.thread[1]
    assert isinstance(handoff, HandoffMessage) and handoff.target == "b"
    assert handoff == team.thread[1]


async def test_pending_interjections_are_part_of_the_state() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=1)
    team.interject("remember this")
    restored = RoundRobinGroupChat(trio(), max_turns=1)
    await restored.load_state(through_json(await team.save_state()))
    result = await restored.run(task="go")
    assert contents(result) == ["go", "remember this", "a 1"]


async def test_reset_forgets_the_conversation_and_every_agent() -> None:
    agents = trio()
    condition = TextMentionTermination("never")
    team = RoundRobinGroupChat(agents, termination_condition=condition, max_turns=2)
    await team.run(task="go")
    team.interject("queued")
    await team.reset()
    assert team.thread == ()
    assert [agent.resets for agent in agents] == [1, 1, 1]
    state = await team.save_state()
    assert state["thread"] == [] and state["interjections"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(type="Other"), "not a saved"),
        (lambda s: s.update(version="1.0.0"), "not a saved"),
        (lambda s: s.update(team="Swarm"), "saved by a Swarm"),
        (lambda s: s["participants"].pop("b"), "no entry for participant"),
        (lambda s: s.update(producers=[]), "inconsistent"),
        (
            lambda s: s["thread"].append(["Nope", "id", "x", "2024-01-01T00:00:00Z", ""]),
            "cannot be read",
        ),
        (
            lambda s: s["thread"].append(["ThoughtEvent", "id", "x", "2024-01-01T00:00:00Z", ""]),
            "holds an event",
        ),
        (
            lambda s: s["interjections"].append({"type": "ThoughtEvent", "source": "x"}),
            "not a chat message",
        ),
        (
            lambda s: s["participants"]["a"]["state"]["llm_context"]["messages"].append(99),
            "thread message 99, which is missing",
        ),
    ],
)
async def test_unusable_state_is_a_state_error(change: Any, message: str) -> None:
    team = RoundRobinGroupChat(trio(), max_turns=2)
    await team.run(task="go")
    state = through_json(await team.save_state())
    change(state)
    with pytest.raises(StateError, match=message):
        await RoundRobinGroupChat(trio(), max_turns=2).load_state(state)


async def test_state_cannot_be_loaded_while_running_but_can_be_saved() -> None:
    blocker = BlockingAgent("slow")
    team = RoundRobinGroupChat([blocker], max_turns=1)
    runner = asyncio.ensure_future(team.run(task="x"))
    await blocker.started.wait()
    state = await team.save_state()
    assert len(state["thread"]) == 1
    with pytest.raises(TeamError, match="while it is running"):
        await team.load_state(state)
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner


async def test_context_entries_that_do_not_repeat_a_thread_message_are_stored_as_they_are() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, max_turns=1)
    await team.run(task="go")
    own_entries: list[dict[str, Any]] = [
        {"type": "SystemMessage", "content": "be brief"},
        {"type": "AssistantMessage", "content": [{"id": "1", "name": "f"}], "source": "a"},
        {"type": "UserMessage", "content": "said nowhere in the thread", "source": "user"},
        {"type": "CustomEntry", "content": "go", "source": "user"},
    ]
    agents[0].context.extend(own_entries)
    state = through_json(await team.save_state())
    assert state["participants"]["a"]["state"]["llm_context"]["messages"][-4:] == own_entries
    fresh = trio()
    await RoundRobinGroupChat(fresh, max_turns=1).load_state(state)
    assert fresh[0].context == agents[0].context


class Echo(BaseChatAgent):
    """Repeats the last message it heard; keeps no state beyond the base class's."""

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        heard = messages[-1].content if messages else "nothing"
        yield Response(chat_message=TextMessage(content=f"echo {heard}", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        return None


async def test_an_agent_without_a_model_context_round_trips_with_the_team() -> None:
    team = RoundRobinGroupChat([Echo("echo", "Echoes."), ScriptedAgent("a")], max_turns=2)
    await team.run(task="go")
    state = through_json(await team.save_state())
    assert state["participants"]["echo"]["state"] == {"type": "BaseState", "version": "1.0.0"}
    restored = RoundRobinGroupChat([Echo("echo", "Echoes."), ScriptedAgent("a")], max_turns=1)
    await restored.load_state(state)
    result = await restored.run()
    assert contents(result) == ["echo a 1"]
