"""Reviews of past runs: verdicts with notes and tags, flags asking for a review, and the
queue of runs still waiting for one.

Reviewers are staff and holders of ``runs.review_run`` (see :func:`is_reviewer`). They
read every run; owners still see only their own runs; strangers see nothing and get 404
for a run's reviews, as for the run itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.lookups import Exact

from studio.accounts.users import AnyUser
from studio.errors import ServiceError
from studio.runs.models import (
    FINISHED_STATUSES,
    MessageComment,
    ReviewTag,
    Run,
    RunEvent,
    RunFlag,
    RunQuerySet,
    RunReview,
    Status,
    is_reviewer,
)
from studio.runs.services import get_run

#: statuses a reviewer should look at even when nobody flagged the run
TROUBLE_STATUSES = (Status.FAILED, Status.TIMED_OUT, Status.BUDGET_EXHAUSTED)


def require_reviewer(user: AnyUser) -> None:
    """Refuse (403) anyone who is not a reviewer."""
    if not is_reviewer(user):
        raise ServiceError("Only reviewers may do this.", status=403)


def normalise_tags(tags: Sequence[str]) -> list[str]:
    """Tags trimmed, lower-cased and de-duplicated, in the order given."""
    cleaned: list[str] = []
    for tag in tags:
        name = tag.strip().lower()
        if name and name not in cleaned:
            cleaned.append(name)
    return cleaned


def review_run(
    user: AnyUser, run_id: int, verdict: str, note: str = "", tags: Sequence[str] = ()
) -> RunReview:
    """Record a reviewer's verdict on a run (404 if unseen, 403 for non-reviewers)."""
    run = get_run(user, run_id)
    require_reviewer(user)
    with transaction.atomic():
        review = RunReview.objects.create(
            run=run, reviewer=user if user.is_authenticated else None, verdict=verdict, note=note
        )
        ReviewTag.objects.bulk_create(
            [ReviewTag(review=review, run=run, name=name) for name in normalise_tags(tags)]
        )
    return review


def list_reviews(user: AnyUser, run_id: int) -> list[RunReview]:
    """Every review of a run the user may see, newest first."""
    get_run(user, run_id)
    reviews = RunReview.objects.filter(run_id=run_id).select_related("reviewer")
    return list(reviews.prefetch_related("tags"))


def comment_on_message(user: AnyUser, run_id: int, seq: int, text: str) -> MessageComment:
    """A reviewer's remark on the event at ``seq`` (404 if the run is unseen, 422 if it
    has no such event)."""
    run = get_run(user, run_id)
    require_reviewer(user)
    if not RunEvent.objects.filter(run=run, seq=seq).exists():
        raise ServiceError(f"Run {run_id} has no event #{seq}.", status=422)
    return MessageComment.objects.create(
        run=run, seq=seq, author=user if user.is_authenticated else None, text=text
    )


def list_comments(user: AnyUser, run_id: int) -> list[MessageComment]:
    """Every comment on a run the user may see, in transcript order."""
    get_run(user, run_id)
    return list(MessageComment.objects.filter(run_id=run_id).select_related("author"))


def flag_run(user: AnyUser, run_id: int, reason: str = "") -> RunFlag:
    """Ask for a run to be reviewed; anyone who can see the run may."""
    run = get_run(user, run_id)
    return RunFlag.objects.create(
        run=run, flagged_by=user if user.is_authenticated else None, reason=reason
    )


def with_review_state(runs: RunQuerySet) -> RunQuerySet:
    """Runs annotated with their latest verdict and when they were last reviewed/flagged."""
    latest = RunReview.objects.filter(run=OuterRef("pk")).order_by("-created_at", "-pk")
    last_flag = RunFlag.objects.filter(run=OuterRef("pk")).order_by("-created_at", "-pk")
    return runs.annotate(
        latest_verdict=Subquery(latest.values("verdict")[:1]),
        last_reviewed_at=Subquery(latest.values("created_at")[:1]),
        last_flagged_at=Subquery(last_flag.values("created_at")[:1]),
    )


RunsT = TypeVar("RunsT", bound=QuerySet[Run])


def filter_by_review(
    runs: RunsT, *, verdict: str | None, tag: str | None, reviewed: bool | None
) -> RunsT:
    """Runs whose latest verdict is ``verdict``, that any review tagged ``tag``, and that
    have (``reviewed=True``) or have not (``False``) been reviewed."""
    if verdict is not None:
        latest = RunReview.objects.filter(run=OuterRef("pk")).order_by("-created_at", "-pk")
        runs = runs.filter(Exact(Subquery(latest.values("verdict")[:1]), verdict))
    if tag:
        tagged = ReviewTag.objects.filter(run=OuterRef("pk"), name=tag.strip().lower())
        runs = runs.filter(Exists(tagged))
    if reviewed is not None:
        has_review = Exists(RunReview.objects.filter(run=OuterRef("pk")))
        runs = runs.filter(has_review if reviewed else ~has_review)
    return runs


def waiting_for_review(runs: RunQuerySet) -> RunQuerySet:
    """Finished runs among ``runs`` waiting for a review: nobody reviewed them yet, or
    someone flagged them after their latest review. Flagged ones come first, then failed,
    timed out and over-budget ones, newest first within each."""
    runs = with_review_state(runs.filter(status__in=FINISHED_STATUSES))
    waiting = Q(last_reviewed_at__isnull=True) | Q(last_flagged_at__gt=F("last_reviewed_at"))
    troubled = Case(When(status__in=TROUBLE_STATUSES, then=Value(1)), default=Value(0))
    return runs.filter(waiting).order_by(
        F("last_flagged_at").desc(nulls_last=True), troubled.desc(), "-created_at", "-pk"
    )


def review_queue(user: AnyUser) -> RunQuerySet:
    """The review queue (reviewers only): see :func:`waiting_for_review`."""
    require_reviewer(user)
    return waiting_for_review(Run.objects.all())


def queue_reasons(run: Run) -> list[str]:
    """Why a queued run needs a look: unreviewed, flagged, failed, over_budget."""
    reasons: list[str] = []
    if getattr(run, "last_reviewed_at", None) is None:
        reasons.append("unreviewed")
    if getattr(run, "last_flagged_at", None) is not None:
        reasons.append("flagged")
    if run.status in (Status.FAILED, Status.TIMED_OUT):
        reasons.append("failed")
    if run.status == Status.BUDGET_EXHAUSTED:
        reasons.append("over_budget")
    return reasons
