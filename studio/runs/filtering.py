"""Filters of run history beyond team and status: who started a run, when, what it cost,
which models it called, whether a tool failed, whether it asked the human, and whether
it was forked or continued from another run. Each works the same on SQLite and
PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.db.models import Exists, OuterRef, QuerySet, TextField
from django.db.models.functions import Cast

from studio.runs.events import EventType
from studio.runs.models import Run, RunEvent

RunsT = TypeVar("RunsT", bound=QuerySet[Run])

#: how a failed tool result reads in an event's stored JSON (on both databases)
TOOL_ERROR_MARK = '"is_error": true'


@dataclass(frozen=True)
class HistoryFilters:
    """The optional filters; None leaves a dimension unfiltered."""

    started_by: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    min_cost: float | None = None
    max_cost: float | None = None
    model: str | None = None
    tool_errors: bool | None = None
    asked_human: bool | None = None
    forked: bool | None = None


def has_event(event_type: str) -> Exists:
    return Exists(RunEvent.objects.filter(run=OuterRef("pk"), type=event_type))


def yes_or_no(runs: RunsT, condition: Exists, wanted: bool | None) -> RunsT:
    if wanted is None:
        return runs
    return runs.filter(condition if wanted else ~condition)


def filter_history(runs: RunsT, filters: HistoryFilters) -> RunsT:
    """``runs`` narrowed by every filter given."""
    if filters.started_by:
        runs = runs.filter(started_by__username=filters.started_by)
    if filters.created_after is not None:
        runs = runs.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        runs = runs.filter(created_at__lt=filters.created_before)
    if filters.min_cost is not None:
        runs = runs.filter(cost_usd__gte=filters.min_cost)
    if filters.max_cost is not None:
        runs = runs.filter(cost_usd__lte=filters.max_cost)
    if filters.model:
        runs = runs.filter(usage__by_model__has_key=filters.model)
    failed_tool = Exists(
        RunEvent.objects.filter(run=OuterRef("pk"), type=EventType.TOOL_RESULT)
        .annotate(stored=Cast("data", TextField()))
        .filter(stored__contains=TOOL_ERROR_MARK)
    )
    runs = yes_or_no(runs, failed_tool, filters.tool_errors)
    runs = yes_or_no(runs, has_event(EventType.INPUT_REQUESTED), filters.asked_human)
    if filters.forked is not None:
        runs = runs.filter(parent__isnull=not filters.forked)
    return runs
