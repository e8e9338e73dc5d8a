"""Compact, lossless encoding of a team's saved state.

The team thread is stored once, each chat message as a short row instead of a keyed dump.
Agents' model contexts mostly repeat thread messages (as ``UserMessage`` for what others
said and ``AssistantMessage`` for what the agent said itself); those entries are replaced
by integer references into the thread and expanded again on load. An entry is replaced
only when its expansion is exactly equal to it, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from runtime.errors import StateError
from runtime.messages import BaseChatMessage, load_message

# Internal to the teams package: nothing here is public API.
__all__: list[str] = []

_COMMON_KEYS = ("type", "id", "source", "created_at", "content", "models_usage", "metadata")


def encode_message(message: BaseChatMessage) -> list[Any]:
    """A chat message as ``[type, id, source, created_at, content, usage?, metadata?, extra?]``."""
    data = message.dump()
    usage = data["models_usage"]
    row: list[Any] = [data["type"], data["id"], data["source"], data["created_at"], data["content"]]
    extra = {key: value for key, value in data.items() if key not in _COMMON_KEYS}
    tail: list[Any] = [
        [usage["prompt_tokens"], usage["completion_tokens"]] if usage else None,
        data["metadata"] or None,
        extra or None,
    ]
    while tail and tail[-1] is None:
        tail.pop()
    row.extend(tail)
    return row


def decode_message(row: Sequence[Any]) -> BaseChatMessage:
    """The inverse of :func:`encode_message`."""
    try:
        padded = [*row, None, None, None][:8]
        kind, message_id, source, created_at, content, usage, metadata, extra = padded
        data: dict[str, Any] = {
            "type": kind,
            "id": message_id,
            "source": source,
            "created_at": created_at,
            "content": content,
            "models_usage": (
                {"prompt_tokens": usage[0], "completion_tokens": usage[1]} if usage else None
            ),
            "metadata": metadata or {},
        }
        data.update(extra or {})
        message = load_message(data)
    except (TypeError, ValueError, IndexError) as exc:
        raise StateError(f"a saved thread message cannot be read: {exc}") from exc
    if not isinstance(message, BaseChatMessage):
        raise StateError(f"saved thread holds an event ({message.type}); only chat messages fit")
    return message


class ThreadArchive:
    """Encoded rows and a (content, source) index of a growing thread, built incrementally."""

    __slots__ = ("_keys", "_rows")

    def __init__(self) -> None:
        self._rows: list[list[Any]] = []
        self._keys: dict[tuple[str, str], int] = {}

    def clear(self) -> None:
        self._rows.clear()
        self._keys.clear()

    def update(self, thread: Sequence[BaseChatMessage]) -> list[list[Any]]:
        """Encode messages not seen yet; return all rows (a new list sharing the rows)."""
        for index in range(len(self._rows), len(thread)):
            message = thread[index]
            self._rows.append(encode_message(message))
            self._keys.setdefault((message.content, message.source), index)
        return list(self._rows)

    def pack_agent_state(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Replace model-context entries that repeat thread messages by references."""
        packed = dict(state)
        context = state.get("llm_context")
        if not isinstance(context, Mapping) or not isinstance(context.get("messages"), list):
            return packed
        packed["llm_context"] = {
            **context,
            "messages": [self._reference(item) for item in context["messages"]],
        }
        return packed

    def _reference(self, item: Any) -> Any:
        if not isinstance(item, dict) or len(item) != 3:
            return item
        kind, content, source = item.get("type"), item.get("content"), item.get("source")
        if not isinstance(content, str) or not isinstance(source, str):
            return item
        index = self._keys.get((content, source))
        if index is None:
            return item
        if kind == "UserMessage":
            return index
        if kind == "AssistantMessage":
            return -1 - index
        return item


def unpack_agent_state(
    state: Mapping[str, Any], thread: Sequence[BaseChatMessage]
) -> dict[str, Any]:
    """Expand the references :meth:`ThreadArchive.pack_agent_state` put in."""
    unpacked = dict(state)
    context = state.get("llm_context")
    if not isinstance(context, Mapping) or not isinstance(context.get("messages"), list):
        return unpacked
    messages: list[Any] = []
    for item in context["messages"]:
        if isinstance(item, int) and not isinstance(item, bool):
            index = item if item >= 0 else -1 - item
            if index >= len(thread):
                raise StateError(f"agent state refers to thread message {index}, which is missing")
            message = thread[index]
            kind = "UserMessage" if item >= 0 else "AssistantMessage"
            item = {"type": kind, "content": message.content, "source": message.source}
        messages.append(item)
    unpacked["llm_context"] = {**context, "messages": messages}
    return unpacked


def decode_message_dump(data: Mapping[str, Any]) -> BaseChatMessage:
    """A chat message from its ``dump()`` data; events are refused."""
    message = load_message(data)
    if not isinstance(message, BaseChatMessage):
        raise StateError("a queued interjection is not a chat message")
    return message
