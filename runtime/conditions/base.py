"""The termination condition protocol, and its ``|`` and ``&`` combinations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runtime.components.component import Component
from runtime.errors import ConfigurationError, TeamError
from runtime.messages import BaseMessage, StopMessage

__all__ = ["AndTerminationCondition", "OrTerminationCondition", "TerminationCondition"]


class TerminationCondition(Component):
    """Decides from each delta of messages whether a run should stop.

    Subclasses implement ``_check`` (count, then return a stop reason or None), or
    override ``__call__`` entirely.
    """

    #: the provider string this class dumps under (see ``runtime.components``)
    component_provider: str = ""

    def __init__(self) -> None:
        self._terminated = False

    @property
    def terminated(self) -> bool:
        """Whether the condition has fired and not been reset since."""
        return self._terminated

    @property
    def deadline(self) -> float | None:
        """``time.monotonic()`` value at which the condition fires without any message."""
        return None

    def start(self) -> None:
        """A run starts; clocks start here. Calling it again within a run changes nothing."""
        return None

    async def __call__(self, messages: Sequence[BaseMessage]) -> StopMessage | None:
        """Look at one delta; a :class:`StopMessage` means: stop the run now."""
        if self._terminated:
            raise TeamError(
                f"{type(self).__name__} has already fired; call reset() before using it again"
            )
        reason = self._check(messages)
        if reason is None:
            return None
        self._terminated = True
        return StopMessage(content=reason, source=type(self).__name__)

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        """Update counters from ``messages``; return the stop reason when it fires."""
        raise NotImplementedError  # pragma: no cover - combinators override __call__

    async def reset(self) -> None:
        """Forget everything counted so far."""
        self._terminated = False
        self._reset_counters()

    def _reset_counters(self) -> None:
        return None

    def save_state(self) -> dict[str, Any]:
        """Counters as JSON data, so a resumed run keeps counting where it stopped."""
        return {"terminated": self._terminated}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore counters saved by :meth:`save_state`."""
        self._terminated = bool(state.get("terminated", False))

    def __or__(self, other: TerminationCondition) -> OrTerminationCondition:
        return OrTerminationCondition(self, other)

    def __and__(self, other: TerminationCondition) -> AndTerminationCondition:
        return AndTerminationCondition(self, other)


def _join_stops(stops: Sequence[StopMessage]) -> StopMessage:
    return StopMessage(
        content=", ".join(stop.content for stop in stops),
        source=", ".join(stop.source for stop in stops),
    )


class _Combination(TerminationCondition):
    """Conditions joined by ``|`` or ``&``: each sees every delta, starts and resets together."""

    def __init__(self, *conditions: TerminationCondition) -> None:
        super().__init__()
        if len(conditions) < 2:
            raise ConfigurationError(f"{type(self).__name__} needs at least two conditions")
        self._conditions = tuple(conditions)

    @property
    def conditions(self) -> tuple[TerminationCondition, ...]:
        """The combined conditions, in order."""
        return self._conditions

    def start(self) -> None:
        for condition in self._conditions:
            condition.start()

    def _require_not_terminated(self) -> None:
        if self.terminated:
            raise TeamError("the combined condition has already fired; call reset() first")

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()

    def save_state(self) -> dict[str, Any]:
        return {"conditions": [c.save_state() for c in self._conditions]}

    def load_state(self, state: Mapping[str, Any]) -> None:
        for condition, child in zip(self._conditions, state.get("conditions") or (), strict=False):
            condition.load_state(child)


class OrTerminationCondition(_Combination):
    """Fires as soon as any of its conditions fires; every condition sees every delta."""

    component_provider = "autogen_agentchat.base.OrTerminationCondition"

    @property
    def terminated(self) -> bool:
        return any(condition.terminated for condition in self._conditions)

    @property
    def deadline(self) -> float | None:
        deadlines = [c.deadline for c in self._conditions if c.deadline is not None]
        return min(deadlines) if deadlines else None

    async def __call__(self, messages: Sequence[BaseMessage]) -> StopMessage | None:
        self._require_not_terminated()
        stops = [stop for c in self._conditions if (stop := await c(messages)) is not None]
        return _join_stops(stops) if stops else None


class AndTerminationCondition(_Combination):
    """Fires once every condition has fired, each possibly on a different delta."""

    component_provider = "autogen_agentchat.base.AndTerminationCondition"

    def __init__(self, *conditions: TerminationCondition) -> None:
        super().__init__(*conditions)
        self._stops: list[StopMessage | None] = [None] * len(conditions)

    @property
    def terminated(self) -> bool:
        return all(condition.terminated for condition in self._conditions)

    @property
    def deadline(self) -> float | None:
        pending = [c for c in self._conditions if not c.terminated]
        deadlines = [c.deadline for c in pending]
        if not pending or any(d is None for d in deadlines):
            return None
        return max(d for d in deadlines if d is not None)

    async def __call__(self, messages: Sequence[BaseMessage]) -> StopMessage | None:
        self._require_not_terminated()
        for index, condition in enumerate(self._conditions):
            if not condition.terminated:
                self._stops[index] = await condition(messages)
        if not self.terminated:
            return None
        return _join_stops([stop for stop in self._stops if stop is not None])

    async def reset(self) -> None:
        await super().reset()
        self._stops = [None] * len(self._conditions)

    def save_state(self) -> dict[str, Any]:
        return {
            **super().save_state(),
            "stops": [stop.dump() if stop else None for stop in self._stops],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        super().load_state(state)
        stops = list(state.get("stops") or ())
        self._stops = [
            StopMessage(content=str(s["content"]), source=str(s["source"])) if s else None
            for s in stops[: len(self._conditions)]
        ]
        self._stops += [None] * (len(self._conditions) - len(self._stops))
