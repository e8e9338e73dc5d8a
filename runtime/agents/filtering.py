"""An agent wrapper that hands its agent only some of the messages it receives."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from runtime.agents.base import BaseChatAgent, Response
from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError
from runtime.messages import BaseChatMessage, BaseMessage

__all__ = ["MessageFilterAgent", "MessageFilterConfig", "PerSourceFilter"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PerSourceFilter:
    """Keep the messages from ``source``: all of them, or the first or last ``count``."""

    source: str
    position: Literal["first", "last"] | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.position not in (None, "first", "last"):
            raise ConfigurationError(
                f"filter position must be 'first', 'last' or None, got {self.position!r}"
            )
        if self.count is not None and (isinstance(self.count, bool) or self.count < 1):
            raise ConfigurationError(f"filter count must be a positive integer, got {self.count}")

    def select(self, messages: Sequence[BaseChatMessage]) -> list[BaseChatMessage]:
        kept = [message for message in messages if message.source == self.source]
        if self.count and self.position == "first":
            return kept[: self.count]
        if self.count and self.position == "last":
            return kept[-self.count :]
        return kept

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source}
        if self.position is not None:
            data["position"] = self.position
        if self.count is not None:
            data["count"] = self.count
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFilterConfig:
    """The filters of a :class:`MessageFilterAgent`, applied in this order."""

    per_source: Sequence[PerSourceFilter] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "per_source", tuple(self.per_source))

    def to_dict(self) -> dict[str, Any]:
        return {"per_source": [item.to_dict() for item in self.per_source]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageFilterConfig:
        items = data.get("per_source") or ()
        if not isinstance(items, list | tuple) or not all(
            isinstance(item, Mapping) and isinstance(item.get("source"), str) for item in items
        ):
            raise ConfigurationError("per_source must be a list of objects with a 'source'")
        return cls(
            per_source=tuple(
                PerSourceFilter(
                    source=item["source"], position=item.get("position"), count=item.get("count")
                )
                for item in items
            )
        )


class MessageFilterAgent(BaseChatAgent):
    """Wraps an agent and passes it only the messages ``filter`` keeps.

    Messages are grouped by filter, in the filter's order (AutoGen's behaviour), so a
    graph node can see, say, only the task and the latest critique. Everything else
    (replies, reset, state) is the wrapped agent's.
    """

    component_provider = "autogen_agentchat.agents.MessageFilterAgent"

    def __init__(
        self, name: str, wrapped_agent: BaseChatAgent, filter: MessageFilterConfig
    ) -> None:
        if not isinstance(wrapped_agent, BaseChatAgent):
            raise ConfigurationError(f"agent {name!r}: wrapped_agent must be an agent")
        if not isinstance(filter, MessageFilterConfig):
            raise ConfigurationError(f"agent {name!r}: filter must be a MessageFilterConfig")
        super().__init__(name, f"{wrapped_agent.description} (with message filtering)")
        self._wrapped_agent = wrapped_agent
        self._filter = filter

    @property
    def wrapped_agent(self) -> BaseChatAgent:
        """The agent that answers."""
        return self._wrapped_agent

    @property
    def filter(self) -> MessageFilterConfig:
        """Which messages the wrapped agent gets."""
        return self._filter

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:  # type: ignore[override]
        return self._wrapped_agent.produced_message_types

    def apply_filter(self, messages: Sequence[BaseChatMessage]) -> list[BaseChatMessage]:
        """The messages the wrapped agent would get out of ``messages``."""
        kept: list[BaseChatMessage] = []
        for rule in self._filter.per_source:
            kept.extend(rule.select(messages))
        return kept

    async def on_messages(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> Response:
        return await self._wrapped_agent.on_messages(
            self.apply_filter(messages), cancellation_token
        )

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        stream = self._wrapped_agent.on_messages_stream(
            self.apply_filter(messages), cancellation_token
        )
        async for item in stream:
            yield item

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        await self._wrapped_agent.on_reset(cancellation_token)

    async def on_pause(self, cancellation_token: CancellationToken) -> None:
        await self._wrapped_agent.on_pause(cancellation_token)

    async def on_resume(self, cancellation_token: CancellationToken) -> None:
        await self._wrapped_agent.on_resume(cancellation_token)

    async def save_state(self) -> dict[str, Any]:
        """The wrapped agent's state (AutoGen saves none for this wrapper)."""
        return await self._wrapped_agent.save_state()

    async def load_state(self, state: Mapping[str, Any]) -> None:
        await self._wrapped_agent.load_state(state)

    async def close(self) -> None:
        await self._wrapped_agent.close()
