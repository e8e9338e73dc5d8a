"""Messages (what agents say to each other) and events (what observers see).

Two families of frozen dataclasses, each class with a ``type`` literal. ``dump()`` gives
plain JSON data; :func:`load_message` is the one factory that turns it back, losslessly.
Agents only ever *receive* chat messages; events go to the run's stream and sink.
"""

from __future__ import annotations

import builtins
import os
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from runtime.errors import ConfigurationError
from runtime.images import Image
from runtime.llm import (
    FunctionCall,
    FunctionExecutionResult,
    LLMMessage,
    RequestUsage,
    UserMessage,
    load_llm_message,
)
from runtime.memory import MemoryContent

#: draws message ids: seeded from the system's randomness, and again in a forked child
_ids = random.Random()
os.register_at_fork(after_in_child=_ids.seed)


def new_id() -> str:
    """A new random (version 4) UUID as text, for a message or an event.

    Ids name messages, they guard nothing, so they come from a generator seeded from the
    system's randomness rather than from a system call each: ``uuid.uuid4()`` hands the
    interpreter lock over while it waits for the kernel, and in a process whose other
    threads are busy (a run host writing to its database) it waited for it to come back.
    """
    text = f"{_ids.getrandbits(128) & ~(0xF000 << 64 | 0xC << 60) | 0x4000 << 64 | 0x8 << 60:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_created_at(moment: datetime) -> str:
    """A message's time as its dump writes it: ISO 8601, ``Z`` for UTC."""
    return moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseMessage:
    """Fields every message and event carries."""

    type: ClassVar[str]
    source: str
    id: str = field(default_factory=new_id)
    created_at: datetime = field(default_factory=utc_now)
    models_usage: RequestUsage | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)

    def to_text(self) -> str:
        """A human-readable rendering, used by conditions and consoles."""
        return str(getattr(self, "content", ""))

    def dump(self) -> dict[str, Any]:
        """JSON-ready data; :func:`load_message` restores an equal object."""
        data: dict[str, Any] = {
            "type": self.type,
            "id": self.id,
            "source": self.source,
            "created_at": format_created_at(self.created_at),
            "models_usage": self.models_usage.to_dict() if self.models_usage else None,
            "metadata": dict(self.metadata),
        }
        data.update(self._dump_fields())
        return data

    def _dump_fields(self) -> dict[str, Any]:
        return {"content": getattr(self, "content", "")}

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"content": data.get("content", "")}


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseChatMessage(BaseMessage):
    """A message one agent says to the others; the only thing agents receive."""

    content: str

    def to_model_text(self) -> str:
        return self.content

    def to_model_message(self) -> UserMessage:
        return UserMessage(self.content, self.source)


@dataclass(frozen=True, slots=True, kw_only=True)
class BaseAgentEvent(BaseMessage):
    """Something observers see; never delivered to other agents."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage(BaseChatMessage):
    type: ClassVar[Literal["TextMessage"]] = "TextMessage"


@dataclass(frozen=True, slots=True, kw_only=True)
class StopMessage(BaseChatMessage):
    type: ClassVar[Literal["StopMessage"]] = "StopMessage"


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffMessage(BaseChatMessage):
    """Hands the conversation to ``target``; ``context`` carries the sender's tool work."""

    type: ClassVar[Literal["HandoffMessage"]] = "HandoffMessage"
    target: str
    context: Sequence[LLMMessage] = ()

    def _dump_fields(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "target": self.target,
            "context": [m.to_dict() for m in self.context],
        }

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "content": data.get("content", ""),
            "target": data["target"],
            "context": tuple(load_llm_message(m) for m in data.get("context") or ()),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallSummaryMessage(BaseChatMessage):
    """The text an agent says after running tools without reflecting on them."""

    type: ClassVar[Literal["ToolCallSummaryMessage"]] = "ToolCallSummaryMessage"
    tool_calls: Sequence[FunctionCall] = ()
    results: Sequence[FunctionExecutionResult] = ()

    def _dump_fields(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "tool_calls": [c.to_dict() for c in self.tool_calls],
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "content": data.get("content", ""),
            "tool_calls": tuple(FunctionCall.from_dict(c) for c in data.get("tool_calls") or ()),
            "results": tuple(
                FunctionExecutionResult.from_dict(r) for r in data.get("results") or ()
            ),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiModalMessage(BaseChatMessage):
    """Text and images (:class:`~runtime.Image`) in one message, for vision models."""

    type: ClassVar[Literal["MultiModalMessage"]] = "MultiModalMessage"
    content: Sequence[str | Image]  # type: ignore[assignment]  # parts, not one text

    def __post_init__(self) -> None:
        object.__setattr__(self, "content", tuple(self.content))

    def to_model_text(self, image_placeholder: str | None = "[image]") -> str:
        """The text, with each image as `` [image]`` (or its base64 when no placeholder)."""
        text = ""
        for part in self.content:
            if isinstance(part, str):
                text += part
            elif image_placeholder is not None:
                text += f" {image_placeholder}"
            else:
                text += f" {part.to_base64()}"
        return text

    def to_text(self) -> str:
        return "\n".join(part if isinstance(part, str) else "<image>" for part in self.content)

    def to_model_message(self) -> UserMessage:
        return UserMessage(list(self.content), self.source)

    @property
    def images(self) -> list[Image]:
        """The images of the message, in order."""
        return [part for part in self.content if isinstance(part, Image)]

    def _dump_fields(self) -> dict[str, Any]:
        parts = [part if isinstance(part, str) else part.to_dict() for part in self.content]
        return {"content": parts}

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        parts = data.get("content")
        if not isinstance(parts, list):
            raise ValueError("a MultiModalMessage's content is a list of text and images")
        return {
            "content": tuple(
                part if isinstance(part, str) else Image.from_dict(part) for part in parts
            )
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class StructuredMessage(BaseChatMessage):
    """A chat message whose content is a pydantic model instance.

    Use it subscripted, as in AutoGen: ``StructuredMessage[Weather](content=Weather(...),
    source="a")``; the subscripted class's ``type`` is ``"StructuredMessage[Weather]"``.
    The model reads it as ``format_string.format(**fields)`` when a format is given, else
    as the content's JSON. Loading one from JSON needs its subscripted class to exist in
    the process (teams list theirs through ``custom_message_types``).
    """

    type: ClassVar[str] = "StructuredMessage"
    content_type: ClassVar[Any] = None
    content: Any
    format_string: str | None = None

    def __class_getitem__(cls, content_type: Any) -> builtins.type[StructuredMessage]:
        return structured_message_type(content_type)

    def to_model_text(self) -> str:
        if self.format_string is not None:
            return self.format_string.format(**self.content.model_dump())
        return str(self.content.model_dump_json())

    def to_text(self) -> str:
        return self.to_model_text()

    def to_model_message(self) -> UserMessage:
        return UserMessage(self.to_model_text(), self.source)

    def _dump_fields(self) -> dict[str, Any]:
        data: dict[str, Any] = {"content": self.content.model_dump(mode="json")}
        if self.format_string is not None:
            data["format_string"] = self.format_string
        return data

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        if cls.content_type is None:
            raise ValueError("load a subscripted StructuredMessage[...], not the bare class")
        return {
            "content": cls.content_type.model_validate(data["content"]),
            "format_string": data.get("format_string"),
        }


_STRUCTURED_TYPES: dict[Any, type[StructuredMessage]] = {}


def structured_message_type(content_type: Any) -> type[StructuredMessage]:
    """The ``StructuredMessage[content_type]`` class (one per content type)."""
    known = _STRUCTURED_TYPES.get(content_type)
    if known is not None:
        return known
    if not (isinstance(content_type, type) and hasattr(content_type, "model_validate_json")):
        raise ConfigurationError(
            f"StructuredMessage content must be a pydantic model class, got {content_type!r}"
        )
    name = f"StructuredMessage[{content_type.__name__}]"
    cls = type(
        name,
        (StructuredMessage,),
        {"__slots__": (), "type": name, "content_type": content_type, "__module__": __name__},
    )
    _STRUCTURED_TYPES[content_type] = cls
    return cls


def is_structured_type(cls: object) -> bool:
    """Whether ``cls`` is a subscripted ``StructuredMessage[...]`` class."""
    return (
        isinstance(cls, type)
        and issubclass(cls, StructuredMessage)
        and cls.content_type is not None
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallRequestEvent(BaseAgentEvent):
    type: ClassVar[Literal["ToolCallRequestEvent"]] = "ToolCallRequestEvent"
    content: Sequence[FunctionCall]

    def to_text(self) -> str:
        return str([c.to_dict() for c in self.content])

    def _dump_fields(self) -> dict[str, Any]:
        return {"content": [c.to_dict() for c in self.content]}

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"content": tuple(FunctionCall.from_dict(c) for c in data["content"])}


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolCallExecutionEvent(BaseAgentEvent):
    """Results of executed tool calls; ``durations`` holds the seconds each call took, in
    the order of ``content`` (empty when not measured)."""

    type: ClassVar[Literal["ToolCallExecutionEvent"]] = "ToolCallExecutionEvent"
    content: Sequence[FunctionExecutionResult]
    durations: Sequence[float] = ()

    def to_text(self) -> str:
        return str([r.to_dict() for r in self.content])

    def _dump_fields(self) -> dict[str, Any]:
        return {
            "content": [r.to_dict() for r in self.content],
            "durations": list(self.durations),
        }

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "content": tuple(FunctionExecutionResult.from_dict(r) for r in data["content"]),
            "durations": tuple(float(s) for s in data.get("durations") or ()),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelClientStreamingChunkEvent(BaseAgentEvent):
    """A piece of a reply while it streams; ``full_message_id`` is the final message's id."""

    type: ClassVar[Literal["ModelClientStreamingChunkEvent"]] = "ModelClientStreamingChunkEvent"
    content: str
    full_message_id: str | None = None

    def _dump_fields(self) -> dict[str, Any]:
        return {"content": self.content, "full_message_id": self.full_message_id}

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"content": data.get("content", ""), "full_message_id": data.get("full_message_id")}


@dataclass(frozen=True, slots=True, kw_only=True)
class ThoughtEvent(BaseAgentEvent):
    """Reasoning text a model gave alongside its answer or tool calls."""

    type: ClassVar[Literal["ThoughtEvent"]] = "ThoughtEvent"
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectSpeakerEvent(BaseAgentEvent):
    type: ClassVar[Literal["SelectSpeakerEvent"]] = "SelectSpeakerEvent"
    content: Sequence[str]

    def to_text(self) -> str:
        return ", ".join(self.content)

    def _dump_fields(self) -> dict[str, Any]:
        return {"content": list(self.content)}

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"content": tuple(data["content"])}


@dataclass(frozen=True, slots=True, kw_only=True)
class MemoryQueryEvent(BaseAgentEvent):
    """What an agent's memories recalled into its context before a model call."""

    type: ClassVar[Literal["MemoryQueryEvent"]] = "MemoryQueryEvent"
    content: Sequence[MemoryContent]

    def to_text(self) -> str:
        return str([item.to_dict() for item in self.content])

    def _dump_fields(self) -> dict[str, Any]:
        return {"content": [item.to_dict() for item in self.content]}

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {"content": tuple(MemoryContent.from_dict(item) for item in data["content"])}


@dataclass(frozen=True, slots=True, kw_only=True)
class SelectorEvent(BaseAgentEvent):
    """The whole answer of a selector model that streamed its choice of speaker."""

    type: ClassVar[Literal["SelectorEvent"]] = "SelectorEvent"
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UserInputRequestedEvent(BaseAgentEvent):
    """The human seat is about to wait for an answer to ``request_id``.

    ``asked_by`` and ``question`` name and quote the message the human answers (the last
    one the seat received; empty when there was none), so an observer can show what the
    answer is for.
    """

    type: ClassVar[Literal["UserInputRequestedEvent"]] = "UserInputRequestedEvent"
    request_id: str
    content: str = ""
    asked_by: str = ""
    question: str = ""

    def _dump_fields(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "request_id": self.request_id,
            "asked_by": self.asked_by,
            "question": self.question,
        }

    @classmethod
    def _load_fields(cls, data: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "content": data.get("content", ""),
            "request_id": data["request_id"],
            "asked_by": str(data.get("asked_by") or ""),
            "question": str(data.get("question") or ""),
        }


MESSAGE_TYPES: dict[str, type[BaseMessage]] = {
    cls.type: cls
    for cls in (
        TextMessage,
        MultiModalMessage,
        StopMessage,
        HandoffMessage,
        ToolCallSummaryMessage,
        ToolCallRequestEvent,
        ToolCallExecutionEvent,
        ModelClientStreamingChunkEvent,
        ThoughtEvent,
        SelectSpeakerEvent,
        SelectorEvent,
        MemoryQueryEvent,
        UserInputRequestedEvent,
    )
}


def _parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if not value:
        return utc_now()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def find_message_type(
    kind: object, types: Mapping[str, type[BaseMessage]] | None = None
) -> type[BaseMessage] | None:
    """The class of a message ``type`` string: ``types`` first, then the built-in ones,
    then the ``StructuredMessage[...]`` classes made in this process."""
    if not isinstance(kind, str):
        return None
    if types and kind in types:
        return types[kind]
    cls = MESSAGE_TYPES.get(kind)
    if cls is None and kind.startswith("StructuredMessage["):
        matches = [c for c in _STRUCTURED_TYPES.values() if c.type == kind]
        cls = matches[0] if len(matches) == 1 else None
    return cls


def load_message(
    data: Mapping[str, Any], types: Mapping[str, type[BaseMessage]] | None = None
) -> BaseMessage:
    """Rebuild any message or event from :meth:`BaseMessage.dump` data (or AutoGen's).

    ``types`` adds message classes by their ``type`` (a team's ``custom_message_types``).
    """
    kind = data.get("type") if isinstance(data, Mapping) else None
    cls = find_message_type(kind, types)
    if cls is None:
        raise ConfigurationError(
            f"unknown message type {kind!r}; expected one of {sorted(MESSAGE_TYPES)} "
            "or a registered custom type"
        )
    usage = data.get("models_usage")
    try:
        return cls(
            source=str(data["source"]),
            id=str(data.get("id") or new_id()),
            created_at=_parse_time(data.get("created_at")),
            models_usage=RequestUsage.from_dict(usage) if usage else None,
            metadata=dict(data.get("metadata") or {}),
            **cls._load_fields(data),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"malformed {kind} message: {exc}") from exc


@dataclass(frozen=True, slots=True)
class TaskResult:
    """What a run returns: every message and event (chunks excluded) and why it stopped."""

    messages: Sequence[BaseMessage]
    stop_reason: str | None = None

    def dump(self) -> dict[str, Any]:
        return {
            "type": "TaskResult",
            "messages": [m.dump() for m in self.messages],
            "stop_reason": self.stop_reason,
        }

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> TaskResult:
        return cls([load_message(m) for m in data["messages"]], data.get("stop_reason"))
