"""Conditions that stop a run when one message or event matches: a text, a source, a
handoff target, a stop message, an executed tool."""

from __future__ import annotations

import abc
from collections.abc import Sequence

from runtime.conditions.base import TerminationCondition
from runtime.messages import (
    BaseMessage,
    HandoffMessage,
    StopMessage,
    TextMessage,
    ToolCallExecutionEvent,
)

__all__ = [
    "FunctionCallTermination",
    "HandoffTermination",
    "SourceMatchTermination",
    "StopMessageTermination",
    "TextMentionTermination",
    "TextMessageTermination",
]


class _MessageMatch(TerminationCondition, abc.ABC):
    """Fires on the first message of a delta for which :meth:`_match` gives a reason."""

    def _check(self, messages: Sequence[BaseMessage]) -> str | None:
        for message in messages:
            reason = self._match(message)
            if reason is not None:
                return reason
        return None

    @abc.abstractmethod
    def _match(self, message: BaseMessage) -> str | None:
        """The stop reason if ``message`` ends the run, else None."""


class TextMentionTermination(_MessageMatch):
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

    def _match(self, message: BaseMessage) -> str | None:
        if self._sources is not None and message.source not in self._sources:
            return None
        return f"Text '{self._text}' mentioned" if self._text in message.to_text() else None


class StopMessageTermination(_MessageMatch):
    """Stops when any agent says a :class:`StopMessage`."""

    component_provider = "autogen_agentchat.conditions.StopMessageTermination"

    def _match(self, message: BaseMessage) -> str | None:
        return "Stop message received" if isinstance(message, StopMessage) else None


class HandoffTermination(_MessageMatch):
    """Stops when an agent hands off to ``target`` (typically ``"user"``)."""

    component_provider = "autogen_agentchat.conditions.HandoffTermination"

    def __init__(self, target: str) -> None:
        super().__init__()
        self._target = target

    @property
    def target(self) -> str:
        return self._target

    def _match(self, message: BaseMessage) -> str | None:
        if isinstance(message, HandoffMessage) and message.target == self._target:
            return f"Handoff to {self._target} from {message.source} detected."
        return None


class SourceMatchTermination(_MessageMatch):
    """Stops when any message or event comes from one of ``sources``."""

    component_provider = "autogen_agentchat.conditions.SourceMatchTermination"

    def __init__(self, sources: Sequence[str]) -> None:
        super().__init__()
        self._sources = tuple(sources)

    @property
    def sources(self) -> tuple[str, ...]:
        return self._sources

    def _match(self, message: BaseMessage) -> str | None:
        return f"'{message.source}' answered" if message.source in self._sources else None


class TextMessageTermination(_MessageMatch):
    """Stops on a :class:`TextMessage` (from ``source`` only, if given)."""

    component_provider = "autogen_agentchat.conditions.TextMessageTermination"

    def __init__(self, source: str | None = None) -> None:
        super().__init__()
        self._source = source

    @property
    def source(self) -> str | None:
        return self._source

    def _match(self, message: BaseMessage) -> str | None:
        if isinstance(message, TextMessage) and self._source in (None, message.source):
            return f"Text message received from '{message.source}'"
        return None


class FunctionCallTermination(_MessageMatch):
    """Stops once a tool called ``function_name`` has been executed."""

    component_provider = "autogen_agentchat.conditions.FunctionCallTermination"

    def __init__(self, function_name: str) -> None:
        super().__init__()
        self._function_name = function_name

    @property
    def function_name(self) -> str:
        return self._function_name

    def _match(self, message: BaseMessage) -> str | None:
        if isinstance(message, ToolCallExecutionEvent) and any(
            result.name == self._function_name for result in message.content
        ):
            return f"Function '{self._function_name}' was executed."
        return None
