"""`manage.py prune_runs`: old finished runs leave with their events and checkpoints;
active runs, young runs and (on request) reviewed runs stay; --dry-run deletes nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from studio.runs.models import Checkpoint, Run, RunEvent, RunReview, Status
from tests.studio.runs.test_reviews import add_event, make_run

pytestmark = pytest.mark.django_db


def aged(owner: User, days: int, status: str = Status.COMPLETED) -> Run:
    run = make_run(owner, status=status)
    when = timezone.now() - timedelta(days=days)
    finished = when if status in (Status.COMPLETED, Status.FAILED) else None
    Run.objects.filter(pk=run.pk).update(created_at=when, finished_at=finished)
    add_event(run, 1, "message", "user", {"content": "hello"})
    Checkpoint.objects.create(run=run, seq=1, state_json="{}")
    return run


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_runs", *args, stdout=out)
    return out.getvalue()


def test_prune_deletes_old_finished_runs_with_their_events_and_checkpoints(owner: User) -> None:
    old, young = aged(owner, 40), aged(owner, 5)
    output = prune("--older-than", "30")
    assert "Deleted 1 runs" in output and "1 events and 1 checkpoints" in output
    assert list(Run.objects.values_list("pk", flat=True)) == [young.pk]
    assert not RunEvent.objects.filter(run_id=old.pk).exists()
    assert not Checkpoint.objects.filter(run_id=old.pk).exists()


def test_prune_never_touches_a_run_that_is_still_active(owner: User) -> None:
    runs = [aged(owner, 90, status) for status in (Status.RUNNING, Status.AWAITING_INPUT)]
    runs.append(aged(owner, 90, Status.QUEUED))
    prune("--older-than", "1")
    assert Run.objects.count() == 3
    assert RunEvent.objects.count() == 3 and {run.pk for run in runs} == set(
        Run.objects.values_list("pk", flat=True)
    )


def test_a_dry_run_deletes_nothing_and_says_what_it_would_delete(owner: User) -> None:
    aged(owner, 40)
    aged(owner, 50, Status.FAILED)
    output = prune("--older-than", "30", "--dry-run")
    assert "Would delete 2 runs" in output
    assert (Run.objects.count(), RunEvent.objects.count(), Checkpoint.objects.count()) == (2, 2, 2)


def test_keep_reviewed_spares_runs_someone_reviewed(owner: User) -> None:
    reviewed, plain = aged(owner, 40), aged(owner, 40)
    RunReview.objects.create(run=reviewed, reviewer=owner, verdict="good")
    prune("--older-than", "30", "--keep-reviewed")
    assert list(Run.objects.values_list("pk", flat=True)) == [reviewed.pk]
    assert plain.pk not in Run.objects.values_list("pk", flat=True)


def test_the_retention_setting_is_the_default_cutoff(owner: User, settings: Any) -> None:
    aged(owner, 40)
    aged(owner, 5)
    settings.RUN_RETENTION_DAYS = 30
    assert "Deleted 1 runs" in prune()


def test_without_a_cutoff_nothing_is_pruned(owner: User, settings: Any) -> None:
    aged(owner, 400)
    settings.RUN_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="--older-than"):
        prune()
    assert Run.objects.count() == 1
