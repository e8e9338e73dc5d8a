"""The loop every team shares, seen through a team that only chooses who speaks, and the
timing edges of cancellation and deadlines."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Sequence

import pytest

from runtime import (
    BaseChatAgent,
    BaseChatMessage,
    BaseGroupChat,
    BaseMessage,
    CancellationToken,
    ConfigurationError,
    MaxMessageTermination,
    Response,
    RoundRobinGroupChat,
    TaskResult,
    TeamError,
    TeamStatus,
    TerminationCondition,
    TextMessage,
    ThoughtEvent,
    TimeoutTermination,
)
from runtime.teams.base import Seat
from runtime.teams.run_control import RunControl
from tests.runtime.scripted_agents import ScriptedAgent, Sleep


class EveryoneAtOnce(BaseGroupChat):
    """The smallest custom team: every participant speaks in every turn, in parallel."""

    async def _next_speakers(self, control: RunControl) -> list[Seat] | str:
        return list(self._seats)


def contents(result: TaskResult) -> list[str]:
    return [str(m.content) for m in result.messages]


def parallel_team() -> tuple[EveryoneAtOnce, ScriptedAgent]:
    thinker = ScriptedAgent("a", thought=True)
    inner = RoundRobinGroupChat([ScriptedAgent("c")], name="inner", max_turns=1)
    return EveryoneAtOnce([thinker, ScriptedAgent("b"), inner], max_turns=2), thinker


async def test_a_team_that_only_chooses_speakers_runs_them_in_parallel_turns() -> None:
    team, thinker = parallel_team()

    result = await team.run(task="go")

    said = contents(result)
    assert said[0] == "go"
    assert sorted(said[1:]) == ["a 1", "a 2", "a thinks", "a thinks", "b 1", "b 2", "c 1", "c 2"]
    assert any(isinstance(m, ThoughtEvent) for m in result.messages)
    assert result.stop_reason == "Maximum number of turns 2 reached."
    # In its second turn an agent hears the others' first answers but never its own.
    assert thinker.heard[0] == ["go"]
    assert sorted(thinker.heard[1]) == ["b 1", "c 1"]


async def test_a_custom_team_saves_loads_and_resets_with_nested_teams() -> None:
    team, _ = parallel_team()
    await team.run(task="go")
    state = json.loads(json.dumps(await team.save_state()))
    restored, _ = parallel_team()

    await restored.load_state(state)

    assert restored.thread == team.thread
    await restored.reset()
    assert restored.thread == ()
    inner = restored.participants[2]
    assert isinstance(inner, RoundRobinGroupChat) and inner.thread == ()


async def test_a_closed_team_cannot_run_again() -> None:
    team = RoundRobinGroupChat([ScriptedAgent("a")], max_turns=1)
    await team.close()

    assert team.status is TeamStatus.CLOSED
    with pytest.raises(TeamError, match="is closed"):
        await team.run(task="go")


async def test_a_task_list_holding_an_event_is_refused_before_the_run() -> None:
    team = RoundRobinGroupChat([ScriptedAgent("a")], max_turns=1)
    task = [TextMessage(content="go", source="user"), ThoughtEvent(content="hm", source="user")]

    with pytest.raises(ConfigurationError, match="must be chat messages, got ThoughtEvent"):
        await team.run(task=task)  # type: ignore[arg-type]
    assert team.status is TeamStatus.IDLE


async def test_a_timeout_that_passes_while_the_caller_holds_the_stream_ends_the_run() -> None:
    team = RoundRobinGroupChat(
        [ScriptedAgent("a"), ScriptedAgent("b")], termination_condition=TimeoutTermination(0.05)
    )
    items: list[BaseMessage | TaskResult] = []

    async for item in team.run_stream(task="go"):
        items.append(item)
        if len(items) == 2:
            await asyncio.sleep(0.1)  # the caller is slow; no agent turn is running

    result = items[-1]
    assert isinstance(result, TaskResult)
    assert result.stop_reason == "Timeout of 0.05 seconds reached"
    assert contents(result) == ["go", "a 1"]


class ClockWithoutStop(TerminationCondition):
    """Announces a deadline but never stops the run (a badly written custom condition)."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self._seconds = seconds
        self._started_at: float | None = None

    @property
    def deadline(self) -> float | None:
        return None if self._started_at is None else self._started_at + self._seconds

    def start(self) -> None:
        self._started_at = time.monotonic()

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        return None


async def test_a_deadline_that_does_not_stop_the_run_is_dropped_and_the_turn_repeated() -> None:
    slow = ScriptedAgent("a", [Sleep(0.2, "slow answer")])
    team = RoundRobinGroupChat([slow], termination_condition=ClockWithoutStop(0.02), max_turns=1)

    started = time.monotonic()
    result = await team.run(task="go")

    assert time.monotonic() - started < 1
    assert contents(result) == ["go", "a 2"]  # the interrupted turn was taken again


class CancelsAsItAnswers(BaseChatAgent):
    """Cancels the run's token and answers without ever awaiting."""

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        cancellation_token.cancel()
        yield Response(chat_message=TextMessage(content="bye", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        return None


async def test_a_cancellation_that_lands_as_a_turn_ends_still_cancels_the_run() -> None:
    team = RoundRobinGroupChat([CancelsAsItAnswers("quitter", "Quits.")], max_turns=3)

    with pytest.raises(asyncio.CancelledError):
        await team.run(task="go", cancellation_token=CancellationToken())

    current = asyncio.current_task()
    assert current is not None and current.cancelling() == 0
    assert team.status is TeamStatus.IDLE


async def test_a_state_saved_without_a_condition_loads_into_a_team_with_one() -> None:
    plain = RoundRobinGroupChat([ScriptedAgent("a")], max_turns=1)
    await plain.run(task="go")
    condition = MaxMessageTermination(3)
    team = RoundRobinGroupChat([ScriptedAgent("a")], termination_condition=condition)

    await team.load_state(json.loads(json.dumps(await plain.save_state())))
    result = await team.run(task="again")

    assert condition.count == 0
    assert contents(result) == ["again", "a 2", "a 3"]
