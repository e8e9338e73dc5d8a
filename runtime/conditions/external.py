"""Conditions decided by the caller's code rather than by counting: a flag set from
outside the run, or a predicate over each delta."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence

from runtime.conditions.base import TerminationCondition
from runtime.errors import TeamError
from runtime.messages import BaseMessage, StopMessage

__all__ = ["ExternalTermination", "FunctionalTermination"]


class ExternalTermination(TerminationCondition):
    """Stops on the next delta after :meth:`set` is called, from anywhere."""

    component_provider = "autogen_agentchat.conditions.ExternalTermination"

    def __init__(self) -> None:
        super().__init__()
        self._is_set = False

    def set(self) -> None:
        """Ask the run to stop at the next delta."""
        self._is_set = True

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        return "External termination requested" if self._is_set else None

    def _reset_counters(self) -> None:
        self._is_set = False


DeltaPredicate = Callable[[Sequence[BaseMessage]], bool | Awaitable[bool]]


class FunctionalTermination(TerminationCondition):
    """Stops when ``func(delta)`` (sync or async) returns True. Not serialisable."""

    component_provider = "autogen_agentchat.conditions.FunctionalTermination"

    def __init__(self, func: DeltaPredicate) -> None:
        super().__init__()
        self._func = func

    @property
    def func(self) -> DeltaPredicate:
        return self._func

    async def __call__(self, messages: Sequence[BaseMessage]) -> StopMessage | None:
        if self._terminated:
            raise TeamError("FunctionalTermination has already fired; call reset() first")
        verdict = self._func(messages)
        if inspect.isawaitable(verdict):
            verdict = await verdict
        if verdict is not True:
            return None
        self._terminated = True
        return StopMessage(
            content="Functional termination condition met", source=type(self).__name__
        )
