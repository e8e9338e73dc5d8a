"""Conditions that stop a run when a budget is spent: messages, tokens, time or money."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from runtime.conditions.base import TerminationCondition
from runtime.errors import ConfigurationError
from runtime.messages import BaseChatMessage, BaseMessage

__all__ = [
    "CostTermination",
    "MaxMessageTermination",
    "TimeoutTermination",
    "TokenUsageTermination",
]


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
