"""Token usage, cost and budgets of a run, accounted as model calls happen.

Every model client a run's team uses is wrapped in a :class:`BudgetedModelClient`
(through ``build_team(..., wrap_model_client=...)``). Before each call it asks the
:class:`Accountant` whether the call would overrun the run's budget, estimating the
prompt from the messages about to be sent; if so it raises :class:`BudgetExhausted`
and the call is never made. After each call it records the actual usage and reports a
``usage`` event. Per-agent totals come from the usage that messages carry.

The server's ceilings on a run are budgets too, counted from each start or continue:
the wrapper refuses the call past ``RUNS_MAX_MODEL_CALLS`` (:class:`ModelCallLimitReached`),
and :func:`cap_turns` / :func:`check_turn_ceiling` hold the team to ``RUNS_MAX_TURNS``
(:class:`TurnLimitReached`). Each ends the run as budget exhausted, its ``code`` saying why.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runtime import (
    CancellationToken,
    ChatCompletionClient,
    CreateResult,
    ModelInfo,
    RequestUsage,
    ToolSchema,
)


class BudgetExhausted(Exception):
    """The next model call would overrun the run's budget; it was not made."""

    #: the ``error`` event's code for this way of running out
    code = "budget_exhausted"


class ModelCallLimitReached(BudgetExhausted):
    """The run made as many model calls as the server allows; the next was not made."""

    code = "model_call_limit"


class TurnLimitReached(BudgetExhausted):
    """The team took as many turns as the server allows without stopping on its own."""

    code = "turn_limit"


def total_calls(usage: Mapping[str, Any]) -> int:
    """Model calls recorded in a run's ``usage``."""
    return sum(int(row.get("calls") or 0) for row in (usage.get("by_model") or {}).values())


def continued_usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """A run's ``usage`` for a continuation: its call ceiling counts from here on."""
    return {**usage, "calls_base": total_calls(usage)}


def cap_turns(spec: Mapping[str, Any], ceiling: int) -> dict[str, Any]:
    """The team spec with its ``max_turns`` held to the server's ``ceiling``."""
    own = spec.get("max_turns")
    return {**spec, "max_turns": min(own, ceiling) if own else ceiling}


def check_turn_ceiling(spec: Mapping[str, Any], ceiling: int, stop_reason: str) -> None:
    """Raise :class:`TurnLimitReached` if the team stopped at the server's turn ceiling.

    ``spec`` is the team's own spec (before :func:`cap_turns`): stopping at its own
    ``max_turns`` is a normal end. The runtime words a turn stop as below.
    """
    own = spec.get("max_turns")
    is_servers_limit = not own or own > ceiling
    if is_servers_limit and stop_reason == f"Maximum number of turns {ceiling} reached.":
        raise TurnLimitReached(
            f"Turn limit of {ceiling} reached: the team took {ceiling} turns without its "
            f"stop condition ending the run (RUNS_MAX_TURNS). Continue the run to allow "
            f"{ceiling} more."
        )


@dataclass(frozen=True, slots=True)
class Price:
    """Dollars per million input and output tokens."""

    input_per_million: float = 0.0
    output_per_million: float = 0.0

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """The dollar cost of that many tokens."""
        return (
            prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million
        ) / 1_000_000


def price_from_spec(model_spec: Mapping[str, Any]) -> Price:
    """The price a resolved model spec carries (zero when it has none)."""
    return Price(
        float(model_spec.get("price_input_per_million") or 0.0),
        float(model_spec.get("price_output_per_million") or 0.0),
    )


def empty_tally() -> dict[str, float]:
    """A zeroed usage record."""
    return {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "calls": 0}


class Accountant:
    """A run's usage so far, by model and by agent, and its budget."""

    def __init__(
        self,
        *,
        budget_tokens: int | None,
        budget_usd: float | None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        cost_usd: float = 0.0,
        usage: Mapping[str, Any] | None = None,
        max_model_calls: int | None = None,
    ) -> None:
        self.budget_tokens = budget_tokens
        self.budget_usd = budget_usd
        self.max_model_calls = max_model_calls
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        self.cost_usd = cost_usd
        usage = usage or {}
        self.by_model: dict[str, dict[str, float]] = dict(usage.get("by_model") or {})
        self.by_agent: dict[str, dict[str, float]] = dict(usage.get("by_agent") or {})
        # Calls counted against the ceiling start here: a continuation moves the base.
        self.calls_base = int(usage.get("calls_base") or 0)
        # Counted when a call starts, so calls in flight together cannot overshoot.
        self.calls_started = total_calls(usage)
        self._prices: dict[str, Price] = {}
        self._last_price = Price()
        self.is_dirty = False

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens so far."""
        return self.prompt_tokens + self.completion_tokens

    def check(self, *, model: str, estimated_prompt_tokens: int, price: Price) -> None:
        """Raise :class:`BudgetExhausted` if a call of that size would overrun the budget.

        A call costs its prompt and its answer; the answer is expected to be as long as
        this model's answers so far in the run (unknown, so zero, on its first call).
        """
        expected_completion = self.expected_completion_tokens(model)
        if self.budget_tokens is not None:
            needed = estimated_prompt_tokens + expected_completion
            if self.total_tokens + needed > self.budget_tokens:
                raise BudgetExhausted(
                    f"Token budget of {self.budget_tokens} reached: {self.total_tokens} used, "
                    f"and the next call to {model} needs about {needed} more."
                )
        if self.budget_usd is not None:
            projected_cost = self.cost_usd + price.cost(
                estimated_prompt_tokens, expected_completion
            )
            if projected_cost > self.budget_usd:
                raise BudgetExhausted(
                    f"Cost budget of ${self.budget_usd:.4f} reached: ${self.cost_usd:.4f} spent, "
                    f"and the next call to {model} would cost about "
                    f"${projected_cost - self.cost_usd:.4f} more."
                )

    def start_call(self, *, model: str) -> None:
        """Count a call about to be made; raise :class:`ModelCallLimitReached` past the
        ceiling."""
        limit = self.max_model_calls
        if limit is not None and self.calls_started - self.calls_base >= limit:
            raise ModelCallLimitReached(
                f"Model call limit of {limit} reached: the run made {limit} model calls "
                f"since it started or was last continued (RUNS_MAX_MODEL_CALLS), and the "
                f"next call to {model} was not made. Continue the run to allow {limit} more."
            )
        self.calls_started += 1

    def expected_completion_tokens(self, model: str) -> int:
        """The average answer length of ``model`` in this run so far, rounded up."""
        row = self.by_model.get(model)
        if not row or not row.get("calls"):
            return 0
        return -(-int(row["completion_tokens"]) // int(row["calls"]))

    def record_call(self, *, model: str, usage: RequestUsage, price: Price) -> dict[str, Any]:
        """Add one call's usage; returns the ``usage`` event data."""
        cost = price.cost(usage.prompt_tokens, usage.completion_tokens)
        self._prices[model] = price
        self._last_price = price
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cost_usd += cost
        self._add(self.by_model, model, usage, cost)
        return {
            "model": model,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cost_usd": cost,
            "total_tokens": self.total_tokens,
            "total_cost_usd": self.cost_usd,
        }

    def record_message(self, *, agent: str, usage: RequestUsage, model: str | None) -> None:
        """Attribute usage a message carries to the agent that said it."""
        price = self._prices.get(model or "", self._last_price)
        cost = price.cost(usage.prompt_tokens, usage.completion_tokens)
        self._add(self.by_agent, agent, usage, cost)

    def _add(
        self, table: dict[str, dict[str, float]], key: str, usage: RequestUsage, cost: float
    ) -> None:
        row = table.get(key)
        if row is None:
            row = table[key] = empty_tally()
        row["prompt_tokens"] += usage.prompt_tokens
        row["completion_tokens"] += usage.completion_tokens
        row["cost_usd"] += cost
        row["calls"] += 1
        self.is_dirty = True

    def snapshot(self) -> dict[str, Any]:
        """The fields of ``Run`` that hold usage."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
            "usage": {
                "by_model": self.by_model,
                "by_agent": self.by_agent,
                "calls_base": self.calls_base,
            },
        }


UsageListener = Callable[[str, dict[str, Any]], Awaitable[None]]


class BudgetedModelClient(ChatCompletionClient):
    """Wraps a model client: refuses calls that would overrun, reports each call's usage."""

    def __init__(
        self,
        inner: ChatCompletionClient,
        *,
        model: str,
        price: Price,
        accountant: Accountant,
        on_usage: UsageListener,
    ) -> None:
        self.inner = inner
        self.component_provider = inner.component_provider
        self._model = model or inner.model
        self._price = price
        self._accountant = accountant
        self._on_usage = on_usage

    @property
    def model(self) -> str:
        """The wrapped client's model."""
        return self._model

    @property
    def model_info(self) -> ModelInfo:
        """The wrapped client's capabilities."""
        return self.inner.model_info

    def actual_usage(self) -> RequestUsage:
        """Usage of the last call."""
        return self.inner.actual_usage()

    def total_usage(self) -> RequestUsage:
        """Usage of every call."""
        return self.inner.total_usage()

    def count_tokens(self, messages: Sequence[Any], *, tools: Sequence[ToolSchema] = ()) -> int:
        """The wrapped client's estimate."""
        return self.inner.count_tokens(messages, tools=tools)

    def save_state(self) -> dict[str, Any]:
        """The wrapped client's state (a scripted model's place in its script)."""
        return self.inner.save_state()

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore the wrapped client's state from a checkpoint."""
        self.inner.load_state(state)

    async def close(self) -> None:
        """Close the wrapped client."""
        await self.inner.close()

    def _check(self, messages: Sequence[Any], tools: Sequence[ToolSchema]) -> None:
        if self._accountant.budget_tokens is not None or self._accountant.budget_usd is not None:
            # The estimate reads the whole context: skip it when nothing is capped.
            estimate = self.inner.count_tokens(messages, tools=tools)
            self._accountant.check(
                model=self._model, estimated_prompt_tokens=estimate, price=self._price
            )
        self._accountant.start_call(model=self._model)

    async def _record(self, result: CreateResult) -> None:
        data = self._accountant.record_call(
            model=self._model, usage=result.usage, price=self._price
        )
        await self._on_usage(self._model, data)

    async def create(
        self,
        messages: Sequence[Any],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """Check the budget and call ceiling, call the wrapped client, record usage."""
        self._check(messages, tools)
        result = await self.inner.create(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        await self._record(result)
        return result

    async def create_stream(
        self,
        messages: Sequence[Any],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: Any = "auto",
        json_output: bool | type[Any] | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """Check the budget and call ceiling, stream from the wrapped client, record usage."""
        self._check(messages, tools)
        stream = self.inner.create_stream(
            messages,
            tools=tools,
            tool_choice=tool_choice,
            json_output=json_output,
            extra_create_args=extra_create_args,
            cancellation_token=cancellation_token,
        )
        async for piece in stream:
            if isinstance(piece, CreateResult):
                await self._record(piece)
            yield piece
