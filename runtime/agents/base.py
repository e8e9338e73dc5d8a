"""The contract every team participant fulfils."""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError
from runtime.messages import BaseAgentEvent, BaseChatMessage, BaseMessage, TaskResult, TextMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """One agent turn: the chat message it says and the events it produced on the way."""

    chat_message: BaseChatMessage
    inner_messages: Sequence[BaseAgentEvent | BaseChatMessage] = field(default_factory=tuple)


def check_name(name: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ConfigurationError(
            f"agent name {name!r} must be a Python identifier (letters, digits, underscores)"
        )
    return name


class BaseChatAgent(abc.ABC):
    """A participant: receives only *new* chat messages each call and keeps its own history.

    Subclasses implement :meth:`on_messages_stream` (yield events, then one
    :class:`Response` last), :meth:`on_reset`, and state if they have any.
    """

    component_provider: str = ""

    def __init__(self, name: str, description: str) -> None:
        self._name = check_name(name)
        self._description = description

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    @abc.abstractmethod
    def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]: ...

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise AssertionError("on_messages_stream ended without a Response")

    @abc.abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None: ...

    async def save_state(self) -> dict[str, Any]:
        return {"type": "BaseState", "version": "1.0.0"}

    async def load_state(self, state: Mapping[str, Any]) -> None:
        return None

    async def close(self) -> None:
        return None

    async def run(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> TaskResult:
        """Run this agent alone on a task, as AutoGen's ``BaseChatAgent.run``."""
        messages = normalize_task(task)
        response = await self.on_messages(messages, cancellation_token or CancellationToken())
        return TaskResult([*messages, *response.inner_messages, response.chat_message])


def normalize_task(
    task: str | BaseChatMessage | Sequence[BaseChatMessage] | None,
) -> list[BaseChatMessage]:
    """A task as a list of chat messages; a string becomes a TextMessage from ``user``."""
    if task is None:
        return []
    if isinstance(task, str):
        return [TextMessage(content=task, source="user")]
    if isinstance(task, BaseChatMessage):
        return [task]
    messages = list(task)
    if not messages:
        raise ConfigurationError("task is an empty list; give a string or chat messages")
    for message in messages:
        if not isinstance(message, BaseChatMessage):
            raise ConfigurationError(
                f"task items must be chat messages, got {type(message).__name__}"
            )
    return messages
