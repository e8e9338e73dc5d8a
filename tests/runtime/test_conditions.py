"""Termination conditions on their own: counting, stop texts, combinations, reset, state."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from runtime import (
    AndTerminationCondition,
    ConfigurationError,
    CostTermination,
    ExternalTermination,
    FunctionalTermination,
    FunctionCall,
    FunctionCallTermination,
    FunctionExecutionResult,
    HandoffMessage,
    HandoffTermination,
    MaxMessageTermination,
    OrTerminationCondition,
    RequestUsage,
    SourceMatchTermination,
    StopMessage,
    StopMessageTermination,
    TeamError,
    TextMentionTermination,
    TextMessage,
    TextMessageTermination,
    ThoughtEvent,
    TimeoutTermination,
    TokenUsageTermination,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
)


def text(content: str, source: str = "agent") -> TextMessage:
    return TextMessage(content=content, source=source)


async def test_max_message_termination_counts_chat_messages_until_the_limit() -> None:
    condition = MaxMessageTermination(3)
    assert await condition([text("a"), ThoughtEvent(content="hm", source="agent")]) is None
    assert await condition([text("b")]) is None
    stop = await condition([text("c")])
    assert stop is not None
    assert stop.content == "Maximum number of messages 3 reached, current message count: 3"
    assert stop.source == "MaxMessageTermination"
    assert condition.terminated


async def test_max_message_termination_can_count_events_too() -> None:
    condition = MaxMessageTermination(2, include_agent_event=True)
    stop = await condition([ThoughtEvent(content="hm", source="a"), text("b")])
    assert stop is not None
    assert condition.max_messages == 2
    assert condition.include_agent_event


async def test_a_fired_condition_refuses_more_deltas_until_reset() -> None:
    condition = MaxMessageTermination(1)
    assert await condition([text("a")]) is not None
    with pytest.raises(TeamError, match="reset"):
        await condition([text("b")])
    await condition.reset()
    assert not condition.terminated
    assert condition.count == 0
    assert await condition([text("c")]) is not None


async def test_text_mention_termination_looks_at_events_and_filters_sources() -> None:
    condition = TextMentionTermination("TERMINATE", sources=["critic"])
    assert await condition([text("TERMINATE", source="writer")]) is None
    result = FunctionExecutionResult(content="TERMINATE now", name="f", call_id="1")
    stop = await condition([ToolCallExecutionEvent(content=[result], source="critic")])
    assert stop is not None
    assert stop.content == "Text 'TERMINATE' mentioned"
    assert condition.text == "TERMINATE"
    assert condition.sources == ("critic",)


async def test_stop_message_termination_fires_on_a_stop_message() -> None:
    condition = StopMessageTermination()
    assert await condition([text("stop")]) is None
    stop = await condition([StopMessage(content="done", source="a")])
    assert stop is not None and stop.content == "Stop message received"


async def test_token_usage_termination_sums_usage_until_any_limit() -> None:
    condition = TokenUsageTermination(max_total_token=30, max_completion_token=100)
    used = TextMessage(content="x", source="a", models_usage=RequestUsage(10, 5))
    assert await condition([used]) is None
    stop = await condition([used])
    assert stop is not None
    assert stop.content == (
        "Token usage limit reached, total token count: 30, prompt token count: 20, "
        "completion token count: 10."
    )
    assert condition.max_total_token == 30
    assert condition.max_prompt_token is None
    assert condition.max_completion_token == 100


async def test_token_usage_termination_fires_on_a_prompt_limit_alone() -> None:
    condition = TokenUsageTermination(max_prompt_token=10)
    used = TextMessage(content="x", source="a", models_usage=RequestUsage(10, 0))
    assert await condition([used]) is not None


def test_token_usage_termination_needs_a_limit() -> None:
    with pytest.raises(ConfigurationError, match="at least one"):
        TokenUsageTermination()


async def test_handoff_termination_fires_on_a_handoff_to_its_target() -> None:
    condition = HandoffTermination("user")
    other = HandoffMessage(content="go", target="billing", source="triage")
    assert await condition([other]) is None
    stop = await condition([HandoffMessage(content="ask", target="user", source="triage")])
    assert stop is not None
    assert stop.content == "Handoff to user from triage detected."
    assert condition.target == "user"


async def test_timeout_termination_measures_from_start_not_from_construction() -> None:
    condition = TimeoutTermination(0.05)
    await asyncio.sleep(0.08)
    condition.start()
    assert await condition([text("a")]) is None
    await asyncio.sleep(0.06)
    stop = await condition([])
    assert stop is not None
    assert stop.content == "Timeout of 0.05 seconds reached"
    assert condition.timeout_seconds == 0.05


async def test_timeout_termination_exposes_a_deadline_while_its_clock_runs() -> None:
    condition = TimeoutTermination(10)
    assert condition.deadline is None
    before = time.monotonic()
    condition.start()
    deadline = condition.deadline
    assert deadline is not None and before + 10 <= deadline <= time.monotonic() + 10
    await condition.reset()
    assert condition.deadline is None


async def test_timeout_termination_keeps_elapsed_time_across_saved_state() -> None:
    condition = TimeoutTermination(0.1)
    condition.start()
    await asyncio.sleep(0.06)
    state = json.loads(json.dumps(condition.save_state()))
    restored = TimeoutTermination(0.1)
    restored.load_state(state)
    restored.start()
    assert await restored([]) is None
    await asyncio.sleep(0.05)
    assert await restored([]) is not None


async def test_external_termination_fires_on_the_next_delta_after_set() -> None:
    condition = ExternalTermination()
    assert await condition([text("a")]) is None
    condition.set()
    stop = await condition([])
    assert stop is not None and stop.content == "External termination requested"
    await condition.reset()
    assert await condition([text("b")]) is None


async def test_source_match_termination_names_the_source() -> None:
    condition = SourceMatchTermination(["reviewer"])
    assert await condition([text("a", source="writer")]) is None
    stop = await condition([text("ok", source="reviewer")])
    assert stop is not None and stop.content == "'reviewer' answered"
    assert condition.sources == ("reviewer",)


async def test_text_message_termination_ignores_other_message_kinds() -> None:
    condition = TextMessageTermination("writer")
    summary = ToolCallSummaryMessage(content="3", source="writer")
    assert await condition([summary, text("hi", source="other")]) is None
    stop = await condition([text("hi", source="writer")])
    assert stop is not None and stop.content == "Text message received from 'writer'"
    assert condition.source == "writer"
    assert await TextMessageTermination()([text("any")]) is not None


async def test_function_call_termination_fires_when_the_tool_ran() -> None:
    condition = FunctionCallTermination("approve")
    request = ToolCallRequestEvent(
        content=[FunctionCall(id="1", arguments="{}", name="approve")], source="a"
    )
    assert await condition([request]) is None
    executed = ToolCallExecutionEvent(
        content=[FunctionExecutionResult(content="ok", name="approve", call_id="1")], source="a"
    )
    stop = await condition([executed])
    assert stop is not None and stop.content == "Function 'approve' was executed."
    assert condition.function_name == "approve"


async def test_functional_termination_accepts_sync_and_async_predicates() -> None:
    def has_done(messages: object) -> bool:
        return any("done" in m.to_text() for m in messages)  # type: ignore[attr-defined]

    async def is_long(messages: object) -> bool:
        return len(messages) > 1  # type: ignore[arg-type]

    sync_condition = FunctionalTermination(has_done)
    assert sync_condition.func is has_done
    assert await sync_condition([text("no")]) is None
    stop = await sync_condition([text("done")])
    assert stop is not None and stop.content == "Functional termination condition met"
    assert await FunctionalTermination(is_long)([text("a"), text("b")]) is not None
    with pytest.raises(TeamError):
        await sync_condition([text("again")])


async def test_cost_termination_prices_usage_by_the_model_in_metadata() -> None:
    condition = CostTermination(0.002, prices={"big": (1.0, 2.0)}, default_price=(0.5, 0.5))
    big = TextMessage(
        content="x", source="a", models_usage=RequestUsage(500, 250), metadata={"model": "big"}
    )
    assert await condition([big]) is None
    assert condition.cost == pytest.approx(0.001)
    unknown = TextMessage(content="y", source="a", models_usage=RequestUsage(1000, 1000))
    stop = await condition([unknown])
    assert stop is not None
    assert stop.content == "Cost limit of 0.002 USD reached, spent 0.002000 USD"
    assert condition.max_cost_usd == 0.002
    assert condition.prices == {"big": (1.0, 2.0)}
    assert condition.default_price == (0.5, 0.5)


async def test_cost_termination_state_survives_json() -> None:
    condition = CostTermination(1.0, prices={"m": (1e6, 0.0)})
    used = TextMessage(
        content="x", source="a", models_usage=RequestUsage(1, 0), metadata={"model": "m"}
    )
    assert await condition([used]) is not None
    await condition.reset()
    await condition([TextMessage(content="x", source="a", models_usage=RequestUsage(0, 0))])
    restored = CostTermination(1.0, prices={"m": (1e6, 0.0)})
    restored.load_state(json.loads(json.dumps({"terminated": False, "cost_usd": 0.5})))
    assert restored.cost == 0.5


async def test_or_fires_when_either_fires_and_every_child_keeps_counting() -> None:
    count = MaxMessageTermination(3)
    mention = TextMentionTermination("BYE")
    condition = count | mention
    assert isinstance(condition, OrTerminationCondition)
    assert condition.conditions == (count, mention)
    stop = await condition([text("a"), text("BYE")])
    assert stop is not None
    assert stop.content == "Text 'BYE' mentioned"
    assert count.count == 2
    await condition.reset()
    assert count.count == 0 and not condition.terminated


async def test_or_joins_the_reasons_of_children_that_fire_together() -> None:
    condition = MaxMessageTermination(1) | TextMentionTermination("BYE")
    stop = await condition([text("BYE")])
    assert stop is not None
    assert stop.content == (
        "Maximum number of messages 1 reached, current message count: 1, Text 'BYE' mentioned"
    )
    assert stop.source == "MaxMessageTermination, TextMentionTermination"
    with pytest.raises(TeamError):
        await condition([text("more")])


async def test_and_fires_once_every_child_fired_even_on_different_deltas() -> None:
    condition = TextMentionTermination("APPROVED") & MaxMessageTermination(3)
    assert isinstance(condition, AndTerminationCondition)
    assert await condition([text("APPROVED")]) is None
    assert await condition([text("b")]) is None
    stop = await condition([text("c")])
    assert stop is not None
    assert stop.content == (
        "Text 'APPROVED' mentioned, Maximum number of messages 3 reached, current message count: 3"
    )
    with pytest.raises(TeamError):
        await condition([text("d")])
    await condition.reset()
    assert await condition([text("APPROVED")]) is None


async def test_combined_state_round_trips_through_json() -> None:
    condition = TextMentionTermination("OK") & (MaxMessageTermination(5) | TimeoutTermination(60))
    await condition([text("OK"), text("x")])
    state = json.loads(json.dumps(condition.save_state()))
    restored = TextMentionTermination("OK") & (MaxMessageTermination(5) | TimeoutTermination(60))
    restored.load_state(state)
    stop = await restored([text("1"), text("2"), text("3")])
    assert stop is not None
    assert stop.content.startswith("Text 'OK' mentioned, Maximum number of messages 5 reached")


async def test_combined_deadlines_follow_the_first_or_the_last_clock() -> None:
    short, long = TimeoutTermination(1), TimeoutTermination(5)
    either = short | long
    either.start()
    assert either.deadline == short.deadline
    both = TimeoutTermination(1) & TimeoutTermination(5)
    both.start()
    assert both.deadline == both.conditions[1].deadline
    assert (TimeoutTermination(1) & MaxMessageTermination(3)).deadline is None
    assert (MaxMessageTermination(3) | MaxMessageTermination(4)).deadline is None


@pytest.mark.parametrize(
    "build",
    [
        lambda: MaxMessageTermination(0),
        lambda: TimeoutTermination(0),
        lambda: CostTermination(0),
        lambda: OrTerminationCondition(MaxMessageTermination(1)),
        lambda: AndTerminationCondition(MaxMessageTermination(1)),
    ],
)
def test_conditions_reject_arguments_that_cannot_work(build) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigurationError):
        build()


async def test_token_usage_termination_skips_messages_without_usage_and_keeps_counts_in_state() -> (
    None
):
    condition = TokenUsageTermination(max_total_token=100)
    used = TextMessage(content="x", source="a", models_usage=RequestUsage(30, 10))
    assert await condition([text("no usage"), used]) is None
    state = json.loads(json.dumps(condition.save_state()))
    assert state == {"terminated": False, "prompt_tokens": 30, "completion_tokens": 10}
    restored = TokenUsageTermination(max_total_token=100)
    restored.load_state(state)
    stop = await restored([TextMessage(content="y", source="a", models_usage=RequestUsage(50, 10))])
    assert stop is not None
    assert "total token count: 100" in stop.content


async def test_token_usage_termination_counts_afresh_after_reset() -> None:
    condition = TokenUsageTermination(max_prompt_token=20)
    used = TextMessage(content="x", source="a", models_usage=RequestUsage(15, 0))
    assert await condition([used]) is None
    await condition.reset()
    assert await condition([used]) is None
    assert await condition([used]) is not None


def test_timeout_termination_saved_before_its_run_started_has_used_no_time() -> None:
    condition = TimeoutTermination(5)

    assert condition.save_state() == {"terminated": False, "elapsed_seconds": 0.0}


async def test_cost_termination_ignores_events_without_usage_and_saves_what_it_spent() -> None:
    condition = CostTermination(1.0, prices={"m": (2.0, 0.0)})
    used = TextMessage(
        content="x", source="a", models_usage=RequestUsage(1000, 0), metadata={"model": "m"}
    )
    assert await condition([ThoughtEvent(content="hm", source="a"), used]) is None
    assert condition.save_state() == {"terminated": False, "cost_usd": pytest.approx(0.002)}
