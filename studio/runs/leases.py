"""Which executor holds a run: claiming, heartbeats, and the transitions an executor makes.

An executor holds a run through ``Run.lease`` (a random token) and keeps it alive by
writing ``heartbeat_at``. A run whose heartbeat is older than ``RUNS_LEASE_SECONDS``
has lost its executor (a killed worker, a restarted server) and may be claimed again;
every write an executor makes is conditional on its token, so a stale executor can
never overwrite a newer one. Everything here is synchronous database code.
"""

from __future__ import annotations

import enum
import functools
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from studio.runs import checkpoints
from studio.runs.models import Checkpoint, Run, RunEvent, Status
from studio.sql import json_value, quoted_column, quoted_table
from studio.teams.models import TeamVersion


def worker_name(pid: int | None = None) -> str:
    """Who executes (this process, or process ``pid`` on this machine): host and process
    id, kept on the runs it holds, shown in the admin and used in logs."""
    return f"{socket.gethostname()}:{os.getpid() if pid is None else pid}"


class ClaimResult(enum.Enum):
    """What an attempt to claim a run found."""

    CLAIMED = "claimed"
    BUSY = "busy"  # a live executor holds it: wait and retry, or give up
    GONE = "gone"  # nothing to run (finished, cancelled, parked, deleted, held by another task)


@dataclass(frozen=True, slots=True)
class Claim:
    """A held run: the lease token and everything needed to start executing."""

    run_id: int
    lease: str
    spec: dict[str, Any]
    next_seq: int
    checkpoint_seq: int
    checkpoint_state: dict[str, Any] | None
    task: str | None
    pending_answer: dict[str, Any] | None
    budget_tokens: int | None
    budget_usd: float | None
    usage: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    resume_reason: str


def try_claim(run_id: int, worker: str, task_id: str) -> tuple[ClaimResult, Claim | None]:
    """Take run ``run_id`` if it is queued, or if its executor's lease has expired.

    A queued run (the common case: a new run, a resumption) is taken in one statement
    and read in one more.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    if take_queued(run_id, token, worker, task_id, now):
        return ClaimResult.CLAIMED, load_claim(run_id, token)
    run = (
        Run.objects.filter(pk=run_id)
        .only("status", "parked_at", "heartbeat_at", "lease", "task_id")
        .first()
    )
    if run is not None and run.status == Status.QUEUED:  # queued again just now
        return ClaimResult.BUSY, None
    executing = (Status.RUNNING, Status.AWAITING_INPUT)
    if run is None or run.status not in executing or run.parked_at is not None:
        return ClaimResult.GONE, None
    stale = now - timedelta(seconds=settings.RUNS_LEASE_SECONDS)
    if run.heartbeat_at is not None and run.heartbeat_at >= stale:
        # The task that holds it may have just died and come back (redelivered): it waits
        # for its old lease to lapse. Any other task is a duplicate launch (a relaunch
        # raced with a redelivery) and has nothing to do.
        if task_id and run.task_id and run.task_id != task_id:
            return ClaimResult.GONE, None
        return ClaimResult.BUSY, None
    # Back in the queue as its executor left it, then taken as any queued run is.
    requeued = Run.objects.filter(
        pk=run_id, status=run.status, lease=run.lease, heartbeat_at=run.heartbeat_at
    ).update(**requeue_changes("its executor stopped sending heartbeats"))
    if not requeued or not take_queued(run_id, token, worker, task_id, now):
        return ClaimResult.BUSY, None
    return ClaimResult.CLAIMED, load_claim(run_id, token)


# Every run starts with the two statements below, written out once (see studio.sql):
# the ORM compiled them anew for every run, which took twenty times as long as running
# them (about 1.5 of a claim's 1.7 ms on SQLite); a run host starting many runs paid it.


@functools.cache
def take_queued_statement() -> str:
    """``UPDATE`` of a queued run to running; parameters as :func:`take_queued` gives them."""
    status, task = quoted_column(Run, "status"), quoted_column(Run, "task_id")
    attempts, started = quoted_column(Run, "attempts"), quoted_column(Run, "started_at")
    assigned = ", ".join(
        f"{quoted_column(Run, field)} = %s"
        for field in ("lease", "worker", "heartbeat_at", "updated_at")
    )
    return (
        f"UPDATE {quoted_table(Run)} SET {status} = %s, "
        f"{assigned}, {attempts} = {attempts} + 1, {started} = COALESCE({started}, %s), "
        f"{quoted_column(Run, 'parked_at')} = NULL, "
        f"{task} = CASE WHEN %s = '' THEN {task} ELSE %s END "
        f"WHERE {quoted_column(Run, 'id')} = %s AND {status} = %s"
    )


def take_queued(run_id: int, token: str, worker: str, task_id: str, now: datetime) -> bool:
    """Claim run ``run_id`` with lease ``token`` if it is queued; whether it was.

    Its ``resume_reason`` stays for :func:`load_claim` to read; the execution clears it.
    """
    moment = connection.ops.adapt_datetimefield_value(now)
    values = [Status.RUNNING.value, token, worker, moment, moment, moment, task_id, task_id]
    with connection.cursor() as cursor:
        cursor.execute(take_queued_statement(), [*values, run_id, Status.QUEUED.value])
        return bool(cursor.rowcount == 1)


#: the run's columns :func:`load_claim` reads, in the order of its statement
CLAIM_COLUMNS = (
    "next_task",
    "next_task_after_seq",
    "pending_answer",
    "budget_tokens",
    "budget_usd",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "resume_reason",
)


@functools.cache
def load_claim_statement() -> str:
    """``SELECT`` of the pinned spec, :data:`CLAIM_COLUMNS`, the last seq and the latest
    checkpoint's seq of one run."""
    run_key = quoted_column(Run, "id")
    columns = ", ".join(f"r.{quoted_column(Run, field)}" for field in CLAIM_COLUMNS)

    def latest_seq(model: type[Model]) -> str:
        seq, table = quoted_column(model, "seq"), quoted_table(model)
        owner = quoted_column(model, "run")
        return (
            f"(SELECT {seq} FROM {table} WHERE {owner} = r.{run_key} ORDER BY {seq} DESC LIMIT 1)"
        )

    return (
        f"SELECT v.{quoted_column(TeamVersion, 'spec')}, {columns}, "
        f"{latest_seq(RunEvent)}, {latest_seq(Checkpoint)} "
        f"FROM {quoted_table(Run)} r "
        f"INNER JOIN {quoted_table(TeamVersion)} v "
        f"ON v.{quoted_column(TeamVersion, 'id')} = r.{quoted_column(Run, 'team_version')} "
        f"WHERE r.{run_key} = %s"
    )


def load_claim(run_id: int, lease: str) -> Claim:
    """Everything the executor needs, read once after claiming: the run, its pinned
    spec, its last seq and (only when it has one) its latest checkpoint."""
    with connection.cursor() as cursor:
        cursor.execute(load_claim_statement(), [run_id])
        row = cursor.fetchone()
    if row is None:
        raise Run.DoesNotExist(f"run {run_id} is gone")
    spec_text, *values, last_seq, saved_seq = row
    run = dict(zip(CLAIM_COLUMNS, values, strict=True))
    for field in ("pending_answer", "usage"):
        run[field] = json_value(Run, field, run[field])
    spec = json_value(TeamVersion, "spec", spec_text)
    latest = checkpoints.state_at(run_id) if saved_seq is not None else None
    checkpoint_seq, checkpoint_state = latest or (0, None)
    task = None
    if run["next_task"] and (latest is None or checkpoint_seq <= run["next_task_after_seq"]):
        task = run["next_task"]
    return Claim(
        run_id=run_id,
        lease=lease,
        spec=spec,
        next_seq=(last_seq or 0) + 1,
        checkpoint_seq=checkpoint_seq,
        checkpoint_state=checkpoint_state,
        task=task,
        pending_answer=run["pending_answer"],
        budget_tokens=run["budget_tokens"],
        budget_usd=run["budget_usd"],
        usage=run["usage"] or {},
        prompt_tokens=run["prompt_tokens"],
        completion_tokens=run["completion_tokens"],
        cost_usd=run["cost_usd"],
        resume_reason=run["resume_reason"],
    )


def discard_after(run_id: int, seq: int) -> tuple[int, int]:
    """Mark events after ``seq`` discarded; returns the (from, to) seq range after it.

    The range covers the events an earlier resumption discarded too: one that died
    before its ``run.resumed`` event was written never announced them.
    """
    with transaction.atomic():
        after = RunEvent.objects.filter(run_id=run_id, seq__gt=seq)
        last = after.order_by("-seq").values("seq").first()
        after.filter(discarded=False).update(discarded=True)
    return seq + 1, (last["seq"] if last else seq)


def beat(run_id: int, lease: str) -> bool:
    """Renew the lease; False when another executor took the run."""
    return Run.objects.filter(pk=run_id, lease=lease).update(heartbeat_at=timezone.now()) == 1


def waiting_changes(request_id: str) -> dict[str, Any]:
    """The columns of a run whose human seat waits for ``request_id``."""
    now = timezone.now()
    return {
        "status": Status.AWAITING_INPUT,
        "pending_request_id": request_id,
        "pending_answer": None,
        "waiting_since": now,
        "updated_at": now,
    }


def mark_waiting(run_id: int, lease: str, request_id: str) -> bool:
    """The human seat waits for ``request_id``."""
    active = (Status.RUNNING, Status.AWAITING_INPUT)
    query = Run.objects.filter(pk=run_id, lease=lease, status__in=active)
    return query.update(**waiting_changes(request_id)) == 1


def answered_changes() -> dict[str, Any]:
    """The columns of a run whose human answered: it works again."""
    return {
        "status": Status.RUNNING,
        "pending_request_id": "",
        "pending_answer": None,
        "waiting_since": None,
        "updated_at": timezone.now(),
    }


def mark_answered(run_id: int, lease: str) -> bool:
    """The human answered; the run works again."""
    return Run.objects.filter(pk=run_id, lease=lease).update(**answered_changes()) == 1


def park(run_id: int, lease: str) -> bool:
    """Release the worker of a run that waits for a human; False if an answer came first."""
    now = timezone.now()
    return (
        Run.objects.filter(
            pk=run_id, lease=lease, status=Status.AWAITING_INPUT, pending_answer__isnull=True
        ).update(parked_at=now, lease="", worker="", heartbeat_at=None, updated_at=now)
        == 1
    )


def requeue(run_id: int, lease: str) -> bool:
    """Give the run back to the queue (an answer raced with parking)."""
    held = Run.objects.filter(pk=run_id, lease=lease)
    return held.update(**requeue_changes("answered while parking")) == 1


def requeue_changes(reason: str) -> dict[str, Any]:
    """The columns of a run given back to the queue, to be resumed because of ``reason``
    by whichever executor claims it next."""
    return {
        "status": Status.QUEUED,
        "lease": "",
        "worker": "",
        "heartbeat_at": None,
        "parked_at": None,
        "resume_reason": reason,
        "updated_at": timezone.now(),
    }


def finish_changes(status: str, stop_reason: str) -> dict[str, Any]:
    """The columns of a run that ended."""
    now = timezone.now()
    return {
        "status": status,
        "stop_reason": stop_reason,
        "finished_at": now,
        "lease": "",
        "worker": "",
        "heartbeat_at": None,
        "pending_request_id": "",
        "pending_answer": None,
        "waiting_since": None,
        "parked_at": None,
        "resume_reason": "",
        "updated_at": now,
    }


def finish(run_id: int, lease: str, status: str, stop_reason: str) -> bool:
    """End the run held with ``lease``."""
    changes = finish_changes(status, stop_reason)
    return Run.objects.filter(pk=run_id, lease=lease).update(**changes) == 1
