"""JSON text of a run's events and checkpoints, from encoders made once.

``json.dumps`` and ``JSONEncoder.encode`` set up json's C encoder anew on every call,
which costs more than encoding a small value does. A run encodes several small values per
message (its events' data, its checkpoint's delta) and a server relays each event to
every watcher, so these encoders are made once, here.

They write exactly what ``json.dumps`` writes with the same separators (ASCII only, NaN
allowed), without looking for circular references: the values are JSON data built by the
runs themselves, and a cycle still fails (with a RecursionError).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as json_encoder
from typing import Any

Encode = Callable[[Any], str]


def make_encoder(item_separator: str, key_separator: str) -> Encode:
    """A function writing a value as ``json.dumps(value, separators=(item, key))``."""
    plain = json.JSONEncoder(separators=(item_separator, key_separator))
    make = getattr(json_encoder, "c_make_encoder", None)  # not in the type stubs
    if make is None:  # an interpreter without json's C speedups
        return plain.encode
    chunks = make(
        None,  # no circular-reference markers
        plain.default,
        json_encoder.encode_basestring_ascii,
        None,  # no indent
        key_separator,
        item_separator,
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )

    def encode(value: Any) -> str:
        return "".join(chunks(value, 0))

    return encode


#: ``json.dumps(value, separators=(",", ":"))``: the websocket's frames, checkpoints
compact_json = make_encoder(",", ":")
#: ``json.dumps(value)``: what a JSONField stores
spaced_json = make_encoder(", ", ": ")

#: a string as JSON text (``ensure_ascii``), as both encoders write it
quote_json: Encode = json_encoder.encode_basestring_ascii
