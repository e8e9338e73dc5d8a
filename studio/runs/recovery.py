"""Runs that lost their executor: detected, resumed, or ended with a clear reason.

- :func:`sweep_runs` (periodic: Celery beat in distributed mode, a loop on the server in
  embedded mode) requeues runs whose heartbeat stopped, gives up on runs that failed
  too often, relaunches queued runs nobody picked up, and times out parked runs whose
  human never answered.
- :func:`recover_interrupted_runs` runs once when an embedded server starts: the runs it
  was executing when it went down are resumed from their checkpoints.
- :func:`force_stop_if_active` ends a run that ignored a stop request.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from studio.runs import backends
from studio.runs.models import Run, Status
from studio.runs.services import end_without_executor, finish_fields, launch_on_commit

logger = logging.getLogger(__name__)


def requeue_or_fail(run: Run, why: str) -> None:
    """Put an interrupted run back in the queue, or fail it after too many attempts."""
    with transaction.atomic():
        query = Run.objects.filter(pk=run.pk, status=run.status, lease=run.lease)
        if run.attempts >= settings.RUNS_MAX_ATTEMPTS:
            reason = f"{why}; gave up after {run.attempts} attempts."
            if query.update(**finish_fields(Status.FAILED, reason)):
                end_without_executor(run.pk, Status.FAILED, reason, "executor_lost")
            return
        if query.update(
            status=Status.QUEUED,
            lease="",
            worker="",
            heartbeat_at=None,
            resume_reason=why,
            updated_at=timezone.now(),
        ):
            logger.warning("run %s: %s; resuming it", run.pk, why)
            launch_on_commit(run.pk)


def sweep_runs() -> None:
    """One pass over runs that need the server's attention."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RUNS_LEASE_SECONDS)
    lost = Run.objects.filter(
        status__in=(Status.RUNNING, Status.AWAITING_INPUT),
        parked_at__isnull=True,
        heartbeat_at__lt=stale,
    )
    for run in lost:
        requeue_or_fail(run, "its executor stopped sending heartbeats")
    forgotten = now - timedelta(seconds=settings.RUNS_QUEUED_RELAUNCH_SECONDS)
    for run in Run.objects.filter(status=Status.QUEUED, updated_at__lt=forgotten):
        if Run.objects.filter(pk=run.pk, updated_at=run.updated_at).update(updated_at=now):
            logger.warning("run %s: queued too long; launching it again", run.pk)
            backends.get_backend().launch(run.pk)
    expired = now - timedelta(seconds=settings.RUNS_INPUT_TIMEOUT_SECONDS)
    for run in Run.objects.filter(
        status=Status.AWAITING_INPUT, parked_at__isnull=False, waiting_since__lt=expired
    ):
        time_out_parked(run)


def time_out_parked(run: Run) -> None:
    """End a parked run whose human did not answer in time."""
    reason = f"No answer from the human within {settings.RUNS_INPUT_TIMEOUT_SECONDS} s."
    with transaction.atomic():
        query = Run.objects.filter(pk=run.pk, status=Status.AWAITING_INPUT, lease="")
        if query.filter(parked_at__isnull=False).update(**finish_fields(Status.TIMED_OUT, reason)):
            end_without_executor(run.pk, Status.TIMED_OUT, reason)


def recover_interrupted_runs(backend: backends.Backend) -> None:
    """Resume (or fail) the runs an embedded server left behind when it stopped."""
    interrupted = Run.objects.filter(
        backend=backend.name,
        status__in=(Status.QUEUED, Status.RUNNING, Status.AWAITING_INPUT),
        parked_at__isnull=True,
    )
    for run in interrupted:
        if run.status == Status.QUEUED:
            backend.launch(run.pk)
        else:
            requeue_or_fail(run, "the server restarted while it ran")


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
        if query.update(**finish_fields(Status.CANCELLED, reason)):
            end_without_executor(run_id, Status.CANCELLED, reason, "terminated")


async def sweep_forever() -> None:
    """The embedded server's sweeper loop."""
    from asgiref.sync import sync_to_async

    while True:
        await asyncio.sleep(settings.RUNS_SWEEP_SECONDS)
        try:
            await sync_to_async(sweep_runs)()
        except Exception:
            logger.exception("sweeping runs failed")
