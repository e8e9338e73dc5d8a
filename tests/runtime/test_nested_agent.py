"""SocietyOfMindAgent: a whole team as one participant."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import pytest

from runtime import (
    AssistantAgent,
    BaseChatAgent,
    CancellationToken,
    ConfigurationError,
    MaxMessageTermination,
    ModelClientError,
    Response,
    RoundRobinGroupChat,
    SocietyOfMindAgent,
    StateError,
    SystemMessage,
    TaskResult,
    TeamError,
    TeamStatus,
    TextMentionTermination,
    TextMessage,
    UserMessage,
)
from runtime.llm import LLMMessage
from runtime.testing import ScriptedModelClient


class RecordingModel(ScriptedModelClient):
    """A scripted model that keeps the messages of each request."""

    def __init__(self, replies: Sequence[str], **kwargs: Any) -> None:
        super().__init__(replies, model="writer-1", **kwargs)
        self.requests: list[list[LLMMessage]] = []

    async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> Any:
        self.requests.append(list(messages))
        return await super().create(messages, **kwargs)


def inner_team(*replies: str, turns: int = 2) -> RoundRobinGroupChat:
    writer = AssistantAgent("writer", ScriptedModelClient(replies[0::2]), system_message=None)
    critic = AssistantAgent("critic", ScriptedModelClient(replies[1::2]), system_message=None)
    return RoundRobinGroupChat([writer, critic], max_turns=turns)


async def collect(agent: BaseChatAgent, text: str) -> tuple[list[Any], Response]:
    items: list[Any] = []
    async for item in agent.on_messages_stream(
        [TextMessage(content=text, source="user")], CancellationToken()
    ):
        items.append(item)
    response = items.pop()
    assert isinstance(response, Response)
    return items, response


async def test_the_inner_team_runs_and_its_messages_stream_out() -> None:
    team = inner_team("Draft one.", "Looks good.", turns=2)
    agent = SocietyOfMindAgent("society", team)

    items, response = await collect(agent, "Write a haiku.")

    assert [(i.source, i.content) for i in items] == [
        ("writer", "Draft one."),
        ("critic", "Looks good."),
    ]
    assert response.chat_message.source == "society"
    assert response.inner_messages == ()


async def test_without_a_model_the_answer_is_the_inner_teams_last_message() -> None:
    agent = SocietyOfMindAgent("society", inner_team("Draft.", "Final text.", turns=2))

    _, response = await collect(agent, "Write.")

    assert response.chat_message.content == "Final text."


async def test_with_a_model_the_answer_summarises_the_request_and_the_discussion() -> None:
    model = RecordingModel(["The haiku."])
    agent = SocietyOfMindAgent(
        "society",
        inner_team("Draft.", "Approve.", turns=2),
        model,
        instruction="Intro.",
        response_prompt="Answer now.",
    )

    _, response = await collect(agent, "Write a haiku.")

    message = response.chat_message
    assert message.content == "The haiku."
    assert message.models_usage == model.actual_usage()
    assert message.metadata == {"model": "writer-1"}
    assert model.requests[0] == [
        UserMessage("Intro.", "user"),
        UserMessage("Write a haiku.", "user"),
        UserMessage("Draft.", "writer"),
        UserMessage("Approve.", "critic"),
        UserMessage("Answer now.", "user"),
    ]


async def test_models_that_take_several_system_messages_get_the_framing_as_system() -> None:
    model = RecordingModel(["Done."], model_info={"multiple_system_messages": True})
    agent = SocietyOfMindAgent(
        "society", inner_team("a", "b"), model, instruction="I.", response_prompt="R."
    )

    await collect(agent, "Go.")

    assert model.requests[0][0] == SystemMessage("I.")
    assert model.requests[0][-1] == SystemMessage("R.")


async def test_the_inner_team_is_reset_after_each_turn_and_hears_the_earlier_conversation() -> None:
    writer_model = RecordingModel(["First draft.", "Second draft."])
    writer = AssistantAgent("writer", writer_model, system_message=None)
    critic = AssistantAgent("critic", ScriptedModelClient(["OK.", "Fine."]), system_message=None)
    team = RoundRobinGroupChat([writer, critic], max_turns=2)
    agent = SocietyOfMindAgent("society", team)

    await collect(agent, "Write a poem.")
    assert team.thread == ()
    assert (await writer.model_context.get_messages()) == []
    items, response = await collect(agent, "Shorter, please.")

    assert response.chat_message.content == "Fine."
    assert [m.source for m in items] == ["writer", "critic"]
    assert writer_model.requests[1] == [
        UserMessage("Earlier in this conversation:\nuser: Write a poem.\nsociety: OK.", "society"),
        UserMessage("Shorter, please.", "user"),
    ]


async def test_an_inner_team_that_says_nothing_gives_no_response() -> None:
    writer = AssistantAgent("writer", ScriptedModelClient([]), system_message=None)
    done = TextMentionTermination("go")  # ends the run on the task message itself
    agent = SocietyOfMindAgent("society", RoundRobinGroupChat([writer], termination_condition=done))

    items, response = await collect(agent, "go")

    assert items == []
    assert response.chat_message.content == "No response."


async def test_a_society_takes_its_seat_in_an_outer_team() -> None:
    society = SocietyOfMindAgent("society", inner_team("Draft.", "Approve.", turns=2))
    reviewer = AssistantAgent("reviewer", ScriptedModelClient(["Ship it."]), system_message=None)
    outer = RoundRobinGroupChat([society, reviewer], termination_condition=MaxMessageTermination(3))

    result = await outer.run(task="Write a slogan.")

    assert [(m.source, m.to_text()) for m in result.messages] == [
        ("user", "Write a slogan."),
        ("writer", "Draft."),
        ("critic", "Approve."),
        ("society", "Approve."),
        ("reviewer", "Ship it."),
    ]
    assert [m.source for m in outer.thread] == ["user", "society", "reviewer"]


async def test_an_inner_failure_propagates_with_its_type_and_the_inner_team_stays_usable() -> None:
    team = inner_team("Draft.", turns=2)  # the critic has no scripted reply
    agent = SocietyOfMindAgent("society", team)

    with pytest.raises(ModelClientError, match="ran out of replies"):
        await collect(agent, "Write.")
    assert team.status is TeamStatus.IDLE
    assert team.thread == ()


async def test_cancellation_stops_the_inner_team_and_resets_it() -> None:
    slow = AssistantAgent("slow", ScriptedModelClient(["late"], delay=5), system_message=None)
    team = RoundRobinGroupChat([slow], max_turns=1)
    agent = SocietyOfMindAgent("society", team)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.05, token.cancel)

    with pytest.raises(asyncio.CancelledError):
        await agent.on_messages([TextMessage(content="Go.", source="user")], token)
    assert team.thread == ()


async def test_state_round_trips_through_json_and_reset_forgets() -> None:
    agent = SocietyOfMindAgent("society", inner_team("Draft.", "Final.", turns=2))
    await collect(agent, "Write.")

    state = json.loads(json.dumps(await agent.save_state()))
    assert state["type"] == "SocietyOfMindAgentState"
    assert state["inner_team_state"]["type"] == "TeamState"

    copy = SocietyOfMindAgent("society", inner_team("x", "y"))
    await copy.load_state(state)
    assert (await copy.model_context.get_messages()) == (await agent.model_context.get_messages())
    assert (await copy.model_context.get_messages())[-1].content == "Final."

    await copy.on_reset(CancellationToken())
    assert (await copy.model_context.get_messages()) == []


async def test_loading_state_of_another_kind_is_a_state_error() -> None:
    agent = SocietyOfMindAgent("society", inner_team("a", "b"))

    with pytest.raises(StateError, match="expected SocietyOfMindAgentState"):
        await agent.load_state({"type": "AssistantAgentState"})


def test_the_team_argument_must_be_a_team() -> None:
    with pytest.raises(ConfigurationError, match="team must be a team"):
        SocietyOfMindAgent("society", AssistantAgent("a", ScriptedModelClient([])))  # type: ignore[arg-type]


def test_configuration_is_readable_under_the_constructor_names() -> None:
    team = inner_team("a", "b")
    model = ScriptedModelClient([])
    agent = SocietyOfMindAgent(
        "society", team, model, description="D.", instruction="I.", response_prompt="R."
    )

    assert (agent.name, agent.team, agent.model_client) == ("society", team, model)
    assert (agent.description, agent.instruction, agent.response_prompt) == ("D.", "I.", "R.")


async def test_run_yields_the_final_answer_in_a_task_result() -> None:
    agent = SocietyOfMindAgent("society", inner_team("Draft.", "Final.", turns=2))

    result = await agent.run(task="Write.")

    assert isinstance(result, TaskResult)
    assert result.messages[-1].content == "Final."  # type: ignore[attr-defined]


async def test_inner_events_stream_out_but_only_chat_messages_are_summarised() -> None:
    async def add(a: int, b: int) -> int:
        return a + b

    from runtime import CreateResult, FunctionCall

    tool_call = CreateResult(content=[FunctionCall(id="1", name="add", arguments='{"a":1,"b":2}')])
    solver = AssistantAgent("solver", ScriptedModelClient([tool_call]), tools=[add])
    model = RecordingModel(["Three."])
    agent = SocietyOfMindAgent("society", RoundRobinGroupChat([solver], max_turns=1), model)

    items, response = await collect(agent, "1 + 2?")

    assert [i.type for i in items] == [
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ToolCallSummaryMessage",
    ]
    assert model.requests[0][-2] == UserMessage("3", "solver")
    assert response.chat_message.content == "Three."


async def test_a_summary_model_that_calls_tools_is_a_model_response_error() -> None:
    from runtime import CreateResult, FunctionCall, ModelResponseError

    tool_call = CreateResult(content=[FunctionCall(id="1", name="x", arguments="{}")])
    agent = SocietyOfMindAgent("society", inner_team("a", "b"), ScriptedModelClient([tool_call]))

    with pytest.raises(ModelResponseError, match="asked for text"):
        await collect(agent, "Go.")


async def test_a_busy_inner_team_is_not_reset_by_a_turn_that_could_not_start() -> None:
    slow = AssistantAgent("slow", ScriptedModelClient(["done"], delay=0.2), system_message=None)
    team = RoundRobinGroupChat([slow], max_turns=1)
    agent = SocietyOfMindAgent("society", team)
    running = asyncio.ensure_future(team.run(task="first"))
    await asyncio.sleep(0.01)

    with pytest.raises(TeamError, match="already running"):
        await collect(agent, "second")
    result = await running
    assert result.messages[-1].to_text() == "done"


async def test_autogen_state_without_a_context_loads_and_tool_work_is_not_rendered() -> None:
    from runtime import AssistantMessage, FunctionCall

    agent = SocietyOfMindAgent("society", inner_team("a", "b"))
    await agent.load_state(
        {
            "type": "SocietyOfMindAgentState",
            "version": "1.0.0",
            "inner_team_state": {"type": "TeamState", "version": "1.0.0", "agent_states": {}},
        }
    )
    assert (await agent.model_context.get_messages()) == []

    call = FunctionCall(id="1", name="x", arguments="{}")
    await agent.load_state(
        {"llm_context": {"messages": [AssistantMessage(content=[call], source="s").to_dict()]}}
    )
    assert len(await agent.model_context.get_messages()) == 1
    with pytest.raises(StateError, match="unreadable"):
        await agent.load_state({"llm_context": {"messages": [{"type": "Bogus"}]}})


async def test_a_model_client_must_be_a_chat_completion_client_and_close_closes_the_team() -> None:
    with pytest.raises(ConfigurationError, match="ChatCompletionClient or None"):
        SocietyOfMindAgent("society", inner_team("a", "b"), "gpt-4o")  # type: ignore[arg-type]
    team = inner_team("a", "b")
    await SocietyOfMindAgent("society", team).close()
    assert team.status is TeamStatus.CLOSED
