"""The one interface through which a run reports what happens.

A team calls :meth:`EventSink.emit` for every message and event in order (the same items
``run_stream`` yields, streaming chunks included), and :meth:`EventSink.turn_completed`
after each completed agent turn, when ``team.save_state()`` reflects that turn. The
studio persists events and writes checkpoints here; tests record them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from runtime.messages import BaseMessage


class EventSink:
    """Base sink: override what you need; both hooks default to doing nothing."""

    async def emit(self, item: BaseMessage) -> None:
        """Receive one message or event, in run order."""

    async def turn_completed(self, speaker: str) -> None:
        """An agent turn finished and the team's state now includes it."""
