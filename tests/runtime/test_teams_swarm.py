"""Swarm: handoffs route the conversation; handoffs outside the team end the run cleanly."""

from __future__ import annotations

import json

import pytest

from runtime import (
    BaseChatMessage,
    ConfigurationError,
    HandoffMessage,
    HandoffTermination,
    MaxMessageTermination,
    RoundRobinGroupChat,
    Swarm,
    TaskResult,
)
from tests.runtime.scripted_agents import Handoff, ScriptedAgent


def speakers(result: TaskResult) -> list[str]:
    return [m.source for m in result.messages if isinstance(m, BaseChatMessage)]


async def test_the_first_participant_keeps_speaking_until_it_hands_off() -> None:
    triage = ScriptedAgent("triage", ["looking", Handoff("billing")])
    billing = ScriptedAgent("billing", ["refund sent", Handoff("triage")])
    team = Swarm([triage, billing], max_turns=5)
    result = await team.run(task="my bill is wrong")
    assert speakers(result) == ["user", "triage", "triage", "billing", "billing", "triage"]
    assert billing.heard[0] == ["my bill is wrong", "looking", "over to billing"]
    assert team.current_speaker == "triage"


async def test_a_handoff_to_a_non_member_ends_the_run_with_a_clear_reason() -> None:
    triage = ScriptedAgent("triage", [Handoff("user"), "thanks for the answer"])
    team = Swarm(
        [triage, ScriptedAgent("billing")], termination_condition=MaxMessageTermination(10)
    )
    result = await team.run(task="help")
    assert result.stop_reason == (
        "triage handed off to 'user', who is not a participant of this team; "
        "the next run continues with triage."
    )
    follow_up = await team.run(task="here is my answer")
    assert speakers(follow_up)[:2] == ["user", "triage"]
    assert triage.heard[1] == ["here is my answer"]


async def test_handoff_termination_takes_precedence_over_the_routing_stop() -> None:
    team = Swarm(
        [ScriptedAgent("triage", [Handoff("user")]), ScriptedAgent("billing")],
        termination_condition=HandoffTermination("user"),
    )
    result = await team.run(task="help")
    assert result.stop_reason == "Handoff to user from triage detected."


async def test_a_handoff_task_resumes_with_its_target() -> None:
    billing = ScriptedAgent("billing", ["on it"])
    team = Swarm([ScriptedAgent("triage"), billing], max_turns=1)
    answer = HandoffMessage(content="card ends 42", target="billing", source="user")
    result = await team.run(task=answer)
    assert speakers(result) == ["user", "billing"]
    assert billing.heard == [["card ends 42"]]


async def test_a_handoff_task_to_a_stranger_is_refused_before_the_run() -> None:
    team = Swarm([ScriptedAgent("triage"), ScriptedAgent("billing")], max_turns=1)
    with pytest.raises(ConfigurationError, match="not a participant"):
        await team.run(task=HandoffMessage(content="x", target="nobody", source="user"))
    assert team.thread == ()


async def test_swarm_participants_must_be_agents() -> None:
    inner = RoundRobinGroupChat([ScriptedAgent("x")])
    with pytest.raises(ConfigurationError, match="not teams"):
        Swarm([ScriptedAgent("a"), inner])  # type: ignore[list-item]


async def test_the_current_speaker_survives_saved_state_and_reset_restores_the_first() -> None:
    team = Swarm([ScriptedAgent("a", [Handoff("b")]), ScriptedAgent("b")], max_turns=1)
    await team.run(task="go")
    assert team.current_speaker == "b"
    state = json.loads(json.dumps(await team.save_state()))
    restored = Swarm([ScriptedAgent("a"), ScriptedAgent("b", ["resumed"])], max_turns=1)
    await restored.load_state(state)
    assert speakers(await restored.run()) == ["b"]
    await restored.reset()
    assert restored.current_speaker == "a"


async def test_many_handoffs_route_in_constant_time_per_turn() -> None:
    ping = ScriptedAgent("ping", [Handoff("pong")] * 300)
    pong = ScriptedAgent("pong", [Handoff("ping")] * 300)
    team = Swarm([ping, pong], max_turns=600)
    result = await team.run(task="rally")
    assert len(result.messages) == 601
    assert result.stop_reason == "Maximum number of turns 600 reached."
