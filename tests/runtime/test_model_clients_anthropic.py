"""AnthropicChatCompletionClient against the fake server, through the real anthropic SDK."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import anthropic
import httpx2
import pytest

from runtime import (
    AnthropicChatCompletionClient,
    AssistantMessage,
    CancellationToken,
    ConfigurationError,
    CreateResult,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelClientError,
    RequestUsage,
    SystemMessage,
    ToolSchema,
    UserMessage,
)
from runtime.model_clients.anthropic import (
    EMPTY_TEXT,
    OPENING_TEXT,
    classify_anthropic_error,
    default_model_info,
    to_anthropic_messages,
)
from tests.fakes.llm_server import FakeLLMServer, call, error, raw, slow, text, tool_calls

ADD_TOOL: ToolSchema = {
    "name": "add",
    "description": "Add two numbers.",
    "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}},
}
HELLO = [UserMessage("Hello", "user")]


def make_client(server: FakeLLMServer, **options: Any) -> AnthropicChatCompletionClient:
    options.setdefault("retry_backoff", 0.001)
    return AnthropicChatCompletionClient(
        "claude-opus-4-1-20250805", base_url=server.anthropic_url, **options
    )


async def collect(stream: Any) -> tuple[list[str], CreateResult]:
    items = [item async for item in stream]
    assert isinstance(items[-1], CreateResult)
    assert all(isinstance(item, str) for item in items[:-1])
    return items[:-1], items[-1]


def user_text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


async def test_a_text_answer_comes_back_with_usage(llm_server):
    llm_server.script([text("Bonjour", usage=(21, 2))])
    client = make_client(llm_server)

    result = await client.create(HELLO)

    assert result.content == "Bonjour"
    assert result.finish_reason == "stop"
    assert result.usage == RequestUsage(21, 2)
    assert client.total_usage() == RequestUsage(21, 2)
    assert llm_server.requests[0].path == "/v1/messages"
    await client.close()


async def test_system_messages_become_the_system_parameter(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, temperature=0.3)

    await client.create([SystemMessage("Be brief."), SystemMessage("Be kind."), *HELLO])

    body = llm_server.requests[0].body
    assert body["system"] == "Be brief.\n\nBe kind."
    assert body["messages"] == [{"role": "user", "content": [user_text("Hello")]}]
    assert body["max_tokens"] == 4096
    assert body["temperature"] == 0.3
    assert body["model"] == "claude-opus-4-1-20250805"


async def test_parameters_the_sdk_does_not_name_are_sent_in_the_body(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, top_k=5, stop_sequences=["END"])

    await client.create(HELLO, extra_create_args={"top_p": 0.9, "extra_body": {"x": 1}})

    body = llm_server.requests[0].body
    assert (body["top_k"], body["top_p"], body["x"]) == (5, 0.9, 1)
    assert body["stop_sequences"] == ["END"]


async def test_tool_calls_and_results_travel_as_blocks_in_alternating_turns(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server)
    history = [
        UserMessage("Add 2 and 3", "user"),
        UserMessage("Please hurry", "boss"),
        AssistantMessage(
            content=[
                FunctionCall("toolu_1", '{"a": 2}', "add"),
                FunctionCall("toolu_2", "{broken", "add"),
            ],
            source="coder",
            thought="Two calls.",
        ),
        FunctionExecutionResultMessage(
            [
                FunctionExecutionResult(content="5", name="add", call_id="toolu_1"),
                FunctionExecutionResult(
                    content="Error: bad JSON", name="add", call_id="toolu_2", is_error=True
                ),
            ]
        ),
        UserMessage("And now?", "boss"),
    ]

    await client.create(history)

    assert llm_server.requests[0].body["messages"] == [
        {"role": "user", "content": [user_text("Add 2 and 3"), user_text("Please hurry")]},
        {
            "role": "assistant",
            "content": [
                user_text("Two calls."),
                {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 2}},
                {
                    "type": "tool_use",
                    "id": "toolu_2",
                    "name": "add",
                    "input": {"raw_arguments": "{broken"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": "5",
                    "is_error": False,
                },
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": "Error: bad JSON",
                    "is_error": True,
                },
                user_text("And now?"),
            ],
        },
    ]


def test_a_conversation_is_made_acceptable_to_the_messages_api():
    system, turns = to_anthropic_messages(
        [
            SystemMessage("sys"),
            AssistantMessage(content="I start.", source="a"),
            AssistantMessage(content=[FunctionCall("t1", "[1, 2]", "f")], source="a"),
            UserMessage("", "user"),
            AssistantMessage(content="Prefill   ", source="a"),
        ]
    )

    assert system == "sys"
    assert turns == [
        {"role": "user", "content": [user_text(OPENING_TEXT)]},
        {
            "role": "assistant",
            "content": [
                user_text("I start."),
                {"type": "tool_use", "id": "t1", "name": "f", "input": {"value": [1, 2]}},
            ],
        },
        {"role": "user", "content": [user_text(EMPTY_TEXT)]},
        {"role": "assistant", "content": [user_text("Prefill")]},
    ]


async def test_tools_are_offered_with_input_schemas_and_the_tool_choice(llm_server):
    llm_server.script([text("ok"), text("ok"), text("ok")])
    client = make_client(llm_server, parallel_tool_calls=False)

    await client.create(HELLO, tools=[ADD_TOOL, {"name": "noop"}], tool_choice="required")
    await client.create(HELLO, tools=[ADD_TOOL], tool_choice="none")
    await client.create(HELLO)

    first, second, third = (request.body for request in llm_server.requests)
    assert first["tools"] == [
        {
            "name": "add",
            "description": "Add two numbers.",
            "input_schema": ADD_TOOL["parameters"],
        },
        {"name": "noop", "input_schema": {"type": "object", "properties": {}}},
    ]
    assert first["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert second["tool_choice"] == {"type": "none"}
    assert "tools" not in third
    assert "parallel_tool_calls" not in third


async def test_parallel_tool_calls_come_back_in_order(llm_server):
    llm_server.script(
        [
            tool_calls(
                call("add", {"a": 1}, id="toolu_a"),
                call("add", {"a": 2}, id="toolu_b"),
                text="Both at once.",
            )
        ]
    )
    client = make_client(llm_server)

    result = await client.create(HELLO, tools=[ADD_TOOL])

    assert result.content == [
        FunctionCall("toolu_a", '{"a": 1}', "add"),
        FunctionCall("toolu_b", '{"a": 2}', "add"),
    ]
    assert result.finish_reason == "function_calls"
    assert result.thought == "Both at once."


async def test_thinking_becomes_the_thought(llm_server):
    llm_server.script([text("42", thought="Consider the question"), text("7", thought="Hmm")])
    client = make_client(llm_server)

    result = await client.create(HELLO)
    pieces, streamed = await collect(client.create_stream(HELLO))

    assert (result.content, result.thought) == ("42", "Consider the question")
    assert (streamed.content, streamed.thought) == ("7", "Hmm")
    assert pieces == ["7"]


async def test_streaming_yields_text_deltas_then_one_result_with_usage(llm_server):
    llm_server.script([text("Streams are fun", usage=(40, 6))])
    client = make_client(llm_server)

    pieces, result = await collect(client.create_stream(HELLO))

    assert pieces == ["Streams", " are", " fun"]
    assert result.content == "Streams are fun"
    assert result.usage == RequestUsage(40, 6)
    assert result.finish_reason == "stop"
    assert llm_server.requests[0].is_stream


async def test_streamed_tool_calls_are_assembled_from_input_json_deltas(llm_server):
    llm_server.script(
        [
            tool_calls(
                call("add", {"a": 1}, id="toolu_1"),
                call("lookup", {"query": "rain"}, id="toolu_2"),
                text="Checking.",
            )
        ]
    )
    client = make_client(llm_server)

    pieces, result = await collect(client.create_stream(HELLO, tools=[ADD_TOOL]))

    assert pieces == ["Checking."]
    assert result.content == [
        FunctionCall("toolu_1", '{"a": 1}', "add"),
        FunctionCall("toolu_2", '{"query": "rain"}', "lookup"),
    ]
    assert result.thought == "Checking."


async def test_malformed_streamed_tool_arguments_are_passed_through_untouched(llm_server):
    llm_server.script([tool_calls(call("add", '{"a": 1, "b'))])
    client = make_client(llm_server)

    _, result = await collect(client.create_stream(HELLO, tools=[ADD_TOOL]))

    assert isinstance(result.content, list)
    assert result.content[0].arguments == '{"a": 1, "b'


async def test_a_tool_call_without_arguments_streams_as_an_empty_object(llm_server):
    llm_server.script([tool_calls(call("ping", ""))])
    client = make_client(llm_server)

    _, result = await collect(client.create_stream(HELLO))

    assert result.content == [FunctionCall(result.content[0].id, "{}", "ping")]  # type: ignore[index,union-attr]


async def test_stop_reasons_are_mapped(llm_server):
    llm_server.script(
        [text("cut", finish_reason="max_tokens"), text("no", finish_reason="refusal")]
    )
    client = make_client(llm_server)

    assert (await client.create(HELLO)).finish_reason == "length"
    _, refused = await collect(client.create_stream(HELLO))
    assert refused.finish_reason == "content_filter"


async def test_an_overloaded_api_is_retried_after_the_wait_it_asks_for(llm_server):
    llm_server.script([error(529, "Overloaded", retry_after="0.2"), text("here")])
    client = make_client(llm_server)

    started = time.monotonic()
    result = await client.create(HELLO)

    assert result.content == "here"
    assert time.monotonic() - started >= 0.2
    assert len(llm_server.requests) == 2


async def test_server_errors_exhausting_retries_raise_with_the_providers_message(llm_server):
    llm_server.script([error(500, "Internal meltdown")] * 2)
    client = make_client(llm_server, max_retries=1)

    with pytest.raises(ModelClientError) as caught:
        await client.create(HELLO)

    assert caught.value.status_code == 500
    assert caught.value.provider == "anthropic"
    assert "Internal meltdown" in str(caught.value)
    assert len(llm_server.requests) == 2


async def test_an_invalid_key_is_not_retried(llm_server):
    llm_server.script([error(401, "invalid x-api-key")])
    client = make_client(llm_server)

    with pytest.raises(ModelClientError, match="invalid x-api-key") as caught:
        await collect(client.create_stream(HELLO))

    assert caught.value.status_code == 401
    assert len(llm_server.requests) == 1


async def test_cancelling_the_token_aborts_a_slow_request_promptly(llm_server):
    llm_server.script([slow(10.0)])
    client = make_client(llm_server)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.1, token.cancel)

    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await client.create(HELLO, cancellation_token=token)

    assert time.monotonic() - started < 2.0
    for _ in range(200):
        if llm_server.requests[-1].disconnected:
            break
        await asyncio.sleep(0.01)
    assert llm_server.requests[-1].disconnected


async def test_the_api_key_and_headers_reach_the_server(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, api_key="sk-ant-test", default_headers={"X-Run": "7"})

    await client.create(HELLO)

    headers = llm_server.requests[0].headers
    assert headers["authorization"] == "Bearer sk-ant-test"
    assert headers["x-run"] == "7"


def test_model_info_defaults_for_claude_and_overrides():
    info = default_model_info("claude-3-5-haiku-20241022")
    assert info["family"] == "claude-3-5-haiku"
    assert info["vision"] is True
    assert info["function_calling"] is True
    assert default_model_info("claude-opus-4-latest")["family"] == "claude-opus-4"
    assert default_model_info("local-model")["family"] == "unknown"

    client = AnthropicChatCompletionClient(
        "claude-opus-4-1", base_url="http://127.0.0.1:9", model_info={"vision": False}
    )
    assert client.model_info["vision"] is False
    assert client.model_info["family"] == "claude-opus-4-1"


def test_the_constructor_arguments_are_readable():
    client = AnthropicChatCompletionClient(
        "claude-opus-4-1",
        api_key="k",
        base_url="http://127.0.0.1:9",
        max_tokens=100,
        temperature=0.5,
        max_retries=1,
        timeout=9.0,
        retry_backoff=0.1,
        default_headers={"A": "b"},
        top_k=5,
    )
    assert (client.model, client.base_url, client.max_tokens) == (
        "claude-opus-4-1",
        "http://127.0.0.1:9",
        100,
    )
    assert (client.temperature, client.max_retries, client.timeout) == (0.5, 1, 9.0)
    assert client.retry_backoff == 0.1
    assert client.default_headers == {"A": "b"}
    assert client.create_args == {"top_k": 5}


def test_bad_arguments_are_configuration_errors(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="ANTHROPIC_API_KEY"):
        AnthropicChatCompletionClient("claude-opus-4-1")
    with pytest.raises(ConfigurationError, match="max_tokens"):
        AnthropicChatCompletionClient("claude-opus-4-1", api_key="k", max_tokens=0)
    with pytest.raises(ConfigurationError, match="model name"):
        AnthropicChatCompletionClient("", api_key="k")


async def test_the_api_key_is_read_from_the_environment(monkeypatch, llm_server):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    llm_server.script([text("ok")])
    client = AnthropicChatCompletionClient("claude-opus-4-1", base_url=llm_server.anthropic_url)

    await client.create(HELLO)

    assert llm_server.requests[0].headers["authorization"] == "Bearer sk-ant-env"


async def test_usage_adds_up_and_the_last_call_is_remembered(llm_server):
    llm_server.script([text("a", usage=(5, 1)), text("b", usage=(6, 2))])
    client = make_client(llm_server)

    await client.create(HELLO)
    await collect(client.create_stream(HELLO))

    assert client.actual_usage() == RequestUsage(6, 2)
    assert client.total_usage() == RequestUsage(11, 3)


async def test_a_timeout_is_retried_and_then_reported(llm_server):
    llm_server.script([slow(2.0), text("in time"), slow(2.0), slow(2.0)])
    client = make_client(llm_server, timeout=1.0, max_retries=1)

    assert (await client.create(HELLO)).content == "in time"
    with pytest.raises(ModelClientError, match="timed out") as caught:
        await client.create(HELLO)
    assert caught.value.status_code is None


async def test_an_unreachable_server_is_reported_after_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = AnthropicChatCompletionClient(
        "claude-opus-4-1", base_url=f"http://127.0.0.1:{port}", max_retries=1, retry_backoff=0.001
    )

    with pytest.raises(ModelClientError, match="could not connect"):
        await client.create(HELLO)


async def test_an_error_event_in_the_middle_of_a_stream_is_raised_without_retrying(llm_server):
    start = {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "m",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1},
        },
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "Hal"},
    }
    failure = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded now"}}
    events = [
        ("message_start", start),
        ("content_block_start", block),
        ("content_block_delta", delta),
        ("error", failure),
    ]
    llm_server.script([raw(events=events), text("not used")])
    client = make_client(llm_server)
    pieces: list[str] = []

    with pytest.raises(ModelClientError, match="Overloaded now"):
        async for item in client.create_stream(HELLO):
            pieces.append(item)  # type: ignore[arg-type]

    assert pieces == ["Hal"]
    assert len(llm_server.requests) == 1


def test_an_unreadable_answer_is_classified_as_a_response_error():
    request = httpx2.Request("POST", "http://127.0.0.1/v1/messages")
    response = httpx2.Response(200, request=request)

    failure = classify_anthropic_error(anthropic.APIResponseValidationError(response, body=None))
    other = classify_anthropic_error(anthropic.APIError("odd", request, body={"message": "m"}))

    assert failure is not None
    assert failure.is_response_error
    assert other is not None
    assert (other.message, other.is_retryable) == ("m", False)
    assert classify_anthropic_error(ValueError("ours")) is None


async def test_redacted_thinking_is_left_out_of_the_result(llm_server):
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "Visible"},
        ],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 4, "output_tokens": 2, "cache_read_input_tokens": 10},
    }
    llm_server.script([raw(body)])
    client = make_client(llm_server)

    result = await client.create(HELLO)

    assert (result.content, result.thought) == ("Visible", None)
    assert result.usage == RequestUsage(14, 2)
