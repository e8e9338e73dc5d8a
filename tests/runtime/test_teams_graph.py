"""GraphFlow and DiGraphBuilder: order, conditions, fan-out, activation, loops, validation."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import pytest

from runtime import (
    BaseChatMessage,
    CancellationToken,
    ConfigurationError,
    DiGraph,
    DiGraphBuilder,
    DiGraphEdge,
    DiGraphNode,
    GraphFlow,
    MaxMessageTermination,
    TaskResult,
    TeamStatus,
    TextMessage,
    TimeoutTermination,
)
from runtime.testing import RecordingSink
from tests.runtime.scripted_agents import ScriptedAgent, Sleep

COMPLETE = "Digraph execution is complete"


def speakers(result: TaskResult) -> list[str]:
    return [m.source for m in result.messages if isinstance(m, BaseChatMessage)]


def agents(*names: str, **replies: list[object]) -> dict[str, ScriptedAgent]:
    return {name: ScriptedAgent(name, replies.get(name, [])) for name in names}


def chain(team_agents: dict[str, ScriptedAgent]) -> DiGraphBuilder:
    builder = DiGraphBuilder()
    for agent in team_agents.values():
        builder.add_node(agent)
    names = list(team_agents)
    for source, target in itertools.pairwise(names):
        builder.add_edge(source, target)
    return builder


def fan_out(crew: dict) -> DiGraph:
    """start -> left and start -> right, run in parallel."""
    return (
        DiGraphBuilder()
        .add_node(crew["start"])
        .add_node(crew["left"])
        .add_node(crew["right"])
        .add_edge("start", "left")
        .add_edge("start", "right")
        .build()
    )


async def test_a_chain_runs_once_then_reports_completion_and_starts_over() -> None:
    crew = agents("a", "b", "c")
    builder = chain(crew)
    team = GraphFlow(builder.get_participants(), builder.build())
    result = await team.run(task="go")
    assert speakers(result) == ["user", "a", "b", "c"]
    assert result.stop_reason == COMPLETE
    again = await team.run(task="once more")
    assert speakers(again) == ["user", "a", "b", "c"]
    assert crew["a"].heard[1] == ["b 1", "c 1", "once more"]


async def test_keyword_and_function_conditions_choose_the_branch() -> None:
    crew = agents("judge", "yes", "no", "log", judge=["APPROVE it"])
    graph = (
        DiGraphBuilder()
        .add_node(crew["judge"])
        .add_node(crew["yes"])
        .add_node(crew["no"])
        .add_node(crew["log"])
        .add_edge("judge", "yes", condition="APPROVE")
        .add_edge("judge", "no", condition=lambda m: "REJECT" in m.content)
        .add_edge(crew["judge"], crew["log"], condition=lambda m: True)
        .build()
    )
    team = GraphFlow(list(crew.values()), graph)
    result = await team.run(task="review")
    assert sorted(speakers(result)[2:]) == ["log", "yes"]
    assert crew["no"].turns == 0


async def test_a_loop_repeats_until_its_exit_condition() -> None:
    crew = agents(
        "writer", "critic", "publish", critic=["again", "again", "done"], writer=["v1", "v2", "v3"]
    )
    graph = (
        DiGraphBuilder()
        .add_node(crew["writer"])
        .add_node(crew["critic"])
        .add_node(crew["publish"])
        .add_edge("writer", "critic")
        .add_conditional_edges("critic", {"again": "writer", "done": "publish"})
        .set_entry_point("writer")
        .build()
    )
    team = GraphFlow(list(crew.values()), graph, max_turns=20)
    result = await team.run(task="write")
    assert speakers(result)[1:] == [
        "writer", "critic", "writer", "critic", "writer", "critic", "publish",
    ]  # fmt: skip
    assert result.stop_reason == COMPLETE


async def test_fan_out_runs_in_parallel_and_a_join_waits_for_all() -> None:
    crew = agents("start", "left", "right", "join", left=[Sleep(0.1, "L")], right=[Sleep(0.1, "R")])
    graph = (
        DiGraphBuilder()
        .add_node(crew["start"])
        .add_node(crew["left"])
        .add_node(crew["right"])
        .add_node(crew["join"])
        .add_edge("start", "left")
        .add_edge("start", "right")
        .add_edge("left", "join")
        .add_edge("right", "join")
        .build()
    )
    team = GraphFlow(list(crew.values()), graph)
    sink = RecordingSink()
    started = time.monotonic()
    result = await team.run(task="split", sink=sink)
    assert time.monotonic() - started < 0.19
    assert speakers(result)[:2] == ["user", "start"]
    assert sorted(speakers(result)[2:4]) == ["left", "right"]
    assert speakers(result)[4:] == ["join"]
    assert crew["join"].turns == 1
    assert sorted(crew["join"].heard[0]) == ["L", "R", "split", "start 1"]
    assert crew["left"].heard == [["split", "start 1"]]
    assert sink.turns[:1] == ["start"] and sorted(sink.turns[1:3]) == ["left", "right"]


async def test_every_parallel_delta_is_shown_to_the_condition() -> None:
    crew = agents("start", "left", "right", "join")
    builder = DiGraphBuilder()
    for agent in crew.values():
        builder.add_node(agent)
    builder.add_edge("start", "left").add_edge("start", "right")
    builder.add_edge("left", "join").add_edge("right", "join")
    team = GraphFlow(
        list(crew.values()), builder.build(), termination_condition=MaxMessageTermination(4)
    )
    result = await team.run(task="go")
    assert result.stop_reason == "Maximum number of messages 4 reached, current message count: 4"
    assert crew["join"].turns == 0


def branches(activation: str, crew: dict[str, ScriptedAgent]) -> DiGraph:
    return (
        DiGraphBuilder()
        .add_node(crew["start"])
        .add_node(crew["left"])
        .add_node(crew["right"])
        .add_node(crew["join"], activation=activation)  # type: ignore[arg-type]
        .add_edge("start", "left")
        .add_edge("start", "right")
        .add_edge("left", "join", condition="yes")
        .add_edge("right", "join", condition="yes")
        .build()
    )


async def test_any_activation_runs_the_join_after_the_first_satisfied_edge() -> None:
    crew = agents("start", "left", "right", "join", left=["yes"], right=["no"])
    team = GraphFlow(list(crew.values()), branches("any", crew))
    result = await team.run(task="go")
    assert speakers(result)[-1] == "join"
    assert crew["join"].turns == 1


async def test_all_activation_does_not_run_the_join_when_one_edge_stays_silent() -> None:
    crew = agents("start", "left", "right", "join", left=["yes"], right=["no"])
    team = GraphFlow(list(crew.values()), branches("all", crew))
    result = await team.run(task="go")
    assert crew["join"].turns == 0
    assert result.stop_reason == COMPLETE


async def test_a_failing_branch_keeps_its_error_type_and_cancels_the_other() -> None:
    crew = agents("start", "left", "right", left=[RuntimeError("left broke")], right=[Sleep(5)])
    graph = fan_out(crew)
    team = GraphFlow(list(crew.values()), graph)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="left broke"):
        await team.run(task="go")
    assert time.monotonic() - started < 1
    assert team.status is TeamStatus.IDLE
    crew["left"].replies = ["fixed"]
    crew["right"].replies = ["fine"]
    result = await team.run()
    assert sorted(speakers(result)) == ["left", "right"]
    assert result.stop_reason == COMPLETE


async def test_cancelling_a_fan_out_requeues_the_unfinished_branches() -> None:
    crew = agents("start", "left", "right", left=["quick"], right=[Sleep(5)])
    graph = fan_out(crew)
    team = GraphFlow(list(crew.values()), graph)
    token = CancellationToken()
    runner = asyncio.ensure_future(team.run(task="go", cancellation_token=token))
    await crew["right"].turn_started.wait()
    await asyncio.sleep(0.01)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert [m.content for m in team.thread] == ["go", "start 1", "quick"]
    crew["right"].replies = []
    result = await team.run()
    assert speakers(result) == ["right"]
    assert result.stop_reason == COMPLETE


async def test_a_timeout_interrupts_parallel_branches() -> None:
    crew = agents("start", "left", "right", left=[Sleep(5)], right=[Sleep(5)])
    graph = fan_out(crew)
    team = GraphFlow(list(crew.values()), graph, termination_condition=TimeoutTermination(0.1))
    started = time.monotonic()
    result = await team.run(task="go")
    assert time.monotonic() - started < 1
    assert result.stop_reason == "Timeout of 0.1 seconds reached"


async def test_the_ready_queue_survives_saved_state() -> None:
    crew = agents("a", "b", "c")
    builder = chain(crew)
    team = GraphFlow(builder.get_participants(), builder.build(), max_turns=1)
    assert speakers(await team.run(task="go")) == ["user", "a"]
    state = json.loads(json.dumps(await team.save_state()))
    fresh = agents("a", "b", "c")
    fresh_builder = chain(fresh)
    restored = GraphFlow(fresh_builder.get_participants(), fresh_builder.build(), max_turns=5)
    await restored.load_state(state)
    result = await restored.run()
    assert speakers(result) == ["b", "c"]
    assert result.stop_reason == COMPLETE
    assert fresh["b"].heard == [["go", "a 1"]]


async def test_a_state_without_routing_data_starts_from_the_graphs_start_nodes() -> None:
    crew = agents("a", "b")
    builder = chain(crew)
    team = GraphFlow(builder.get_participants(), builder.build(), max_turns=1)
    await team.run(task="go")
    state = json.loads(json.dumps(await team.save_state()))
    del state["manager"]
    fresh = agents("a", "b")
    fresh_builder = chain(fresh)
    restored = GraphFlow(fresh_builder.get_participants(), fresh_builder.build())
    await restored.load_state(state)
    result = await restored.run()
    assert speakers(result) == ["a", "b"]
    assert result.stop_reason == COMPLETE


def test_graph_validation_explains_what_is_wrong() -> None:
    a, b, c = ScriptedAgent("a"), ScriptedAgent("b"), ScriptedAgent("c")
    with pytest.raises(ConfigurationError, match="no nodes"):
        DiGraph({}).graph_validate()
    with pytest.raises(ConfigurationError, match="unknown node"):
        DiGraph([DiGraphNode("a", [DiGraphEdge("ghost")])]).graph_validate()
    with pytest.raises(ConfigurationError, match="mixes conditional"):
        (
            DiGraphBuilder()
            .add_node(a).add_node(b).add_node(c)
            .add_edge(a, b, condition="x").add_edge(a, c)
            .build()
        )  # fmt: skip
    with pytest.raises(ConfigurationError, match="no start node"):
        DiGraphBuilder().add_node(a).add_node(b).add_edge(a, b).add_edge(b, a, "x").build()
    with pytest.raises(ConfigurationError, match="no exit"):
        (
            DiGraphBuilder()
            .add_node(a).add_node(b).add_node(c).add_node(ScriptedAgent("d"))
            .add_edge(a, b).add_edge(b, a).add_edge(c, a).add_edge(b, "d")
            .build()
        )  # fmt: skip
    with pytest.raises(ConfigurationError, match="no leaf"):
        DiGraph([DiGraphNode("a", [DiGraphEdge("a", "x")])], "a").graph_validate()
    with pytest.raises(ConfigurationError, match="mix 'all' and 'any'"):
        (
            DiGraphBuilder()
            .add_node(a).add_node(b).add_node(c)
            .add_edge(a, c).add_edge(b, c, activation_condition="any")
            .build()
        )  # fmt: skip
    with pytest.raises(ConfigurationError, match="not in the graph"):
        DiGraph([DiGraphNode("a")], default_start_node="z").graph_validate()
    with pytest.raises(ConfigurationError, match="activation_condition"):
        DiGraphEdge("a", activation_condition="some")  # type: ignore[arg-type]


def test_the_builder_refuses_unknown_and_duplicate_nodes() -> None:
    a = ScriptedAgent("a")
    with pytest.raises(ConfigurationError, match="before adding edges"):
        DiGraphBuilder().add_node(a).add_edge(a, "b")
    with pytest.raises(ConfigurationError, match="already added"):
        DiGraphBuilder().add_node(a).add_node(a)
    with pytest.raises(ConfigurationError, match="entry point"):
        DiGraphBuilder().add_node(a).set_entry_point("b")


def test_graph_flow_checks_participants_and_that_loops_can_end() -> None:
    a, b = ScriptedAgent("a"), ScriptedAgent("b")
    looped = (
        DiGraphBuilder()
        .add_node(a).add_node(b).add_node(ScriptedAgent("c"))
        .add_edge(a, b).add_edge(b, a, condition="again").add_edge(b, "c", condition="done")
        .set_entry_point(a)
        .build()
    )  # fmt: skip
    with pytest.raises(ConfigurationError, match="termination_condition or max_turns"):
        GraphFlow([a, b, ScriptedAgent("c")], looped)
    with pytest.raises(ConfigurationError, match="differ"):
        GraphFlow([a], looped, max_turns=3)
    assert looped.has_cycles()
    assert looped.get_parents()["a"] == ["b"]
    assert looped.get_leaf_nodes() == {"c"}
    assert looped.get_start_nodes() == {"a"}
    assert looped.has_cycles_with_exit() is True
    team = GraphFlow([a, b, ScriptedAgent("c")], looped, max_turns=3)
    assert team.graph is looped


def test_edges_read_their_conditions() -> None:
    message = TextMessage(content="all good", source="x")
    keyword = DiGraphEdge("t", "good")
    predicate = DiGraphEdge("t", lambda m: m.source == "y")
    always = DiGraphEdge("t")
    assert keyword.check_condition(message) and keyword.is_conditional
    assert keyword.condition_function is None and keyword.activation_group == "t"
    assert not predicate.check_condition(message) and predicate.condition_function is not None
    assert always.check_condition(message) and not always.is_conditional


def test_start_and_leaf_nodes_are_sets_as_in_autogen() -> None:
    graph = chain(agents("a", "b", "c")).build()

    assert graph.get_start_nodes() == {"a"}
    assert graph.get_leaf_nodes() == {"c"}
    assert graph.has_cycles_with_exit() is False


def test_a_loop_without_a_conditional_edge_has_no_exit() -> None:
    graph = DiGraph(
        {
            "a": DiGraphNode("a", edges=[DiGraphEdge("b")]),
            "b": DiGraphNode("b", edges=[DiGraphEdge("a")]),
        }
    )

    with pytest.raises(ValueError, match="has no exit"):
        graph.has_cycles_with_exit()


async def test_a_graph_round_trips_through_json_on_its_own_and_runs_the_same() -> None:
    a, b, c = ScriptedAgent("a", ["go on"]), ScriptedAgent("b"), ScriptedAgent("c")
    built = (
        DiGraphBuilder()
        .add_node(a).add_node(b).add_node(c)
        .add_edge(a, b, condition="go").add_edge(a, c, condition="stop")
        .build()
    )  # fmt: skip

    text = built.model_dump_json()
    loaded = DiGraph.model_validate_json(text)

    assert json.loads(text)["nodes"]["a"]["edges"][0] == {
        "target": "b",
        "condition": "go",
        "activation_group": "b",
        "activation_condition": "all",
    }
    assert loaded.model_dump() == built.model_dump()
    result = await GraphFlow([a, b, c], loaded).run(task="start")
    assert speakers(result) == ["user", "a", "b"]


def test_a_graph_with_a_function_condition_is_not_written_as_json() -> None:
    a, b = ScriptedAgent("a"), ScriptedAgent("b")
    graph = DiGraphBuilder().add_node(a).add_node(b).add_edge(a, b, condition=lambda m: True)

    with pytest.raises(ConfigurationError, match="function as its condition"):
        graph.build().model_dump_json()
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        DiGraph.model_validate_json("{nope")
