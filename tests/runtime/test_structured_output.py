"""Structured output: StructuredMessage[T], AssistantAgent(output_content_type=...), files,
state, and the providers' JSON-schema modes through the real SDKs."""

from __future__ import annotations

import json

import pydantic
import pytest

from runtime import (
    AnthropicChatCompletionClient,
    AssistantAgent,
    CreateResult,
    FunctionCall,
    MaxMessageTermination,
    OpenAIChatCompletionClient,
    RoundRobinGroupChat,
    StructuredMessage,
    TaskResult,
    TextMessage,
    dump_component,
    load_component,
    load_message,
)
from runtime.testing import ScriptedModelClient
from tests.fakes.llm_server import FakeLLMServer, call, text, tool_calls


class Weather(pydantic.BaseModel):
    city: str
    degrees: float
    sunny: bool = True


class Verdict(pydantic.BaseModel):
    approved: bool
    reasons: list[str]


def test_a_structured_message_reads_as_its_format_or_its_json_and_round_trips() -> None:
    message = StructuredMessage[Weather](
        content=Weather(city="Oslo", degrees=3.5),
        source="forecaster",
        format_string="{city}: {degrees}",
    )
    plain = StructuredMessage[Weather](content=Weather(city="Rome", degrees=20), source="f")

    assert message.type == "StructuredMessage[Weather]"
    assert message.to_text() == "Oslo: 3.5"
    assert message.to_model_message().content == "Oslo: 3.5"
    assert json.loads(plain.to_model_text()) == {"city": "Rome", "degrees": 20.0, "sunny": True}
    data = json.loads(json.dumps(message.dump()))
    assert data["content"] == {"city": "Oslo", "degrees": 3.5, "sunny": True}
    assert load_message(data) == message
    assert StructuredMessage[Weather] is type(message)


async def test_an_agent_with_an_output_type_answers_with_a_structured_message() -> None:
    client = ScriptedModelClient(['{"city": "Oslo", "degrees": -2}'])
    agent = AssistantAgent("forecaster", client, output_content_type=Weather)

    result = await agent.run(task="Weather in Oslo?")

    answer = result.messages[-1]
    assert isinstance(answer, StructuredMessage)
    assert answer.content == Weather(city="Oslo", degrees=-2)
    assert answer.models_usage is not None
    assert StructuredMessage[Weather] in agent.produced_message_types
    assert agent.reflect_on_tool_use is True


async def test_an_answer_that_does_not_fit_the_model_is_a_validation_error() -> None:
    agent = AssistantAgent("f", ScriptedModelClient(['{"city": 1}']), output_content_type=Weather)

    with pytest.raises(pydantic.ValidationError):
        await agent.run(task="Weather?")


async def test_with_tools_the_structured_answer_comes_from_the_reflection_call() -> None:
    def lookup(city: str) -> str:
        """Look the weather up."""
        return "3 degrees"

    script = [
        CreateResult(content=[FunctionCall("c1", '{"city": "Oslo"}', "lookup")]),
        '{"city": "Oslo", "degrees": 3}',
    ]
    agent = AssistantAgent(
        "f",
        ScriptedModelClient(script),
        tools=[lookup],
        output_content_type=Weather,
        output_content_type_format="{city} has {degrees} degrees",
    )

    result = await agent.run(task="Weather?")

    assert result.messages[-1].to_text() == "Oslo has 3.0 degrees"


async def test_a_team_s_saved_thread_keeps_structured_messages_losslessly() -> None:
    def team() -> RoundRobinGroupChat:
        judge = AssistantAgent(
            "judge",
            ScriptedModelClient(['{"approved": true, "reasons": ["clear"]}'] * 3),
            output_content_type=Verdict,
        )
        writer = AssistantAgent("writer", ScriptedModelClient(["draft"] * 3))
        return RoundRobinGroupChat([writer, judge], termination_condition=MaxMessageTermination(3))

    first = team()
    result = await first.run(task="go")
    state = json.loads(json.dumps(await first.save_state()))
    second = team()
    await second.load_state(state)

    verdict = second.thread[-1]
    assert isinstance(verdict, StructuredMessage)
    assert verdict == result.messages[-1]
    assert verdict.content.reasons == ["clear"]
    assert isinstance(second.thread[1], TextMessage)


async def test_custom_message_types_let_a_team_load_messages_it_never_said() -> None:
    said = StructuredMessage[Verdict](
        content=Verdict(approved=False, reasons=["late"]), source="user"
    )
    team = RoundRobinGroupChat(
        [AssistantAgent("a", ScriptedModelClient(["ok"] * 2))],
        max_turns=1,
        custom_message_types=[StructuredMessage[Verdict]],
    )
    await team.run(task=said)
    copy = RoundRobinGroupChat(
        [AssistantAgent("a", ScriptedModelClient(["ok"] * 2))],
        max_turns=1,
        custom_message_types=[StructuredMessage[Verdict]],
    )

    await copy.load_state(json.loads(json.dumps(await team.save_state())))

    assert copy.thread[0] == said
    assert copy.custom_message_types == [StructuredMessage[Verdict]]


def test_an_output_type_is_written_as_a_schema_and_read_back_as_a_model() -> None:
    agent = AssistantAgent(
        "f",
        ScriptedModelClient(['{"approved": true, "reasons": []}']),
        output_content_type=Verdict,
        output_content_type_format="approved={approved}",
    )

    document = json.loads(json.dumps(dump_component(agent)))
    loaded = load_component(document, expected="agent")

    factory = document["config"]["structured_message_factory"]
    assert factory["provider"] == "autogen_agentchat.messages.StructuredMessageFactory"
    assert factory["config"]["content_model_name"] == "Verdict"
    assert factory["config"]["json_schema"] == Verdict.model_json_schema()
    model = loaded.output_content_type
    assert model.__name__ == "Verdict"
    assert model.model_validate({"approved": True, "reasons": ["a"]}).reasons == ["a"]
    assert loaded.output_content_type_format == "approved={approved}"
    assert dump_component(loaded)["config"]["structured_message_factory"] == factory


async def test_openai_is_asked_for_json_of_the_schema_and_its_answer_parsed(
    llm_server: FakeLLMServer,
) -> None:
    llm_server.script([text('{"city": "Oslo", "degrees": 4, "sunny": false}')])
    client = OpenAIChatCompletionClient("gpt-4o", base_url=llm_server.openai_url)
    agent = AssistantAgent("f", client, output_content_type=Weather)

    result = await agent.run(task="Weather?")

    body = llm_server.requests[0].body
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]
    assert schema["name"] == "Weather" and schema["strict"] is True
    assert schema["schema"]["required"] == ["city", "degrees", "sunny"]
    answer = result.messages[-1]
    assert isinstance(answer, StructuredMessage)
    assert answer.content == Weather(city="Oslo", degrees=4, sunny=False)


async def test_anthropic_is_made_to_answer_through_the_output_tool(
    llm_server: FakeLLMServer,
) -> None:
    llm_server.script(
        [tool_calls(call("structured_output", {"city": "Oslo", "degrees": 1.5, "sunny": True}))]
    )
    client = AnthropicChatCompletionClient("claude-sonnet-4", base_url=llm_server.anthropic_url)
    agent = AssistantAgent("f", client, output_content_type=Weather, model_client_stream=True)

    items = [item async for item in agent.run_stream(task="Weather?")]

    body = llm_server.requests[0].body
    assert body["tool_choice"] == {"type": "tool", "name": "structured_output"}
    assert body["tools"][-1]["input_schema"] == Weather.model_json_schema()
    result = items[-1]
    assert isinstance(result, TaskResult)
    answer = result.messages[-1]
    assert isinstance(answer, StructuredMessage)
    assert answer.content == Weather(city="Oslo", degrees=1.5)
