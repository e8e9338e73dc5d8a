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
"""

from __future__ import annotations

import operator
from typing import Any

Path = list[str]
Operation = list[Any]

APPEND = "a"
SET = "s"
DELETE = "d"


class DeltaError(ValueError):
    """A delta does not fit the tree it is applied to."""


def make_delta(old: Any, new: Any) -> list[Operation]:
    """The operations that turn ``old`` into ``new`` (empty when they are equal)."""
    operations: list[Operation] = []
    _diff(old, new, [], operations)
    return operations


def _diff(old: Any, new: Any, path: Path, operations: list[Operation]) -> None:
    if old is new:
        return
    if type(old) is dict and type(new) is dict:
        for key in old.keys() - new.keys():
            operations.append([DELETE, [*path, key]])
        for key, value in new.items():
            if key in old:
                _diff(old[key], value, [*path, key], operations)
            else:
                operations.append([SET, [*path, key], value])
    elif type(old) is list and type(new) is list and is_prefix(old, new):
        if len(new) > len(old):
            operations.append([APPEND, path, new[len(old) :]])
    elif not is_same(old, new):
        operations.append([SET, path, new])


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

    Without ``lists`` only the dictionaries are copied, for a tree whose lists nobody
    changes any more.
    """
    if type(tree) is dict:
        return {key: freeze(value, lists=lists) for key, value in tree.items()}
    if lists and type(tree) is list:
        return list(tree)
    return tree
