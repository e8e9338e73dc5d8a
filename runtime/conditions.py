"""Termination conditions: when a team run should stop.

A condition is called by the team with each *delta* (the task messages, then every turn's
events and chat message), in order. It returns a :class:`StopMessage` when the run should
stop and ``None`` otherwise. Conditions combine with ``|`` (either fires) and ``&`` (all
have fired, possibly on different deltas). Teams reset them when a run ends, so each run
counts afresh; ``save_state()`` / ``load_state()`` carry counters across a checkpoint.

``TimeoutTermination`` is special in two ways: its clock starts when a run starts
(:meth:`TerminationCondition.start`), and it exposes a :attr:`TerminationCondition.deadline`
that the team enforces with a timer, so it also ends a run stuck inside a long agent turn.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from runtime.errors import ConfigurationError, TeamError
from runtime.messages import (
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    StopMessage,
    TextMessage,
    ToolCallExecutionEvent,
)

__all__ = [
    "AndTerminationCondition",
    "CostTermination",
    "ExternalTermination",
    "FunctionCallTermination",
    "FunctionalTermination",
    "HandoffTermination",
    "MaxMessageTermination",
    "OrTerminationCondition",
    "SourceMatchTermination",
    "StopMessageTermination",
    "TerminationCondition",
    "TextMentionTermination",
    "TextMessageTermination",
    "TimeoutTermination",
    "TokenUsageTermination",
]


class TerminationCondition:
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


class OrTerminationCondition(TerminationCondition):
    """Fires as soon as any of its conditions fires; every condition sees every delta."""

    component_provider = "autogen_agentchat.base.OrTerminationCondition"

    def __init__(self, *conditions: TerminationCondition) -> None:
        super().__init__()
        if len(conditions) < 2:
            raise ConfigurationError("OrTerminationCondition needs at least two conditions")
        self._conditions = tuple(conditions)

    @property
    def conditions(self) -> tuple[TerminationCondition, ...]:
        """The combined conditions, in order."""
        return self._conditions

    @property
    def terminated(self) -> bool:
        return any(condition.terminated for condition in self._conditions)

    @property
    def deadline(self) -> float | None:
        deadlines = [c.deadline for c in self._conditions if c.deadline is not None]
        return min(deadlines) if deadlines else None

    def start(self) -> None:
        for condition in self._conditions:
            condition.start()

    async def __call__(self, messages: Sequence[BaseMessage]) -> StopMessage | None:
        if self.terminated:
            raise TeamError("the combined condition has already fired; call reset() first")
        stops = [stop for c in self._conditions if (stop := await c(messages)) is not None]
        return _join_stops(stops) if stops else None

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()

    def save_state(self) -> dict[str, Any]:
        return {"conditions": [c.save_state() for c in self._conditions]}

    def load_state(self, state: Mapping[str, Any]) -> None:
        for condition, child in zip(self._conditions, state.get("conditions") or (), strict=False):
            condition.load_state(child)


class AndTerminationCondition(TerminationCondition):
    """Fires once every condition has fired, each possibly on a different delta."""

    component_provider = "autogen_agentchat.base.AndTerminationCondition"

    def __init__(self, *conditions: TerminationCondition) -> None:
        super().__init__()
        if len(conditions) < 2:
            raise ConfigurationError("AndTerminationCondition needs at least two conditions")
        self._conditions = tuple(conditions)
        self._stops: list[StopMessage | None] = [None] * len(conditions)

    @property
    def conditions(self) -> tuple[TerminationCondition, ...]:
        """The combined conditions, in order."""
        return self._conditions

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

    def start(self) -> None:
        for condition in self._conditions:
            condition.start()

    async def __call__(self, messages: Sequence[BaseMessage]) -> StopMessage | None:
        if self.terminated:
            raise TeamError("the combined condition has already fired; call reset() first")
        for index, condition in enumerate(self._conditions):
            if not condition.terminated:
                self._stops[index] = await condition(messages)
        if not all(condition.terminated for condition in self._conditions):
            return None
        return _join_stops([stop for stop in self._stops if stop is not None])

    async def reset(self) -> None:
        for condition in self._conditions:
            await condition.reset()
        self._stops = [None] * len(self._conditions)

    def save_state(self) -> dict[str, Any]:
        return {
            "conditions": [c.save_state() for c in self._conditions],
            "stops": [stop.dump() if stop else None for stop in self._stops],
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        for condition, child in zip(self._conditions, state.get("conditions") or (), strict=False):
            condition.load_state(child)
        stops = list(state.get("stops") or ())
        self._stops = [
            StopMessage(content=str(s["content"]), source=str(s["source"])) if s else None
            for s in stops[: len(self._conditions)]
        ]
        self._stops += [None] * (len(self._conditions) - len(self._stops))


class MaxMessageTermination(TerminationCondition):
    """Stops after ``max_messages`` chat messages (task messages count too).

    With ``include_agent_event=True`` events count as well.
    """

    component_provider = "autogen_agentchat.conditions.MaxMessageTermination"

    def __init__(self, max_messages: int, include_agent_event: bool = False) -> None:
        super().__init__()
        if max_messages < 1:
            raise ConfigurationError("max_messages must be at least 1")
        self._max_messages = max_messages
        self._include_agent_event = include_agent_event
        self._count = 0

    @property
    def max_messages(self) -> int:
        return self._max_messages

    @property
    def include_agent_event(self) -> bool:
        return self._include_agent_event

    @property
    def count(self) -> int:
        """Messages counted since the last reset."""
        return self._count

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        if self._include_agent_event:
            self._count += len(messages)
        else:
            self._count += sum(1 for m in messages if isinstance(m, BaseChatMessage))
        if self._count < self._max_messages:
            return None
        return (
            f"Maximum number of messages {self._max_messages} reached, "
            f"current message count: {self._count}"
        )

    def _reset_counters(self) -> None:
        self._count = 0

    def save_state(self) -> dict[str, Any]:
        return {"terminated": self._terminated, "count": self._count}

    def load_state(self, state: Mapping[str, Any]) -> None:
        super().load_state(state)
        self._count = int(state.get("count", 0))


class TextMentionTermination(TerminationCondition):
    """Stops when ``text`` appears in a message or event (from ``sources`` only, if given)."""

    component_provider = "autogen_agentchat.conditions.TextMentionTermination"

    def __init__(self, text: str, sources: Sequence[str] | None = None) -> None:
        super().__init__()
        self._text = text
        self._sources = tuple(sources) if sources is not None else None

    @property
    def text(self) -> str:
        return self._text

    @property
    def sources(self) -> tuple[str, ...] | None:
        return self._sources

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            if self._sources is not None and message.source not in self._sources:
                continue
            if self._text in message.to_text():
                return f"Text '{self._text}' mentioned"
        return None


class StopMessageTermination(TerminationCondition):
    """Stops when any agent says a :class:`StopMessage`."""

    component_provider = "autogen_agentchat.conditions.StopMessageTermination"

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        if any(isinstance(m, StopMessage) for m in messages):
            return "Stop message received"
        return None


class TokenUsageTermination(TerminationCondition):
    """Stops when summed model usage reaches any of the given token limits."""

    component_provider = "autogen_agentchat.conditions.TokenUsageTermination"

    def __init__(
        self,
        max_total_token: int | None = None,
        max_prompt_token: int | None = None,
        max_completion_token: int | None = None,
    ) -> None:
        super().__init__()
        if max_total_token is None and max_prompt_token is None and max_completion_token is None:
            raise ConfigurationError(
                "TokenUsageTermination needs at least one of max_total_token, "
                "max_prompt_token or max_completion_token"
            )
        self._max_total_token = max_total_token
        self._max_prompt_token = max_prompt_token
        self._max_completion_token = max_completion_token
        self._prompt = 0
        self._completion = 0

    @property
    def max_total_token(self) -> int | None:
        return self._max_total_token

    @property
    def max_prompt_token(self) -> int | None:
        return self._max_prompt_token

    @property
    def max_completion_token(self) -> int | None:
        return self._max_completion_token

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            if message.models_usage is not None:
                self._prompt += message.models_usage.prompt_tokens
                self._completion += message.models_usage.completion_tokens
        total = self._prompt + self._completion
        if (
            (self._max_total_token is not None and total >= self._max_total_token)
            or (self._max_prompt_token is not None and self._prompt >= self._max_prompt_token)
            or (
                self._max_completion_token is not None
                and self._completion >= self._max_completion_token
            )
        ):
            return (
                f"Token usage limit reached, total token count: {total}, prompt token count: "
                f"{self._prompt}, completion token count: {self._completion}."
            )
        return None

    def _reset_counters(self) -> None:
        self._prompt = 0
        self._completion = 0

    def save_state(self) -> dict[str, Any]:
        return {
            "terminated": self._terminated,
            "prompt_tokens": self._prompt,
            "completion_tokens": self._completion,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        super().load_state(state)
        self._prompt = int(state.get("prompt_tokens", 0))
        self._completion = int(state.get("completion_tokens", 0))


class HandoffTermination(TerminationCondition):
    """Stops when an agent hands off to ``target`` (typically ``"user"``)."""

    component_provider = "autogen_agentchat.conditions.HandoffTermination"

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target

    @property
    def target(self) -> str:
        return self._target

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            if isinstance(message, HandoffMessage) and message.target == self._target:
                return f"Handoff to {self._target} from {message.source} detected."
        return None


class TimeoutTermination(TerminationCondition):
    """Stops ``timeout_seconds`` after the run started, even in the middle of a turn.

    The clock starts when a team run starts (or on the first delta when used alone) and
    is cleared by :meth:`reset`. Teams also enforce :attr:`deadline` with a timer.
    """

    component_provider = "autogen_agentchat.conditions.TimeoutTermination"

    def __init__(self, timeout_seconds: float) -> None:
        super().__init__()
        if timeout_seconds <= 0:
            raise ConfigurationError("timeout_seconds must be positive")
        self._timeout_seconds = timeout_seconds
        self._started_at: float | None = None
        self._elapsed_before = 0.0

    @property
    def timeout_seconds(self) -> float:
        return self._timeout_seconds

    @property
    def deadline(self) -> float | None:
        if self._terminated or self._started_at is None:
            return None
        return self._started_at + self._timeout_seconds - self._elapsed_before

    def start(self) -> None:
        if self._started_at is None:
            self._started_at = time.monotonic()

    def _elapsed(self) -> float:
        if self._started_at is None:
            return self._elapsed_before
        return self._elapsed_before + time.monotonic() - self._started_at

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        self.start()
        if self._elapsed() >= self._timeout_seconds:
            return f"Timeout of {self._timeout_seconds} seconds reached"
        return None

    def _reset_counters(self) -> None:
        self._started_at = None
        self._elapsed_before = 0.0

    def save_state(self) -> dict[str, Any]:
        return {"terminated": self._terminated, "elapsed_seconds": self._elapsed()}

    def load_state(self, state: Mapping[str, Any]) -> None:
        super().load_state(state)
        self._started_at = None
        self._elapsed_before = float(state.get("elapsed_seconds", 0.0))


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


class SourceMatchTermination(TerminationCondition):
    """Stops when any message or event comes from one of ``sources``."""

    component_provider = "autogen_agentchat.conditions.SourceMatchTermination"

    def __init__(self, sources: Sequence[str]) -> None:
        super().__init__()
        self._sources = tuple(sources)

    @property
    def sources(self) -> tuple[str, ...]:
        return self._sources

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            if message.source in self._sources:
                return f"'{message.source}' answered"
        return None


class TextMessageTermination(TerminationCondition):
    """Stops on a :class:`TextMessage` (from ``source`` only, if given)."""

    component_provider = "autogen_agentchat.conditions.TextMessageTermination"

    def __init__(self, source: str | None = None) -> None:
        super().__init__()
        self._source = source

    @property
    def source(self) -> str | None:
        return self._source

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            if isinstance(message, TextMessage) and self._source in (None, message.source):
                return f"Text message received from '{message.source}'"
        return None


class FunctionCallTermination(TerminationCondition):
    """Stops once a tool called ``function_name`` has been executed."""

    component_provider = "autogen_agentchat.conditions.FunctionCallTermination"

    def __init__(self, function_name: str) -> None:
        super().__init__()
        self._function_name = function_name

    @property
    def function_name(self) -> str:
        return self._function_name

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            if isinstance(message, ToolCallExecutionEvent) and any(
                result.name == self._function_name for result in message.content
            ):
                return f"Function '{self._function_name}' was executed."
        return None


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


ModelPrices = Mapping[str, tuple[float, float]]


class CostTermination(TerminationCondition):
    """Stops when the money spent on model calls reaches ``max_cost_usd``.

    ``prices`` maps a model name to (USD per million input tokens, USD per million output
    tokens). A message's model is read from ``metadata["model"]``; unknown or missing
    models are priced at ``default_price``.
    """

    component_provider = "roundtable.conditions.CostTermination"

    def __init__(
        self,
        max_cost_usd: float,
        prices: ModelPrices | None = None,
        *,
        default_price: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        super().__init__()
        if max_cost_usd <= 0:
            raise ConfigurationError("max_cost_usd must be positive")
        self._max_cost_usd = max_cost_usd
        self._prices = {name: (float(p[0]), float(p[1])) for name, p in (prices or {}).items()}
        self._default_price = (float(default_price[0]), float(default_price[1]))
        self._cost = 0.0

    @property
    def max_cost_usd(self) -> float:
        return self._max_cost_usd

    @property
    def prices(self) -> dict[str, tuple[float, float]]:
        return dict(self._prices)

    @property
    def default_price(self) -> tuple[float, float]:
        return self._default_price

    @property
    def cost(self) -> float:
        """USD spent since the last reset."""
        return self._cost

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            usage = message.models_usage
            if usage is None:
                continue
            price_in, price_out = self._prices.get(
                message.metadata.get("model", ""), self._default_price
            )
            self._cost += (
                usage.prompt_tokens * price_in + usage.completion_tokens * price_out
            ) / 1e6
        if self._cost < self._max_cost_usd:
            return None
        return f"Cost limit of {self._max_cost_usd} USD reached, spent {self._cost:.6f} USD"

    def _reset_counters(self) -> None:
        self._cost = 0.0

    def save_state(self) -> dict[str, Any]:
        return {"terminated": self._terminated, "cost_usd": self._cost}

    def load_state(self, state: Mapping[str, Any]) -> None:
        super().load_state(state)
        self._cost = float(state.get("cost_usd", 0.0))
