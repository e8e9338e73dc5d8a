"""Retention: finished runs older than a cutoff leave with their events, checkpoints,
reviews and flags. Runs that are queued, running or awaiting input are never touched,
even when old; a run continued while a prune is under way is re-checked under lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from studio.runs.models import FINISHED_STATUSES, Checkpoint, Run, RunEvent, RunQuerySet

#: runs deleted per transaction
BATCH = 200


@dataclass(frozen=True)
class PruneCount:
    """How many runs (and rows that go with them) a prune removes or would remove."""

    runs: int
    events: int
    checkpoints: int


def prunable_runs(older_than_days: int, *, keep_reviewed: bool) -> RunQuerySet:
    """Finished runs that ended (or, never started, were created) before the cutoff."""
    cutoff: datetime = timezone.now() - timedelta(days=older_than_days)
    ended_before = Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)
    runs = Run.objects.filter(ended_before, status__in=FINISHED_STATUSES)
    if keep_reviewed:
        runs = runs.filter(reviews__isnull=True)
    return runs.order_by("pk")


def count_prunable(runs: RunQuerySet) -> PruneCount:
    """What deleting ``runs`` would take with it."""
    ids = runs.values("pk")
    return PruneCount(
        runs=runs.count(),
        events=RunEvent.objects.filter(run__in=ids).count(),
        checkpoints=Checkpoint.objects.filter(run__in=ids).count(),
    )


def prune_runs(older_than_days: int, *, keep_reviewed: bool, dry_run: bool) -> PruneCount:
    """Delete (or with ``dry_run`` only count) the runs :func:`prunable_runs` selects."""
    selected = prunable_runs(older_than_days, keep_reviewed=keep_reviewed)
    count = count_prunable(selected)
    if dry_run:
        return count
    ids = list(selected.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            batch = Run.objects.select_for_update().filter(
                pk__in=ids[start : start + BATCH], status__in=FINISHED_STATUSES
            )
            batch.delete()
    return count
