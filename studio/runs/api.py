"""JSON API for runs: start, list, inspect, read events, and steer.

Views parse, call one service and respond; the services scope every lookup to the
user (404 for runs they cannot see, 403 for runs they may watch but not steer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status
from pydantic import Field

from studio.accounts.users import AuthenticatedRequest
from studio.inputs import MAX_ID, Moment, ObjectId, Seq, Text
from studio.runs import backends, reviews, search, services
from studio.runs.events import Envelope
from studio.runs.export import MEDIA_TYPES, ExportFormat, export_run
from studio.runs.filtering import HistoryFilters, filter_history
from studio.runs.models import MessageComment, Run, RunFlag, RunReview, Verdict
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
    snippet: str | None = Field(
        default=None, description="With q: the best match, escaped HTML with <mark>s."
    )
    match_seq: int | None = Field(default=None, description="With q: the seq of that match.")


class RunFilters(Schema):
    """Filters of the run list."""

    team: ObjectId | None = None
    status: RunStatus | None = None
    q: Text | None = Field(
        default=None, max_length=500, description="Words in the task or any message."
    )
    verdict: Verdict | None = Field(default=None, description="The latest review's verdict.")
    tag: Text | None = Field(default=None, max_length=50, description="Any review's tag.")
    reviewed: bool | None = Field(default=None, description="Reviewed at least once, or never.")
    started_by: Text | None = Field(default=None, max_length=150, description="A username.")
    created_after: Moment | None = None
    created_before: Moment | None = None
    min_cost: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    max_cost: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    model: Text | None = Field(default=None, max_length=200, description="A model it called.")
    tool_errors: bool | None = Field(default=None, description="A tool call failed.")
    asked_human: bool | None = Field(default=None, description="It asked the human seat.")
    forked: bool | None = Field(default=None, description="Forked or continued from a run.")
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


class ReviewIn(Schema):
    """A reviewer's verdict on a run, with an optional note and tags."""

    verdict: Verdict
    note: Text = Field(default="", max_length=20_000)
    tags: list[Annotated[Text, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20
    )


class ReviewOut(Schema):
    """One review, with who gave it and when."""

    id: int
    run: int
    reviewer: str | None
    verdict: str
    note: str
    tags: list[str]
    created_at: datetime


class CommentIn(Schema):
    """A remark on one event of the transcript."""

    seq: int = Field(ge=1, le=MAX_ID)
    text: Text = Field(min_length=1, max_length=20_000)


class CommentOut(Schema):
    """A remark on one event, with who made it and when."""

    id: int
    run: int
    seq: int
    author: str | None
    text: str
    created_at: datetime


class FlagIn(Schema):
    """Why a run should be reviewed."""

    reason: Text = Field(default="", max_length=2_000)


class FlagOut(Schema):
    """A request for review."""

    id: int
    run: int
    flagged_by: str | None
    reason: str
    created_at: datetime


class QueueEntry(Schema):
    """A run waiting for review, and why."""

    run: RunOut
    reasons: list[str]
    last_flagged_at: datetime | None


class QueueFilters(Schema):
    """Paging of the review queue."""

    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0, le=MAX_ID - 200)


class ExportQuery(Schema):
    """The shape of an export."""

    format: ExportFormat = ExportFormat.JSONL


def review_out(review: RunReview) -> dict[str, Any]:
    """The API shape of a review."""
    return {
        "id": review.pk,
        "run": review.run_id,
        "reviewer": review.reviewer.get_username() if review.reviewer else None,
        "verdict": review.verdict,
        "note": review.note,
        "tags": [tag.name for tag in review.tags.all()],
        "created_at": review.created_at,
    }


def comment_out(comment: MessageComment) -> dict[str, Any]:
    """The API shape of a comment."""
    return {
        "id": comment.pk,
        "run": comment.run_id,
        "seq": comment.seq,
        "author": comment.author.get_username() if comment.author else None,
        "text": comment.text,
        "created_at": comment.created_at,
    }


def flag_out(flag: RunFlag) -> dict[str, Any]:
    """The API shape of a flag."""
    return {
        "id": flag.pk,
        "run": flag.run_id,
        "flagged_by": flag.flagged_by.get_username() if flag.flagged_by else None,
        "reason": flag.reason,
        "created_at": flag.created_at,
    }


def run_out(run: Run, request: HttpRequest, *, can_steer: bool | None = None) -> dict[str, Any]:
    """The API shape of a run (``can_steer`` is looked up unless the caller knows it)."""
    if can_steer is None:
        can_steer = services.can_steer(request.user, run.pk)
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
        "can_steer": can_steer,
    }


def fresh(request: HttpRequest, run_id: int) -> dict[str, Any]:
    """The run as stored now."""
    run = Run.objects.select_related("team_version", "started_by").get(pk=run_id)
    return run_out(run, request)


@router.post("/runs", response={201: RunOut}, url_name="runs-create")
def create_run(request: AuthenticatedRequest, payload: RunIn) -> Status[dict[str, Any]]:
    """Start a run; watch it on ``/ws/runs/{id}/``."""
    backends.get_backend().ensure_started()
    budget = payload.budget or BudgetIn()
    run = services.start_run(
        request.user, payload.team, payload.task, budget_tokens=budget.tokens, budget_usd=budget.usd
    )
    # The run as created (not read again); whoever started a run may steer it.
    return Status(201, run_out(run, request, can_steer=True))


@router.get("/runs", response=list[RunOut], url_name="runs-list")
def list_runs(request: AuthenticatedRequest, filters: Query[RunFilters]) -> list[dict[str, Any]]:
    """Runs you may see, newest first (best match first with ``q``), filtered."""
    runs = Run.objects.visible_to(request.user).select_related("team_version", "started_by")
    if filters.team is not None:
        runs = runs.filter(team_id=filters.team)
    if filters.status is not None:
        runs = runs.filter(status=filters.status)
    runs = reviews.filter_by_review(
        runs, verdict=filters.verdict, tag=filters.tag, reviewed=filters.reviewed
    )
    history = HistoryFilters(**filters.model_dump(include=set(HistoryFilters.__dataclass_fields__)))
    runs = filter_history(runs, history)
    if not filters.q:
        page = runs[filters.offset : filters.offset + filters.limit]
        return [run_out(run, request) for run in page]
    found = search.search_page(runs, filters.q, filters.offset, filters.limit)
    hits = search.best_hits([run.pk for run in found], filters.q)
    listed = []
    for run in found:
        hit = hits.get(run.pk)
        shape = run_out(run, request)
        if hit is not None:
            shape.update(snippet=hit.snippet, match_seq=hit.seq)
        listed.append(shape)
    return listed


@router.get("/runs/{run_id}", response=RunOut, url_name="runs-detail")
def get_run(request: AuthenticatedRequest, run_id: ObjectId) -> dict[str, Any]:
    """One run."""
    services.get_run(request.user, run_id)
    return fresh(request, run_id)


@router.get("/runs/{run_id}/events", response=list[Envelope], url_name="runs-events")
def list_events(
    request: AuthenticatedRequest, run_id: ObjectId, after: Seq = 0, limit: int = 500
) -> list[dict[str, Any]]:
    """Persisted events with seq > ``after`` (at most ``limit``, up to 2000)."""
    services.get_run(request.user, run_id)
    return persisted_after(run_id, after, min(max(limit, 1), 2000))


@router.post("/runs/{run_id}/input", response=RunOut, url_name="runs-input")
def provide_input(
    request: AuthenticatedRequest, run_id: ObjectId, payload: InputIn
) -> dict[str, Any]:
    """Answer the pending request of the human seat."""
    services.provide_input(request.user, run_id, payload.request_id, payload.content)
    return fresh(request, run_id)


@router.post("/runs/{run_id}/stop", response=RunOut, url_name="runs-stop")
def stop_run(request: AuthenticatedRequest, run_id: ObjectId) -> dict[str, Any]:
    """Stop the run (it ends as cancelled)."""
    services.stop_run(request.user, run_id)
    return fresh(request, run_id)


@router.post("/runs/{run_id}/interject", response=RunOut, url_name="runs-interject")
def interject(
    request: AuthenticatedRequest, run_id: ObjectId, payload: InterjectIn
) -> dict[str, Any]:
    """Say something to the team at its next turn boundary."""
    services.interject(request.user, run_id, payload.content)
    return fresh(request, run_id)


@router.post("/runs/{run_id}/continue", response=RunOut, url_name="runs-continue")
def continue_run(
    request: AuthenticatedRequest, run_id: ObjectId, payload: ContinueIn
) -> dict[str, Any]:
    """Continue a finished run with a new task (or none), keeping the conversation."""
    backends.get_backend().ensure_started()
    budget = payload.budget or BudgetIn()
    services.continue_run(
        request.user, run_id, payload.task, budget_tokens=budget.tokens, budget_usd=budget.usd
    )
    return fresh(request, run_id)


@router.post("/runs/{run_id}/fork", response={201: RunOut}, url_name="runs-fork")
def fork_run(
    request: AuthenticatedRequest, run_id: ObjectId, payload: ForkIn
) -> Status[dict[str, Any]]:
    """A new run from a message of this one, optionally with that message edited."""
    backends.get_backend().ensure_started()
    fork = services.fork_run(
        request.user, run_id, payload.from_seq, payload.edited_content, payload.task
    )
    return Status(201, fresh(request, fork.pk))


@router.get("/runs/{run_id}/reviews", response=list[ReviewOut], url_name="runs-reviews")
def list_reviews(request: AuthenticatedRequest, run_id: ObjectId) -> list[dict[str, Any]]:
    """Every review of the run, newest first."""
    return [review_out(review) for review in reviews.list_reviews(request.user, run_id)]


@router.post("/runs/{run_id}/reviews", response={201: ReviewOut}, url_name="runs-review")
def review_run(
    request: AuthenticatedRequest, run_id: ObjectId, payload: ReviewIn
) -> Status[dict[str, Any]]:
    """Give the run a verdict (reviewers only); earlier reviews are kept."""
    review = reviews.review_run(request.user, run_id, payload.verdict, payload.note, payload.tags)
    return Status(201, review_out(review))


@router.get("/runs/{run_id}/comments", response=list[CommentOut], url_name="runs-comments")
def list_comments(request: AuthenticatedRequest, run_id: ObjectId) -> list[dict[str, Any]]:
    """Every comment on the run's events, in transcript order."""
    return [comment_out(comment) for comment in reviews.list_comments(request.user, run_id)]


@router.post("/runs/{run_id}/comments", response={201: CommentOut}, url_name="runs-comment")
def comment_on_message(
    request: AuthenticatedRequest, run_id: ObjectId, payload: CommentIn
) -> Status[dict[str, Any]]:
    """Remark on one event of the transcript (reviewers only)."""
    comment = reviews.comment_on_message(request.user, run_id, payload.seq, payload.text)
    return Status(201, comment_out(comment))


@router.post("/runs/{run_id}/flag", response={201: FlagOut}, url_name="runs-flag")
def flag_run(
    request: AuthenticatedRequest, run_id: ObjectId, payload: FlagIn | None = None
) -> Status[dict[str, Any]]:
    """Ask reviewers to look at the run; it joins the review queue."""
    reason = payload.reason if payload is not None else ""
    return Status(201, flag_out(reviews.flag_run(request.user, run_id, reason)))


@router.get("/review-queue", response=list[QueueEntry], url_name="runs-review-queue")
def review_queue(
    request: AuthenticatedRequest, filters: Query[QueueFilters]
) -> list[dict[str, Any]]:
    """Finished runs waiting for a review (reviewers only), flagged ones first."""
    queue = reviews.review_queue(request.user).select_related("team_version", "started_by")
    page = queue[filters.offset : filters.offset + filters.limit]
    return [
        {
            "run": run_out(run, request),
            "reasons": reviews.queue_reasons(run),
            "last_flagged_at": getattr(run, "last_flagged_at", None),
        }
        for run in page
    ]


@router.get("/runs/{run_id}/export", url_name="runs-export")
def export(
    request: AuthenticatedRequest, run_id: ObjectId, query: Query[ExportQuery]
) -> HttpResponse:
    """The run's summary, team spec and every persisted event, as a download."""
    services.get_run(request.user, run_id)
    run = Run.objects.select_related("team", "team_version", "started_by").get(pk=run_id)
    media_type, extension = MEDIA_TYPES[query.format]
    response = HttpResponse(export_run(run, query.format), content_type=media_type)
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.{extension}"'
    return response
