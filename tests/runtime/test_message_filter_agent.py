"""MessageFilterAgent: the wrapped agent sees only the messages the filter keeps."""

from __future__ import annotations

import json

import pytest

from runtime import (
    AssistantAgent,
    CancellationToken,
    ConfigurationError,
    DiGraphBuilder,
    GraphFlow,
    MessageFilterAgent,
    MessageFilterConfig,
    PerSourceFilter,
    TextMessage,
    dump_component,
    load_component,
)
from runtime.testing import ScriptedModelClient
from tests.runtime.scripted_agents import ScriptedAgent


def said(source: str, *texts: str) -> list[TextMessage]:
    return [TextMessage(content=text, source=source) for text in texts]


async def test_only_the_kept_messages_reach_the_wrapped_agent_grouped_by_filter() -> None:
    inner = ScriptedAgent("critic")
    agent = MessageFilterAgent(
        "critic",
        inner,
        MessageFilterConfig(
            per_source=[
                PerSourceFilter(source="writer", position="last", count=1),
                PerSourceFilter(source="user", position="first", count=1),
            ]
        ),
    )
    messages = [*said("user", "task", "nudge"), *said("writer", "draft 1", "draft 2")]

    response = await agent.on_messages(messages, CancellationToken())

    assert inner.heard == [["draft 2", "task"]]
    assert response.chat_message.source == "critic"


async def test_a_filtered_node_in_a_graph_sees_only_its_filter_s_messages() -> None:
    writer = ScriptedAgent("writer", ["draft"])
    reviewer_inner = ScriptedAgent("reviewer", ["fine"])
    reviewer = MessageFilterAgent(
        "reviewer",
        reviewer_inner,
        MessageFilterConfig(per_source=[PerSourceFilter(source="writer")]),
    )
    graph = DiGraphBuilder().add_node(writer).add_node(reviewer).add_edge(writer, reviewer).build()

    await GraphFlow([writer, reviewer], graph).run(task="Write something.")

    assert reviewer_inner.heard == [["draft"]]


async def test_state_and_reset_are_the_wrapped_agent_s() -> None:
    inner = AssistantAgent("helper", ScriptedModelClient(["one", "two"]))
    agent = MessageFilterAgent(
        "helper", inner, MessageFilterConfig(per_source=[PerSourceFilter(source="user")])
    )
    await agent.run(task="hello")

    state = await agent.save_state()

    assert state == await inner.save_state()
    await agent.on_reset(CancellationToken())
    assert await inner.model_context.get_messages() == []
    await agent.load_state(state)
    assert len(await inner.model_context.get_messages()) == 2


def test_the_filter_agent_is_written_and_read_in_autogen_s_shape() -> None:
    agent = MessageFilterAgent(
        "helper",
        AssistantAgent("helper", ScriptedModelClient(["x"])),
        MessageFilterConfig(per_source=[PerSourceFilter(source="user", position="last", count=2)]),
    )

    document = json.loads(json.dumps(dump_component(agent)))
    loaded = load_component(document, expected="agent")

    assert document["provider"] == "autogen_agentchat.agents.MessageFilterAgent"
    assert document["config"]["filter"] == {
        "per_source": [{"source": "user", "position": "last", "count": 2}]
    }
    assert isinstance(loaded, MessageFilterAgent)
    assert loaded.filter == agent.filter
    assert loaded.description == agent.description


def test_bad_filters_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="position"):
        PerSourceFilter(source="a", position="middle")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="count"):
        PerSourceFilter(source="a", count=0)
    with pytest.raises(ConfigurationError, match="per_source"):
        MessageFilterConfig.from_dict({"per_source": [{"count": 1}]})
