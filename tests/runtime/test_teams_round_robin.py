"""RoundRobinGroupChat, and through it the loop every team shares."""

from __future__ import annotations

import asyncio
import time

import pytest

from runtime import (
    BaseGroupChat,
    BaseMessage,
    CancellationToken,
    ConfigurationError,
    ExternalTermination,
    MaxMessageTermination,
    RoundRobinGroupChat,
    SelectSpeakerEvent,
    TaskResult,
    TeamError,
    TeamStatus,
    TextMentionTermination,
    TextMessage,
    ThoughtEvent,
    TimeoutTermination,
)
from runtime.testing import RecordingSink
from tests.runtime.scripted_agents import BlockingAgent, ScriptedAgent, SilentAgent, Sleep


def contents(result: TaskResult) -> list[str]:
    return [str(m.content) for m in result.messages]


def trio(**kwargs: object) -> list[ScriptedAgent]:
    return [ScriptedAgent(name, **kwargs) for name in ("a", "b", "c")]  # type: ignore[arg-type]


async def test_participants_speak_in_order_until_the_condition_fires() -> None:
    team = RoundRobinGroupChat(trio(), termination_condition=MaxMessageTermination(5))
    result = await team.run(task="hello")
    assert contents(result) == ["hello", "a 1", "b 1", "c 1", "a 2"]
    assert result.messages[0].source == "user"
    assert result.stop_reason == "Maximum number of messages 5 reached, current message count: 5"


async def test_max_turns_stops_the_run_with_its_own_reason() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=2)
    result = await team.run(task="go")
    assert contents(result) == ["go", "a 1", "b 1"]
    assert result.stop_reason == "Maximum number of turns 2 reached."


async def test_a_new_run_continues_the_conversation_with_fresh_limits() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(3))
    await team.run(task="first")
    result = await team.run(task="second")
    assert contents(result) == ["second", "c 1", "a 2"]
    assert agents[2].heard == [["first", "a 1", "b 1", "second"]]
    assert agents[0].heard == [["first"], ["b 1", "second", "c 1"]]
    result = await team.run()
    assert contents(result) == ["b 2", "c 2", "a 3"]


async def test_a_fresh_team_without_a_task_starts_with_the_first_speaker() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, max_turns=1)
    result = await team.run()
    assert contents(result) == ["a 1"]
    assert agents[0].heard == [[]]


async def test_a_task_that_meets_the_condition_stops_before_anyone_speaks() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, termination_condition=TextMentionTermination("STOP"))
    result = await team.run(task="STOP right there")
    assert contents(result) == ["STOP right there"]
    assert result.stop_reason == "Text 'STOP' mentioned"
    assert agents[0].turns == 0


async def test_a_condition_that_already_fired_stops_the_run_at_once() -> None:
    condition = MaxMessageTermination(1)
    await condition([TextMessage(content="x", source="y")])
    team = RoundRobinGroupChat(trio(), termination_condition=condition)
    result = await team.run(task="hi")
    assert result.messages == []
    assert result.stop_reason == "The group chat has already terminated."
    assert not condition.terminated
    assert (await team.run(task="again")).stop_reason is not None


async def test_task_messages_can_be_left_out_of_the_result() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=1)
    result = await team.run(task="quiet", output_task_messages=False)
    assert contents(result) == ["a 1"]


async def test_a_task_can_be_several_chat_messages() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, max_turns=1)
    task = [TextMessage(content="one", source="user"), TextMessage(content="two", source="boss")]
    await team.run(task=task)
    assert agents[0].heard == [["one", "two"]]


async def test_bad_tasks_are_refused_and_the_team_stays_idle() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=1)
    with pytest.raises(ConfigurationError):
        await team.run(task=[])
    assert team.status is TeamStatus.IDLE


async def test_events_are_streamed_and_kept_but_only_chat_messages_join_the_thread() -> None:
    agents = trio(thought=True)
    team = RoundRobinGroupChat(agents, max_turns=2)
    items = [item async for item in team.run_stream(task="think")]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert [type(item).__name__ for item in items[:-1]] == [
        "TextMessage",
        "ThoughtEvent",
        "TextMessage",
        "ThoughtEvent",
        "TextMessage",
    ]
    assert list(result.messages) == items[:-1]
    assert [m.content for m in team.thread] == ["think", "a 1", "b 1"]
    assert agents[1].heard == [["think", "a 1"]]


async def test_team_events_announce_each_selected_speaker() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=2, emit_team_events=True)
    result = await team.run(task="hi")
    events = [m for m in result.messages if isinstance(m, SelectSpeakerEvent)]
    assert [list(e.content) for e in events] == [["a"], ["b"]]
    assert events[0].source == "RoundRobinGroupChatManager"  # as AutoGen names its manager


async def test_a_second_run_while_running_is_a_team_error() -> None:
    blocker = BlockingAgent("slow")
    team = RoundRobinGroupChat([blocker], max_turns=1)
    token = CancellationToken()
    first = asyncio.ensure_future(team.run(task="x", cancellation_token=token))
    await blocker.started.wait()
    assert team.status is TeamStatus.RUNNING
    with pytest.raises(TeamError, match="already running"):
        await team.run(task="y")
    with pytest.raises(TeamError):
        await team.reset()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert team.status is TeamStatus.IDLE


async def test_an_agent_error_keeps_its_type_and_the_next_run_continues_cleanly() -> None:
    failing = ScriptedAgent("b", [KeyError("lost")])
    agents = [ScriptedAgent("a"), failing, ScriptedAgent("c")]
    condition = MaxMessageTermination(4)
    team = RoundRobinGroupChat(agents, termination_condition=condition)
    with pytest.raises(KeyError, match="lost"):
        await team.run(task="start")
    assert team.status is TeamStatus.IDLE
    assert condition.count == 0
    result = await team.run()
    assert contents(result) == ["b 2", "c 1", "a 2", "b 3"]


async def test_the_team_is_usable_after_reset_following_an_error() -> None:
    agents = [ScriptedAgent("a", [ValueError("bad")]), ScriptedAgent("b")]
    team = RoundRobinGroupChat(agents, max_turns=2)
    with pytest.raises(ValueError, match="bad"):
        await team.run(task="one")
    await team.reset()
    agents[0].replies = []
    assert agents[0].resets == 1
    assert team.thread == ()
    result = await team.run(task="two")
    assert contents(result) == ["two", "a 1", "b 1"]


async def test_a_participant_without_a_response_is_a_team_error() -> None:
    team = RoundRobinGroupChat([SilentAgent("mute")], max_turns=1)
    with pytest.raises(TeamError, match="without a response"):
        await team.run(task="speak")


async def test_cancelling_interrupts_a_turn_and_the_speaker_goes_again_next_run() -> None:
    slow = ScriptedAgent("b", [Sleep(10)])
    agents = [ScriptedAgent("a"), slow, ScriptedAgent("c")]
    condition = MaxMessageTermination(10)
    team = RoundRobinGroupChat(agents, termination_condition=condition)
    token = CancellationToken()
    seen: list[BaseMessage | TaskResult] = []

    async def consume() -> None:
        async for item in team.run_stream(task="go", cancellation_token=token):
            seen.append(item)

    runner = asyncio.ensure_future(consume())
    await slow.turn_started.wait()
    token.cancel()
    started = time.monotonic()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert time.monotonic() - started < 1
    assert team.status is TeamStatus.IDLE
    assert condition.count == 0
    assert [m.content for m in team.thread] == ["go", "a 1"]
    result = await team.run(task=None, cancellation_token=None)
    assert contents(result)[:2] == ["b 2", "c 1"]


async def test_a_token_cancelled_before_the_run_stops_it_at_the_first_turn() -> None:
    token = CancellationToken()
    token.cancel()
    agents = trio()
    team = RoundRobinGroupChat(agents, max_turns=3)
    with pytest.raises(asyncio.CancelledError):
        await team.run(task="never", cancellation_token=token)
    assert agents[0].turns == 0
    assert team.status is TeamStatus.IDLE


async def test_cancelling_does_not_leave_the_calling_task_cancelled() -> None:
    blocker = BlockingAgent("slow")
    team = RoundRobinGroupChat([blocker], max_turns=1)
    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.02, token.cancel)
    with pytest.raises(asyncio.CancelledError):
        await team.run(task="x", cancellation_token=token)
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    assert blocker.was_cancelled
    await asyncio.sleep(0)  # the test task itself is still usable


async def break_after(team: BaseGroupChat, source: str) -> None:
    stream = team.run_stream(task="go")
    async for item in stream:
        if item.source == source:
            break
    await stream.aclose()


async def test_breaking_out_of_the_stream_stops_the_team() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents)
    await break_after(team, "b")
    assert team.status is TeamStatus.IDLE
    await asyncio.sleep(0.01)
    assert [agent.turns for agent in agents] == [1, 1, 0]


async def test_after_breaking_out_the_next_run_continues_with_the_next_speaker() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=2)
    await break_after(team, "b")
    result = await team.run()
    assert contents(result) == ["c 1", "a 2"]


async def test_a_timeout_ends_a_run_stuck_in_a_long_turn() -> None:
    slow = ScriptedAgent("b", [Sleep(10)])
    team = RoundRobinGroupChat(
        [ScriptedAgent("a"), slow], termination_condition=TimeoutTermination(0.1)
    )
    started = time.monotonic()
    result = await team.run(task="go")
    assert 0.09 <= time.monotonic() - started < 2
    assert result.stop_reason == "Timeout of 0.1 seconds reached"
    assert contents(result) == ["go", "a 1"]
    again = await team.run(task=None)
    assert again.stop_reason == "Timeout of 0.1 seconds reached"
    assert contents(again)[0] == "b 2"


async def test_the_timeout_clock_starts_when_the_run_starts() -> None:
    condition = TimeoutTermination(0.05) | MaxMessageTermination(3)
    team = RoundRobinGroupChat(trio(), termination_condition=condition)
    await asyncio.sleep(0.08)
    result = await team.run(task="go")
    assert result.stop_reason == "Maximum number of messages 3 reached, current message count: 3"


async def test_the_sink_sees_every_item_and_each_completed_turn_in_the_saved_state() -> None:
    team = RoundRobinGroupChat(trio(thought=True), max_turns=3)
    thread_lengths: list[int] = []

    class CheckpointingSink(RecordingSink):
        async def turn_completed(self, speaker: str) -> None:
            await super().turn_completed(speaker)
            state = await team.save_state()
            thread_lengths.append(len(state["thread"]))

    sink = CheckpointingSink()
    result = await team.run(task="go", sink=sink)
    assert sink.items == list(result.messages)
    assert sink.turns == ["a", "b", "c"]
    assert thread_lengths == [2, 3, 4]


async def test_an_external_stop_takes_effect_at_the_next_message() -> None:
    stop = ExternalTermination()
    team = RoundRobinGroupChat(trio(), termination_condition=stop)

    class StoppingSink(RecordingSink):
        async def turn_completed(self, speaker: str) -> None:
            await super().turn_completed(speaker)
            if speaker == "b":
                stop.set()

    result = await team.run(task="go", sink=StoppingSink())
    assert contents(result) == ["go", "a 1", "b 1", "c 1"]
    assert result.stop_reason == "External termination requested"


async def test_an_interjection_reaches_thread_agents_stream_and_condition() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, termination_condition=TextMentionTermination("HALT"))

    class InterjectingSink(RecordingSink):
        async def turn_completed(self, speaker: str) -> None:
            await super().turn_completed(speaker)
            if speaker == "a":
                team.interject("please wrap up")
            if speaker == "c":
                team.interject(TextMessage(content="HALT now", source="boss"))

    sink = InterjectingSink()
    result = await team.run(task="go", sink=sink)
    assert contents(result) == ["go", "a 1", "please wrap up", "b 1", "c 1", "HALT now"]
    assert result.stop_reason == "Text 'HALT' mentioned"
    assert agents[1].heard == [["go", "a 1", "please wrap up"]]
    assert "please wrap up" in [str(i.content) for i in sink.items]


async def test_an_interjection_while_idle_arrives_at_the_start_of_the_next_run() -> None:
    agents = trio()
    team = RoundRobinGroupChat(agents, max_turns=1)
    team.interject("before you start")
    result = await team.run(task="go")
    assert contents(result) == ["go", "before you start", "a 1"]
    with pytest.raises(ConfigurationError):
        team.interject(42)  # type: ignore[arg-type]


async def test_a_nested_team_takes_a_turn_with_everything_it_has_not_seen() -> None:
    inner_agents = [ScriptedAgent("x"), ScriptedAgent("y")]
    inner = RoundRobinGroupChat(inner_agents, max_turns=2, name="inner")
    outer_agent = ScriptedAgent("a")
    team = RoundRobinGroupChat([outer_agent, inner], max_turns=3)
    sink = RecordingSink()
    result = await team.run(task="plan", sink=sink)
    assert contents(result) == ["plan", "a 1", "x 1", "y 1", "a 2"]
    assert inner_agents[0].heard == [["plan", "a 1"]]
    assert outer_agent.heard == [["plan"], ["x 1", "y 1"]]
    assert sink.turns == ["a", "inner", "a"]
    assert inner.status is TeamStatus.IDLE


async def test_a_nested_teams_error_surfaces_with_its_type() -> None:
    inner = RoundRobinGroupChat([ScriptedAgent("x", [LookupError("deep")])], name="inner")
    team = RoundRobinGroupChat([ScriptedAgent("a"), inner], max_turns=3)
    with pytest.raises(LookupError, match="deep"):
        await team.run(task="go")
    assert inner.status is TeamStatus.IDLE and team.status is TeamStatus.IDLE


async def test_constructor_arguments_are_checked_and_readable() -> None:
    agents = trio()
    condition = MaxMessageTermination(4)
    team = RoundRobinGroupChat(
        agents,
        termination_condition=condition,
        max_turns=7,
        name="crew",
        description="Three of them.",
        emit_team_events=True,
    )
    assert team.participants == agents
    assert team.termination_condition is condition
    assert team.max_turns == 7
    assert (team.name, team.description, team.emit_team_events) == ("crew", "Three of them.", True)
    assert RoundRobinGroupChat(agents).description == "A team of agents."
    with pytest.raises(ConfigurationError, match="unique"):
        RoundRobinGroupChat([ScriptedAgent("a"), ScriptedAgent("a")])
    with pytest.raises(ConfigurationError, match="at least one"):
        RoundRobinGroupChat([])
    with pytest.raises(ConfigurationError, match="max_turns"):
        RoundRobinGroupChat(agents, max_turns=0)
    with pytest.raises(ConfigurationError, match="agents or teams"):
        RoundRobinGroupChat([object()])  # type: ignore[list-item]


async def test_a_closed_team_refuses_to_run() -> None:
    team = RoundRobinGroupChat(trio(), max_turns=1)
    await team.close()
    assert team.status is TeamStatus.CLOSED
    with pytest.raises(TeamError, match="closed"):
        await team.run(task="hi")
    with pytest.raises(TeamError):
        await team.close()


async def test_thought_events_count_only_when_asked() -> None:
    team = RoundRobinGroupChat(
        trio(thought=True), termination_condition=MaxMessageTermination(3, include_agent_event=True)
    )
    result = await team.run(task="go")
    assert [type(m) for m in result.messages] == [TextMessage, ThoughtEvent, TextMessage]


async def test_cancelling_reaches_into_a_nested_team_and_leaves_both_usable() -> None:
    blocker = BlockingAgent("deep")
    inner = RoundRobinGroupChat([blocker], max_turns=1, name="inner")
    team = RoundRobinGroupChat([ScriptedAgent("a"), inner], max_turns=2)
    token = CancellationToken()
    runner = asyncio.ensure_future(team.run(task="go", cancellation_token=token))
    await blocker.started.wait()
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    assert blocker.was_cancelled
    assert inner.status is TeamStatus.IDLE and team.status is TeamStatus.IDLE
    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
