"""Model contexts: which part of an agent's history the model is shown on each call.

Every context *stores* the whole history (so state and checkpoints keep everything) and
differs only in what :meth:`ChatCompletionContext.get_messages` returns: everything, the
last N messages, the first and last messages around a "skipped" note, or as much as fits
a token budget. Showing less keeps long conversations cheap. Names, behaviour, state and
component configs follow ``autogen_core.model_context``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any

from runtime.components.component import Component
from runtime.errors import ConfigurationError, StateError
from runtime.llm import (
    AssistantMessage,
    FunctionExecutionResultMessage,
    LLMMessage,
    ToolSchema,
    UserMessage,
    load_llm_message,
)
from runtime.model_clients.base import ChatCompletionClient

__all__ = [
    "BufferedChatCompletionContext",
    "ChatCompletionContext",
    "HeadAndTailChatCompletionContext",
    "TokenLimitedChatCompletionContext",
    "UnboundedChatCompletionContext",
]


class ChatCompletionContext(Component, abc.ABC):
    """Stores an agent's model history; subclasses decide what the model sees.

    Subclass it and implement :meth:`get_messages` for a context of your own.
    ``initial_messages`` start the history (and come back only after a state load,
    not after :meth:`clear`, as in AutoGen).
    """

    def __init__(self, initial_messages: Sequence[LLMMessage] | None = None) -> None:
        self._initial_messages: tuple[LLMMessage, ...] = tuple(initial_messages or ())
        self._messages: list[LLMMessage] = list(self._initial_messages)

    @property
    def initial_messages(self) -> tuple[LLMMessage, ...]:
        """The messages the history started with."""
        return self._initial_messages

    async def add_message(self, message: LLMMessage) -> None:
        """Append one message to the history."""
        self._messages.append(message)

    @abc.abstractmethod
    async def get_messages(self) -> list[LLMMessage]:
        """What the model is shown (a new list; changing it changes nothing here)."""

    async def clear(self) -> None:
        """Forget the whole history."""
        self._messages = []

    async def save_state(self) -> dict[str, Any]:
        """The whole history as JSON data (``{"messages": [...]}``)."""
        return {"messages": [message.to_dict() for message in self._messages]}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the history with :meth:`save_state` data."""
        messages = state.get("messages")
        if not isinstance(messages, list):
            raise StateError("a model context state needs a 'messages' list")
        try:
            self._messages = [load_llm_message(data) for data in messages]
        except (ConfigurationError, KeyError, TypeError) as exc:
            raise StateError(f"unreadable model context message: {exc}") from exc


class UnboundedChatCompletionContext(ChatCompletionContext):
    """Shows the model the whole history (the default)."""

    async def get_messages(self) -> list[LLMMessage]:
        return list(self._messages)


def _without_leading_results(messages: list[LLMMessage]) -> list[LLMMessage]:
    # Tool results whose calls were cut off would be rejected by providers.
    if messages and isinstance(messages[0], FunctionExecutionResultMessage):
        return messages[1:]
    return messages


def _positive(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigurationError(f"{what} must be a positive integer, got {value!r}")
    return value


class BufferedChatCompletionContext(ChatCompletionContext):
    """Shows the last ``buffer_size`` messages (without tool results whose calls fell off)."""

    def __init__(
        self, buffer_size: int, initial_messages: Sequence[LLMMessage] | None = None
    ) -> None:
        super().__init__(initial_messages)
        self._buffer_size = _positive(buffer_size, "buffer_size")

    @property
    def buffer_size(self) -> int:
        """How many of the latest messages the model sees."""
        return self._buffer_size

    async def get_messages(self) -> list[LLMMessage]:
        return _without_leading_results(self._messages[-self._buffer_size :])


class HeadAndTailChatCompletionContext(ChatCompletionContext):
    """Shows the first ``head_size`` and last ``tail_size`` messages with a note of how
    many were skipped between them."""

    def __init__(
        self,
        head_size: int,
        tail_size: int,
        initial_messages: Sequence[LLMMessage] | None = None,
    ) -> None:
        super().__init__(initial_messages)
        self._head_size = _positive(head_size, "head_size")
        self._tail_size = _positive(tail_size, "tail_size")

    @property
    def head_size(self) -> int:
        """How many of the first messages the model sees."""
        return self._head_size

    @property
    def tail_size(self) -> int:
        """How many of the latest messages the model sees."""
        return self._tail_size

    async def get_messages(self) -> list[LLMMessage]:
        skipped = len(self._messages) - self._head_size - self._tail_size
        if skipped <= 0:
            return list(self._messages)
        head = self._messages[: self._head_size]
        last = head[-1] if head else None
        if isinstance(last, AssistantMessage) and not isinstance(last.content, str):
            head = head[:-1]  # tool calls whose results are skipped
        tail = _without_leading_results(self._messages[-self._tail_size :])
        note = UserMessage(f"Skipped {skipped} messages.", "System")
        return [*head, note, *tail]


class TokenLimitedChatCompletionContext(ChatCompletionContext):
    """Shows as much of the history as fits ``token_limit`` tokens, counted by
    ``model_client.count_tokens``: messages are dropped from the middle outwards, so
    the start of the task and the latest exchange stay."""

    def __init__(
        self,
        model_client: ChatCompletionClient,
        *,
        token_limit: int | None = None,
        tool_schema: Sequence[ToolSchema] | None = None,
        initial_messages: Sequence[LLMMessage] | None = None,
    ) -> None:
        super().__init__(initial_messages)
        if not isinstance(model_client, ChatCompletionClient):
            raise ConfigurationError(
                "TokenLimitedChatCompletionContext needs a ChatCompletionClient to count tokens"
            )
        if token_limit is None:
            raise ConfigurationError(
                "TokenLimitedChatCompletionContext needs a token_limit: model clients here "
                "do not know their model's context window"
            )
        self._model_client = model_client
        self._token_limit = _positive(token_limit, "token_limit")
        self._tool_schema: tuple[ToolSchema, ...] = tuple(tool_schema or ())

    @property
    def model_client(self) -> ChatCompletionClient:
        """The client whose ``count_tokens`` measures the history."""
        return self._model_client

    @property
    def token_limit(self) -> int:
        """The most tokens the shown messages may take."""
        return self._token_limit

    @property
    def tool_schema(self) -> list[ToolSchema]:
        """Tools counted alongside the messages."""
        return list(self._tool_schema)

    async def get_messages(self) -> list[LLMMessage]:
        messages = list(self._messages)
        count = self._model_client.count_tokens
        while messages and count(messages, tools=self._tool_schema) > self._token_limit:
            messages.pop(len(messages) // 2)
        return _without_leading_results(messages)
