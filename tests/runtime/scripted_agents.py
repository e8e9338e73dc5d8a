"""Small participants with scripted behaviour, for team tests that need no model client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runtime import (
    BaseChatAgent,
    BaseChatMessage,
    BaseMessage,
    CancellationToken,
    HandoffMessage,
    RequestUsage,
    Response,
    StopMessage,
    TextMessage,
    ThoughtEvent,
)


@dataclass(frozen=True)
class Handoff:
    """A scripted reply that hands the conversation to ``target``."""

    target: str


@dataclass(frozen=True)
class Sleep:
    """A scripted reply that first waits ``seconds`` (ignoring the token), then says ``text``."""

    seconds: float
    text: str = "late"


@dataclass(frozen=True)
class Stop:
    """A scripted reply that is a StopMessage."""

    text: str = "stop"


class ScriptedAgent(BaseChatAgent):
    """Says its scripted replies in order, then ``"<name> <turn>"``.

    A reply may be a string, :class:`Handoff`, :class:`Sleep`, :class:`Stop`, or an
    exception instance to raise. ``heard`` records the contents of every delivery;
    state mimics an LLM context so the team's state compaction is exercised.
    """

    def __init__(
        self,
        name: str,
        replies: Sequence[object] = (),
        *,
        description: str = "A scripted test agent.",
        thought: bool = False,
        usage: RequestUsage | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name, description)
        self.replies = list(replies)
        self.thought = thought
        self.usage = usage
        self.metadata = dict(metadata or {})
        self.turns = 0
        self.heard: list[list[str]] = []
        self.context: list[dict[str, Any]] = []
        self.resets = 0
        self.turn_started = asyncio.Event()

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        self.turn_started.set()
        self.heard.append([m.content for m in messages])
        for message in messages:
            self.context.append(
                {"type": "UserMessage", "content": message.content, "source": message.source}
            )
        reply = self.replies[self.turns] if self.turns < len(self.replies) else None
        self.turns += 1
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, Sleep):
            await asyncio.sleep(reply.seconds)
            reply = reply.text
        inner: list[BaseMessage] = []
        if self.thought:
            event = ThoughtEvent(content=f"{self.name} thinks", source=self.name)
            inner.append(event)
            yield event
        chat: BaseChatMessage
        if isinstance(reply, Handoff):
            chat = HandoffMessage(
                content=f"over to {reply.target}", target=reply.target, source=self.name
            )
        elif isinstance(reply, Stop):
            chat = StopMessage(content=reply.text, source=self.name)
        else:
            text = reply if isinstance(reply, str) else f"{self.name} {self.turns}"
            chat = TextMessage(
                content=text, source=self.name, models_usage=self.usage, metadata=self.metadata
            )
        self.context.append(
            {"type": "AssistantMessage", "content": chat.content, "source": self.name}
        )
        yield Response(chat_message=chat, inner_messages=inner)

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        self.turns = 0
        self.heard.clear()
        self.context.clear()
        self.resets += 1

    async def save_state(self) -> dict[str, Any]:
        return {
            "type": "ScriptedAgentState",
            "turns": self.turns,
            "llm_context": {"messages": list(self.context)},
        }

    async def load_state(self, state: Mapping[str, Any]) -> None:
        self.turns = int(state["turns"])
        self.context = list(state["llm_context"]["messages"])


class BlockingAgent(BaseChatAgent):
    """Waits until cancelled; ``started`` is set once its turn began."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "Never answers.")
        self.started = asyncio.Event()
        self.was_cancelled = False

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.was_cancelled = True
            raise
        yield Response(chat_message=TextMessage(content="never", source=self.name))

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        return None


class SilentAgent(BaseChatAgent):
    """Ends its turn without a Response (a broken participant)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "Says nothing at all.")

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        for _ in ():
            yield _

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        return None
