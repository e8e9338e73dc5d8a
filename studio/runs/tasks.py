"""Celery tasks of the distributed backend: one task per run, plus upkeep.

Arguments are ids only, serialised as JSON. The task of a run hands it to the worker
process's run host (:mod:`studio.runs.host`) and returns: one process holds up to
``RUNS_PER_PROCESS`` runs, and while it holds that many the task waits, so the worker
takes no more from the queue and other workers get them. A run's durability rests on
its lease, not on its task: a run whose worker died (killed, or its machine gone) is
resumed from its last checkpoint by the sweep of any worker once the lease lapses, and a
worker that shuts down cleanly hands its runs back to the queue at once.

Every worker sweeps for lost runs itself (a :class:`~studio.runs.recovery.Sweeper`
thread started when it is ready), so recovery needs no ``celery beat``: a worker killed
outright is noticed by any other worker, or by itself once restarted, as soon as the
lease of its runs lapses. The ``runs.sweep`` task remains for those who schedule it.
"""

from __future__ import annotations

import functools
import gc

from celery import Task, shared_task
from celery.exceptions import Reject
from celery.signals import (
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)
from celery.worker import state as worker_state

from studio.runs import backends
from studio.runs.host import freeze_start_up_objects, get_host, stop_host
from studio.runs.recovery import Sweeper, force_stop_if_active, sweep_runs

#: young objects between two collections in a worker (Python's default is 700)
WORKER_GC_THRESHOLD = 20_000
#: how often a task waiting for room on a full host checks whether its worker stops
ROOM_CHECK_SECONDS = 1.0


@shared_task(
    name="runs.execute",
    bind=True,
    acks_late=True,
    ignore_result=True,
)
def execute_run_task(self: Task[[int], None], run_id: int) -> None:
    """Hand run ``run_id`` to this process's run host, once it has room for one more."""
    from studio.runs.execution import execute_run

    backend = backends.get_backend()
    host = get_host()
    while not host.wait_for_room(timeout=ROOM_CHECK_SECONDS):
        if worker_state.should_stop or worker_state.should_terminate:
            raise Reject("the worker is shutting down", requeue=True)
    backend.launch_started(run_id)
    task_id = self.request.id or ""
    host.submit(run_id, functools.partial(execute_run, run_id, backend, task_id=task_id))


@shared_task(name="runs.enforce_stop", ignore_result=True)
def enforce_stop_task(run_id: int) -> None:
    """Force-stop a run that ignored its stop request."""
    force_stop_if_active(run_id)


@shared_task(name="runs.sweep", ignore_result=True)
def sweep_runs_task() -> None:
    """Resume runs whose worker vanished; time out abandoned human seats."""
    sweep_runs()


#: this process's sweeper, once its worker is ready
sweepers: list[Sweeper] = []
#: database pools a forked child found in its parent's memory, kept from being collected
inherited_pools: list[object] = []


@worker_process_init.connect
def forget_inherited_database_pools(**kwargs: object) -> None:
    """A worker child forked after its parent used the database opens its own pool.

    The parent's sweeper holds a pool; a child that replaces a dead one is forked with a
    copy of it, whose connections are the parent's sessions and whose threads did not
    survive the fork. Closing it would end the parent's sessions, so the child only sets
    it aside (psycopg never closes a connection another process opened when collected).
    """
    from django.db import connections

    for alias in connections:
        # Django keeps its pools in a dict shared by every connection of its backend class.
        pools = getattr(type(connections[alias]), "_connection_pools", None)
        if pools:
            inherited_pools.extend(pools.values())
            pools.clear()


@worker_ready.connect
def start_sweeping(**kwargs: object) -> None:
    """Sweep now (a worker that starts may replace one that died) and periodically after.

    ``worker_ready`` fires once, in the worker's main process: with the prefork pool one
    sweeper serves the whole worker and outlives its children.
    """
    if not sweepers:
        sweeper = Sweeper()
        sweepers.append(sweeper)
        sweeper.start()


@worker_shutdown.connect
def stop_sweeping(**kwargs: object) -> None:
    """Let the sweeper end with its worker."""
    for sweeper in sweepers:
        sweeper.stop()


@worker_shutdown.connect
@worker_process_shutdown.connect
def hand_back_runs(**kwargs: object) -> None:
    """Stop the run host of a process that shuts down; queue its runs for other workers.

    Without this they would wait for their leases to lapse before a sweep resumed them.
    """
    from studio.runs.execution import hand_back

    run_ids = stop_host()
    if run_ids:
        hand_back(run_ids, backends.get_backend())


@worker_ready.connect
def tune_garbage_collection(**kwargs: object) -> None:
    """Collect cycles less often in a worker, and never scan what start-up loaded.

    A run allocates many small objects per event and keeps its conversation alive, so
    with Python's default threshold the collector ran every few events and took a large
    share of a busy worker's time.
    """
    freeze_start_up_objects()
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, WORKER_GC_THRESHOLD), second, third)
