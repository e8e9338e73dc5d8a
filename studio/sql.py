"""Helpers for the few statements written out by hand, once, for the hot paths.

The ORM compiles a query anew every time it runs: for a short statement that takes many
times as long as running it. A script's token, a run start's team, seats and version, a
socket's rights and replays, a run's claim, its human seat's answers and its batches
are read or written for every request, run or turn, so their statements are written out
once (with these helpers, from the models' own table and column names) and run with new
values each time; :func:`python_value` converts what they read as the ORM would.
"""

from __future__ import annotations

import functools
import json
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, JSONField, Model
from django.db.models.query import RawQuerySet

RowT = TypeVar("RowT", bound=Model)


def quoted_table(model: type[Model]) -> str:
    """``model``'s table, quoted for the database."""
    return str(connection.ops.quote_name(model._meta.db_table))


def quoted_column(model: type[Model], name: str) -> str:
    """The column of ``model``'s field ``name``, quoted for the database."""
    return str(connection.ops.quote_name(concrete_field(model, name).column))


def columns_of(model: type[Model]) -> str:
    """Every column of ``model``'s rows, qualified by its table: what a statement that
    reads model instances (``Model.objects.raw``) selects."""
    table = quoted_table(model)
    return ", ".join(
        f"{table}.{quoted_column(model, field.attname)}" for field in model._meta.concrete_fields
    )


def first_row(rows: RawQuerySet[RowT]) -> RowT | None:
    """The row a written-out statement found (it picks one by a unique key), or None."""
    return next(iter(rows), None)


@functools.cache
def concrete_field(model: type[Model], name: str) -> Field[Any, Any]:
    """``model``'s field ``name``, one with a column."""
    field = model._meta.get_field(name)
    assert isinstance(field, Field)
    return field


def json_value(model: type[Model], name: str, value: Any) -> Any:
    """A value read from a JSON column as ``model``'s field ``name`` reads it."""
    field = model._meta.get_field(name)
    assert isinstance(field, JSONField)
    return json.loads(value, cls=field.decoder) if isinstance(value, str) else value


def db_value(model: type[Model], name: str, value: Any) -> Any:
    """A value as ``model``'s field ``name`` hands it to the database."""
    return concrete_field(model, name).get_db_prep_save(value, connection)


@functools.cache
def column_converters(model: type[Model], name: str) -> tuple[Any, Any]:
    """The column of ``model``'s field ``name`` as an expression, and the functions that
    turn what the database driver gives for it into the field's Python value."""
    field = concrete_field(model, name)
    column = field.get_col(model._meta.db_table)
    converters = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
    return column, tuple(converters)


def python_value(model: type[Model], name: str, value: Any) -> Any:
    """A value read by a written-out statement, as the ORM would give it for ``model``'s
    field ``name`` (a date on SQLite, a boolean from 0 or 1)."""
    column, converters = column_converters(model, name)
    for convert in converters:
        value = convert(value, column, connection)
    return value
