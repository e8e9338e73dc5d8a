"""Deltas between two JSON trees whose lists mostly grow at the end.

A team's saved state is such a tree: its thread and every agent's model context gain a
few items per turn and rarely change otherwise. :func:`make_delta` records, per path of
dictionary keys, what a list gained at its end, or a new value where something else
changed; :func:`apply_delta` replays that on the older tree. A delta is a list of
operations, each JSON-ready:

- ``["a", path, items]``: the list at ``path`` gained ``items`` at its end;
- ``["s", path, value]``: ``path`` now holds ``value`` (``[]`` is the whole tree);
- ``["d", path]``: the key at ``path`` was removed.

Comparing a long list costs one pointer comparison per item when the newer tree reuses
the older tree's items (``old[i] is new[i]``); only items that are not the same object
are compared by value. Equality is JSON equality: ``1``, ``1.0`` and ``True`` differ.

:func:`freeze` copies the containers of a tree (not the list items) so that the copy
stays a valid base for the next delta even if the caller appends to its lists in place.
Items reused between trees must not be changed in place; they are treated as values.
``freeze(tree, lists=False)`` copies no list: it notes each list's length instead
(:class:`Kept`), for lists that are only ever appended to, such as the team's own lists
``save_state(shared=True)`` hands out. The next tree may hold the same list, longer:
what it gained is told in O(1), from the noted length, without comparing any item.
:func:`advance` makes a delta and freezes the newer tree in one walk, and :func:`dumps`
writes a frozen tree as JSON, encoding only the items a kept list gained since the
previous dump of that list.
"""

from __future__ import annotations

import operator
from typing import Any

from studio.runs.jsontext import compact_json, quote_json

Path = list[str]
Operation = list[Any]

APPEND = "a"
SET = "s"
DELETE = "d"

_ABSENT = object()


class DeltaError(ValueError):
    """A delta does not fit the tree it is applied to."""


def make_delta(old: Any, new: Any) -> list[Operation]:
    """The operations that turn ``old`` into ``new`` (empty when they are equal)."""
    return advance(old, new, lists=False)[0]


def advance(
    old: Any, new: Any, *, lists: bool = True, source: Any = None
) -> tuple[list[Operation], Any]:
    """:func:`make_delta` from ``old`` to ``new``, and :func:`freeze` of ``new`` (the next
    delta's base), in one walk over ``new``.

    ``source`` is the tree ``old`` was frozen from, when its dicts were handed over: never
    changed since, and given again as the same object only while unchanged, with what
    they hold (see :meth:`runtime.BaseGroupChat.save_state` with ``shared``). A dict of
    ``new`` that is the very dict ``source`` held at the same path is then not walked:
    its frozen copy in ``old`` stands for it.
    """
    operations: list[Operation] = []
    return operations, _advance(old, new, [], operations, lists, source)


def _advance(
    old: Any, new: Any, path: Path, operations: list[Operation], lists: bool, source: Any = None
) -> Any:
    """Add the operations from ``old`` to ``new`` at ``path``; return ``new`` frozen."""
    kind = type(new)
    if kind is dict and type(old) is dict:
        return _advance_dict(old, new, path, operations, lists, source)
    if kind is list:
        return _advance_list(old, new, path, operations, lists)
    if old is not new and not is_same(old, new):
        operations.append([SET, path, new])
    return freeze(new, lists=lists)


def _advance_dict(
    old: dict[str, Any],
    new: dict[str, Any],
    path: Path,
    operations: list[Operation],
    lists: bool,
    source: Any = None,
) -> dict[str, Any]:
    first = len(operations)
    kept: dict[str, Any] = {}
    found = 0
    sources = source if type(source) is dict else {}
    for key, value in new.items():
        before = old.get(key, _ABSENT)
        if before is _ABSENT:
            operations.append([SET, [*path, key], value])
            kept[key] = freeze(value, lists=lists)
            continue
        found += 1
        kind = type(value)
        if kind is list:
            kept[key] = _advance_list(before, value, [*path, key], operations, lists)
        elif kind is dict:
            was = sources.get(key)
            if was is value:
                kept[key] = before  # handed over again: unchanged since it was frozen
            elif type(before) is dict:
                kept[key] = _advance_dict(before, value, [*path, key], operations, lists, was)
            else:
                kept[key] = _advance(before, value, [*path, key], operations, lists)
        else:
            # a number, string, boolean or null: JSON-equal when of the same type and ==
            if before is not value and (type(before) is not kind or before != value):
                operations.append([SET, [*path, key], value])
            kept[key] = value
    if found < len(old):  # removed keys go first, as if found before the rest
        operations[first:first] = [[DELETE, [*path, key]] for key in old.keys() - new.keys()]
    return kept


def _advance_list(
    old: Any, new: list[Any], path: Path, operations: list[Operation], lists: bool
) -> Any:
    if type(old) is Kept:
        start = old.grown_into(new)
    elif type(old) is list and is_prefix(old, new):
        start = len(old)
    else:
        start = None
    if start is None:
        operations.append([SET, path, new])
    elif len(new) > start:
        operations.append([APPEND, path, new[start:]])
    if lists:
        return list(new)
    if start is not None and type(old) is Kept and new is old.source:
        return Kept(new, old.text, old.text_length)
    return Kept(new)


class Kept:
    """A list of an older tree, kept without a copy: the list and how long it was.

    Whoever handed the list over promised to only ever append to it, so its first
    ``length`` items are still what the older tree held. For :func:`dumps` it also keeps
    the JSON text of its first ``text_length`` items, carried over to the next tree's
    :class:`Kept` of the same list.
    """

    __slots__ = ("last", "length", "source", "text", "text_length")

    def __init__(self, source: list[Any], text: str = "", text_length: int = 0) -> None:
        self.source = source
        self.length = len(source)
        self.last = source[-1] if source else None
        self.text = text
        self.text_length = text_length

    def items(self) -> list[Any]:
        """What the list held when it was kept."""
        return self.source[: self.length]

    def grown_into(self, new: list[Any]) -> int | None:
        """How many items of ``new`` the kept list held, or None when ``new`` does not
        start with them.

        The kept list itself, grown or not, costs O(1): its length and last item are
        checked, which catches a list cleared or shortened against the promise. Another
        list is compared item by item.
        """
        length = self.length
        if new is not self.source:
            return length if is_prefix(self.items(), new) else None
        if len(new) >= length and (not length or new[length - 1] is self.last):
            return length
        return None

    def dump_items(self) -> str:
        """The JSON text of the items, without brackets; encodes only those not yet."""
        if self.text_length < self.length:
            tail = compact_json(self.source[self.text_length : self.length])[1:-1]
            self.text = f"{self.text},{tail}" if self.text_length else tail
            self.text_length = self.length
        return self.text


def dumps(tree: Any) -> str:
    """``tree`` as compact JSON text, as ``json.dumps(tree, separators=(",", ":"))``
    writes it; ``tree`` may be a frozen tree (:func:`freeze`, :func:`advance`).

    A :class:`Kept` list's text is kept with it, so dumping a later tree holding the
    same list, grown, encodes only the items it gained.
    """
    kind = type(tree)
    if kind is str:
        return quote_json(tree)
    if kind is int:
        return int.__repr__(tree)  # as json writes an int
    if kind is Kept:
        return f"[{tree.dump_items()}]"
    if kind is not dict:
        return compact_json(tree)
    if not all(type(key) is str for key in tree):
        return compact_json(thaw(tree))  # json's own spelling of other keys
    fields = [f"{quote_json(key)}:{dumps(value)}" for key, value in tree.items()]
    return "{" + ",".join(fields) + "}"


def thaw(tree: Any) -> Any:
    """A frozen tree as plain JSON data: each :class:`Kept` list as the items it held."""
    if type(tree) is dict:
        return {key: thaw(value) for key, value in tree.items()}
    if type(tree) is Kept:
        return tree.items()
    return tree


def is_prefix(old: list[Any], new: list[Any]) -> bool:
    """Whether ``new`` starts with the items of ``old``: by identity, else by value."""
    if len(old) > len(new):
        return False
    if all(map(operator.is_, old, new)):
        return True
    return all(a is b or is_same(a, b) for a, b in zip(old, new, strict=False))


def is_same(a: Any, b: Any) -> bool:
    """JSON equality: like ``==``, but a number and a boolean never match."""
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict:
        return a.keys() == b.keys() and all(is_same(value, b[key]) for key, value in a.items())
    if kind is list:
        return len(a) == len(b) and all(map(is_same, a, b))
    return bool(a == b)


def apply_delta(tree: Any, operations: list[Operation]) -> Any:
    """``tree`` after ``operations``; changes ``tree`` in place and returns it.

    The returned value is a new object only when an operation sets the whole tree.
    """
    for operation in operations:
        try:
            kind, path = operation[0], operation[1]
            if kind == APPEND:
                _walk(tree, path).extend(operation[2])
            elif kind == SET and not path:
                tree = operation[2]
            elif kind == SET:
                _walk(tree, path[:-1])[path[-1]] = operation[2]
            elif kind == DELETE:
                del _walk(tree, path[:-1])[path[-1]]
            else:
                raise DeltaError(f"unknown delta operation {kind!r}")
        except (AttributeError, IndexError, KeyError, TypeError) as exc:
            raise DeltaError(f"delta operation {operation!r:.200} does not fit: {exc}") from exc
    return tree


def _walk(tree: Any, path: Path) -> Any:
    node = tree
    for key in path:
        node = node[key]
    return node


def freeze(tree: Any, *, lists: bool = True) -> Any:
    """A copy of ``tree``'s dictionaries and lists along key paths; list items are shared.

    Without ``lists`` only the dictionaries are copied and each list is kept as
    :class:`Kept` (the list and its length), for a tree whose lists nobody changes any
    more except by appending.
    """
    if type(tree) is dict:
        return {key: freeze(value, lists=lists) for key, value in tree.items()}
    if type(tree) is list:
        return list(tree) if lists else Kept(tree)
    return tree
