"""RoundRobinGroupChat: participants speak in a fixed order, round after round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runtime.agents.base import BaseChatAgent
from runtime.conditions import TerminationCondition
from runtime.messages import BaseChatMessage, BaseMessage
from runtime.teams.base import BaseGroupChat, Seat
from runtime.teams.run_control import RunControl

__all__ = ["RoundRobinGroupChat"]


class RoundRobinGroupChat(BaseGroupChat):
    """Each participant speaks in turn, in the order given; the order persists across runs.

    Participants may be agents or whole teams (a nested team gets the messages it has not
    seen as its task and its messages join this team's thread).
    """

    manager_name = "RoundRobinGroupChatManager"

    component_provider = "autogen_agentchat.teams.RoundRobinGroupChat"

    def __init__(
        self,
        participants: Sequence[BaseChatAgent | BaseGroupChat],
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
        self._next_index = 0

    async def _next_speakers(self, control: RunControl) -> list[Seat] | str:
        return [self._seats[self._next_index]]

    def _after_turn(self, seat: Seat, said: list[BaseChatMessage]) -> None:
        self._next_index = (seat.index + 1) % len(self._seats)

    async def _reset_manager(self) -> None:
        self._next_index = 0

    def _save_manager(self) -> dict[str, Any]:
        return {"next_speaker_index": self._next_index}

    def _load_manager(self, state: Mapping[str, Any]) -> None:
        self._next_index = int(state.get("next_speaker_index", 0)) % len(self._seats)
