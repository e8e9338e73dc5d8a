"""AgentTool and TeamTool: a model gives a task to another agent or a whole team."""

from __future__ import annotations

import json

from runtime import (
    AgentTool,
    AssistantAgent,
    CancellationToken,
    CreateResult,
    FunctionCall,
    MaxMessageTermination,
    RoundRobinGroupChat,
    TeamTool,
    TextMessage,
    ToolCallExecutionEvent,
    ToolCallSummaryMessage,
    dump_component,
    load_component,
)
from runtime.testing import RecordingSink, ScriptedModelClient


def ask(tool: str, task: str) -> CreateResult:
    return CreateResult(
        content=[FunctionCall(id="call_1", arguments=json.dumps({"task": task}), name=tool)],
        finish_reason="function_calls",
    )


def writer() -> AssistantAgent:
    return AssistantAgent(
        "writer",
        ScriptedModelClient(["A poem about the sea."]),
        description="Writes poems.",
        model_client_stream=True,
    )


async def test_an_agent_tool_runs_the_agent_and_its_items_stream_out_of_the_caller() -> None:
    lead = AssistantAgent(
        "lead", ScriptedModelClient([ask("writer", "A sea poem")]), tools=[AgentTool(writer())]
    )

    items = [item async for item in lead.run_stream(task="Get me a poem.")]

    kinds = [type(i).__name__ for i in items]
    assert kinds[:2] == ["TextMessage", "ToolCallRequestEvent"]
    assert "ModelClientStreamingChunkEvent" in kinds
    inner = [i for i in items if isinstance(i, TextMessage) and i.source == "writer"]
    assert [m.content for m in inner] == ["A poem about the sea."]
    execution = next(i for i in items if isinstance(i, ToolCallExecutionEvent))
    assert items.index(inner[0]) < items.index(execution)
    assert execution.content[0].content == "writer: A poem about the sea."
    summary = items[-2]
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.content == "writer: A poem about the sea."
    result = items[-1]
    assert inner[0] in result.messages


def test_an_agent_tool_is_named_and_described_after_its_agent() -> None:
    tool = AgentTool(writer())

    assert tool.name == "writer"
    assert tool.schema["description"] == "Writes poems."
    assert tool.schema["parameters"]["required"] == ["task"]
    assert tool.schema["parameters"]["properties"]["task"]["description"] == (
        "The task to be executed."
    )


async def test_a_team_tool_answers_with_every_message_or_only_the_last() -> None:
    def pair() -> RoundRobinGroupChat:
        agents = [
            AssistantAgent(name, ScriptedModelClient([f"{name} done"]))
            for name in ("drafter", "editor")
        ]
        return RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))

    every = TeamTool(pair(), "desk", "The writing desk.")
    last = TeamTool(pair(), "desk", "The writing desk.", return_value_as_last_message=True)
    sink = RecordingSink()
    lead = AssistantAgent("lead", ScriptedModelClient([ask("desk", "Write.")]), tools=[every])

    await RoundRobinGroupChat([lead], max_turns=1).run(task="go", sink=sink)
    answer_last = await last.run_json({"task": "Write."}, CancellationToken())

    execution = next(i for i in sink.items if isinstance(i, ToolCallExecutionEvent))
    assert execution.content[0].content == "drafter: drafter done\n\neditor: editor done"
    assert [i.source for i in sink.items if isinstance(i, TextMessage)] == [
        "user",
        "drafter",
        "editor",
    ]
    assert isinstance(sink.items[-1], ToolCallSummaryMessage)
    assert answer_last == "editor done"


async def test_the_outer_team_counts_only_the_calling_agent_s_reply_in_its_thread() -> None:
    lead = AssistantAgent(
        "lead", ScriptedModelClient([ask("writer", "Poem")]), tools=[AgentTool(writer())]
    )
    team = RoundRobinGroupChat([lead], max_turns=1)

    await team.run(task="go")

    assert [m.source for m in team.thread] == ["user", "lead"]


def test_agent_and_team_tools_are_written_and_read_as_autogen_components() -> None:
    team = RoundRobinGroupChat([writer()], max_turns=1)
    lead = AssistantAgent(
        "lead",
        ScriptedModelClient([]),
        tools=[
            AgentTool(writer(), return_value_as_last_message=True),
            TeamTool(team, "desk", "A desk."),
        ],
    )

    document = json.loads(json.dumps(dump_component(lead)))
    loaded = load_component(document, expected="agent")

    tools = document["config"]["workbench"][0]["config"]["tools"]
    assert [t["provider"] for t in tools] == [
        "autogen_agentchat.tools.AgentTool",
        "autogen_agentchat.tools.TeamTool",
    ]
    assert tools[0]["config"]["return_value_as_last_message"] is True
    assert tools[1]["config"]["name"] == "desk"
    assert [type(t) for t in loaded.tools] == [AgentTool, TeamTool]
    assert dump_component(loaded) == document
