"""Compact, lossless encoding of a team's saved state.

The team thread is stored once, each chat message as a short row instead of a keyed dump.
Agents' model contexts mostly repeat thread messages (as ``UserMessage`` for what others
said and ``AssistantMessage`` for what the agent said itself); those entries are replaced
by integer references into the thread and expanded again on load. An entry is replaced
only when its expansion is exactly equal to it, so nothing is lost.

:func:`replace_message_content` edits a message in such a state (to fork a conversation
with a message changed), so callers need not know this format.
"""

from __future__ import annotations

import functools
import inspect
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from runtime.agents.encoded_context import copy_dicts
from runtime.errors import StateError
from runtime.messages import BaseChatMessage, BaseMessage, format_created_at, load_message

# Only replace_message_content is public (exported by ``runtime``); the rest serves the
# teams package.
__all__ = ["replace_message_content"]

_COMMON_KEYS = ("type", "id", "source", "created_at", "content", "models_usage", "metadata")


def encode_message(message: BaseChatMessage) -> list[Any]:
    """A chat message as ``[type, id, source, created_at, content, usage?, metadata?, extra?]``."""
    if type(message)._dump_fields is BaseMessage._dump_fields:
        # Nothing beyond the common fields (a TextMessage): the row without the dump.
        usage = message.models_usage
        row: list[Any] = [
            message.type,
            message.id,
            message.source,
            format_created_at(message.created_at),
            getattr(message, "content", ""),
        ]
        metadata = dict(message.metadata)
        if metadata:
            row.append([usage.prompt_tokens, usage.completion_tokens] if usage else None)
            row.append(metadata)
        elif usage:
            row.append([usage.prompt_tokens, usage.completion_tokens])
        return row
    data = message.dump()
    usage = data["models_usage"]
    row = [data["type"], data["id"], data["source"], data["created_at"], data["content"]]
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


def decode_message(
    row: Sequence[Any], types: Mapping[str, type[BaseMessage]] | None = None
) -> BaseChatMessage:
    """The inverse of :func:`encode_message`; ``types`` adds custom message classes."""
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
        message = load_message(data, types)
    except (TypeError, ValueError, IndexError) as exc:
        raise StateError(f"a saved thread message cannot be read: {exc}") from exc
    if not isinstance(message, BaseChatMessage):
        raise StateError(f"saved thread holds an event ({message.type}); only chat messages fit")
    return message


def takes_shared(save_state: Callable[..., Any]) -> bool:
    """Whether ``save_state`` takes ``shared`` (keyword-only), as an AssistantAgent's does.

    A method is looked at once per function, not once per agent: reading a signature
    costs more than a turn's checkpoint, and every run's agents are new objects.
    """
    function = getattr(save_state, "__func__", None)
    if function is None:
        return _signature_takes_shared(save_state)
    return _function_takes_shared(function)


def _signature_takes_shared(function: Callable[..., Any]) -> bool:
    parameter = inspect.signature(function).parameters.get("shared")
    return parameter is not None and parameter.kind is parameter.KEYWORD_ONLY


_function_takes_shared = functools.cache(_signature_takes_shared)


class ThreadArchive:
    """Encoded rows and a (content, source) index of a growing thread, built incrementally.

    Saving after every turn must cost what changed since the previous save, not the whole
    history: rows are encoded once, and each agent's packed model context is kept between
    saves and extended with the entries the agent added (see :class:`PackedContext`).

    The lists it keeps (rows, producers, packed contexts) are only ever appended to: a
    history that changes otherwise (cleared, loaded, an entry turned into a reference)
    gets a new list. So with ``shared`` they can be handed out as they are, and whoever
    holds one knows that its first ``len()`` items stay what they were.
    """

    __slots__ = ("_keys", "_packed", "_producers", "_row_keys", "_rows")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget the thread; lists handed out before keep what they hold."""
        self._rows: list[list[Any]] = []
        self._producers: list[int] = []
        self._row_keys: list[tuple[Any, str]] = []
        self._keys: dict[tuple[Any, str], int] = {}
        self._packed: dict[str, PackedContext] = {}

    def update(
        self, thread: Sequence[BaseChatMessage], producers: Sequence[int], *, shared: bool = False
    ) -> tuple[list[list[Any]], list[int]]:
        """Encode messages not seen yet; return all rows and producers.

        The lists are new (sharing the rows), or with ``shared`` the archive's own lists,
        which only grow: read them, never change them.
        """
        done = len(self._rows)
        for index in range(done, len(thread)):
            message = thread[index]
            key = (message.to_model_text(), message.source)
            self._rows.append(encode_message(message))
            self._row_keys.append(key)
            self._keys.setdefault(key, index)
        self._producers.extend(producers[done:])
        if shared:
            return self._rows, self._producers
        return list(self._rows), list(self._producers)

    async def save_agent_state(
        self, name: str, save_state: Callable[..., Awaitable[Mapping[str, Any]]], *, shared: bool
    ) -> dict[str, Any]:
        """Participant ``name``'s ``save_state()``, packed (:meth:`pack_agent_state`).

        With ``shared``, an agent whose ``save_state`` takes ``shared`` too (an
        AssistantAgent) is asked for its own history list, not a copy: only what was
        appended to it since the previous save is read; and the save it hands out again
        while unchanged is packed into the packed state of last time. Any other agent's
        dicts are copied: it may keep them and change them in place, and a shared save
        gives no dict again that is not unchanged.
        """
        if shared and takes_shared(save_state):
            saved = await save_state(shared=True)
            return self.pack_agent_state(saved, name, shared=True, again=True)
        saved = await save_state()
        if shared:
            saved = copy_dicts(saved)
        return self.pack_agent_state(saved, name, shared=shared)

    def pack_agent_state(
        self,
        state: Mapping[str, Any],
        agent: str | None = None,
        *,
        shared: bool = False,
        again: bool = False,
    ) -> dict[str, Any]:
        """Replace model-context entries that repeat thread messages by references.

        With ``agent`` (a name unique in the team) the packed context is kept and the next
        call for that agent packs only the entries added since, provided the agent hands
        out the earlier entries as the same objects again. Call :meth:`update` first. With
        ``shared`` too, the packed entries are the kept list itself (see the class). With
        ``again`` as well (the agent hands out an unchanged shared save again, the same
        object, and never changes it) a save that is the very object packed last time
        gets the packed state of that time again, the same object.
        """
        if agent is not None and again:
            cache = self._packed.get(agent)
            if cache is not None and cache.still_packs(state, len(self._rows)):
                return cache.packed_state
        packed = dict(state)
        context: Mapping[str, Any] = state.get("llm_context")  # type: ignore[assignment]
        # type() first: an ABC's isinstance is slow, and this runs for every agent and turn
        is_mapping = type(context) is dict or isinstance(context, Mapping)
        if not is_mapping or not isinstance(context.get("messages"), list):
            return packed
        entries: list[Any] = context["messages"]
        if agent is None:
            messages = [self._reference(item) for item in entries]
        else:
            cache = self._packed.get(agent)
            if cache is None or not cache.is_prefix_of(entries):
                cache = self._packed[agent] = PackedContext()
            self._extend(cache, entries)
            messages = cache.packed if shared else list(cache.packed)
        packed["llm_context"] = {**context, "messages": messages}
        if agent is not None and again:
            self._packed[agent].keep(state, packed)
        return packed

    def _extend(self, cache: PackedContext, entries: list[Any]) -> None:
        # Entries left as they were may turn into references once their message reaches
        # the thread; only rows added since the last pack can do that.
        if cache.waiting:
            self._resolve(cache)
        for position in range(len(cache.source), len(entries)):
            item = entries[position]
            reference = self._reference(item)
            cache.source.append(item)
            cache.packed.append(reference)
            if reference is item and _is_copy(item):
                cache.waiting.setdefault((item["content"], item["source"]), []).append(position)
        cache.rows_seen = len(self._rows)

    def _resolve(self, cache: PackedContext) -> None:
        """Turn waiting entries whose message joined the thread into references."""
        rewritten: list[Any] | None = None
        for index in range(cache.rows_seen, len(self._rows)):
            key = self._row_keys[index]
            if self._keys[key] == index and key in cache.waiting:
                if rewritten is None:
                    # a list handed out before must keep its items: change a copy
                    rewritten = list(cache.packed)
                for position in cache.waiting.pop(key):
                    rewritten[position] = self._reference(cache.source[position])
        if rewritten is not None:
            cache.packed = rewritten

    def _reference(self, item: Any) -> Any:
        if not _is_copy(item):
            return item
        index = self._keys.get((item["content"], item["source"]))
        if index is None:
            return item
        return index if item["type"] == "UserMessage" else -1 - index


def _is_copy(item: Any) -> bool:
    """Whether a context entry has the shape of a thread message's copy."""
    return (
        isinstance(item, dict)
        and len(item) == 3
        and item.get("type") in ("UserMessage", "AssistantMessage")
        and isinstance(item.get("content"), str)
        and isinstance(item.get("source"), str)
    )


class PackedContext:
    """One agent's packed model context, kept between saves.

    ``source`` holds the entries as the agent gave them and ``packed`` the same entries
    with references put in; ``waiting`` lists, by (content, source), the positions of
    entries that copy no thread message yet.
    """

    __slots__ = ("agent_state", "packed", "packed_state", "rows_seen", "source", "waiting")

    def __init__(self) -> None:
        self.source: list[Any] = []
        self.packed: list[Any] = []
        self.waiting: dict[tuple[str, str], list[int]] = {}
        self.rows_seen = 0
        #: the agent's last shared save, and what it was packed into
        self.agent_state: Mapping[str, Any] | None = None
        self.packed_state: dict[str, Any] = {}

    def keep(self, agent_state: Mapping[str, Any], packed_state: dict[str, Any]) -> None:
        """Note a shared save and its packed state, to hand out again while it holds."""
        self.agent_state = agent_state
        self.packed_state = packed_state

    def still_packs(self, agent_state: Mapping[str, Any], rows: int) -> bool:
        """Whether ``agent_state`` packs into the packed state kept: it is the save kept
        (the same object, which an agent hands out again only while it is unchanged),
        and no thread row came since that could turn a waiting entry into a reference."""
        return agent_state is self.agent_state and (not self.waiting or rows == self.rows_seen)

    def is_prefix_of(self, entries: Sequence[Any]) -> bool:
        """Whether ``entries`` starts with the entries packed so far, by identity.

        Agents hand out an unchanged entry as the same object and a changed history as
        new ones, so the first and last packed entries tell.
        """
        done = len(self.source)
        if done > len(entries):
            return False
        return done == 0 or (entries[0] is self.source[0] and entries[done - 1] is self.source[-1])


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
            item = {"type": kind, "content": message.to_model_text(), "source": message.source}
        messages.append(item)
    unpacked["llm_context"] = {**context, "messages": messages}
    return unpacked


def decode_message_dump(
    data: Mapping[str, Any], types: Mapping[str, type[BaseMessage]] | None = None
) -> BaseChatMessage:
    """A chat message from its ``dump()`` data; events are refused."""
    message = load_message(data, types)
    if not isinstance(message, BaseChatMessage):
        raise StateError("a queued interjection is not a chat message")
    return message


# -- editing a saved state --------------------------------------------------------------

_COPY_KINDS = ("UserMessage", "AssistantMessage")


def replace_message_content(
    state: Mapping[str, Any], message_id: str, content: str
) -> dict[str, Any]:
    """A copy of a team's saved state in which chat message ``message_id`` says ``content``.

    This is how a conversation is forked with an edited message: the message changes
    everywhere the state holds it, its thread row and every model-context entry that
    copies or refers to it (of the agents that heard or said it, inside nested teams too),
    and a queued interjection. Other messages with the same text keep theirs. ``state``
    itself is left unchanged. Raises :class:`~runtime.errors.StateError` when ``state``
    is not a saved team state or holds no message with that id.
    """
    edited, found = _replace_in_team(state, message_id, content)
    if not found:
        raise StateError(f"the saved team state holds no chat message with id {message_id!r}")
    return edited


def _replace_in_team(
    state: Mapping[str, Any], message_id: str, content: str
) -> tuple[dict[str, Any], bool]:
    if state.get("type") != "TeamState":
        raise StateError(f"not a saved team state (type {state.get('type')!r})")
    rows: list[Any] = list(state.get("thread") or ())
    index = next((i for i, row in enumerate(rows) if _is_row(row) and row[1] == message_id), None)
    edited = dict(state)
    found = index is not None
    if index is not None:
        edited["thread"] = [
            [*row[:4], content, *row[5:]] if i == index else row for i, row in enumerate(rows)
        ]
    members: dict[str, Any] = {}
    for name, entry in (state.get("participants") or {}).items():
        if not isinstance(entry, Mapping):
            raise StateError(f"saved state of participant {name!r} is not an object")
        member, hit = _replace_in_member(entry.get("state"), rows, index, message_id, content)
        members[name] = {**entry, "state": member}
        found = found or hit
    edited["participants"] = members
    queued = []
    for item in state.get("interjections") or ():
        if isinstance(item, Mapping) and item.get("id") == message_id:
            item, found = {**item, "content": content}, True
        queued.append(item)
    edited["interjections"] = queued
    return edited, found


def _is_row(row: Any) -> bool:
    return isinstance(row, list) and len(row) >= 5


def _replace_in_member(
    state: Any, rows: list[Any], index: int | None, message_id: str, content: str
) -> tuple[Any, bool]:
    """Edit one participant's state: a nested team's, or an agent's model context (and
    the state of the team inside a society-of-mind agent)."""
    if not isinstance(state, Mapping):
        return state, False
    if state.get("type") == "TeamState":
        return _replace_in_team(state, message_id, content)
    edited = dict(state)
    found = False
    inner = state.get("inner_team_state")
    if isinstance(inner, Mapping) and inner.get("type") == "TeamState":
        edited["inner_team_state"], found = _replace_in_team(inner, message_id, content)
    context = state.get("llm_context")
    if index is not None and isinstance(context, Mapping):
        messages = context.get("messages")
        if isinstance(messages, list):
            edited["llm_context"] = {
                **context,
                "messages": _replace_in_context(messages, rows, index, content),
            }
    return edited, found


def _replace_in_context(
    messages: list[Any], rows: list[Any], index: int, content: str
) -> list[Any]:
    """Edit the context entries that stand for thread message ``index``.

    Text alone cannot tell two equal messages apart, so entries are matched to the thread
    in order (an agent hears and says messages in thread order): each entry that copies
    or refers to a thread message is taken to be the next thread message, at or after the
    previous match, with its text and source.
    """
    keys = [(row[4], row[2]) if _is_row(row) and isinstance(row[4], str) else None for row in rows]
    positions: dict[tuple[str, str], list[int]] = {}
    for position, key in enumerate(keys):
        if key is not None:
            positions.setdefault(key, []).append(position)
    edited: list[Any] = []
    start = 0
    for entry in messages:
        key, kind = _entry_key(entry, keys)
        candidates = positions.get(key, []) if key is not None else []
        found = bisect_left(candidates, start)
        match = candidates[found] if found < len(candidates) else None
        if match is not None:
            start = match + 1
        if match == index:
            if isinstance(entry, dict):
                entry = {**entry, "content": content}
            else:  # a reference, perhaps to an earlier equal message: point at this one
                entry = index if kind == "UserMessage" else -1 - index
        elif _refers_to(entry, index) and key is not None:
            # refers to the edited row but stands for an equal, unedited message
            entry = {"type": kind, "content": key[0], "source": key[1]}
        edited.append(entry)
    return edited


def _entry_key(
    entry: Any, keys: list[tuple[str, str] | None]
) -> tuple[tuple[str, str] | None, str]:
    """The (text, source) a context entry copies, and its kind; ``None`` for entries
    (tool calls, results, system text) that copy no thread message."""
    if isinstance(entry, int) and not isinstance(entry, bool):
        position = entry if entry >= 0 else -1 - entry
        key = keys[position] if position < len(keys) else None
        return key, "UserMessage" if entry >= 0 else "AssistantMessage"
    if isinstance(entry, Mapping) and entry.get("type") in _COPY_KINDS:
        text, source = entry.get("content"), entry.get("source")
        if isinstance(text, str) and isinstance(source, str):
            return (text, source), str(entry["type"])
    return None, ""


def _refers_to(entry: Any, index: int) -> bool:
    return isinstance(entry, int) and not isinstance(entry, bool) and entry in (index, -1 - index)
