"""JSON API for runs: start, list, inspect, read events, and steer.

Views parse, call one service and respond; the services scope every lookup to the
user (404 for runs they cannot see, 403 for runs they may watch but not steer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from studio.inputs import MAX_ID, ObjectId, Seq, Text
from studio.runs import backends, services
from studio.runs.events import Envelope
from studio.runs.models import Run, RunEvent
from studio.runs.models import Status as RunStatus
from studio.runs.streaming import persisted_after

router = Router(tags=["runs"])


class BudgetIn(Schema):
    """A limit on tokens and/or dollars; the run stops before a call that would pass it."""

    tokens: int | None = Field(default=None, gt=0, le=MAX_ID)
    usd: float | None = Field(default=None, gt=0, allow_inf_nan=False)


class RunIn(Schema):
    """Start a run of a team's current version."""

    team: ObjectId
    task: Text = Field(min_length=1, max_length=100_000)
    budget: BudgetIn | None = None


class RunOut(Schema):
    """A run, its state, usage and lineage."""

    id: int
    team: int
    team_version: int
    version_number: int
    task: str
    status: str
    stop_reason: str
    started_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_usd: float
    usage: dict[str, Any]
    budget: BudgetIn
    parent: int | None
    parent_seq: int | None
    pending_request_id: str
    can_steer: bool


class RunFilters(Schema):
    """Filters of the run list."""

    team: ObjectId | None = None
    status: RunStatus | None = None
    q: Text | None = Field(default=None, description="Text in the task or any message.")
    limit: int = Field(default=50, ge=1, le=200)
    # offset + limit must still fit a 64-bit integer
    offset: int = Field(default=0, ge=0, le=MAX_ID - 200)


class InputIn(Schema):
    """An answer to the human seat's pending request."""

    request_id: Text = Field(min_length=1, max_length=64)
    content: Text = Field(max_length=100_000)


class InterjectIn(Schema):
    """A message for the team's next turn boundary."""

    content: Text = Field(min_length=1, max_length=100_000)


class ContinueIn(Schema):
    """Continue a finished run; a new budget replaces the old one."""

    task: Text = Field(default="", max_length=100_000)
    budget: BudgetIn | None = None


class ForkIn(Schema):
    """A new run from the message at ``from_seq``, optionally edited."""

    from_seq: int = Field(ge=1, le=MAX_ID)
    edited_content: Text | None = Field(default=None, max_length=100_000)
    task: Text = Field(default="", max_length=100_000)


def run_out(run: Run, request: HttpRequest) -> dict[str, Any]:
    """The API shape of a run."""
    return {
        "id": run.pk,
        "team": run.team_id,
        "team_version": run.team_version_id,
        "version_number": run.team_version.number,
        "task": run.task,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "started_by": run.started_by.get_username() if run.started_by else None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "total_tokens": run.total_tokens,
        "cost_usd": run.cost_usd,
        "usage": run.usage or {},
        "budget": {"tokens": run.budget_tokens, "usd": run.budget_usd},
        "parent": run.parent_id,
        "parent_seq": run.parent_seq,
        "pending_request_id": run.pending_request_id,
        "can_steer": services.can_steer(request.user, run.pk),
    }


def fresh(request: HttpRequest, run_id: int) -> dict[str, Any]:
    """The run as stored now."""
    run = Run.objects.select_related("team_version", "started_by").get(pk=run_id)
    return run_out(run, request)


@router.post("/runs", response={201: RunOut}, url_name="runs-create")
def create_run(request: HttpRequest, payload: RunIn) -> Status[dict[str, Any]]:
    """Start a run; watch it on ``/ws/runs/{id}/``."""
    backends.get_backend().ensure_started()
    budget = payload.budget or BudgetIn()
    run = services.start_run(
        request.user, payload.team, payload.task, budget_tokens=budget.tokens, budget_usd=budget.usd
    )
    return Status(201, fresh(request, run.pk))


@router.get("/runs", response=list[RunOut], url_name="runs-list")
def list_runs(request: HttpRequest, filters: Query[RunFilters]) -> list[dict[str, Any]]:
    """Runs you may see, newest first; filter by team, status and text."""
    runs = Run.objects.visible_to(request.user).select_related("team_version", "started_by")
    if filters.team is not None:
        runs = runs.filter(team_id=filters.team)
    if filters.status is not None:
        runs = runs.filter(status=filters.status)
    if filters.q:
        matching = RunEvent.objects.filter(text__icontains=filters.q).values("run_id")
        runs = runs.filter(Q(task__icontains=filters.q) | Q(pk__in=matching))
    page = runs[filters.offset : filters.offset + filters.limit]
    return [run_out(run, request) for run in page]


@router.get("/runs/{run_id}", response=RunOut, url_name="runs-detail")
def get_run(request: HttpRequest, run_id: ObjectId) -> dict[str, Any]:
    """One run."""
    services.get_run(request.user, run_id)
    return fresh(request, run_id)


@router.get("/runs/{run_id}/events", response=list[Envelope], url_name="runs-events")
def list_events(
    request: HttpRequest, run_id: ObjectId, after: Seq = 0, limit: int = 500
) -> list[dict[str, Any]]:
    """Persisted events with seq > ``after`` (at most ``limit``, up to 2000)."""
    services.get_run(request.user, run_id)
    return persisted_after(run_id, after, min(max(limit, 1), 2000))


@router.post("/runs/{run_id}/input", response=RunOut, url_name="runs-input")
def provide_input(request: HttpRequest, run_id: ObjectId, payload: InputIn) -> dict[str, Any]:
    """Answer the pending request of the human seat."""
    services.provide_input(request.user, run_id, payload.request_id, payload.content)
    return fresh(request, run_id)


@router.post("/runs/{run_id}/stop", response=RunOut, url_name="runs-stop")
def stop_run(request: HttpRequest, run_id: ObjectId) -> dict[str, Any]:
    """Stop the run (it ends as cancelled)."""
    services.stop_run(request.user, run_id)
    return fresh(request, run_id)


@router.post("/runs/{run_id}/interject", response=RunOut, url_name="runs-interject")
def interject(request: HttpRequest, run_id: ObjectId, payload: InterjectIn) -> dict[str, Any]:
    """Say something to the team at its next turn boundary."""
    services.interject(request.user, run_id, payload.content)
    return fresh(request, run_id)


@router.post("/runs/{run_id}/continue", response=RunOut, url_name="runs-continue")
def continue_run(request: HttpRequest, run_id: ObjectId, payload: ContinueIn) -> dict[str, Any]:
    """Continue a finished run with a new task (or none), keeping the conversation."""
    backends.get_backend().ensure_started()
    budget = payload.budget or BudgetIn()
    services.continue_run(
        request.user, run_id, payload.task, budget_tokens=budget.tokens, budget_usd=budget.usd
    )
    return fresh(request, run_id)


@router.post("/runs/{run_id}/fork", response={201: RunOut}, url_name="runs-fork")
def fork_run(request: HttpRequest, run_id: ObjectId, payload: ForkIn) -> Status[dict[str, Any]]:
    """A new run from a message of this one, optionally with that message edited."""
    backends.get_backend().ensure_started()
    fork = services.fork_run(
        request.user, run_id, payload.from_seq, payload.edited_content, payload.task
    )
    return Status(201, fresh(request, fork.pk))
