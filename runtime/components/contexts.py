"""Component kinds of the model contexts, under AutoGen's provider strings."""

from __future__ import annotations

from typing import Any

from runtime.components.registry import ComponentKind, ConfigReader, ConfigWriter, compact
from runtime.errors import ConfigurationError
from runtime.llm import LLMMessage, load_llm_message
from runtime.model_context import (
    BufferedChatCompletionContext,
    ChatCompletionContext,
    HeadAndTailChatCompletionContext,
    TokenLimitedChatCompletionContext,
    UnboundedChatCompletionContext,
)

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []

_PACKAGE = "autogen_core.model_context"


def _initial_messages(reader: ConfigReader) -> list[LLMMessage]:
    messages: list[LLMMessage] = []
    for index, data in enumerate(reader.items("initial_messages")):
        if not isinstance(data, dict):
            raise reader.error("a message must be an object", f"initial_messages[{index}]")
        try:
            messages.append(load_llm_message(data))
        except (ConfigurationError, KeyError, TypeError) as exc:
            raise reader.error(str(exc), f"initial_messages[{index}]") from exc
    return messages


def _base_config(context: ChatCompletionContext) -> dict[str, Any]:
    initial = [message.to_dict() for message in context.initial_messages]
    return {"initial_messages": initial or None}


def _load_unbounded(reader: ConfigReader) -> UnboundedChatCompletionContext:
    return UnboundedChatCompletionContext(_initial_messages(reader))


def _dump_unbounded(context: ChatCompletionContext, writer: ConfigWriter) -> dict[str, Any]:
    return compact(_base_config(context))


def _load_buffered(reader: ConfigReader) -> BufferedChatCompletionContext:
    return BufferedChatCompletionContext(reader.integer("buffer_size"), _initial_messages(reader))


def _dump_buffered(context: BufferedChatCompletionContext, writer: ConfigWriter) -> dict[str, Any]:
    return compact({"buffer_size": context.buffer_size, **_base_config(context)})


def _load_head_and_tail(reader: ConfigReader) -> HeadAndTailChatCompletionContext:
    return HeadAndTailChatCompletionContext(
        reader.integer("head_size"), reader.integer("tail_size"), _initial_messages(reader)
    )


def _dump_head_and_tail(
    context: HeadAndTailChatCompletionContext, writer: ConfigWriter
) -> dict[str, Any]:
    sizes = {"head_size": context.head_size, "tail_size": context.tail_size}
    return compact({**sizes, **_base_config(context)})


def _load_token_limited(reader: ConfigReader) -> TokenLimitedChatCompletionContext:
    tools = reader.items("tool_schema")
    if not all(isinstance(tool, dict) and isinstance(tool.get("name"), str) for tool in tools):
        raise reader.error("each tool schema must be an object with a 'name'", "tool_schema")
    return TokenLimitedChatCompletionContext(
        reader.component("model_client", "model"),
        token_limit=reader.integer("token_limit", None),
        tool_schema=tools or None,
        initial_messages=_initial_messages(reader),
    )


def _dump_token_limited(
    context: TokenLimitedChatCompletionContext, writer: ConfigWriter
) -> dict[str, Any]:
    config = {
        "model_client": writer.component(context.model_client),
        "token_limit": context.token_limit,
        "tool_schema": [dict(tool) for tool in context.tool_schema] or None,
        **_base_config(context),
    }
    return compact(config)


def _kind(cls: type[Any], load: Any, dump: Any, description: str) -> ComponentKind:
    return ComponentKind(
        f"{_PACKAGE}.{cls.__name__}",
        cls,
        "context",
        load,
        dump,
        component_type="chat_completion_context",
        aliases=(cls.__name__,),
        description=description,
    )


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        _kind(
            UnboundedChatCompletionContext,
            _load_unbounded,
            _dump_unbounded,
            "Shows the model the whole conversation.",
        ),
        _kind(
            BufferedChatCompletionContext,
            _load_buffered,
            _dump_buffered,
            "Shows the model the latest messages only.",
        ),
        _kind(
            HeadAndTailChatCompletionContext,
            _load_head_and_tail,
            _dump_head_and_tail,
            "Shows the model the first and the latest messages.",
        ),
        _kind(
            TokenLimitedChatCompletionContext,
            _load_token_limited,
            _dump_token_limited,
            "Shows the model as much as fits a token budget.",
        ),
    ]
