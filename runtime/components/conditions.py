"""Component kinds of the termination conditions and their ``|`` / ``&`` combinations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runtime.components.registry import (
    ComponentKind,
    ConfigReader,
    ConfigWriter,
    compact,
    no_config,
    refuse_dump,
    refuse_load,
)
from runtime.conditions import (
    AndTerminationCondition,
    CostTermination,
    ExternalTermination,
    FunctionalTermination,
    FunctionCallTermination,
    HandoffTermination,
    MaxMessageTermination,
    OrTerminationCondition,
    SourceMatchTermination,
    StopMessageTermination,
    TerminationCondition,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
)

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []


def _conditions(reader: ConfigReader) -> list[TerminationCondition]:
    conditions: list[TerminationCondition] = reader.components("conditions", "termination")
    if not conditions:
        raise reader.error("'conditions' must list at least one condition", "conditions")
    return conditions


def _dump_combined(
    condition: OrTerminationCondition | AndTerminationCondition, writer: ConfigWriter
) -> dict[str, Any]:
    return {"conditions": [writer.component(c) for c in condition.conditions]}


def _load_text_mention(reader: ConfigReader) -> TextMentionTermination:
    return TextMentionTermination(reader.text("text"), sources=reader.texts("sources", None))


def _dump_text_mention(condition: TextMentionTermination, writer: ConfigWriter) -> dict[str, Any]:
    sources = condition.sources
    return compact({"text": condition.text, "sources": list(sources) if sources else None})


def _load_token_usage(reader: ConfigReader) -> TokenUsageTermination:
    return TokenUsageTermination(
        max_total_token=reader.integer("max_total_token", None),
        max_prompt_token=reader.integer("max_prompt_token", None),
        max_completion_token=reader.integer("max_completion_token", None),
    )


def _dump_token_usage(condition: TokenUsageTermination, writer: ConfigWriter) -> dict[str, Any]:
    # AutoGen requires all three keys (null for "no limit").
    return {
        "max_total_token": condition.max_total_token,
        "max_prompt_token": condition.max_prompt_token,
        "max_completion_token": condition.max_completion_token,
    }


def _price_pair(value: Any, reader: ConfigReader, key: str) -> tuple[float, float]:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return float(value[0]), float(value[1])
    raise reader.error("a price is [USD per million input tokens, per million output]", key)


def _load_cost(reader: ConfigReader) -> CostTermination:
    prices = {
        model: _price_pair(pair, reader, f"prices.{model}")
        for model, pair in reader.mapping("prices", {}).items()
    }
    default = reader.raw("default_price", [0.0, 0.0])
    return CostTermination(
        reader.number("max_cost_usd"),
        prices,
        default_price=_price_pair(default, reader, "default_price"),
    )


def _dump_cost(condition: CostTermination, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "max_cost_usd": condition.max_cost_usd,
        "prices": {model: list(pair) for model, pair in condition.prices.items()},
        "default_price": list(condition.default_price),
    }


def _condition_kinds() -> list[ComponentKind]:
    def kind(
        cls: type[TerminationCondition],
        load: Callable[[ConfigReader], Any],
        dump: Callable[[Any, ConfigWriter], dict[str, Any]],
        description: str,
    ) -> ComponentKind:
        return ComponentKind(
            cls.component_provider, cls, "termination", load, dump, description=description
        )

    return [
        kind(
            MaxMessageTermination,
            lambda r: MaxMessageTermination(
                r.integer("max_messages"), r.flag("include_agent_event", False)
            ),
            lambda c, w: {
                "max_messages": c.max_messages,
                "include_agent_event": c.include_agent_event,
            },
            "Stop after a number of messages.",
        ),
        kind(
            TextMentionTermination,
            _load_text_mention,
            _dump_text_mention,
            "Stop when a text is mentioned.",
        ),
        kind(
            StopMessageTermination,
            lambda r: StopMessageTermination(),
            no_config,
            "Stop on a StopMessage.",
        ),
        kind(
            TokenUsageTermination,
            _load_token_usage,
            _dump_token_usage,
            "Stop when token usage reaches a limit.",
        ),
        kind(
            HandoffTermination,
            lambda r: HandoffTermination(r.text("target")),
            lambda c, w: {"target": c.target},
            "Stop on a handoff to a target.",
        ),
        kind(
            TimeoutTermination,
            lambda r: TimeoutTermination(r.number("timeout_seconds")),
            lambda c, w: {"timeout_seconds": c.timeout_seconds},
            "Stop when a run has lasted a number of seconds.",
        ),
        kind(
            ExternalTermination,
            lambda r: ExternalTermination(),
            no_config,
            "Stop when asked from outside the run.",
        ),
        kind(
            SourceMatchTermination,
            lambda r: SourceMatchTermination(r.texts("sources")),
            lambda c, w: {"sources": list(c.sources)},
            "Stop when one of the given agents has answered.",
        ),
        kind(
            TextMessageTermination,
            lambda r: TextMessageTermination(r.text("source", None)),
            lambda c, w: compact({"source": c.source}),
            "Stop on a text message (from a source).",
        ),
        kind(
            FunctionCallTermination,
            lambda r: FunctionCallTermination(r.text("function_name")),
            lambda c, w: {"function_name": c.function_name},
            "Stop when a tool with a given name was executed.",
        ),
        kind(
            CostTermination,
            _load_cost,
            _dump_cost,
            "Stop when model calls have cost a number of dollars.",
        ),
        kind(
            OrTerminationCondition,
            lambda r: OrTerminationCondition(*_conditions(r)),
            _dump_combined,
            "",
        ),
        kind(
            AndTerminationCondition,
            lambda r: AndTerminationCondition(*_conditions(r)),
            _dump_combined,
            "",
        ),
    ]


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        *_condition_kinds(),
        ComponentKind(
            FunctionalTermination.component_provider,
            FunctionalTermination,
            "termination",
            refuse_load,
            refuse_dump,
        ),
    ]
