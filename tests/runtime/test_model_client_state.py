"""Model-client state in checkpoints: a rebuilt team resumes its scripts where they were."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from runtime import (
    AssistantAgent,
    BaseGroupChat,
    ChatCompletionClient,
    MaxMessageTermination,
    RoundRobinGroupChat,
    SelectorGroupChat,
    SocietyOfMindAgent,
    StateError,
    TaskResult,
)
from runtime.testing import RecordingSink, ScriptedModelClient


class CheckpointingSink(RecordingSink):
    """Saves the team's state (through JSON) after every completed turn, as a run does."""

    def __init__(self, team: BaseGroupChat) -> None:
        super().__init__()
        self.team = team
        self.checkpoints: list[dict[str, Any]] = []

    async def turn_completed(self, speaker: str) -> None:
        await super().turn_completed(speaker)
        state = await self.team.save_state()
        self.checkpoints.append(json.loads(json.dumps(state)))


class StatelessScriptedClient(ScriptedModelClient):
    """A scripted client that, like a provider client, keeps no state."""

    save_state = ChatCompletionClient.save_state


def said(result: TaskResult) -> list[str]:
    return [f"{m.source}: {m.content}" for m in result.messages]


def writer_and_critic() -> RoundRobinGroupChat:
    writer = AssistantAgent("writer", ScriptedModelClient(["w1", "w2", "w3"]))
    critic = AssistantAgent("critic", ScriptedModelClient(["c1", "c2", "c3"]))
    return RoundRobinGroupChat([writer, critic], termination_condition=MaxMessageTermination(6))


async def resume_after_turn(
    build: Callable[[], BaseGroupChat], turns: int, task: str = "go"
) -> tuple[TaskResult, TaskResult, dict[str, Any]]:
    """Run a team to the end while checkpointing; then load the checkpoint taken after
    ``turns`` turns into a freshly built team and run it on."""
    team = build()
    sink = CheckpointingSink(team)
    original = await team.run(task=task, sink=sink)
    checkpoint = sink.checkpoints[turns - 1]
    fresh = build()
    await fresh.load_state(checkpoint)
    return original, await fresh.run(), checkpoint


async def test_a_rebuilt_team_continues_with_the_next_scripted_replies() -> None:
    original, resumed, _ = await resume_after_turn(writer_and_critic, turns=2)

    assert said(original) == [
        "user: go", "writer: w1", "critic: c1", "writer: w2", "critic: c2", "writer: w3",
    ]  # fmt: skip
    assert said(resumed) == ["writer: w2", "critic: c2", "writer: w3"]


async def test_an_assistant_keeps_autogens_state_shape_plus_its_clients_position() -> None:
    agent = AssistantAgent("writer", ScriptedModelClient(["w1", "w2"]))
    await agent.run(task="go")

    state = json.loads(json.dumps(await agent.save_state()))

    assert state["model_client"] == {"position": 1}
    assert set(state) == {"type", "version", "llm_context", "model_client"}
    again = AssistantAgent("writer", ScriptedModelClient(["w1", "w2"]))
    await again.load_state(state)
    result = await again.run(task="more")
    assert said(result)[-1] == "writer: w2"


async def test_a_client_without_state_leaves_the_assistant_state_as_autogen_has_it() -> None:
    agent = AssistantAgent("writer", StatelessScriptedClient(["w1"]))
    await agent.run(task="go")

    state = await agent.save_state()

    assert set(state) == {"type", "version", "llm_context"}


async def test_a_state_without_client_state_leaves_the_client_where_it_is() -> None:
    client = ScriptedModelClient(["w1", "w2"])
    agent = AssistantAgent("writer", client)
    await agent.run(task="go")
    state = await agent.save_state()
    del state["model_client"]

    await agent.load_state(state)

    assert client.remaining == 1


async def test_agents_sharing_one_client_resume_it_once_not_once_per_agent() -> None:
    def build() -> RoundRobinGroupChat:
        shared = ScriptedModelClient(["one", "two", "three", "four"])
        agents = [AssistantAgent("a", shared), AssistantAgent("b", shared)]
        return RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(5))

    original, resumed, checkpoint = await resume_after_turn(build, turns=2)

    members = checkpoint["participants"]
    assert members["a"]["state"]["model_client"] == {"position": 2}
    assert members["b"]["state"]["model_client"] == {"position": 2}
    assert said(original)[1:] == ["a: one", "b: two", "a: three", "b: four"]
    assert said(resumed) == ["a: three", "b: four"]


async def test_a_selector_team_resumes_its_selector_model_and_its_agents() -> None:
    def build() -> SelectorGroupChat:
        agents = [
            AssistantAgent("a", ScriptedModelClient(["a1", "a2", "a3"])),
            AssistantAgent("b", ScriptedModelClient(["b1", "b2", "b3"])),
            AssistantAgent("c", ScriptedModelClient(["c1", "c2", "c3"])),
        ]
        selector = ScriptedModelClient(["b", "c", "a", "c"])
        return SelectorGroupChat(agents, selector, termination_condition=MaxMessageTermination(5))

    original, resumed, checkpoint = await resume_after_turn(build, turns=2)

    assert checkpoint["manager"]["model_client"] == {"position": 2}
    assert said(original)[1:] == ["b: b1", "c: c1", "a: a1", "c: c2"]
    assert said(resumed) == ["a: a1", "c: c2"]


async def test_a_society_of_mind_resumes_its_answer_model_and_its_inner_agents() -> None:
    def build() -> RoundRobinGroupChat:
        inner = RoundRobinGroupChat(
            [AssistantAgent("drafter", ScriptedModelClient(["d1", "d2", "d3"]))], max_turns=1
        )
        society = SocietyOfMindAgent("society", inner, ScriptedModelClient(["s1", "s2", "s3"]))
        reader = AssistantAgent("reader", ScriptedModelClient(["r1", "r2", "r3"]))
        return RoundRobinGroupChat([society, reader], max_turns=4)

    original, resumed, checkpoint = await resume_after_turn(build, turns=2, task="write")

    society_state = checkpoint["participants"]["society"]["state"]
    assert society_state["model_client"] == {"position": 1}
    inner_members = society_state["inner_team_state"]["participants"]
    assert inner_members["drafter"]["state"]["model_client"] == {"position": 1}
    own = [line for line in said(original) if line.startswith(("society:", "reader:"))]
    assert own == ["society: s1", "reader: r1", "society: s2", "reader: r2"]
    resumed_own = [line for line in said(resumed) if line.startswith(("society:", "reader:"))]
    assert resumed_own == ["society: s2", "reader: r2"]
    assert "drafter: d2" in said(resumed)


async def test_loading_the_same_client_state_twice_does_not_skip_replies() -> None:
    client = ScriptedModelClient(["one", "two", "three"])

    client.load_state({"position": 1})
    client.load_state({"position": 1})

    assert client.remaining == 2
    assert client.save_state() == {"position": 1}


@pytest.mark.parametrize("position", [-1, 4, "1", True, None])
async def test_a_client_state_outside_the_script_is_refused(position: object) -> None:
    client = ScriptedModelClient(["one", "two", "three"])

    with pytest.raises(StateError, match=r"position|script has 3"):
        client.load_state({"position": position})

    assert client.remaining == 3


async def test_client_state_that_is_not_an_object_is_refused() -> None:
    agent = AssistantAgent("writer", ScriptedModelClient(["w1"]))
    state = await agent.save_state()
    state["model_client"] = 3

    with pytest.raises(StateError, match="model_client state is not an object"):
        await agent.load_state(state)
