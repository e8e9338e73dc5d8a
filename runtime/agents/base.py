"""The contract every team participant fulfils."""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from runtime.cancellation import CancellationToken
from runtime.components.component import Component
from runtime.errors import ConfigurationError, TeamError
from runtime.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    BaseMessage,
    ModelClientStreamingChunkEvent,
    TaskResult,
    TextMessage,
)


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


class BaseChatAgent(Component, abc.ABC):
    """A participant: receives only *new* chat messages each call and keeps its own history.

    Subclasses implement :meth:`on_messages` (return a :class:`Response`, as AutoGen's
    custom agents do) or :meth:`on_messages_stream` (yield events, then one Response
    last), or both; each defaults to the other. They also implement :meth:`on_reset`,
    and state if they have any. ``produced_message_types`` lists the chat message
    classes the agent may say (teams register structured ones from it).
    """

    component_provider: str = ""
    produced_message_types: Sequence[type[BaseChatMessage]] = (TextMessage,)

    def __init__(self, name: str, description: str) -> None:
        cls = type(self)
        if (
            cls.on_messages is BaseChatAgent.on_messages
            and cls.on_messages_stream is BaseChatAgent.on_messages_stream
        ):
            raise TypeError(
                f"{cls.__name__} must define on_messages or on_messages_stream "
                "(AutoGen-style agents define on_messages)"
            )
        self._name = check_name(name)
        self._description = description

    @property
    def name(self) -> str:
        return self._name

    @property
    def description(self) -> str:
        return self._description

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        """The turn as a stream: by default :meth:`on_messages`, then its inner items and
        the Response."""
        response = await self.on_messages(messages, cancellation_token)
        for item in response.inner_messages:
            yield item
        yield response

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        """The turn as one Response: by default the last item of :meth:`on_messages_stream`."""
        async for item in self.on_messages_stream(messages, cancellation_token):
            if isinstance(item, Response):
                return item
        raise TeamError(f"agent {self.name!r}: on_messages_stream ended without a Response")

    @abc.abstractmethod
    async def on_reset(self, cancellation_token: CancellationToken) -> None: ...

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        """The team was paused; by default nothing happens."""
        return None

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        """The team was resumed; by default nothing happens."""
        return None

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
        output_task_messages: bool = True,
    ) -> TaskResult:
        """Run this agent alone on a task, as AutoGen's ``BaseChatAgent.run``."""
        messages = normalize_task(task)
        response = await self.on_messages(messages, cancellation_token or CancellationToken())
        said = [*response.inner_messages, response.chat_message]
        return TaskResult([*messages, *said] if output_task_messages else said)

    async def run_stream(
        self,
        *,
        task: str | BaseChatMessage | Sequence[BaseChatMessage] | None = None,
        cancellation_token: CancellationToken | None = None,
        output_task_messages: bool = True,
    ) -> AsyncGenerator[BaseMessage | TaskResult, None]:
        """Like :meth:`run`, yielding the task messages and each item live, then the
        TaskResult (which leaves out streaming chunks)."""
        messages = normalize_task(task)
        collected: list[BaseMessage] = []
        if output_task_messages:
            for message in messages:
                collected.append(message)
                yield message
        token = cancellation_token or CancellationToken()
        async with aclosing(self.on_messages_stream(messages, token)) as stream:
            async for item in stream:
                if isinstance(item, Response):
                    collected.append(item.chat_message)
                    yield item.chat_message
                    break
                if not isinstance(item, ModelClientStreamingChunkEvent):
                    collected.append(item)
                yield item
            else:
                raise TeamError(f"agent {self.name!r}: the stream ended without a Response")
        yield TaskResult(collected)


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
