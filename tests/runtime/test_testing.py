"""The fakes in runtime.testing: scripted model, recording sink, scripted human."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import (
    CancellationToken,
    ConfigurationError,
    CreateResult,
    FunctionCall,
    InputError,
    ModelClientError,
    RequestUsage,
    SystemMessage,
    TextMessage,
    UserInputRequestedEvent,
    UserMessage,
    UserProxyAgent,
)
from runtime.testing import (
    CALL_HISTORY,
    RecordingSink,
    ScriptedCall,
    ScriptedInput,
    ScriptedModelClient,
)

HELLO = [UserMessage("Hello there", "user")]
TOOL_CALL = CreateResult(
    content=[FunctionCall("call_1", '{"x": 1}', "lookup")],
    finish_reason="function_calls",
    usage=RequestUsage(999, 4),
    thought="Looking it up.",
)


class OnlyTheLastMessage(list):
    """A context that fails the test if a client reads more than its last message."""

    def __iter__(self):
        raise AssertionError("the whole context was scanned")

    def __getitem__(self, index):
        if index != -1:
            raise AssertionError(f"message {index} was read")
        return super().__getitem__(index)


async def test_replies_come_back_in_order_then_a_clear_error():
    client = ScriptedModelClient(["first answer", TOOL_CALL])

    first = await client.create(HELLO)
    second = await client.create(HELLO)

    assert (first.content, first.finish_reason) == ("first answer", "stop")
    assert second.content == TOOL_CALL.content
    assert (second.finish_reason, second.thought) == ("function_calls", "Looking it up.")
    with pytest.raises(ModelClientError, match="ran out of replies after 2"):
        await client.create(HELLO)


async def test_usage_counts_reply_words_and_estimates_the_prompt_from_the_last_message():
    client = ScriptedModelClient(["one two three", TOOL_CALL])

    first = await client.create([SystemMessage("x" * 400), UserMessage("12345678", "user")])
    second = await client.create([UserMessage("abcd", "user")])

    assert first.usage == RequestUsage(3, 3)
    assert second.usage == RequestUsage(2, 4)
    assert client.actual_usage() == RequestUsage(2, 4)
    assert client.total_usage() == RequestUsage(5, 7)


async def test_a_call_reads_only_the_last_message_of_the_context():
    client = ScriptedModelClient(["ok", "ok"])
    context = OnlyTheLastMessage([UserMessage(f"m{i}", "user") for i in range(10_000)])

    result = await client.create(context)
    _ = [item async for item in client.create_stream(context)]

    assert result.content == "ok"
    assert client.calls[-1] == ScriptedCall(messages=10_000, tools=())


async def test_an_empty_context_is_fine():
    client = ScriptedModelClient(["ok"])

    result = await client.create([])

    assert result.usage.prompt_tokens == 0


async def test_calls_record_context_size_and_tool_names_keeping_only_the_last_ones():
    client = ScriptedModelClient(["ok"] * (CALL_HISTORY + 20))

    await client.create(HELLO, tools=[{"name": "lookup"}, {"name": "add"}])
    assert client.calls[0] == ScriptedCall(messages=1, tools=("lookup", "add"))
    for _ in range(CALL_HISTORY + 19):
        await client.create(HELLO)

    assert len(client.calls) == CALL_HISTORY
    assert client.calls[0] == ScriptedCall(messages=1, tools=())


async def test_streaming_yields_the_words_then_the_result():
    client = ScriptedModelClient(["Hello brave  new world", TOOL_CALL])

    text_items = [item async for item in client.create_stream(HELLO)]
    tool_items = [item async for item in client.create_stream(HELLO)]

    pieces, result = text_items[:-1], text_items[-1]
    assert pieces == ["Hello", " brave", " ", " new", " world"]
    assert isinstance(result, CreateResult)
    assert "".join(pieces) == result.content
    assert len(tool_items) == 1
    assert isinstance(tool_items[0], CreateResult)
    assert tool_items[0].content == TOOL_CALL.content


async def test_an_empty_reply_streams_only_the_result():
    client = ScriptedModelClient([""])

    items = [item async for item in client.create_stream(HELLO)]

    assert len(items) == 1
    assert isinstance(items[0], CreateResult)


async def test_reset_rewinds_the_script_and_forgets_usage():
    client = ScriptedModelClient(["a", "b"])
    await client.create(HELLO)

    client.reset()

    assert client.remaining == 2
    assert client.total_usage() == RequestUsage()
    assert list(client.calls) == []
    assert (await client.create(HELLO)).content == "a"
    assert client.remaining == 1


async def test_a_delay_makes_calls_slow_and_the_token_cuts_it_short():
    client = ScriptedModelClient(["slow", "never"], delay=0.1)

    started = time.monotonic()
    assert (await client.create(HELLO)).content == "slow"
    assert time.monotonic() - started >= 0.1

    long_client = ScriptedModelClient(["never"], delay=30.0)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.05, token.cancel)
    with pytest.raises(asyncio.CancelledError):
        await long_client.create(HELLO, cancellation_token=token)
    assert long_client.remaining == 1


async def test_a_cancelled_token_stops_a_call_before_it_uses_a_reply():
    client = ScriptedModelClient(["kept"])
    token = CancellationToken()
    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await client.create(HELLO, cancellation_token=token)

    assert client.remaining == 1


def test_defaults_allow_tools_and_model_info_can_be_changed():
    client = ScriptedModelClient(["x"])
    custom = ScriptedModelClient(["x"], model_info={"vision": True}, model="gpt-4o", delay=0.5)

    assert client.model_info == {
        "vision": False,
        "function_calling": True,
        "json_output": False,
        "family": "unknown",
    }
    assert client.model == "scripted"
    assert custom.model_info["vision"] is True
    assert custom.model_info["function_calling"] is True
    assert (custom.model, custom.delay, custom.replies) == ("gpt-4o", 0.5, ("x",))


def test_bad_scripts_are_configuration_errors():
    with pytest.raises(ConfigurationError, match="str or CreateResult"):
        ScriptedModelClient(["fine", 42])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="delay"):
        ScriptedModelClient(["fine"], delay=-1)


async def test_the_recording_sink_keeps_items_turns_and_types():
    sink = RecordingSink()
    hello = TextMessage(content="hi", source="alice")
    asked = UserInputRequestedEvent(source="bob", request_id="r1")

    await sink.emit(hello)
    await sink.emit(asked)
    await sink.turn_completed("alice")

    assert sink.items == [hello, asked]
    assert sink.turns == ["alice"]
    assert sink.types() == ["TextMessage", "UserInputRequestedEvent"]


async def test_scripted_input_answers_in_order_and_records_prompts():
    answer = ScriptedInput(["yes", "no"])

    assert await answer("Continue?", None) == "yes"
    assert await answer("Really?", CancellationToken()) == "no"
    assert answer.prompts == ["Continue?", "Really?"]
    assert answer.request_ids == [None, None]
    assert answer.remaining == 0
    with pytest.raises(InputError, match="ran out of answers after 2"):
        await answer("Again?", None)


async def test_scripted_input_refuses_a_cancelled_token():
    answer = ScriptedInput(["unused"])
    token = CancellationToken()
    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await answer("Anyone?", token)

    assert answer.remaining == 1


async def test_scripted_input_sees_the_request_id_the_user_proxy_announced():
    answer = ScriptedInput(["Ship it"])
    human = UserProxyAgent("human", input_func=answer)

    result = await human.run(task="Ready to ship?")

    requested = [m for m in result.messages if isinstance(m, UserInputRequestedEvent)]
    assert [event.request_id for event in requested] == answer.request_ids
    assert answer.request_ids[0] is not None
    assert result.messages[-1].to_text() == "Ship it"
