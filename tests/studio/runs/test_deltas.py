"""The delta codec: growing JSON trees, encoded as appends and replacements."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest

from studio.runs.deltas import (
    DeltaError,
    Kept,
    advance,
    apply_delta,
    dumps,
    freeze,
    is_prefix,
    make_delta,
)


def round_trip(old: Any, new: Any) -> Any:
    """Encode ``new`` against ``old`` through JSON text and apply it to a copy of ``old``."""
    operations = json.loads(json.dumps(make_delta(old, new)))
    return apply_delta(json.loads(json.dumps(old)), operations)


def random_value(rng: random.Random, depth: int = 0) -> Any:
    """A small random JSON value."""
    choice = rng.randrange(7 if depth < 3 else 4)
    if choice == 0:
        return rng.randrange(-3, 4)
    if choice == 1:
        return rng.choice([True, False, None])
    if choice == 2:
        return rng.choice(["", "a", "bb", "1"])
    if choice == 3:
        return rng.choice([0.5, 1.0, 1])
    if choice == 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice("abcde"): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def mutate(rng: random.Random, tree: dict[str, Any]) -> dict[str, Any]:
    """The next state: mostly appends to lists, sometimes replacements and removals.

    Shares unchanged items with ``tree``, as an incremental ``save_state`` does.
    """
    new = {key: (list(value) if isinstance(value, list) else value) for key, value in tree.items()}
    for _ in range(rng.randrange(1, 4)):
        key = rng.choice("pqrstu")
        action = rng.randrange(10)
        current = new.get(key)
        if action < 5 and isinstance(current, list):
            current.extend(random_value(rng, 1) for _ in range(rng.randrange(1, 3)))
        elif action < 6 and isinstance(current, list) and current:
            current[rng.randrange(len(current))] = random_value(rng, 1)
        elif action < 7 and isinstance(current, list) and current:
            del current[rng.randrange(len(current)) :]
        elif action < 8:
            new.pop(key, None)
        elif action < 9 and isinstance(current, dict):
            new[key] = {**current, "nested": random_value(rng, 1)}
        else:
            new[key] = random_value(rng)
    return new


@pytest.mark.parametrize("seed", range(40))
def test_random_sequences_of_appends_and_replacements_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    state: dict[str, Any] = {"p": [], "q": {"nested": [1]}}
    rebuilt = json.loads(json.dumps(state))
    previous = freeze(state)
    for _ in range(30):
        state = mutate(rng, state)
        operations = json.loads(json.dumps(make_delta(previous, state)))
        rebuilt = apply_delta(rebuilt, operations)
        assert json.dumps(rebuilt, sort_keys=True) == json.dumps(state, sort_keys=True)
        previous = freeze(state)


def test_a_grown_list_is_recorded_as_its_new_items_only() -> None:
    old = {"thread": [[1, "a"], [2, "b"]]}
    new = {"thread": [*old["thread"], [3, "c"]]}
    assert make_delta(old, new) == [["a", ["thread"], [[3, "c"]]]]


def test_nested_dicts_are_diffed_key_by_key() -> None:
    old = {"participants": {"writer": {"read": 1, "context": [1]}, "critic": {"read": 0}}}
    new = {"participants": {"writer": {"read": 2, "context": [1, 2]}, "critic": {"read": 0}}}
    assert make_delta(old, new) == [
        ["s", ["participants", "writer", "read"], 2],
        ["a", ["participants", "writer", "context"], [2]],
    ]
    assert round_trip(old, new) == new


def test_removed_and_added_keys_round_trip() -> None:
    old = {"a": 1, "b": {"c": 2}}
    new = {"b": {"d": 3}, "e": [4]}
    assert make_delta(old, new) == [
        ["d", ["a"]],
        ["d", ["b", "c"]],
        ["s", ["b", "d"], 3],
        ["s", ["e"], [4]],
    ]
    assert round_trip(old, new) == new


def test_a_list_that_lost_or_changed_items_is_replaced_whole() -> None:
    assert make_delta({"x": [1, 2, 3]}, {"x": [1, 2]}) == [["s", ["x"], [1, 2]]]
    assert make_delta({"x": [1, 2, 3]}, {"x": [1, 9, 3, 4]}) == [["s", ["x"], [1, 9, 3, 4]]]


def test_equal_trees_give_an_empty_delta() -> None:
    tree = {"a": [1, {"b": [2]}], "c": "d"}
    assert make_delta(tree, copy.deepcopy(tree)) == []


class Untouchable:
    """A list item that fails when compared by value."""

    def __eq__(self, other: object) -> bool:
        raise AssertionError("compared by value although it is the same object")

    __hash__ = object.__hash__


def test_items_shared_between_states_are_not_compared_by_value() -> None:
    items = [Untouchable() for _ in range(3)]
    old = {"thread": items[:2]}
    new = {"thread": list(items)}
    assert make_delta(old, new) == [["a", ["thread"], [items[2]]]]


def test_items_that_are_equal_copies_still_count_as_a_prefix() -> None:
    old = {"context": [{"type": "UserMessage", "content": "hi"}, 3]}
    new = {"context": [{"type": "UserMessage", "content": "hi"}, 3, -4]}
    assert old["context"][0] is not new["context"][0]
    assert make_delta(old, new) == [["a", ["context"], [-4]]]


def test_numbers_and_booleans_are_different_values() -> None:
    assert make_delta({"x": [1]}, {"x": [True]}) == [["s", ["x"], [True]]]
    assert make_delta({"x": 1}, {"x": 1.0}) == [["s", ["x"], 1.0]]
    assert not is_prefix([0], [False, 1])


def test_a_whole_tree_of_another_type_is_set_at_the_root() -> None:
    assert make_delta({"a": 1}, [1]) == [["s", [], [1]]]
    assert round_trip({"a": 1}, [1]) == [1]
    assert round_trip([1], [1, 2]) == [1, 2]


def test_a_frozen_copy_stays_a_valid_base_when_the_caller_appends_in_place() -> None:
    state = {"thread": [1, 2], "inner": {"context": [1]}}
    base = freeze(state)
    state["thread"].append(3)
    state["inner"]["context"].append(2)
    assert make_delta(base, state) == [
        ["a", ["thread"], [3]],
        ["a", ["inner", "context"], [2]],
    ]


def test_a_delta_that_does_not_fit_its_base_is_refused() -> None:
    with pytest.raises(DeltaError, match="does not fit"):
        apply_delta({"a": 1}, [["a", ["missing"], [1]]])
    with pytest.raises(DeltaError, match="unknown delta operation"):
        apply_delta({"a": 1}, [["x", ["a"]]])


def test_freezing_without_lists_keeps_the_lists_but_copies_every_dictionary() -> None:
    state = {"thread": [1, 2], "inner": {"context": [1], "read": 0}}
    base = freeze(state, lists=False)
    assert isinstance(base["thread"], Kept) and base["thread"].source is state["thread"]
    assert base["inner"]["context"].source is state["inner"]["context"]
    state["inner"]["read"] = 1  # a dictionary changed in place still shows in the delta
    assert make_delta(base, state) == [["s", ["inner", "read"], 1]]


# -- lists that are kept, not copied, and only ever grow -------------------------------


def test_a_kept_list_that_grew_in_place_gives_its_new_items_without_comparing_any() -> None:
    items = [Untouchable() for _ in range(4)]
    thread = items[:2]
    state = {"thread": thread, "turn": 1}
    base = freeze(state, lists=False)
    thread.extend(items[2:])

    operations, frozen = advance(base, {"thread": thread, "turn": 2}, lists=False)

    assert operations == [["a", ["thread"], items[2:]], ["s", ["turn"], 2]]
    assert frozen["thread"].source is thread and frozen["thread"].length == 4


def test_a_kept_list_that_did_not_grow_gives_no_operation() -> None:
    thread = [Untouchable()]
    base = freeze({"thread": thread}, lists=False)
    assert make_delta(base, {"thread": thread}) == []


def test_a_dict_handed_over_again_is_not_walked_and_keeps_its_frozen_copy() -> None:
    unchanged = {"read": 3, "state": {"messages": [Untouchable()], "n": 1}}
    before = {"participants": {"ada": unchanged, "bob": {"read": 1}}, "turn": 1}
    base = freeze(before, lists=False)
    after = {"participants": {"ada": unchanged, "bob": {"read": 4}}, "turn": 2}

    operations, frozen = advance(base, after, lists=False, source=before)

    assert operations == [["s", ["participants", "bob", "read"], 4], ["s", ["turn"], 2]]
    assert frozen["participants"]["ada"] is base["participants"]["ada"]
    # identity is the whole test: a dict changed in place against the promise is missed
    unchanged["state"]["n"] = 2
    assert advance(frozen, after, lists=False, source=after)[0] == []


def test_an_equal_dict_that_is_another_object_is_walked() -> None:
    before = {"ada": {"read": 3, "state": {"n": 1}}}
    base = freeze(before, lists=False)
    after = {"ada": {"read": 3, "state": {"n": 2}}}
    assert advance(base, after, lists=False, source=before)[0] == [["s", ["ada", "state", "n"], 2]]
    same = copy.deepcopy(before)
    assert advance(base, same, lists=False, source=before)[0] == []


def test_a_kept_list_cleared_or_refilled_against_the_promise_is_written_whole() -> None:
    thread = [1, 2, 3]
    base = freeze({"thread": thread}, lists=False)
    thread.clear()
    thread.append(4)
    assert make_delta(base, {"thread": thread}) == [["s", ["thread"], [4]]]

    contexts = [{"n": 1}, {"n": 2}]
    base = freeze({"context": contexts}, lists=False)
    contexts[:] = [{"n": 3}, {"n": 4}, {"n": 5}]  # as long or longer, other items
    assert make_delta(base, {"context": contexts}) == [["s", ["context"], contexts]]


def test_a_kept_list_is_compared_with_a_new_list_by_the_items_it_held() -> None:
    thread = [1, 2]
    base = freeze({"thread": thread}, lists=False)
    thread.append(3)  # grew after it was kept: a new list is compared with [1, 2]
    assert make_delta(base, {"thread": [1, 2, 3, 4]}) == [["a", ["thread"], [3, 4]]]
    assert make_delta(base, {"thread": [1, 9]}) == [["s", ["thread"], [1, 9]]]
    assert make_delta(base, {"thread": {"a": 1}}) == [["s", ["thread"], {"a": 1}]]


def grow_in_place(rng: random.Random, tree: dict[str, Any]) -> dict[str, Any]:
    """The next state of a producer that appends to its lists in place and hands out a
    new list whenever a list changes otherwise (as ``save_state(shared=True)`` does)."""
    new = dict(tree)
    for _ in range(rng.randrange(1, 4)):
        key = rng.choice("pqrs")
        current = new.get(key)
        action = rng.randrange(10)
        if action < 6 and isinstance(current, list):
            current.extend(random_value(rng, 1) for _ in range(rng.randrange(1, 3)))
        elif action < 7 and isinstance(current, list) and current:
            new[key] = current[: rng.randrange(len(current))]
        elif action < 8:
            new[key] = [random_value(rng, 1) for _ in range(rng.randrange(3))]
        elif action < 9:
            new.pop(key, None)
        else:
            new[key] = random_value(rng)
    return new


@pytest.mark.parametrize("seed", range(40))
def test_random_trees_whose_lists_grow_in_place_round_trip_and_dump_as_json_does(
    seed: int,
) -> None:
    rng = random.Random(seed)
    state: dict[str, Any] = {"p": [], "q": {"nested": [1]}, "r": [1, [2]]}
    rebuilt = json.loads(json.dumps(state))
    base = freeze(state, lists=False)
    for _ in range(30):
        state = grow_in_place(rng, state)
        operations, base = advance(base, state, lists=False)
        rebuilt = apply_delta(rebuilt, json.loads(dumps(operations)))
        assert rebuilt == json.loads(json.dumps(state))
        # a frozen tree dumps as json.dumps writes the tree, also from kept list text
        assert dumps(base) == json.dumps(state, separators=(",", ":"))


def test_advancing_gives_the_delta_of_make_delta_and_the_base_of_freeze() -> None:
    old = {"a": [1, 2], "b": {"c": 1, "d": [3]}, "e": 1}
    new = {"a": [1, 2, 3], "b": {"d": [4]}, "f": [5]}
    operations, frozen = advance(old, new)
    assert operations == make_delta(old, new)
    assert frozen == freeze(new) and frozen["a"] is not new["a"]


def test_a_frozen_tree_with_keys_json_spells_differently_dumps_as_json_does() -> None:
    tree = {1: [True], None: {"x": [1.5]}}
    assert dumps(freeze(tree, lists=False)) == json.dumps(tree, separators=(",", ":"))


def test_a_grown_kept_list_dumps_only_its_new_items() -> None:
    thread: list[Any] = [{"text": "one"}]
    base = freeze({"thread": thread}, lists=False)
    assert dumps(base) == '{"thread":[{"text":"one"}]}'
    thread.append({"text": "two"})
    thread[0]["text"] = "changed"  # breaks the promise, to show the old text is reused

    _, base = advance(base, {"thread": thread}, lists=False)

    assert dumps(base) == '{"thread":[{"text":"one"},{"text":"two"}]}'
