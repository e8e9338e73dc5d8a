"""The encoders made once write what ``json.dumps`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from studio.runs.events import EventDataEncoder, decode_event_data
from studio.runs.jsontext import compact_json, make_encoder, spaced_json

KEYS = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(KEYS, inner)),
    max_leaves=30,
)
#: what reads back as it was written: JSON data, whose keys are strings
JSON_DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner), st.dictionaries(st.text(), inner)),
    max_leaves=30,
)


@given(VALUES)
def test_they_write_what_json_dumps_writes(value: Any) -> None:
    assert compact_json(value) == json.dumps(value, separators=(",", ":"))
    assert spaced_json(value) == json.dumps(value)


def test_a_value_json_cannot_write_is_refused_as_json_refuses_it() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        compact_json({"when": object()})


def test_a_cycle_fails_instead_of_looping() -> None:
    looped: list[Any] = []
    looped.append(looped)
    with pytest.raises(RecursionError):
        compact_json(looped)


def test_other_separators_are_made_on_demand() -> None:
    assert make_encoder(";", "=")({"a": [1, 2]}) == '{"a"=[1;2]}'


@given(JSON_DATA)
def test_event_data_still_reads_back_as_it_was_given(value: Any) -> None:
    data = {"value": value, "text": "a\x00b \\u0000"}
    text = EventDataEncoder().encode(data)
    assert "\x00" not in text
    # json's own reading (NaN is not equal to itself: compare the texts)
    assert json.dumps(decode_event_data(text)) == json.dumps(data)
