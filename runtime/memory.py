"""Memory: what an agent recalls into its model context before each answer.

The :class:`Memory` protocol is AutoGen's: ``add`` stores content, ``query`` finds what
is relevant, ``update_context`` puts what is relevant into a model context (as a system
message) and returns it, ``clear`` forgets everything. :class:`ListMemory` recalls all
it holds, in order; :class:`~runtime.SQLiteVectorMemory` recalls by meaning.
An agent built with ``memory=[...]`` asks each memory before every model call and emits
a :class:`~runtime.MemoryQueryEvent` with what was recalled.
"""

from __future__ import annotations

import abc
import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from runtime.cancellation import CancellationToken
from runtime.components.component import Component
from runtime.errors import ConfigurationError
from runtime.images import Image
from runtime.llm import SystemMessage
from runtime.model_context import ChatCompletionContext

__all__ = [
    "ListMemory",
    "Memory",
    "MemoryContent",
    "MemoryMimeType",
    "MemoryQueryResult",
    "UpdateContextResult",
]


class MemoryMimeType(enum.Enum):
    """What kind of content a memory entry holds."""

    TEXT = "text/plain"
    JSON = "application/json"
    MARKDOWN = "text/markdown"
    IMAGE = "image/*"
    BINARY = "application/octet-stream"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryContent:
    """One remembered item: text, JSON data or an image, with optional metadata."""

    content: str | dict[str, Any] | Image
    mime_type: MemoryMimeType | str = MemoryMimeType.TEXT
    metadata: Mapping[str, Any] | None = None

    @property
    def mime(self) -> str:
        """The media type as text."""
        kind = self.mime_type
        return kind.value if isinstance(kind, MemoryMimeType) else str(kind)

    def to_text(self) -> str:
        """How the content reads in a prompt."""
        if isinstance(self.content, dict):
            return json.dumps(self.content, ensure_ascii=False)
        return str(self.content)

    def to_dict(self) -> dict[str, Any]:
        content: Any = self.content
        if isinstance(content, Image):
            content = content.to_dict()
        data: dict[str, Any] = {"content": content, "mime_type": self.mime}
        if self.metadata is not None:
            data["metadata"] = dict(self.metadata)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MemoryContent:
        if "content" not in data:
            raise ConfigurationError("a memory entry needs 'content'")
        mime = str(data.get("mime_type") or MemoryMimeType.TEXT.value)
        content = data["content"]
        if mime.startswith("image/") and isinstance(content, Mapping):
            content = Image.from_dict(content)
        elif not isinstance(content, str | dict):
            raise ConfigurationError("memory content must be text, an object or an image")
        known = {kind.value: kind for kind in MemoryMimeType}
        metadata = data.get("metadata")
        return cls(
            content=content,
            mime_type=known.get(mime, mime),
            metadata=dict(metadata) if isinstance(metadata, Mapping) else None,
        )


@dataclass(frozen=True, slots=True)
class MemoryQueryResult:
    """What a query found, most relevant first."""

    results: Sequence[MemoryContent] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class UpdateContextResult:
    """What ``update_context`` put into the model context."""

    memories: MemoryQueryResult


class Memory(Component, abc.ABC):
    """A store an agent recalls from before each answer (see the module docstring)."""

    @abc.abstractmethod
    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        """Add what is relevant to the context's latest messages to it, and return that."""

    @abc.abstractmethod
    async def query(
        self,
        query: str | MemoryContent,
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        """What is relevant to ``query``."""

    @abc.abstractmethod
    async def add(
        self, content: MemoryContent, cancellation_token: CancellationToken | None = None
    ) -> None:
        """Remember ``content``."""

    @abc.abstractmethod
    async def clear(self) -> None:
        """Forget everything."""

    async def close(self) -> None:
        """Release what the memory holds open."""
        return None


def recall_message(header: str, contents: Sequence[MemoryContent]) -> SystemMessage:
    """The system message a memory adds: a header and the numbered entries (each written
    with ``str()``, as AutoGen does)."""
    lines = [f"{index}. {item.content}" for index, item in enumerate(contents, 1)]
    return SystemMessage(f"\n{header}\n" + "\n".join(lines) + "\n")


class ListMemory(Memory):
    """Remembers entries in a list and recalls all of them, oldest first."""

    def __init__(
        self, name: str | None = None, memory_contents: Sequence[MemoryContent] | None = None
    ) -> None:
        self._name = name or "default_list_memory"
        self._contents: list[MemoryContent] = list(memory_contents or ())

    @property
    def name(self) -> str:
        return self._name

    @property
    def content(self) -> list[MemoryContent]:
        """Every entry, oldest first."""
        return list(self._contents)

    async def update_context(self, model_context: ChatCompletionContext) -> UpdateContextResult:
        if not self._contents:
            return UpdateContextResult(MemoryQueryResult())
        header = "Relevant memory content (in chronological order):"
        await model_context.add_message(recall_message(header, self._contents))
        return UpdateContextResult(MemoryQueryResult(tuple(self._contents)))

    async def query(
        self,
        query: str | MemoryContent = "",
        cancellation_token: CancellationToken | None = None,
        **kwargs: Any,
    ) -> MemoryQueryResult:
        return MemoryQueryResult(tuple(self._contents))

    async def add(
        self, content: MemoryContent, cancellation_token: CancellationToken | None = None
    ) -> None:
        self._contents.append(content)

    async def clear(self) -> None:
        self._contents = []
