"""Team pause() and resume(): participants hear about it and no turn starts meanwhile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence

import pytest

from runtime import (
    BaseChatMessage,
    BaseMessage,
    CancellationToken,
    MaxMessageTermination,
    Response,
    RoundRobinGroupChat,
    TeamError,
    TeamStatus,
    TextMessage,
)
from tests.runtime.scripted_agents import ScriptedAgent


class Listener(ScriptedAgent):
    """A scripted agent that records pause and resume calls."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.calls: list[str] = []

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        self.calls.append("pause")

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        self.calls.append("resume")


class Gate(ScriptedAgent):
    """Says its first reply only after ``opened`` is set, announcing it waits."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.waiting = asyncio.Event()
        self.opened = asyncio.Event()

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        self.waiting.set()
        await self.opened.wait()
        yield Response(chat_message=TextMessage(content="through", source=self.name))


async def test_a_paused_team_tells_its_agents_and_starts_no_turn_until_resumed() -> None:
    gate, listener = Gate("gate"), Listener("listener")
    team = RoundRobinGroupChat([gate, listener], termination_condition=MaxMessageTermination(3))
    run = asyncio.ensure_future(team.run(task="go"))
    await gate.waiting.wait()

    await team.pause()
    gate.opened.set()
    await asyncio.sleep(0.05)

    assert team.status is TeamStatus.PAUSED
    assert listener.calls == ["pause"]
    assert listener.heard == []  # the gate's turn ended, the listener's did not start
    await team.resume()
    result = await asyncio.wait_for(run, 5)
    assert listener.calls == ["pause", "resume"]
    assert [m.source for m in result.messages] == ["user", "gate", "listener"]
    assert team.status is TeamStatus.IDLE


async def test_a_paused_team_can_still_be_cancelled() -> None:
    gate = Gate("gate")
    team = RoundRobinGroupChat([gate, ScriptedAgent("other")], max_turns=5)
    token = CancellationToken()
    run = asyncio.ensure_future(team.run(task="go", cancellation_token=token))
    await gate.waiting.wait()
    await team.pause()
    gate.opened.set()
    await asyncio.sleep(0.02)

    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(run, 5)
    assert team.status is TeamStatus.IDLE


async def test_pausing_an_idle_team_is_an_error_not_a_hang() -> None:
    team = RoundRobinGroupChat([ScriptedAgent("a")], max_turns=1)

    with pytest.raises(TeamError, match="cannot pause"):
        await team.pause()
    with pytest.raises(TeamError, match="cannot resume"):
        await team.resume()


async def test_pause_reaches_the_agents_of_a_running_nested_team() -> None:
    gate, inner_listener = Gate("gate"), Listener("inner_listener")
    inner = RoundRobinGroupChat([gate, inner_listener], max_turns=2, name="inner")
    team = RoundRobinGroupChat([inner, ScriptedAgent("outer")], max_turns=1)
    run = asyncio.ensure_future(team.run(task="go"))
    await gate.waiting.wait()

    await team.pause()
    assert inner.status is TeamStatus.PAUSED
    await team.resume()
    gate.opened.set()
    await asyncio.wait_for(run, 5)

    assert inner_listener.calls == ["pause", "resume"]
