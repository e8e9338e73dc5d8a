"""JSON dumps of an append-only model context, each entry dumped once.

A team checkpoints after every turn, so an agent's ``save_state()`` runs once per message
of the conversation; dumping the whole context each time would make a long run quadratic.
Model messages are frozen and an agent's context only grows between resets and loads, so
each entry's dict is made once and the same dict object is handed out by every later save.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from runtime.llm import LLMMessage

# Serves the agents and teams packages; nothing here is public API.
__all__: list[str] = []


class EncodedContext:
    """The ``to_dict()`` of each message of a model context that is only appended to.

    Call :meth:`clear` whenever the context is cleared or replaced. As a safety net a
    context list other than the one dumped before, or one that no longer holds the last
    dumped message where it was, is dumped afresh.

    The dumps are kept in a list that is itself only appended to: when the context is
    dumped afresh the dumps start a new list. So the list can be handed out as it is
    (``dump(..., shared=True)``): its first ``len()`` items never change.
    """

    __slots__ = ("_dumps", "_last", "_source")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Forget every dump (the context was cleared, replaced or rewritten)."""
        self._dumps: list[dict[str, Any]] = []
        self._last: LLMMessage | None = None
        self._source: Sequence[LLMMessage] | None = None

    def dump(self, context: Sequence[LLMMessage], *, shared: bool = False) -> list[dict[str, Any]]:
        """The dumps of all of ``context``, as a new list sharing the dicts of earlier calls.

        Only messages appended since the previous call are dumped. The dicts are shared
        between calls, so callers must not change them. With ``shared`` the list is the
        kept one, not a copy: read it, never change it.
        """
        done = len(self._dumps)
        if done and (
            context is not self._source
            or done > len(context)
            or context[done - 1] is not self._last
        ):
            self.clear()
            done = 0
        if len(context) > done:
            self._dumps.extend(message.to_dict() for message in context[done:])
            self._last = context[-1]
        self._source = context
        return self._dumps if shared else list(self._dumps)


def copy_dicts(value: Any) -> Any:
    """``value`` with every dict in it copied (lists and what they hold are not).

    For a shared save (see :class:`SharedSave`) the dicts a component hands over, which it
    may keep and change in place later: the copies are the save's own, never changed, and
    new objects at every save.
    """
    if type(value) is dict:
        return {key: copy_dicts(item) for key, item in value.items()}
    return value


class SharedSave:
    """An agent's last ``save_state(shared=True)`` result and what it was made of.

    The result is handed out again, as the same object, while the agent is unchanged:
    its kept dumps list is the same one, just as long, and its model client's state is
    equal (``==``) to what it was. The result is never changed (it holds its own copy of
    the client's state), so a caller holding the previous save can tell an unchanged
    agent by identity alone.
    """

    __slots__ = ("client_state", "dumps", "length", "state")

    def __init__(
        self, dumps: list[dict[str, Any]], client_state: dict[str, Any], state: dict[str, Any]
    ) -> None:
        self.dumps = dumps
        self.length = len(dumps)
        self.client_state = client_state
        self.state = state

    def holds(self, dumps: list[dict[str, Any]], client_state: dict[str, Any]) -> bool:
        """Whether a save now, of ``dumps`` and ``client_state``, would be the same."""
        return (
            dumps is self.dumps and len(dumps) == self.length and client_state == self.client_state
        )
