"""What a model client sees and returns: LLM messages, function calls, usage and results.

These mirror ``autogen_core.models`` so AutoGen state and component files map one to one.
All are frozen dataclasses with ``to_dict()`` / ``from_dict()`` for lossless JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

from runtime.errors import ConfigurationError
from runtime.images import Image

FinishReason = Literal["stop", "length", "function_calls", "content_filter", "unknown"]


@dataclass(frozen=True, slots=True)
class FunctionCall:
    """One tool call a model asked for; ``arguments`` is JSON text as the model wrote it."""

    id: str
    arguments: str
    name: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "arguments": self.arguments, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FunctionCall:
        return cls(id=str(data["id"]), arguments=str(data["arguments"]), name=str(data["name"]))


@dataclass(frozen=True, slots=True, kw_only=True)
class FunctionExecutionResult:
    """The outcome of one tool call, matched to its request by ``call_id``."""

    content: str
    name: str
    call_id: str
    is_error: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "name": self.name,
            "call_id": self.call_id,
            "is_error": self.is_error,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FunctionExecutionResult:
        return cls(
            content=str(data["content"]),
            name=str(data.get("name", "")),
            call_id=str(data["call_id"]),
            is_error=bool(data.get("is_error") or False),
        )


@dataclass(frozen=True, slots=True)
class RequestUsage:
    """Tokens one model call (or a sum of calls) used."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: RequestUsage) -> RequestUsage:
        return RequestUsage(
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def to_dict(self) -> dict[str, int]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RequestUsage:
        return cls(int(data.get("prompt_tokens", 0)), int(data.get("completion_tokens", 0)))


@dataclass(frozen=True, slots=True)
class SystemMessage:
    content: str
    type: Literal["SystemMessage"] = "SystemMessage"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "content": self.content}


@dataclass(frozen=True, slots=True)
class UserMessage:
    """What someone other than the model said: text, or text and images."""

    content: str | list[str | Image]
    source: str
    type: Literal["UserMessage"] = "UserMessage"

    def to_dict(self) -> dict[str, Any]:
        content = self.content
        if isinstance(content, str):
            return {"type": self.type, "content": content, "source": self.source}
        parts = [part if isinstance(part, str) else part.to_dict() for part in content]
        return {"type": self.type, "content": parts, "source": self.source}


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantMessage:
    content: str | list[FunctionCall]
    source: str
    thought: str | None = None
    type: Literal["AssistantMessage"] = "AssistantMessage"

    def to_dict(self) -> dict[str, Any]:
        content: Any = self.content
        if not isinstance(content, str):
            content = [call.to_dict() for call in content]
        data: dict[str, Any] = {"type": self.type, "content": content, "source": self.source}
        if self.thought is not None:
            data["thought"] = self.thought
        return data


@dataclass(frozen=True, slots=True)
class FunctionExecutionResultMessage:
    content: list[FunctionExecutionResult]
    type: Literal["FunctionExecutionResultMessage"] = "FunctionExecutionResultMessage"

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "content": [r.to_dict() for r in self.content]}


LLMMessage = SystemMessage | UserMessage | AssistantMessage | FunctionExecutionResultMessage


def load_llm_message(data: Mapping[str, Any]) -> LLMMessage:
    """Rebuild an LLM message from its ``to_dict()`` form (AutoGen's dump shape too)."""
    kind = data.get("type")
    if kind == "SystemMessage":
        return SystemMessage(str(data["content"]))
    if kind == "UserMessage":
        raw = data["content"]
        parts: str | list[str | Image] = (
            raw
            if isinstance(raw, str)
            else [p if isinstance(p, str) else Image.from_dict(p) for p in raw]
        )
        return UserMessage(parts, str(data.get("source", "user")))
    if kind == "AssistantMessage":
        raw = data["content"]
        content: str | list[FunctionCall] = (
            raw if isinstance(raw, str) else [FunctionCall.from_dict(c) for c in raw]
        )
        return AssistantMessage(
            content=content, source=str(data.get("source", "")), thought=data.get("thought")
        )
    if kind == "FunctionExecutionResultMessage":
        return FunctionExecutionResultMessage(
            [FunctionExecutionResult.from_dict(r) for r in data["content"]]
        )
    raise ConfigurationError(f"unknown LLM message type {kind!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateResult:
    """A model's answer: text, or a list of tool calls."""

    content: str | list[FunctionCall]
    finish_reason: FinishReason = "stop"
    usage: RequestUsage = field(default_factory=RequestUsage)
    cached: bool = False
    thought: str | None = None

    def to_dict(self) -> dict[str, Any]:
        content: Any = self.content
        if not isinstance(content, str):
            content = [call.to_dict() for call in content]
        data: dict[str, Any] = {
            "content": content,
            "finish_reason": self.finish_reason,
            "usage": self.usage.to_dict(),
            "cached": self.cached,
        }
        if self.thought is not None:
            data["thought"] = self.thought
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CreateResult:
        raw = data["content"]
        content: str | list[FunctionCall] = (
            raw if isinstance(raw, str) else [FunctionCall.from_dict(c) for c in raw]
        )
        return cls(
            content=content,
            finish_reason=data.get("finish_reason", "stop"),
            usage=RequestUsage.from_dict(data.get("usage") or {}),
            cached=bool(data.get("cached", False)),
            thought=data.get("thought"),
        )


class ModelInfo(TypedDict, total=False):
    """What a model can do; agents check ``function_calling`` before offering tools."""

    vision: bool
    function_calling: bool
    json_output: bool
    structured_output: bool
    family: str
    multiple_system_messages: bool


class ToolSchema(TypedDict, total=False):
    """JSON description of a tool, in the shape providers accept."""

    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool
