"""AssistantAgent: answers, tool calls, reflection, summaries, handoffs, streaming, state."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import pytest

from runtime import (
    AssistantAgent,
    AssistantMessage,
    CancellationToken,
    ComponentError,
    ConfigurationError,
    CreateResult,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    FunctionTool,
    Handoff,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    ModelResponseError,
    RequestUsage,
    Response,
    StateError,
    SystemMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    ToolSchema,
    UserMessage,
    dump_component,
    load_message,
)
from runtime.llm import LLMMessage
from runtime.model_clients.base import ToolChoice
from runtime.testing import ScriptedModelClient


class FakeModel(ScriptedModelClient):
    """A scripted model that also records each request in full."""

    def __init__(
        self,
        replies: Sequence[str | CreateResult],
        *,
        function_calling: bool = True,
        delay: float = 0.0,
    ) -> None:
        super().__init__(
            replies, model="fake-1", delay=delay, model_info={"function_calling": function_calling}
        )
        self.requests: list[dict[str, Any]] = []

    def _record(
        self, messages: Sequence[LLMMessage], tools: Sequence[ToolSchema], choice: str
    ) -> None:
        self.requests.append(
            {"messages": list(messages), "tools": [t["name"] for t in tools], "choice": choice}
        )

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: bool | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self._record(messages, tools, tool_choice)
        return await super().create(
            messages, tools=tools, tool_choice=tool_choice, cancellation_token=cancellation_token
        )

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: bool | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        self._record(messages, tools, tool_choice)
        async for item in super().create_stream(
            messages, tools=tools, tool_choice=tool_choice, cancellation_token=cancellation_token
        ):
            yield item


def calls(*pairs: tuple[str, str], thought: str | None = None) -> CreateResult:
    return CreateResult(
        content=[
            FunctionCall(id=f"call_{i}", name=name, arguments=args)
            for i, (name, args) in enumerate(pairs)
        ],
        finish_reason="function_calls",
        usage=RequestUsage(20, 5),
        thought=thought,
    )


def task(text: str = "What is 2 + 3?") -> list[TextMessage]:
    return [TextMessage(content=text, source="user")]


async def run_turn(
    agent: AssistantAgent, messages: Sequence[TextMessage | HandoffMessage] | None = None
) -> tuple[list[Any], Response]:
    items: list[Any] = []
    async for item in agent.on_messages_stream(messages or task(), CancellationToken()):
        items.append(item)
    response = items.pop()
    assert isinstance(response, Response)
    return items, response


async def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def test_a_text_reply_becomes_a_text_message_with_usage_and_the_model_name() -> None:
    model = FakeModel(["It is 5."])
    agent = AssistantAgent("math", model, system_message="Be brief.")

    items, response = await run_turn(agent)

    assert items == []
    message = response.chat_message
    assert isinstance(message, TextMessage)
    assert message.content == "It is 5."
    assert message.source == "math"
    assert message.models_usage == model.actual_usage() == RequestUsage(4, 3)
    assert message.metadata == {"model": "fake-1"}
    assert model.requests[0]["messages"] == [
        SystemMessage("Be brief."),
        UserMessage("What is 2 + 3?", "user"),
    ]


async def test_the_history_grows_across_turns_and_no_system_message_is_sent_when_none() -> None:
    model = FakeModel(["first", "second"])
    agent = AssistantAgent("a", model, system_message=None)

    await run_turn(agent, task("one"))
    await run_turn(agent, [TextMessage(content="two", source="b")])

    assert model.requests[1]["messages"] == [
        UserMessage("one", "user"),
        AssistantMessage(content="first", source="a"),
        UserMessage("two", "b"),
    ]


async def test_tool_calls_run_and_end_in_a_summary_with_the_results() -> None:
    model = FakeModel([calls(("add", '{"a": 2, "b": 3}'))])
    agent = AssistantAgent("math", model, tools=[add])

    items, response = await run_turn(agent)

    request, execution = items
    assert isinstance(request, ToolCallRequestEvent)
    assert request.models_usage == model.actual_usage()
    assert request.models_usage.completion_tokens == 5
    assert request.metadata == {"model": "fake-1"}
    assert isinstance(execution, ToolCallExecutionEvent)
    assert [(r.content, r.call_id, r.is_error) for r in execution.content] == [
        ("5", "call_0", False)
    ]
    summary = response.chat_message
    assert isinstance(summary, ToolCallSummaryMessage)
    assert summary.content == "5"
    assert summary.models_usage is None
    assert list(summary.tool_calls) == list(request.content)
    assert list(summary.results) == list(execution.content)
    assert list(response.inner_messages) == [request, execution]
    assert model.requests[0]["tools"] == ["add"]


async def test_parallel_tool_calls_run_concurrently_and_keep_the_call_order() -> None:
    started: list[str] = []
    both_started = asyncio.Event()

    async def fetch(key: str, delay: float) -> str:
        started.append(key)
        if len(started) == 2:
            both_started.set()
        await asyncio.wait_for(both_started.wait(), 1)
        await asyncio.sleep(delay)
        return key.upper()

    model = FakeModel(
        [
            calls(
                ("fetch", '{"key": "slow", "delay": 0.05}'),
                ("fetch", '{"key": "fast", "delay": 0}'),
            )
        ]
    )
    agent = AssistantAgent("a", model, tools=[fetch])

    items, response = await run_turn(agent)

    assert [r.content for r in items[1].content] == ["SLOW", "FAST"]
    assert [r.call_id for r in items[1].content] == ["call_0", "call_1"]
    assert response.chat_message.content == "SLOW\nFAST"
    # Each call is timed on its own: the slow one started first and ended last. (No upper
    # bound on the fast one: a loaded machine may stall it past any limit.)
    slow, fast = items[1].durations
    assert slow >= 0.05 and slow > fast


async def test_malformed_json_unknown_tools_and_tool_errors_become_error_results() -> None:
    def explode() -> str:
        raise RuntimeError("disk full")

    model = FakeModel(
        [
            calls(
                ("add", '{"a": 2,'),
                ("nope", "{}"),
                ("explode", "{}"),
                ("add", '{"a": "x", "b": 1}'),
                ("add", "[1, 2]"),
            ),
            "Sorry.",
        ]
    )
    agent = AssistantAgent("a", model, tools=[add, explode], max_tool_iterations=2)

    items, response = await run_turn(agent)

    results = items[1].content
    assert all(r.is_error for r in results)
    assert results[0].content.startswith("Error: the arguments for 'add' are not valid JSON")
    assert results[1].content == "Error: there is no tool named 'nope' (available: add, explode)"
    assert results[2].content == "Error: RuntimeError: disk full"
    assert "argument 'a': expected an integer" in results[3].content
    assert results[4].content == "Error: the arguments for 'add' must be a JSON object"
    # the model saw every error and answered
    assert model.requests[1]["messages"][-1] == FunctionExecutionResultMessage(list(results))
    assert response.chat_message.content == "Sorry."


async def test_a_tool_timeout_is_an_error_result() -> None:
    async def slow() -> str:
        await asyncio.sleep(5)
        return "late"

    model = FakeModel([calls(("slow", "{}"))])
    agent = AssistantAgent("a", model, tools=[FunctionTool(slow, timeout=0.02)])

    items, _ = await run_turn(agent)

    result = items[1].content[0]
    assert result.is_error
    assert result.content == "Error: TimeoutError: tool 'slow' did not finish within 0.02 seconds"


async def test_reflection_asks_the_model_for_words_after_the_tools() -> None:
    model = FakeModel([calls(("add", '{"a": 2, "b": 3}')), "The sum is 5."])
    agent = AssistantAgent("a", model, tools=[add], reflect_on_tool_use=True)

    items, response = await run_turn(agent)

    assert [type(i) for i in items] == [ToolCallRequestEvent, ToolCallExecutionEvent]
    message = response.chat_message
    assert isinstance(message, TextMessage)
    assert message.content == "The sum is 5."
    assert message.metadata == {"model": "fake-1"}
    assert model.requests[1]["choice"] == "none"
    assert (await agent.model_context.get_messages())[-1] == AssistantMessage(
        content="The sum is 5.", source="a"
    )


async def test_a_reflection_answered_with_tool_calls_is_a_model_response_error() -> None:
    model = FakeModel([calls(("add", '{"a": 2, "b": 3}')), calls(("add", '{"a": 1, "b": 1}'))])
    agent = AssistantAgent("a", model, tools=[add], reflect_on_tool_use=True)

    with pytest.raises(ModelResponseError, match="reflection"):
        await run_turn(agent)


async def test_the_summary_format_can_show_names_arguments_and_errors() -> None:
    model = FakeModel([calls(("add", '{"a": 1, "b": 1}'), ("missing", "{}"))])
    agent = AssistantAgent(
        "a",
        model,
        tools=[add],
        tool_call_summary_format="{tool_name}({arguments}) -> {result} [error={is_error}]",
    )

    _, response = await run_turn(agent)

    assert response.chat_message.content.splitlines() == [
        'add({"a": 1, "b": 1}) -> 2 [error=False]',
        "missing({}) -> Error: there is no tool named 'missing' (available: add) [error=True]",
    ]


async def test_a_summary_formatter_function_writes_each_line_instead_of_the_format() -> None:
    model = FakeModel([calls(("add", '{"a": 1, "b": 1}'), ("missing", "{}"))])
    seen: list[tuple[FunctionCall, FunctionExecutionResult]] = []

    def formatter(call: FunctionCall, result: FunctionExecutionResult) -> str:
        seen.append((call, result))
        return f"{call.name}: {'failed' if result.is_error else result.content}"

    agent = AssistantAgent(
        "a",
        model,
        tools=[add],
        tool_call_summary_format="{result} (not used)",
        tool_call_summary_formatter=formatter,
    )

    _, response = await run_turn(agent)

    assert response.chat_message.content == "add: 2\nmissing: failed"
    assert [call.name for call, _ in seen] == ["add", "missing"]
    assert agent.tool_call_summary_formatter is formatter


def test_an_agent_with_a_summary_formatter_is_not_written_to_a_file() -> None:
    agent = AssistantAgent(
        "a", FakeModel([]), tool_call_summary_formatter=lambda call, result: result.content
    )

    with pytest.raises(ComponentError, match="tool_call_summary_format to export it"):
        dump_component(agent)


def test_a_summary_format_with_unknown_fields_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="tool_call_summary_format"):
        AssistantAgent("a", FakeModel([]), tool_call_summary_format="{output}")


async def test_max_tool_iterations_bounds_the_model_calls_and_summarises_the_last_round() -> None:
    model = FakeModel(
        [
            calls(("add", '{"a": 1, "b": 1}')),
            calls(("add", '{"a": 2, "b": 2}')),
            calls(("add", '{"a": 3, "b": 3}')),
        ]
    )
    agent = AssistantAgent("a", model, tools=[add], max_tool_iterations=3)

    items, response = await run_turn(agent)

    assert len(model.requests) == 3
    assert [type(i).__name__ for i in items] == [
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
    ] * 3
    assert response.chat_message.content == "6"
    assert [r.content for r in response.chat_message.results] == ["6"]


async def test_a_text_answer_ends_the_tool_loop_early() -> None:
    model = FakeModel([calls(("add", '{"a": 1, "b": 1}')), "Done: 2."])
    agent = AssistantAgent("a", model, tools=[add], max_tool_iterations=5)

    items, response = await run_turn(agent)

    assert len(model.requests) == 2
    assert isinstance(response.chat_message, TextMessage)
    assert response.chat_message.content == "Done: 2."
    assert len(items) == 2


def test_max_tool_iterations_below_one_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="at least 1"):
        AssistantAgent("a", FakeModel([]), max_tool_iterations=0)


async def test_a_handoff_call_ends_the_turn_with_a_handoff_message_and_its_context() -> None:
    model = FakeModel(
        [calls(("add", '{"a": 2, "b": 2}'), ("transfer_to_writer", "{}"), thought="Need a writer.")]
    )
    agent = AssistantAgent("math", model, tools=[add], handoffs=["writer"])

    items, response = await run_turn(agent)

    thought, request, execution = items
    assert isinstance(thought, ThoughtEvent)
    assert thought.content == "Need a writer."
    message = response.chat_message
    assert isinstance(message, HandoffMessage)
    assert message.target == "writer"
    assert message.content == "Transferred to writer, adopting the role of writer immediately."
    assert list(message.context) == [
        AssistantMessage(content=[request.content[0]], source="math", thought="Need a writer."),
        FunctionExecutionResultMessage([execution.content[0]]),
    ]
    assert model.requests[0]["tools"] == ["add", "transfer_to_writer"]


async def test_a_handoff_without_other_calls_carries_only_the_thought_as_context() -> None:
    model = FakeModel([calls(("back", "{}"), thought="Over to the planner.")])
    handoff = Handoff("planner", name="back", message="Planner, take over.")
    agent = AssistantAgent("a", model, handoffs=[handoff])

    _, response = await run_turn(agent)

    message = response.chat_message
    assert isinstance(message, HandoffMessage)
    assert message.content == "Planner, take over."
    assert list(message.context) == [AssistantMessage(content="Over to the planner.", source="a")]


async def test_a_received_handoff_puts_its_context_before_its_text() -> None:
    model = FakeModel(["On it."])
    agent = AssistantAgent("writer", model, system_message=None)
    context = [AssistantMessage(content="Earlier thought.", source="math")]
    handoff = HandoffMessage(content="Over.", target="writer", source="math", context=context)

    await run_turn(agent, [handoff])

    assert model.requests[0]["messages"] == [
        AssistantMessage(content="Earlier thought.", source="math"),
        UserMessage("Over.", "math"),
    ]


def test_tools_and_handoffs_need_a_model_with_function_calling() -> None:
    with pytest.raises(ConfigurationError, match="function calling"):
        AssistantAgent("a", FakeModel([], function_calling=False), tools=[add])
    with pytest.raises(ConfigurationError, match="function calling"):
        AssistantAgent("a", FakeModel([], function_calling=False), handoffs=["b"])
    AssistantAgent("a", FakeModel([], function_calling=False))


def test_duplicate_tool_or_handoff_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="two tools are named 'add'"):
        AssistantAgent("a", FakeModel([]), tools=[add, FunctionTool(add)])
    with pytest.raises(ConfigurationError, match="two handoffs"):
        AssistantAgent("a", FakeModel([]), handoffs=["b", Handoff("b")])
    with pytest.raises(ConfigurationError, match="same name as a tool"):
        AssistantAgent("a", FakeModel([]), tools=[add], handoffs=[Handoff("b", name="add")])


async def test_streaming_yields_chunks_that_point_at_the_final_message() -> None:
    model = FakeModel(["Five it is."])
    agent = AssistantAgent("a", model, model_client_stream=True)

    items, response = await run_turn(agent)

    assert all(isinstance(i, ModelClientStreamingChunkEvent) for i in items)
    assert "".join(i.content for i in items) == "Five it is."
    assert {i.full_message_id for i in items} == {response.chat_message.id}
    assert response.inner_messages == []


async def test_streaming_a_thought_gives_the_final_message_a_fresh_id() -> None:
    result = CreateResult(content="Yes.", thought="Let me think.", usage=RequestUsage(1, 1))
    model = FakeModel([result])
    agent = AssistantAgent("a", model, model_client_stream=True)

    items, response = await run_turn(agent)

    thought = items[-1]
    assert isinstance(thought, ThoughtEvent)
    assert thought.id == items[0].full_message_id
    assert response.chat_message.id != thought.id
    assert list(response.inner_messages) == [thought]


async def test_streamed_reflection_uses_its_own_message_id() -> None:
    model = FakeModel([calls(("add", '{"a": 2, "b": 3}')), "The sum is 5."])
    agent = AssistantAgent(
        "a", model, tools=[add], reflect_on_tool_use=True, model_client_stream=True
    )

    items, response = await run_turn(agent)

    chunks = [i for i in items if isinstance(i, ModelClientStreamingChunkEvent)]
    assert "".join(c.content for c in chunks) == "The sum is 5."
    assert {c.full_message_id for c in chunks} == {response.chat_message.id}


async def test_a_stream_without_a_final_result_is_a_model_response_error() -> None:
    class Truncated(FakeModel):
        async def create_stream(
            self, messages: Sequence[LLMMessage], **kwargs: Any
        ) -> AsyncGenerator[str | CreateResult, None]:
            yield "partial"

    agent = AssistantAgent("a", Truncated([]), model_client_stream=True)

    with pytest.raises(ModelResponseError, match="without a final result"):
        await run_turn(agent)


async def test_a_thought_without_streaming_is_an_event_before_the_answer() -> None:
    result = CreateResult(content="Yes.", thought="Hmm.", usage=RequestUsage(1, 1))
    agent = AssistantAgent("a", FakeModel([result]))

    items, response = await run_turn(agent)

    assert [i.content for i in items] == ["Hmm."]
    assert (await agent.model_context.get_messages())[-1] == AssistantMessage(
        content="Yes.", source="a", thought="Hmm."
    )
    assert response.chat_message.content == "Yes."


async def test_state_round_trips_through_json_and_reset_forgets() -> None:
    model = FakeModel([calls(("add", '{"a": 2, "b": 3}')), "5", "again"])
    agent = AssistantAgent("a", model, tools=[add], reflect_on_tool_use=True)
    await run_turn(agent)

    state = json.loads(json.dumps(await agent.save_state()))
    assert state["type"] == "AssistantAgentState"
    assert state["version"] == "1.0.0"
    assert len(state["llm_context"]["messages"]) == 4

    copy = AssistantAgent("a", model, tools=[add])
    await copy.load_state(state)
    assert (await copy.model_context.get_messages()) == (await agent.model_context.get_messages())

    await copy.on_reset(CancellationToken())
    assert (await copy.model_context.get_messages()) == []
    await run_turn(copy, task("hi"))
    assert model.requests[-1]["messages"][1:] == [UserMessage("hi", "user")]


async def test_loading_state_of_another_kind_is_a_state_error() -> None:
    agent = AssistantAgent("a", FakeModel([]))

    with pytest.raises(StateError, match="expected AssistantAgentState"):
        await agent.load_state({"type": "TeamState"})
    with pytest.raises(StateError, match="llm_context"):
        await agent.load_state({"type": "AssistantAgentState"})
    with pytest.raises(StateError, match="unreadable"):
        await agent.load_state({"llm_context": {"messages": [{"type": "Bogus"}]}})


async def test_cancelling_during_the_model_call_raises_cancelled_error() -> None:
    agent = AssistantAgent("a", FakeModel(["late"], delay=5))
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.02, token.cancel)

    with pytest.raises(asyncio.CancelledError):
        await agent.on_messages(task(), token)


async def test_run_returns_the_task_the_events_and_the_answer() -> None:
    agent = AssistantAgent("a", FakeModel([calls(("add", '{"a": 2, "b": 3}'))]), tools=[add])

    result = await agent.run(task="Add 2 and 3.")

    assert [m.type for m in result.messages] == [
        "TextMessage",
        "ToolCallRequestEvent",
        "ToolCallExecutionEvent",
        "ToolCallSummaryMessage",
    ]
    for message in result.messages:
        assert load_message(message.dump()) == message


def test_every_constructor_parameter_is_readable_as_a_property() -> None:
    model = FakeModel([])
    handoff = Handoff("b")
    tool = FunctionTool(add)
    agent = AssistantAgent(
        "a",
        model,
        tools=[tool],
        handoffs=[handoff],
        description="Adds.",
        system_message="Sys.",
        model_client_stream=True,
        reflect_on_tool_use=True,
        max_tool_iterations=4,
        tool_call_summary_format="{tool_name}: {result}",
        metadata={"team": "x"},
    )

    assert agent.name == "a"
    assert agent.model_client is model
    assert agent.tools == [tool]
    assert agent.handoffs == [handoff]
    assert agent.description == "Adds."
    assert agent.system_message == "Sys."
    assert agent.model_client_stream is True
    assert agent.reflect_on_tool_use is True
    assert agent.max_tool_iterations == 4
    assert agent.tool_call_summary_format == "{tool_name}: {result}"
    assert agent.metadata == {"team": "x"}


def test_plain_functions_given_as_tools_are_wrapped() -> None:
    def shout(text: str) -> str:
        """Upper-case the text."""
        return text.upper()

    agent = AssistantAgent("a", FakeModel([]), tools=[shout])

    assert [t.name for t in agent.tools] == ["shout"]
    assert agent.tools[0].description == "Upper-case the text."
    assert agent.reflect_on_tool_use is False


def test_bad_constructor_arguments_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="must be a ChatCompletionClient"):
        AssistantAgent("a", "gpt-4o")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="must be an integer"):
        AssistantAgent("a", FakeModel([]), max_tool_iterations=2.5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="expected a FunctionTool or a function"):
        AssistantAgent("a", FakeModel([]), tools=[42])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="Handoff objects or agent names"):
        AssistantAgent("a", FakeModel([]), handoffs=[42])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="Python identifier"):
        AssistantAgent("not a name", FakeModel([]))


async def test_tools_without_a_handoff_call_keep_looping_when_handoffs_are_offered() -> None:
    model = FakeModel([calls(("add", '{"a": 1, "b": 2}')), "Three."])
    agent = AssistantAgent("a", model, tools=[add], handoffs=["b"], max_tool_iterations=2)

    _, response = await run_turn(agent)

    assert response.chat_message.content == "Three."


async def test_only_the_first_of_several_handoffs_is_followed_though_all_are_answered() -> None:
    model = FakeModel([calls(("transfer_to_b", "{}"), ("transfer_to_c", "{}"))])
    agent = AssistantAgent("a", model, handoffs=["b", "c"])

    with pytest.warns(UserWarning, match="several handoffs at once"):
        items, response = await run_turn(agent)

    assert [r.content for r in items[1].content] == [
        "Transferred to b, adopting the role of b immediately.",
        "Transferred to c, adopting the role of c immediately.",
    ]
    assert isinstance(response.chat_message, HandoffMessage)
    assert response.chat_message.target == "b"
    assert list(response.chat_message.context) == []


async def test_a_reflection_thought_is_an_event_before_the_reflected_answer() -> None:
    reflection = CreateResult(content="It is 5.", thought="Summing up.", usage=RequestUsage(1, 1))
    model = FakeModel([calls(("add", '{"a": 2, "b": 3}')), reflection])
    agent = AssistantAgent(
        "a", model, tools=[add], reflect_on_tool_use=True, model_client_stream=True
    )

    items, response = await run_turn(agent)

    thought = items[-1]
    assert isinstance(thought, ThoughtEvent)
    assert thought.content == "Summing up."
    assert response.chat_message.content == "It is 5."
    assert response.chat_message.id != thought.id
    assert list(response.inner_messages)[-1] == thought


async def test_empty_stream_pieces_are_chunk_events_too_as_in_autogen() -> None:
    class Gappy(FakeModel):
        async def create_stream(
            self, messages: Sequence[LLMMessage], **kwargs: Any
        ) -> AsyncGenerator[str | CreateResult, None]:
            for piece in ("", "Hi", ""):
                yield piece
            yield CreateResult(content="Hi")

    items, _ = await run_turn(AssistantAgent("a", Gappy([]), model_client_stream=True))

    assert [i.content for i in items] == ["", "Hi", ""]


async def test_a_stream_piece_that_is_not_text_is_refused() -> None:
    class Odd(FakeModel):
        async def create_stream(
            self, messages: Sequence[LLMMessage], **kwargs: Any
        ) -> AsyncGenerator[Any, None]:
            yield 42
            yield CreateResult(content="Hi")

    with pytest.raises(ModelResponseError, match="yielded a int"):
        await run_turn(AssistantAgent("a", Odd([]), model_client_stream=True))


def test_a_handoff_whose_target_is_named_like_a_tool_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="target 'add' has the same name as a tool"):
        AssistantAgent("a", FakeModel([]), tools=[add], handoffs=["add"])
