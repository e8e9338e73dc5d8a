"""Runs that lost their executor: detected, resumed, or ended with a clear reason.

- :func:`sweep_runs` requeues runs whose heartbeat stopped, gives up on runs that failed
  too often, relaunches queued runs whose launch was lost (a Redis restart empties the
  queue), and times out parked runs whose human never answered. It runs periodically in
  every Celery worker (see :mod:`studio.runs.tasks`) and on every embedded server, so
  recovery needs no extra process; every change it makes is a conditional update, so any
  number of sweepers may run at once and each run is requeued or relaunched only once.
- :func:`recover_interrupted_runs` runs once when an embedded server starts: the runs it
  was executing when it went down are resumed from their checkpoints (and when one of
  its run host processes is replaced, the runs that one was executing).
- :func:`force_stop_if_active` ends a run that ignored a stop request.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Min, Q
from django.utils import timezone

from studio.runs import backends
from studio.runs.leases import finish_changes, requeue_changes
from studio.runs.models import Run, Status
from studio.runs.services import end_without_executor, launch_on_commit

logger = logging.getLogger(__name__)


def requeue_or_fail(run: Run, why: str) -> None:
    """Put an interrupted run back in the queue, or fail it after too many attempts."""
    with transaction.atomic():
        # Exactly as the sweeper saw it: an executor that renewed its lease meanwhile keeps it.
        query = Run.objects.filter(
            pk=run.pk, status=run.status, lease=run.lease, heartbeat_at=run.heartbeat_at
        )
        if run.attempts >= settings.RUNS_MAX_ATTEMPTS:
            reason = f"{why}; gave up after {run.attempts} attempts."
            if query.update(**finish_changes(Status.FAILED, reason)):
                end_without_executor(run.pk, Status.FAILED, reason, "executor_lost")
            return
        if query.update(**requeue_changes(why)):
            logger.warning("run %s: %s; resuming it", run.pk, why)
            launch_on_commit(run.pk)


ACTIVE_STATUSES = (Status.RUNNING, Status.AWAITING_INPUT)
#: the shortest pause between two sweeps, in seconds
MIN_SWEEP_PAUSE = 0.5


def sweep_runs() -> float:
    """One pass over runs that need attention; returns seconds until the next is due.

    That is ``RUNS_SWEEP_SECONDS`` at most, and sooner when the lease of an executing run
    runs out before: a run whose worker died resumes right after its lease lapses.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RUNS_LEASE_SECONDS)
    lost = Run.objects.filter(
        status__in=ACTIVE_STATUSES, parked_at__isnull=True, heartbeat_at__lt=stale
    )
    for run in lost:
        attend(requeue_or_fail, run, "its executor stopped sending heartbeats")
    for run in Run.objects.filter(
        status=Status.QUEUED,
        updated_at__lt=now - timedelta(seconds=settings.RUNS_QUEUED_RELAUNCH_SECONDS),
    ):
        attend(relaunch_if_lost, run, now)
    expired = now - timedelta(seconds=settings.RUNS_INPUT_TIMEOUT_SECONDS)
    for run in Run.objects.filter(
        status=Status.AWAITING_INPUT, parked_at__isnull=False, waiting_since__lt=expired
    ):
        attend(time_out_parked, run)
    return next_sweep_in()


def attend(action: Any, run: Run, *args: Any) -> None:
    """Apply one sweep action to one run; a failure is logged and spares the others."""
    try:
        action(run, *args)
    except Exception:
        logger.exception("run %s: %s failed", run.pk, action.__name__)


def relaunch_if_lost(run: Run, now: datetime) -> None:
    """Launch a queued run again when its launch is no longer waiting in the queue."""
    backend = backends.get_backend()
    if backend.is_launch_pending(run.pk):
        return
    query = Run.objects.filter(pk=run.pk, status=Status.QUEUED, updated_at=run.updated_at)
    if query.update(updated_at=now):
        logger.warning("run %s: its launch was lost; launching it again", run.pk)
        backend.launch(run.pk)


def next_sweep_in() -> float:
    """Seconds until the oldest executing run's lease runs out (at most the sweep period)."""
    oldest = Run.objects.filter(
        status__in=ACTIVE_STATUSES, parked_at__isnull=True, heartbeat_at__isnull=False
    ).aggregate(oldest=Min("heartbeat_at"))["oldest"]
    pause = float(settings.RUNS_SWEEP_SECONDS)
    if oldest is not None:
        lapses = oldest + timedelta(seconds=settings.RUNS_LEASE_SECONDS) - timezone.now()
        pause = min(pause, lapses.total_seconds() + MIN_SWEEP_PAUSE)
    return max(pause, MIN_SWEEP_PAUSE)


def sweep_once() -> float:
    """A sweep that never raises, and gives its database connection back afterwards."""
    try:
        return sweep_runs()
    except Exception:
        logger.exception("sweeping runs failed")
        return float(settings.RUNS_SWEEP_SECONDS)
    finally:
        connections.close_all()


def time_out_parked(run: Run) -> None:
    """End a parked run whose human did not answer in time."""
    reason = f"No answer from the human within {settings.RUNS_INPUT_TIMEOUT_SECONDS} s."
    with transaction.atomic():
        query = Run.objects.filter(pk=run.pk, status=Status.AWAITING_INPUT, lease="")
        if query.filter(parked_at__isnull=False).update(**finish_changes(Status.TIMED_OUT, reason)):
            end_without_executor(run.pk, Status.TIMED_OUT, reason)


def recover_interrupted_runs(
    backend: backends.Backend, workers: Collection[str] | None = None
) -> None:
    """Resume (or fail) the runs an embedded server left behind when it stopped, or,
    with ``workers``, only those that the named run host processes were executing when
    they died (a sibling's runs are left to it); queued runs are launched either way (a
    second launch of a run only finds it claimed).

    Runs launched here while it was starting are left to their executions.
    """
    executing = Q(status__in=(Status.RUNNING, Status.AWAITING_INPUT), parked_at__isnull=True)
    if workers is not None:
        executing &= Q(worker__in=list(workers))
    # Queued runs parked or not: an answer to a parked run queues it with parked_at kept.
    interrupted = Run.objects.filter(backend=backend.name).filter(
        Q(status=Status.QUEUED) | executing
    )
    for run in interrupted:
        if backend.is_launch_pending(run.pk):
            continue
        if run.status == Status.QUEUED:
            backend.launch(run.pk)
        else:
            why = "the server restarted" if workers is None else "its run host process ended"
            requeue_or_fail(run, f"{why} while it ran")


def force_stop_if_active(run_id: int) -> None:
    """End a run that did not react to its stop request, killing its execution."""
    run = Run.objects.filter(pk=run_id).first()
    if run is None or run.status not in (Status.RUNNING, Status.AWAITING_INPUT, Status.QUEUED):
        return
    backend = backends.get_backend()
    backend.terminate(run_id, run.task_id)
    reason = "Stopped forcibly: the run did not react to the stop request."
    with transaction.atomic():
        query = Run.objects.filter(pk=run_id, status=run.status, lease=run.lease)
        if query.update(**finish_changes(Status.CANCELLED, reason)):
            end_without_executor(run_id, Status.CANCELLED, reason, "terminated")


async def sweep_forever() -> None:
    """The embedded server's sweeper loop."""
    from asgiref.sync import sync_to_async

    pause = float(settings.RUNS_SWEEP_SECONDS)
    while True:
        await asyncio.sleep(pause)
        pause = await sync_to_async(sweep_once, thread_sensitive=False)()


class Sweeper(threading.Thread):
    """A thread that sweeps until stopped: the upkeep of a Celery worker process."""

    def __init__(self) -> None:
        super().__init__(name="roundtable-sweeper", daemon=True)
        self.stopping = threading.Event()

    def run(self) -> None:
        """Sweep at once (a worker that starts may replace one that died), then on time."""
        while not self.stopping.is_set():
            self.stopping.wait(sweep_once())

    def stop(self) -> None:
        """Stop after the sweep in progress, if any."""
        self.stopping.set()
