"""OpenAIChatCompletionClient against the fake server, through the real openai SDK."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import httpx2
import openai
import pytest

from runtime import (
    AssistantAgent,
    AssistantMessage,
    CancellationToken,
    ConfigurationError,
    CreateResult,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelClientError,
    ModelResponseError,
    OpenAIChatCompletionClient,
    RequestUsage,
    SystemMessage,
    ToolSchema,
    UserMessage,
)
from runtime.model_clients.openai import (
    classify_openai_error,
    default_model_info,
    split_thought,
)
from tests.fakes.llm_server import FakeLLMServer, call, error, raw, slow, text, tool_calls

ADD_TOOL: ToolSchema = {
    "name": "add",
    "description": "Add two numbers.",
    "parameters": {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
    },
}
HELLO = [UserMessage("Hello", "user")]


def make_client(server: FakeLLMServer, **options: Any) -> OpenAIChatCompletionClient:
    options.setdefault("retry_backoff", 0.001)
    return OpenAIChatCompletionClient("gpt-4o", base_url=server.openai_url, **options)


async def collect(stream: Any) -> tuple[list[str], CreateResult]:
    items = [item async for item in stream]
    assert isinstance(items[-1], CreateResult)
    assert all(isinstance(item, str) for item in items[:-1])
    return items[:-1], items[-1]


async def test_a_text_answer_comes_back_with_usage_and_finish_reason(llm_server):
    llm_server.script([text("Hi there", usage=(12, 3))])
    client = make_client(llm_server)

    result = await client.create(HELLO)

    assert result.content == "Hi there"
    assert result.finish_reason == "stop"
    assert result.usage == RequestUsage(12, 3)
    assert client.actual_usage() == RequestUsage(12, 3)
    await client.close()


async def test_usage_adds_up_over_calls(llm_server):
    llm_server.script([text("one", usage=(10, 1)), text("two", usage=(20, 2))])
    client = make_client(llm_server)

    await client.create(HELLO)
    await client.create(HELLO)

    assert client.actual_usage() == RequestUsage(20, 2)
    assert client.total_usage() == RequestUsage(30, 3)


async def test_messages_are_sent_in_the_chat_completions_shape(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server)
    history = [
        SystemMessage("Be brief."),
        UserMessage("Add 2 and 3", "product owner"),
        AssistantMessage(
            content=[FunctionCall("call_9", '{"a": 2, "b": 3}', "add")],
            source="coder",
            thought="I will add.",
        ),
        FunctionExecutionResultMessage(
            [FunctionExecutionResult(content="5", name="add", call_id="call_9")]
        ),
        AssistantMessage(content="It is 5.", source="coder"),
    ]

    await client.create(history)

    assert llm_server.requests[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Add 2 and 3", "name": "product_owner"},
        {
            "role": "assistant",
            "name": "coder",
            "content": "I will add.",
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "add", "arguments": '{"a": 2, "b": 3}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": "5"},
        {"role": "assistant", "name": "coder", "content": "It is 5."},
    ]


async def test_names_can_be_left_out_for_servers_that_reject_them(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, include_name_in_message=False)

    await client.create([UserMessage("Hi", "alice"), AssistantMessage(content="Yo", source="bob")])

    assert llm_server.requests[0].messages == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Yo"},
    ]


async def test_tools_are_offered_as_function_tools_with_the_tool_choice(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, parallel_tool_calls=False)

    await client.create(HELLO, tools=[ADD_TOOL, {"name": "noop"}], tool_choice="required")

    body = llm_server.requests[0].body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two numbers.",
                "parameters": ADD_TOOL["parameters"],
            },
        },
        {
            "type": "function",
            "function": {"name": "noop", "parameters": {"type": "object", "properties": {}}},
        },
    ]
    assert body["tool_choice"] == "required"
    assert body["parallel_tool_calls"] is False


async def test_parallel_tool_calls_is_not_sent_without_tools(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, parallel_tool_calls=True)

    await client.create(HELLO)

    assert "parallel_tool_calls" not in llm_server.requests[0].body
    assert "tools" not in llm_server.requests[0].body


async def test_parallel_tool_calls_come_back_in_order(llm_server):
    llm_server.script(
        [
            tool_calls(
                call("add", {"a": 1, "b": 2}, id="call_a"),
                call("add", {"a": 3, "b": 4}, id="call_b"),
                text="Adding both.",
            )
        ]
    )
    client = make_client(llm_server)

    result = await client.create(HELLO, tools=[ADD_TOOL])

    assert result.content == [
        FunctionCall("call_a", '{"a": 1, "b": 2}', "add"),
        FunctionCall("call_b", '{"a": 3, "b": 4}', "add"),
    ]
    assert result.finish_reason == "function_calls"
    assert result.thought == "Adding both."


async def test_malformed_tool_call_arguments_are_passed_through_untouched(llm_server):
    llm_server.script([tool_calls(call("add", '{"a": 1, "b": ')), tool_calls(call("add", "{oops"))])
    client = make_client(llm_server)

    result = await client.create(HELLO, tools=[ADD_TOOL])
    _, streamed = await collect(client.create_stream(HELLO, tools=[ADD_TOOL]))

    assert isinstance(result.content, list)
    assert result.content[0].arguments == '{"a": 1, "b": '
    assert isinstance(streamed.content, list)
    assert streamed.content[0].arguments == "{oops"


async def test_streaming_yields_text_pieces_then_one_result_with_usage(llm_server):
    llm_server.script([text("The sky is blue", usage=(30, 4))])
    client = make_client(llm_server)

    pieces, result = await collect(client.create_stream(HELLO))

    assert pieces == ["The", " sky", " is", " blue"]
    assert result.content == "The sky is blue"
    assert result.usage == RequestUsage(30, 4)
    assert result.finish_reason == "stop"
    request = llm_server.requests[0]
    assert request.is_stream
    assert request.body["stream_options"] == {"include_usage": True}


async def test_streamed_parallel_tool_calls_are_assembled_from_deltas(llm_server):
    llm_server.script(
        [
            tool_calls(
                call("add", {"a": 1, "b": 2}, id="call_1"),
                call("lookup", {"query": "weather in Paris"}, id="call_2"),
            )
        ]
    )
    client = make_client(llm_server)

    pieces, result = await collect(client.create_stream(HELLO, tools=[ADD_TOOL]))

    assert pieces == []
    assert result.content == [
        FunctionCall("call_1", '{"a": 1, "b": 2}', "add"),
        FunctionCall("call_2", '{"query": "weather in Paris"}', "lookup"),
    ]
    assert result.finish_reason == "function_calls"


async def test_reasoning_from_compatible_servers_becomes_the_thought(llm_server):
    llm_server.script([text("42", thought="Let me think"), text("42", thought="Deep thought")])
    client = make_client(llm_server)

    result = await client.create(HELLO)
    pieces, streamed = await collect(client.create_stream(HELLO))

    assert (result.content, result.thought) == ("42", "Let me think")
    assert (streamed.content, streamed.thought) == ("42", "Deep thought")
    assert pieces == ["42"]


async def test_a_leading_think_block_is_split_off_as_the_thought(llm_server):
    llm_server.script([text("<think>carry the one</think>\n\nThe answer is 12.")])
    client = make_client(llm_server)

    result = await client.create(HELLO)

    assert result.content == "The answer is 12."
    assert result.thought == "carry the one"


def test_text_without_a_closed_think_block_is_left_alone():
    assert split_thought("<think>unfinished") == ("<think>unfinished", None)
    assert split_thought("plain") == ("plain", None)


async def test_length_and_content_filter_finish_reasons_are_mapped(llm_server):
    llm_server.script([text("cut", finish_reason="length"), text("", finish_reason="odd")])
    client = make_client(llm_server)

    assert (await client.create(HELLO)).finish_reason == "length"
    odd = await client.create(HELLO)
    assert (odd.content, odd.finish_reason) == ("", "unknown")


async def test_constructor_and_per_call_arguments_are_sent(llm_server):
    llm_server.script([text("{}")])
    client = make_client(llm_server, temperature=0.2, max_tokens=50, seed=7)

    await client.create(HELLO, json_output=True, extra_create_args={"seed": 8, "top_p": 0.5})

    body = llm_server.requests[0].body
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50
    assert body["seed"] == 8
    assert body["top_p"] == 0.5
    assert body["response_format"] == {"type": "json_object"}
    assert body["model"] == "gpt-4o"


async def test_vendor_parameters_the_sdk_does_not_name_are_sent_in_the_body(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, top_k=20, options={"num_ctx": 8192})

    await client.create(HELLO)

    body = llm_server.requests[0].body
    assert body["top_k"] == 20
    assert body["options"] == {"num_ctx": 8192}


async def test_reasoning_models_get_max_completion_tokens(llm_server):
    llm_server.script([text("ok")])
    client = OpenAIChatCompletionClient(
        "o3-mini", base_url=llm_server.openai_url, max_tokens=100, retry_backoff=0.001
    )

    await client.create(HELLO)

    assert llm_server.requests[0].body["max_completion_tokens"] == 100
    assert "max_tokens" not in llm_server.requests[0].body


async def test_headers_and_key_reach_the_server(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server, api_key="sk-test", default_headers={"X-Team": "blue"})

    await client.create(HELLO)

    headers = llm_server.requests[0].headers
    assert headers["authorization"] == "Bearer sk-test"
    assert headers["x-team"] == "blue"


async def test_a_rate_limit_is_retried_after_the_wait_the_server_asks_for(llm_server):
    llm_server.script([error(429, "Slow down", retry_after="0.3"), text("finally")])
    client = make_client(llm_server)

    started = time.monotonic()
    result = await client.create(HELLO)

    assert result.content == "finally"
    assert time.monotonic() - started >= 0.3
    assert len(llm_server.requests) == 2


async def test_a_stream_is_retried_when_opening_it_fails(llm_server):
    llm_server.script([error(503, "Busy"), text("streamed at last")])
    client = make_client(llm_server)

    pieces, result = await collect(client.create_stream(HELLO))

    assert "".join(pieces) == result.content == "streamed at last"
    assert len(llm_server.requests) == 2


async def test_server_errors_exhausting_retries_raise_with_the_providers_message(llm_server):
    llm_server.script([error(500, "The engine exploded")] * 3)
    client = make_client(llm_server, max_retries=2)

    with pytest.raises(ModelClientError) as caught:
        await client.create(HELLO)

    assert caught.value.status_code == 500
    assert caught.value.provider == "openai"
    assert "The engine exploded" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert len(llm_server.requests) == 3


async def test_a_bad_request_is_not_retried(llm_server):
    llm_server.script([error(400, "Unknown parameter: 'foo'"), text("never")])
    client = make_client(llm_server)

    with pytest.raises(ModelClientError, match="Unknown parameter") as caught:
        await client.create(HELLO)

    assert caught.value.status_code == 400
    assert len(llm_server.requests) == 1


async def test_a_stream_that_fails_to_open_raises_after_retries(llm_server):
    llm_server.script([error(502, "Bad gateway")] * 2)
    client = make_client(llm_server, max_retries=1)

    with pytest.raises(ModelClientError, match="Bad gateway"):
        await collect(client.create_stream(HELLO))


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
    client = OpenAIChatCompletionClient(
        "gpt-4o", base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, retry_backoff=0.001
    )

    with pytest.raises(ModelClientError, match="could not connect"):
        await client.create(HELLO)


async def wait_for_disconnect(server: FakeLLMServer) -> None:
    for _ in range(200):
        if server.requests and server.requests[-1].disconnected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never saw the client hang up")


async def test_cancelling_the_token_aborts_a_slow_request_promptly(llm_server):
    llm_server.script([slow(10.0)])
    client = make_client(llm_server)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.1, token.cancel)

    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await client.create(HELLO, cancellation_token=token)

    assert time.monotonic() - started < 2.0
    await wait_for_disconnect(llm_server)


async def test_cancelling_the_token_stops_a_stream_midway(llm_server):
    llm_server.script([text("one two three four five six seven eight", chunk_delay=0.3)])
    client = make_client(llm_server)
    token = CancellationToken()
    pieces: list[str] = []

    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        async for item in client.create_stream(HELLO, cancellation_token=token):
            assert isinstance(item, str)
            pieces.append(item)
            token.cancel()

    assert pieces == ["one"]
    assert time.monotonic() - started < 1.5  # the whole stream would take 2.7 s


async def test_a_cancelled_token_stops_the_backoff_wait(llm_server):
    llm_server.script([error(429, "Wait an hour", retry_after="3600")])
    client = make_client(llm_server)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.2, token.cancel)

    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await client.create(HELLO, cancellation_token=token)

    assert time.monotonic() - started < 2.0


async def test_an_already_cancelled_token_sends_nothing(llm_server):
    client = make_client(llm_server)
    token = CancellationToken()
    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await client.create(HELLO, cancellation_token=token)

    assert llm_server.requests == []


def test_model_info_is_guessed_from_the_name_and_can_be_overridden():
    assert default_model_info("gpt-4o-mini")["vision"] is True
    assert default_model_info("gpt-4o-mini")["family"] == "gpt-4o"
    assert default_model_info("openai/gpt-4.1")["family"] == "gpt-41"
    local = default_model_info("llama3.2:3b")
    assert local["family"] == "unknown"
    assert local["function_calling"] is True
    assert local["vision"] is False

    client = OpenAIChatCompletionClient(
        "llama3.2", base_url="http://127.0.0.1:9/v1", model_info={"function_calling": False}
    )
    assert client.model_info["function_calling"] is False
    assert client.model_info["family"] == "unknown"


def test_the_constructor_arguments_are_readable():
    client = OpenAIChatCompletionClient(
        "gpt-4o",
        api_key="sk-x",
        base_url="http://127.0.0.1:9/v1",
        temperature=0.1,
        max_tokens=10,
        max_retries=2,
        timeout=5.0,
        retry_backoff=0.25,
        organization="org-1",
        default_headers={"X-A": "b"},
        top_p=0.9,
    )
    assert (client.model, client.base_url, client.temperature) == ("gpt-4o", client.base_url, 0.1)
    assert (client.max_tokens, client.max_retries, client.timeout) == (10, 2, 5.0)
    assert (client.retry_backoff, client.organization) == (0.25, "org-1")
    assert client.default_headers == {"X-A": "b"}
    assert client.create_args == {"top_p": 0.9}
    assert client.include_name_in_message is True


def test_a_missing_api_key_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        OpenAIChatCompletionClient("gpt-4o")
    with pytest.raises(ConfigurationError, match="model name"):
        OpenAIChatCompletionClient("", api_key="sk-x")


async def test_the_api_key_is_read_from_the_environment(monkeypatch, llm_server):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    llm_server.script([text("ok")])
    client = OpenAIChatCompletionClient("gpt-4o", base_url=llm_server.openai_url)

    await client.create(HELLO)

    assert llm_server.requests[0].headers["authorization"] == "Bearer sk-from-env"


def completion(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion",
        "created": 0,
        "model": "raw",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        **extra,
    }


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "raw",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


async def test_tool_calls_without_ids_get_ids_and_missing_usage_counts_as_zero(llm_server):
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"type": "function", "function": {"name": "add", "arguments": "{}"}}],
    }
    llm_server.script([raw(completion(message))])
    client = make_client(llm_server)

    result = await client.create(HELLO, tools=[ADD_TOOL])

    assert isinstance(result.content, list)
    assert result.content[0].id.startswith("call_")
    assert (result.content[0].name, result.content[0].arguments) == ("add", "{}")
    assert result.usage == RequestUsage()


async def test_an_answer_without_choices_is_a_model_response_error(llm_server):
    body = completion({"role": "assistant", "content": "x"})
    body["choices"] = []
    llm_server.script([raw(body)])
    client = make_client(llm_server)

    with pytest.raises(ModelResponseError, match="no choices"):
        await client.create(HELLO)


async def test_a_tool_call_that_is_not_a_function_call_is_a_model_response_error(llm_server):
    custom = {"type": "custom", "id": "c1", "custom": {"name": "grep", "input": "x"}}
    llm_server.script([raw(completion({"role": "assistant", "tool_calls": [custom]}))])
    client = make_client(llm_server)

    with pytest.raises(ModelResponseError, match="not a function call"):
        await client.create(HELLO)


async def test_stream_deltas_may_split_names_and_omit_ids(llm_server):
    events = [
        chunk({"tool_calls": [{"index": 0, "function": {"name": "ad", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"name": "d"}}]}),
        chunk({"tool_calls": [{"index": 0}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a": 1}'}}]}),
        chunk({}, "stop"),
        "[DONE]",
    ]
    llm_server.script([raw(events=events)])
    client = make_client(llm_server)

    _, result = await collect(client.create_stream(HELLO, tools=[ADD_TOOL]))

    assert isinstance(result.content, list)
    assert (result.content[0].name, result.content[0].arguments) == ("add", '{"a": 1}')
    assert result.finish_reason == "function_calls"
    assert result.usage == RequestUsage()


async def test_an_error_in_the_middle_of_a_stream_is_raised_without_retrying(llm_server):
    events = [chunk({"content": "Half"}), {"error": {"message": "The stream broke"}}]
    llm_server.script([raw(events=events), text("not used")])
    client = make_client(llm_server)
    pieces: list[str] = []

    with pytest.raises(ModelClientError, match="The stream broke"):
        async for item in client.create_stream(HELLO):
            pieces.append(item)  # type: ignore[arg-type]

    assert pieces == ["Half"]
    assert len(llm_server.requests) == 1


async def test_strict_tools_keep_their_strict_flag(llm_server):
    llm_server.script([text("ok")])
    client = make_client(llm_server)

    await client.create(HELLO, tools=[{**ADD_TOOL, "strict": True}])

    assert llm_server.requests[0].body["tools"][0]["function"]["strict"] is True


def test_an_unreadable_answer_is_classified_as_a_response_error():
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(200, request=request)

    failure = classify_openai_error(openai.APIResponseValidationError(response, body=None))

    assert failure is not None
    assert failure.is_response_error
    assert not failure.is_retryable
    assert classify_openai_error(ValueError("ours")) is None


def test_the_fake_server_also_serves_sync_callers(llm_server):
    llm_server.script([text("first")])
    llm_server.add(text("second"))
    llm_server.default_reply = text("again")
    sdk = openai.OpenAI(api_key="k", base_url=llm_server.openai_url, max_retries=0)

    answers = [
        sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
        .choices[0]
        .message.content
        for _ in range(3)
    ]

    assert answers == ["first", "second", "again"]
    assert llm_server.remaining == 0
    assert len(llm_server.wait_for_requests(3, timeout=1.0)) == 3
    with pytest.raises(TimeoutError):
        llm_server.wait_for_requests(4, timeout=0.05)


async def test_an_assistant_agent_runs_parallel_tools_through_the_real_sdk(llm_server):
    llm_server.script(
        [
            tool_calls(
                call("add", {"a": 1, "b": 2}, id="call_x"),
                call("add", '{"a": 3', id="call_y"),
            ),
            text("1 + 2 is 3; the second call was malformed."),
        ]
    )

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    agent = AssistantAgent(
        "calculator",
        make_client(llm_server),
        tools=[add],
        model_client_stream=True,
        reflect_on_tool_use=True,
    )

    result = await agent.run(task="Add things")

    assert result.messages[-1].to_text() == "1 + 2 is 3; the second call was malformed."
    tool_messages = llm_server.requests[1].messages[-2:]
    assert tool_messages[0] == {"role": "tool", "tool_call_id": "call_x", "content": "3"}
    assert tool_messages[1]["tool_call_id"] == "call_y"
    assert tool_messages[1]["content"].startswith("Error")
    assert llm_server.requests[0].body["tools"][0]["function"]["name"] == "add"
