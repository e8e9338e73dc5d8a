"""Run, RunEvent and Checkpoint: what ran, everything that happened, and where to resume.

A run's status is a state machine (``Status``); every transition is a conditional
update that checks the row count (:meth:`RunQuerySet.transition`), so two processes can
never both believe they moved a run.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.accounts.users import AnyUser
from studio.runs.events import EventDataDecoder, EventDataEncoder
from studio.teams.models import Team, TeamVersion


class Status(models.TextChoices):
    """Where a run is in its life."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    AWAITING_INPUT = "awaiting_input", "Awaiting input"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    TIMED_OUT = "timed_out", "Timed out"
    BUDGET_EXHAUSTED = "budget_exhausted", "Budget exhausted"


#: a run in one of these has an executor (or is about to get one)
ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.AWAITING_INPUT)
#: a run in one of these is over, and may be continued or forked
FINISHED_STATUSES = (
    Status.COMPLETED,
    Status.FAILED,
    Status.CANCELLED,
    Status.TIMED_OUT,
    Status.BUDGET_EXHAUSTED,
)


def is_reviewer(user: AnyUser) -> bool:
    """Whether the user reviews runs: staff, or holders of ``runs.review_run`` (directly
    or through a group). Reviewers read every run but steer only what they could anyway."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(getattr(user, "is_staff", False)) or user.has_perm("runs.review_run")


class RunQuerySet(models.QuerySet["Run"]):
    """Scopes runs to what a user may see or steer, and moves them between states."""

    def visible_to(self, user: AnyUser) -> RunQuerySet:
        """Runs of teams the user owns or was shared, and runs the user started of teams
        they can still see; reviewers read every run.

        A gallery team is visible to everyone, but its runs are not: they hold what
        each person asked, so they stay with whoever started them.
        """
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser or is_reviewer(user):
            return self.all()
        visible = Team.objects.visible_to(user)
        teams = visible.filter(Q(is_gallery=False) | Q(owner=user))
        started = Q(started_by=user, team__in=visible.values("pk"))
        return self.filter(Q(team__in=teams.values("pk")) | started)

    def steerable_by(self, user: AnyUser) -> RunQuerySet:
        """Runs the user may answer, stop, interject, continue or fork.

        Editors of the team steer its runs; whoever started a run steers it too, while
        they can still see its team: a revoked share takes the run's steering with it.
        """
        if not (user.is_authenticated and user.is_active):
            return self.none()
        teams = Team.objects.editable_by(user).values("pk")
        visible = Team.objects.visible_to(user).values("pk")
        return self.filter(Q(team__in=teams) | Q(started_by=user, team__in=visible))

    def transition(self, pk: int, sources: tuple[str, ...], **changes: Any) -> bool:
        """Move run ``pk`` from one of ``sources`` applying ``changes``; True if it moved."""
        changes.setdefault("updated_at", timezone.now())
        return self.filter(pk=pk, status__in=sources).update(**changes) == 1


class Run(models.Model):
    """One execution of a pinned team version on a task."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="runs")
    team_version = models.ForeignKey(TeamVersion, on_delete=models.PROTECT, related_name="runs")
    task = models.TextField()
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stop_reason = models.TextField(blank=True)
    backend = models.CharField(max_length=20, blank=True, help_text="Where it executes.")

    # What the next launch feeds the team: a task given after seq `next_task_after_seq`
    # is still to be sent unless a checkpoint written after it already holds it.
    next_task = models.TextField(blank=True)
    next_task_after_seq = models.PositiveIntegerField(default=0)

    # The executor holding the run: a lease renewed by heartbeats.
    lease = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=100, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    resume_reason = models.CharField(
        max_length=200, blank=True, help_text="Why the next launch resumes an interrupted run."
    )

    # The human seat: the request waiting for an answer, and the answer once given.
    pending_request_id = models.CharField(max_length=64, blank=True)
    pending_answer = models.JSONField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    parked_at = models.DateTimeField(null=True, blank=True)

    budget_tokens = models.PositiveBigIntegerField(null=True, blank=True)
    budget_usd = models.FloatField(null=True, blank=True)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.FloatField(default=0.0)
    usage = models.JSONField(default=dict, blank=True, help_text="by_model and by_agent")

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    parent_seq = models.PositiveIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [("review_run", "Can read and review every run")]
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
            models.Index(fields=["started_by", "-created_at"]),
            # A start counts its user's active runs: by status, not through all they ran.
            models.Index(fields=["started_by", "status"], name="run_started_by_status"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.team_id} ({self.status})"

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens used so far."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def is_finished(self) -> bool:
        """Whether the run has ended (it may still be continued)."""
        return self.status in FINISHED_STATUSES

    @property
    def is_parked(self) -> bool:
        """Whether the run waits for a human with no worker held."""
        return self.status == Status.AWAITING_INPUT and self.parked_at is not None


class RunEvent(models.Model):
    """One event of a run, in gap-free ``seq`` order: the durable transcript."""

    # No index of its own: the (run, seq) constraint's serves every lookup by run, and
    # one index fewer is one write fewer for every event.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=30)
    source = models.CharField(max_length=200, blank=True)
    # Escapes NUL characters, which PostgreSQL's jsonb cannot hold, and restores them.
    data = models.JSONField(default=dict, encoder=EventDataEncoder, decoder=EventDataDecoder)
    text = models.TextField(blank=True, help_text="Searchable text (message content).")
    discarded = models.BooleanField(
        default=False, help_text="Produced by an attempt that did not finish; replaced."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="runevent_unique_seq")]
        indexes = [models.Index(fields=["run", "type"])]

    def __str__(self) -> str:
        return f"run {self.run_id} #{self.seq} {self.type}"

    def envelope(self) -> dict[str, Any]:
        """The event as clients receive it."""
        from studio.runs.events import make_envelope

        envelope = make_envelope(
            self.run_id, self.seq, self.type, self.source, self.created_at, self.data
        )
        if self.discarded:
            envelope["discarded"] = True
        return envelope


class CheckpointKind(models.TextChoices):
    """How a checkpoint holds the team state."""

    FULL = "full", "full snapshot"
    DELTA = "delta", "delta against the previous checkpoint"


class Checkpoint(models.Model):
    """The team's state after a completed turn; covers every event up to ``seq``.

    A full checkpoint holds ``team.save_state()``; a delta holds the changes since the
    checkpoint at ``prev_seq`` (see :mod:`studio.runs.checkpoints`, which reads both).
    """

    # No index of its own: the (run, seq) constraint's serves every lookup by run.
    run = models.ForeignKey(
        Run, on_delete=models.CASCADE, related_name="checkpoints", db_index=False
    )
    seq = models.PositiveIntegerField()
    kind = models.CharField(
        max_length=5, choices=CheckpointKind.choices, default=CheckpointKind.FULL
    )
    base_seq = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seq of the full checkpoint a delta builds on."
    )
    prev_seq = models.PositiveIntegerField(
        null=True, blank=True, help_text="Seq of the checkpoint a delta applies to."
    )
    state_json = models.TextField(
        help_text="team.save_state() as JSON text, or for a delta its operations."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "-seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="checkpoint_unique_seq")]

    def __str__(self) -> str:
        return f"run {self.run_id} checkpoint at {self.seq}"


class Verdict(models.TextChoices):
    """A reviewer's judgement of a run."""

    GOOD = "good", "Good"
    BAD = "bad", "Bad"
    NEEDS_WORK = "needs_work", "Needs work"


class RunReview(models.Model):
    """One reviewer's verdict on a run; every review is kept, the newest counts."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="run_reviews"
    )
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["run", "-created_at"])]

    def __str__(self) -> str:
        return f"review of run {self.run_id}: {self.verdict}"


class ReviewTag(models.Model):
    """A tag a review gave its run (a row each, so runs filter by tag on every database)."""

    review = models.ForeignKey(RunReview, on_delete=models.CASCADE, related_name="tags")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="review_tags")
    name = models.CharField(max_length=50)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="reviewtag_unique_name")
        ]
        indexes = [models.Index(fields=["name", "run"])]

    def __str__(self) -> str:
        return self.name


class RunFlag(models.Model):
    """Someone who can see a run asked for it to be reviewed."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="flags")
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="run_flags"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["run", "-created_at"])]

    def __str__(self) -> str:
        return f"flag on run {self.run_id}"


class MessageComment(models.Model):
    """A reviewer's remark on one event of a run's transcript (by its seq)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="comments")
    seq = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="run_comments",
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["seq", "created_at", "pk"]
        indexes = [models.Index(fields=["run", "seq"])]

    def __str__(self) -> str:
        return f"comment on run {self.run_id} #{self.seq}"
