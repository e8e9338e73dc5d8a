"""Reading the one row a unique key picks out."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

RowT = TypeVar("RowT", bound=Model)


def unique_row(rows: QuerySet[RowT]) -> RowT | None:
    """The row ``rows`` picks out by a unique key (a primary key, a unique column), or None.

    ``first()`` orders by the model's ordering (or its key) first, for a row that is
    unique anyway: compiling that ``ORDER BY`` cost about a quarter of such a query
    (60-90 µs of 250-350 on SQLite), and the busiest paths make several (the token of
    every request and socket, the team of a run start, the run of a socket).
    """
    return next(iter(rows.order_by()[:1]), None)
