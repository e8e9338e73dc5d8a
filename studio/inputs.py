"""Input types the API schemas share, so that malformed input is refused with a 422.

Each type states a limit that the databases or the code behind the API would otherwise
trip over with a 500:

- ``ObjectId``: ids fit a signed 64-bit key; larger numbers overflow SQLite's and
  PostgreSQL's integers before a query can say "not found".
- ``Text``: PostgreSQL cannot store a NUL character in text or JSON, and neither
  database an unpaired surrogate (JSON can spell one, ``"\\ud800"``), so text that names
  or configures something is refused with one rather than changed.
- ``JsonObject`` / ``JsonList``: free-form JSON (model parameters, a termination tree, a
  canvas layout) nests at most ``MAX_JSON_DEPTH`` levels, holds no NUL character and only
  finite numbers (``NaN`` and ``Infinity`` are not JSON, and PostgreSQL refuses them).

:func:`json_problem` is the one walk behind the JSON types, also used on imported files.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

#: the largest value of a signed 64-bit integer column (ids, seqs, token counts)
MAX_ID = 2**63 - 1
#: the largest value of a PositiveIntegerField, which is a 32-bit column on PostgreSQL
MAX_SMALL_COUNT = 2**31 - 1
#: free-form JSON deeper than this is refused: real configurations stay far below it,
#: and the code that walks them recursively stays far from Python's recursion limit
MAX_JSON_DEPTH = 100

NUL = "\x00"
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why a database cannot store ``text`` as it is; None when it can."""
    if NUL in text:
        return "must not contain NUL characters"
    if _SURROGATE.search(text):
        return "must not contain unpaired surrogates"
    return None


def refuse_unstorable_text(value: str) -> str:
    """The text unchanged, or a validation error saying why it cannot be stored."""
    problem = text_problem(value)
    if problem is not None:
        raise PydanticCustomError("unstorable_text", problem)
    return value


def json_problem(
    value: Any, path: str = "", *, max_depth: int = MAX_JSON_DEPTH
) -> tuple[str, str] | None:
    """Where a JSON tree goes wrong and how (``("a.b[2]", "...")``); None when it does not.

    Walks without recursion, so any depth is safe to inspect.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 1)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                return where, f"nests deeper than {max_depth} levels"
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str) and (problem := text_problem(key)) is not None:
                        return where, f"a key {problem}"
                    stack.append((child, f"{where}.{key}" if where else str(key), depth + 1))
            else:
                stack.extend((child, f"{where}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str) and (problem := text_problem(item)) is not None:
            return where, f"text {problem}"
        elif isinstance(item, float) and not math.isfinite(item):
            return where, "numbers must be finite"
    return None


def refuse_bad_json(value: Any) -> Any:
    """The JSON value unchanged, or a validation error saying what is wrong and where."""
    problem = json_problem(value)
    if problem is not None:
        where, message = problem
        raise PydanticCustomError("bad_json", f"{message} (at {where})" if where else message)
    return value


ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
Seq = Annotated[int, Field(ge=0, le=MAX_ID)]
Text = Annotated[str, AfterValidator(refuse_unstorable_text)]
JsonObject = Annotated[dict[str, Any], AfterValidator(refuse_bad_json)]
JsonList = Annotated[list[Any], AfterValidator(refuse_bad_json)]


def as_utc(value: datetime) -> datetime:
    """A moment in UTC (a naive one is taken as UTC): databases hold UTC, and PostgreSQL
    refuses offsets beyond ±15:59 that ISO 8601 text may still carry."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise PydanticCustomError("datetime_range", "is out of range") from None


#: A point in time from a client, in UTC.
Moment = Annotated[datetime, AfterValidator(as_utc)]
