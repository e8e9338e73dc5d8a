"""Swarm: whoever holds the conversation keeps it until they hand it off."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runtime.agents.base import BaseChatAgent
from runtime.conditions import TerminationCondition
from runtime.errors import ConfigurationError
from runtime.messages import BaseChatMessage, BaseMessage, HandoffMessage
from runtime.teams.base import BaseGroupChat, Seat
from runtime.teams.run_control import RunControl

__all__ = ["Swarm"]


class Swarm(BaseGroupChat):
    """The first participant speaks first; a :class:`HandoffMessage` passes the turn to
    its target, any other reply keeps it with the same speaker.

    A handoff to someone outside the team (for example ``"user"``) ends the run with a
    stop reason that says so, unless the termination condition stops it first (use
    ``HandoffTermination("user")``). The next run then continues with the agent that
    handed off, or with the target of a ``HandoffMessage`` given as the task.
    """

    manager_name = "SwarmGroupChatManager"

    component_provider = "autogen_agentchat.teams.Swarm"
    allows_team_participants = False

    def __init__(
        self,
        participants: Sequence[BaseChatAgent],
        *,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        name: str | None = None,
        description: str | None = None,
        emit_team_events: bool = False,
        custom_message_types: Sequence[type[BaseMessage]] | None = None,
    ) -> None:
        super().__init__(
            participants,
            name=name,
            description=description,
            termination_condition=termination_condition,
            max_turns=max_turns,
            emit_team_events=emit_team_events,
            custom_message_types=custom_message_types,
        )
        self._current = self._seats[0].name
        self._outside_handoff: HandoffMessage | None = None

    @property
    def current_speaker(self) -> str:
        """Who speaks next."""
        return self._current

    def _validate_task(self, task: list[BaseChatMessage]) -> None:
        handoff = _last_handoff(task)
        if handoff is not None and handoff.target not in self._seat_by_name:
            raise ConfigurationError(
                f"the task hands off to {handoff.target!r}, which is not a participant; "
                f"choose one of {list(self._seat_by_name)}"
            )

    def _on_task(self, task: list[BaseChatMessage]) -> None:
        handoff = _last_handoff(task)
        if handoff is not None:
            self._current = handoff.target
            self._outside_handoff = None

    async def _next_speakers(self, control: RunControl) -> list[Seat] | str:
        return [self._seat_by_name[self._current]]

    def _after_turn(self, seat: Seat, said: list[BaseChatMessage]) -> None:
        handoff = _last_handoff(said)
        if handoff is None:
            return
        if handoff.target in self._seat_by_name:
            self._current = handoff.target
        else:
            self._outside_handoff = handoff
            self._current = seat.name

    def _route_stop(self) -> str | None:
        handoff, self._outside_handoff = self._outside_handoff, None
        if handoff is None:
            return None
        return (
            f"{handoff.source} handed off to '{handoff.target}', who is not a participant of "
            f"this team; the next run continues with {handoff.source}."
        )

    async def _reset_manager(self) -> None:
        self._current = self._seats[0].name
        self._outside_handoff = None

    def _save_manager(self) -> dict[str, Any]:
        return {"current_speaker": self._current}

    def _load_manager(self, state: Mapping[str, Any]) -> None:
        current = state.get("current_speaker")
        self._current = current if current in self._seat_by_name else self._seats[0].name


def _last_handoff(messages: Sequence[BaseChatMessage]) -> HandoffMessage | None:
    for message in reversed(messages):
        if isinstance(message, HandoffMessage):
            return message
    return None
