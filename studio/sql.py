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
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    CharField,
    Field,
    FloatField,
    IntegerField,
    JSONField,
    Model,
    TextField,
)

RowT = TypeVar("RowT", bound=Model)


def quoted_table(model: type[Model]) -> str:
    """``model``'s table, quoted for the database."""
    return str(connection.ops.quote_name(model._meta.db_table))


def quoted_column(model: type[Model], name: str) -> str:
    """The column of ``model``'s field ``name``, quoted for the database."""
    return str(connection.ops.quote_name(concrete_field(model, name).column))


def columns_of(model: type[Model]) -> str:
    """Every column of ``model``'s rows, qualified by its table: what a statement that
    reads model instances (:func:`fetch_rows`) selects."""
    table = quoted_table(model)
    return ", ".join(
        f"{table}.{quoted_column(model, field.attname)}" for field in model._meta.concrete_fields
    )


def fetch_rows(model: type[RowT], statement: str, params: Sequence[Any]) -> list[RowT]:
    """The instances of ``model`` a written-out statement reads, as ``model.objects.raw``
    makes them: its model's columns as fields (deferred when not read), others as
    attributes, values converted as the ORM converts them.

    ``raw()`` works out which column is which field, and how to convert it, for every
    query it runs: a third of the time a run start spent reading its rows. That plan is
    made once per statement's columns here.
    """
    database = connections[DEFAULT_DB_ALIAS]  # not through the proxy for each use
    with database.cursor() as cursor:
        cursor.execute(statement, params)
        columns = tuple(column[0] for column in cursor.description)
        rows = cursor.fetchall()
    if not rows:
        return []
    make = row_maker(model, columns, database.vendor)
    return [make(row, database) for row in rows]


def first_row(model: type[RowT], statement: str, params: Sequence[Any]) -> RowT | None:
    """The row a written-out statement found (it picks one by a unique key), or None."""
    rows = fetch_rows(model, statement, params)
    return rows[0] if rows else None


def insert_row(instance: Model) -> None:
    """Save a new ``instance`` (no signals are sent) as ``save()`` would insert it, by a
    statement written out once per model: a run start's insert compiled anew took a
    fifth of the request."""
    model = type(instance)
    database = connections[DEFAULT_DB_ALIAS]
    fields = inserted_fields(model)
    values = [field.get_db_prep_save(field.pre_save(instance, True), database) for field in fields]
    with database.cursor() as cursor:
        cursor.execute(insert_row_statement(model), values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = database.alias


@functools.cache
def inserted_fields(model: type[Model]) -> list[Field[Any, Any]]:
    """The fields an insert of ``model`` writes: all but a primary key the database picks."""
    primary_key = model._meta.pk
    return [
        field
        for field in model._meta.concrete_fields
        if not (field is primary_key and getattr(field, "db_returning", False))
    ]


@functools.cache
def insert_row_statement(model: type[Model]) -> str:
    """``INSERT`` of one row of ``model`` (parameters: :func:`inserted_fields`' values),
    returning its primary key."""
    fields = inserted_fields(model)
    names = ", ".join(quoted_column(model, field.attname) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    key = quoted_column(model, model._meta.pk.attname)
    return f"INSERT INTO {quoted_table(model)} ({names}) VALUES ({marks}) RETURNING {key}"


RowMaker = Callable[[Sequence[Any], BaseDatabaseWrapper], Any]


@functools.lru_cache(maxsize=128)
def row_maker(model: type[Model], columns: tuple[str, ...], vendor: str) -> RowMaker:
    """How a row of ``columns`` becomes an instance of ``model`` (see :func:`fetch_rows`);
    ``vendor`` keys the database's own converters."""
    by_column = {field.column: field for field in model._meta.concrete_fields}
    position = {field.column: index for index, field in enumerate(model._meta.concrete_fields)}
    read = sorted(
        (index for index, column in enumerate(columns) if column in by_column),
        key=lambda index: position[columns[index]],
    )
    names = [by_column[columns[index]].attname for index in read]
    extras = [(index, column) for index, column in enumerate(columns) if column not in by_column]
    converters = []
    for index in read:
        expression = by_column[columns[index]].get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(expression)
        found += expression.get_db_converters(connection)
        if found:
            converters.append((index, expression, found))

    def make(row: Sequence[Any], database: BaseDatabaseWrapper) -> Any:
        values = list(row)
        for index, expression, functions in converters:
            for convert in functions:
                values[index] = convert(values[index], expression, database)
        instance = model.from_db(database.alias, names, [values[index] for index in read])
        for index, name in extras:
            setattr(instance, name, values[index])
        return instance

    return make


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
    """A value as ``model``'s field ``name`` hands it to the database.

    A number, text or boolean of the very type its field keeps goes as it is: the
    field's preparation would only convert it to that type (a run's batch updates its
    counters every turn)."""
    if type(value) in plain_types(model, name):
        return value
    return concrete_field(model, name).get_db_prep_save(value, connection)


@functools.cache
def plain_types(model: type[Model], name: str) -> tuple[type, ...]:
    """The Python types a value of ``model``'s field ``name`` goes to the database as."""
    field = concrete_field(model, name)
    if isinstance(field, BooleanField):
        return (bool,)
    if isinstance(field, IntegerField):
        # PostgreSQL's driver is told each integer's width (its adapter wraps it).
        return () if connection.vendor == "postgresql" else (int,)
    if isinstance(field, FloatField):
        return (float,)
    if isinstance(field, CharField | TextField):
        return (str,)
    return ()


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
