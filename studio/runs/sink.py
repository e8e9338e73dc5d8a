"""The one choke point every event of a run passes: assign seq, persist, then publish.

:class:`RunSink` is the runtime's ``EventSink`` for a run's executor. ``emit`` gives
each event the next seq and queues it; a single flusher task writes queued events (and
checkpoints, and the run's usage) to the database in one transaction per batch, then
appends them to the live log. Batches grow only while the database is busy, so a quiet
run publishes each event on its own and a burst is written in a few round trips.
Streaming chunks skip the database and travel in order with the rest. A batch whose
database connection drops is written again on a new connection (see
:mod:`studio.runs.database`): the run goes on without a gap or a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Protocol

from django.db import connection, transaction
from django.db.models import DateTimeField, JSONField, Model
from django.utils import timezone

from runtime import BaseAgentEvent, BaseChatMessage, BaseMessage, EventSink
from studio.runs.accounting import Accountant
from studio.runs.backends import Backend, LiveLog
from studio.runs.checkpoints import CheckpointChain, EncodedCheckpoint
from studio.runs.database import LOOP_THREADS, call_database, is_query_error
from studio.runs.events import (
    EventType,
    Frame,
    Moment,
    describe_item,
    event_data_texts,
    event_frame,
    make_chunk_envelope,
    make_frame,
    searchable_text,
)
from studio.runs.models import Checkpoint, Run, RunEvent
from studio.sql import db_value, quoted_column, quoted_table

logger = logging.getLogger(__name__)

#: queued items beyond which ``emit`` waits for the flusher (backpressure)
MAX_PENDING = 5000
#: items of a burst's first transaction at most, so its first events go out soon; each
#: later one, while the burst lasts, may take twice as many, up to ``MAX_BATCH`` (see
#: :func:`next_batch`). On SQLite a batch costs a few handovers of the interpreter lock
#: whatever its size, so a busy run writes as much as it can at once; elsewhere larger
#: batches only made the watchers of a busy run wait longer (a Redis read of 256 entries
#: relayed at once), so ``MAX_BATCH_ELSEWHERE`` holds there
FIRST_BATCH = 32
MAX_BATCH = 256
MAX_BATCH_ELSEWHERE = 64
#: checkpoints are spaced at least this many times their own cost apart
SNAPSHOT_SHARE = 20
#: how long a run's team waits, at most, for an event people wait on (its first turn, a
#: human's answer) to be written and published before it goes on (see :meth:`send_out`)
FIRST_TURN_WAIT_SECONDS = 0.01


class StatefulTeam(Protocol):
    """What the sink needs from a team: its state."""

    async def save_state(self, *, shared: bool = False) -> Any:
        """The team's state as JSON-ready data (``shared``: its own lists, which only grow)."""


@dataclass(slots=True)
class PendingEvent:
    """A persisted event waiting to be written."""

    seq: int
    type: str
    source: str
    data: dict[str, Any]
    at: Moment
    #: ``data`` as the database stores it (:func:`event_data_text`), encoded once with
    #: the frame's text, which holds the same text unless storing escaped something
    data_text: str
    frame: Frame


def pending_event(
    run_id: int, seq: int, event_type: str, source: str, data: dict[str, Any], at: Moment
) -> PendingEvent:
    """An event to persist and publish, its data encoded once for both."""
    stored, sent = event_data_texts(data)
    frame = event_frame(run_id, seq, event_type, source, at.text(), sent)
    return PendingEvent(seq, event_type, source, data, at, stored, frame)


@dataclass(slots=True)
class PendingChunk:
    """A live-only streaming chunk waiting to be published."""

    frame: Frame


@dataclass(slots=True)
class PendingRunUpdate:
    """Column changes of the run, written with the events queued before them."""

    changes: dict[str, Any]


Pending = PendingEvent | PendingChunk | EncodedCheckpoint | PendingRunUpdate


def next_batch(
    pending: list[Pending], most: int = MAX_BATCH
) -> tuple[list[Pending], list[Pending]]:
    """The items to write in the next transaction, and the rest.

    At most ``most`` items, unless a change of the run is among them or just after
    them: a change commits with the events around it (an answer with its event, a final
    status with the final checkpoint), so then everything queued goes together.
    """
    if len(pending) <= most or any(type(item) is PendingRunUpdate for item in pending[: most + 3]):
        return pending, []
    return pending[:most], pending[most:]


Adapter = Callable[[Any], Any]
InputHook = Callable[[str], Awaitable[None]]


class SinkClosed(Exception):
    """The sink's flusher failed (database gone for good, or another executor took the run)."""


class RunSink(EventSink):
    """Sequences, persists and publishes a run's events, and writes its checkpoints."""

    def __init__(
        self,
        run_id: int,
        *,
        lease: str,
        next_seq: int,
        log: LiveLog,
        accountant: Accountant,
        checkpoint_interval: float = 0.0,
        on_input_requested: InputHook | None = None,
    ) -> None:
        self.run_id = run_id
        self._lease = lease
        self._seq = next_seq - 1
        self._chunk_index = 0
        self._log = log
        self._accountant = accountant
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_at = 0.0
        self._snapshot_cost = 0.0
        self._chain = CheckpointChain()
        self._on_input_requested = on_input_requested
        self._team: StatefulTeam | None = None
        self._pending: list[Pending] = []
        self._batch_size = FIRST_BATCH
        self._most = MAX_BATCH if connection.vendor == "sqlite" else MAX_BATCH_ELSEWHERE
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._failure: BaseException | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.published_seq = self._seq
        self.always_checkpoint = False
        self._first_turn_out = False

    @property
    def last_seq(self) -> int:
        """The seq of the latest event given out."""
        return self._seq

    def bind_team(self, team: StatefulTeam) -> None:
        """The team whose state checkpoints hold."""
        self._team = team

    def start(self) -> None:
        """Start the flusher on the running loop."""
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    # --- EventSink ---

    async def emit(self, item: BaseMessage) -> None:
        """Sequence one runtime item (chunks go out live only)."""
        described = describe_item(item)
        if described is None:
            return
        event_type, data = described
        if event_type is EventType.MESSAGE_CHUNK:
            self._chunk_index += 1
            envelope = make_chunk_envelope(
                self.run_id, self._seq, self._chunk_index, item.source, Moment.now(), data
            )
            self._queue(PendingChunk(make_frame(envelope)))
            return
        if item.models_usage is not None and isinstance(item, BaseChatMessage | BaseAgentEvent):
            self._accountant.record_message(
                agent=item.source, usage=item.models_usage, model=item.metadata.get("model")
            )
        if event_type is EventType.INPUT_REQUESTED and self._on_input_requested is not None:
            await self._on_input_requested(data["request_id"])
        await self.record(event_type, item.source, data)

    async def turn_completed(self, speaker: str) -> None:
        """Checkpoint after a turn (at most once per ``checkpoint_interval`` seconds)."""
        # A model that answers at once never suspends the run: give the loop a turn, so
        # the flusher writes (and publishes) what this turn queued while the next runs.
        await asyncio.sleep(0)
        # Now and then a checkpoint is a full snapshot, whose size follows the conversation:
        # space them so they take at most about 1/SNAPSHOT_SHARE of the run's time, never
        # closer than the configured interval (an interval of 0 asks for every turn).
        spacing = self._checkpoint_interval
        if spacing > 0:
            spacing = max(spacing, self._snapshot_cost * SNAPSHOT_SHARE)
        if self.always_checkpoint or time.monotonic() - self._last_checkpoint_at >= spacing:
            await self.checkpoint()
        if not self._first_turn_out:
            # The first turn reaches the watchers before the team goes on.
            self._first_turn_out = True
            await self.send_out()

    # --- the studio's own events ---

    async def record(self, event_type: str, source: str, data: dict[str, Any]) -> int:
        """Give an event the next seq and queue it for persisting; returns the seq."""
        self._raise_if_failed()
        self._seq += 1
        self._chunk_index = 0
        at = Moment.now()
        self._queue(pending_event(self.run_id, self._seq, str(event_type), source, data, at))
        if len(self._pending) > MAX_PENDING:
            await self.flush()
        return self._seq

    async def checkpoint(self) -> None:
        """Snapshot the team state now, covering every event given out so far."""
        started = time.monotonic()
        if self._team is not None:
            # The team's own lists, not copies: encoded at once, before the team runs on,
            # and the next checkpoint reads only what they gained.
            self.queue_checkpoint(self._seq, await self._team.save_state(shared=True))
        self._last_checkpoint_at = time.monotonic()
        self._snapshot_cost = self._last_checkpoint_at - started

    async def snapshot(self) -> Any:
        """The team state now (None without a team)."""
        if self._team is None:
            return None
        return await self._team.save_state()

    def queue_checkpoint(self, seq: int, state: Any) -> None:
        """Write a snapshot taken earlier as the checkpoint covering ``seq``.

        Checkpoints are encoded in the order they are queued, each as a delta against the
        one before when that is worth it; the flusher writes them in the same order.
        ``state`` is handed over: a ``save_state()`` result, not changed afterwards except
        that the lists of a ``save_state(shared=True)`` result grow as the team runs on.
        """
        self._queue(self._chain.encode(seq, state, handed_over=True))

    def update_run(self, **changes: Any) -> None:
        """Change the run's columns in the same transaction as the events queued so far."""
        self._queue(PendingRunUpdate(changes))

    async def send_out(self) -> None:
        """Wait, for ``FIRST_TURN_WAIT_SECONDS`` at most, until what is queued so far is
        persisted and published: for an event people are waiting to see.

        A model that answers at once would keep the loop (and the interpreter lock) busy
        with the turns after it, and the event would wait behind their work: the
        database thread that writes it gets the lock back after each statement only
        when the loop hands it over. Behind other runs' writes the team would only
        idle, so the wait is short.
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), FIRST_TURN_WAIT_SECONDS)

    async def flush(self) -> None:
        """Wait until everything queued is persisted and published."""
        while self._pending or not self._drained.is_set():
            self._raise_if_failed()
            await self._drained.wait()
        self._raise_if_failed()

    async def close(self, *, discard: bool = False) -> None:
        """Flush (unless ``discard``) and stop the flusher."""
        try:
            if not discard:
                await self.flush()
        finally:
            if self._flusher is not None:
                self._flusher.cancel()
                await asyncio.gather(self._flusher, return_exceptions=True)

    # --- flushing ---

    def _queue(self, item: Pending) -> None:
        self._pending.append(item)
        self._drained.clear()
        self._wake.set()

    def _raise_if_failed(self) -> None:
        if self._failure is not None:
            raise SinkClosed(f"events of run {self.run_id} cannot be saved") from self._failure

    async def _flush_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = next_batch(self._pending, self._batch_size)
                self._batch_size = min(2 * self._batch_size, self._most)
                try:
                    await self._write(batch)
                except Exception as exc:
                    logger.exception("saving events of run %s failed", self.run_id)
                    self._failure = exc
                    self._drained.set()
                    return
            # A burst that comes after a lull starts small again.
            self._batch_size = FIRST_BATCH
            self._drained.set()

    async def _write(self, batch: list[Pending]) -> None:
        events = [item for item in batch if isinstance(item, PendingEvent)]
        checkpoints = [item for item in batch if isinstance(item, EncodedCheckpoint)]
        changes: dict[str, Any] = {}
        if self._accountant.is_dirty:
            changes.update(self._accountant.snapshot())
            self._accountant.is_dirty = False
        for item in batch:
            if isinstance(item, PendingRunUpdate):
                changes.update(item.changes)
        if events or changes or checkpoints:
            # One transaction (shared with other runs' batches, see BatchWriter): the
            # batch's checkpoints cover only events it or an earlier batch writes, and a
            # final status commits with the final checkpoint.
            job = WriteJob(self.run_id, self._lease, events, checkpoints, changes)
            await writer_of_running_loop().write(job)
        frames = [item.frame for item in batch if isinstance(item, PendingEvent | PendingChunk)]
        if frames:
            try:
                await self._log.append(frames)
            except Exception:
                # The database has them; watchers catch up from it.
                logger.exception("publishing events of run %s failed", self.run_id)
        if events:
            self.published_seq = events[-1].seq


@dataclass(slots=True)
class WriteJob:
    """One run's batch (or, with nothing but ``heartbeat_at`` in ``changes``, its beat)."""

    run_id: int
    lease: str
    events: list[PendingEvent]
    checkpoints: list[EncodedCheckpoint]
    changes: dict[str, Any]
    is_beat: bool = False
    done: asyncio.Future[bool] | None = None


class BatchWriter:
    """Writes the batches of every run on one event loop together: each transaction holds
    whatever all runs queued while the ones before it were written.

    Hundreds of runs that each write a little every second then cost the database a few
    transactions a second, not hundreds, and a few statements each (:func:`write_together`).
    Up to ``parallel`` transactions are written at once (SQLite takes one writer at a time;
    PostgreSQL takes several). When the database refuses one run's batch, the transaction
    is written again with each batch in a savepoint, so a run that lost its lease fails
    alone; a transaction touches runs in the order of their ids, so two at once cannot
    deadlock. A transaction whose connection broke is written again on a new one (see
    :mod:`studio.runs.database`), skipping batches that had committed after all (the
    connection died on the way back).
    """

    def __init__(self, parallel: int = 1) -> None:
        self.parallel = parallel
        self._jobs: list[WriteJob] = []
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writing: set[asyncio.Task[None]] = set()

    async def write(self, job: WriteJob) -> bool:
        """Write ``job`` with the next transaction; False for a beat whose lease is gone.

        Raises what writing the batch raised (:class:`SinkClosed` for a lost lease).
        """
        job.done = asyncio.get_running_loop().create_future()
        self._jobs.append(job)
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._write_forever())
        return await asyncio.shield(job.done)

    async def settled(self) -> None:
        """Wait until every job handed in so far is written or has failed."""
        while self._jobs or self._writing:
            if self._writing:
                await asyncio.wait(set(self._writing))
            else:  # the loop task takes them on its next turn
                await asyncio.sleep(0)

    async def _write_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._jobs and self._in_flight < self.parallel:
                jobs, self._jobs = sorted(self._jobs, key=lambda job: job.run_id), []
                self._in_flight += 1
                task = asyncio.get_running_loop().create_task(self._write_group(jobs))
                self._writing.add(task)
                task.add_done_callback(self._writing.discard)

    async def _write_group(self, jobs: list[WriteJob]) -> None:
        attempts = [0]
        try:
            results = await call_database(write_jobs, jobs, attempts)
        except Exception as exc:
            results = [exc] * len(jobs)
        finally:
            self._in_flight -= 1
            self._wake.set()
        for job, result in zip(jobs, results, strict=True):
            assert job.done is not None
            if job.done.done():
                continue
            if isinstance(result, BaseException):
                job.done.set_exception(result)
            else:
                job.done.set_result(result)


def write_jobs(jobs: list[WriteJob], attempts: list[int]) -> list[bool | BaseException]:
    """Write every job in one transaction; each job's outcome, in order.

    A job the database refuses (its lease is gone, a duplicate seq) rolls back alone;
    any other error fails the whole transaction, to be retried by the caller.
    """
    attempts[0] += 1
    is_retry = attempts[0] > 1
    # Rows are made before the transaction: on SQLite it holds the one write lock.
    rows = [job_rows(job) for job in jobs]
    if len(jobs) == 1:  # no savepoint needed
        return [write_job(jobs[0], rows[0], is_retry=is_retry)]
    if not is_retry:
        try:
            with transaction.atomic():
                write_together(jobs, rows)
            return [True] * len(jobs)
        except Exception as exc:
            if not is_refusal(exc):
                raise
            # Some job is refused: write each in its own savepoint, to tell which.
    results: list[bool | BaseException] = []
    with transaction.atomic():
        for job, prepared in zip(jobs, rows, strict=True):
            try:
                with transaction.atomic():
                    results.append(write_job(job, prepared, is_retry=is_retry))
            except Exception as exc:
                if not is_refusal(exc):
                    raise
                results.append(exc)
    return results


def is_refusal(error: BaseException) -> bool:
    """Whether the database refused one job (its lease is gone, its seq is taken, a value
    it cannot store), as opposed to failing the transaction; rows inserted through the
    driver's own cursor raise the driver's errors, not Django's."""
    return isinstance(error, SinkClosed) or is_query_error(error)


Rows = list[tuple[Any, ...]]


def write_together(jobs: list[WriteJob], rows: list[tuple[Rows, Rows]]) -> None:
    """Write the jobs' rows (made by :func:`job_rows`) and changes with a few statements
    in all, inside the caller's transaction: hundreds of runs that each write a little
    every second cost three statements a transaction, not a few per run.

    On PostgreSQL the statements go out in one pipeline, so a batch waits for the
    database once, not once per statement (each wait also hands the interpreter lock
    back and forth with the busy run thread).

    Raises :class:`SinkClosed` (or the database's error) when any job is refused; the
    caller rolls back, and may write each job in its own savepoint to tell which.
    """
    with pipelined() as sync:
        insert_rows(RunEvent, EVENT_COLUMNS, [row for events, _ in rows for row in events])
        insert_rows(
            Checkpoint, CHECKPOINT_COLUMNS, [row for _, checkpoints in rows for row in checkpoints]
        )
        # Last, so a final status lands with the final events; the lease fences it.
        update_runs([(job.run_id, job.lease, job.changes) for job in jobs if job.changes], sync)


@contextlib.contextmanager
def pipelined() -> Iterator[Callable[[], object]]:
    """The statements run inside are sent together where the driver can (PostgreSQL's
    pipeline mode): their results, errors included, arrive when the function it gives
    is called, or at the end. Elsewhere each statement runs as it comes."""
    if connection.vendor != "postgresql":
        yield lambda: None
        return
    connection.ensure_connection()
    with connection.connection.pipeline() as pipeline:
        yield pipeline.sync


def update_runs(
    updates: list[tuple[int, str, dict[str, Any]]], sync: Callable[[], object] | None = None
) -> None:
    """Apply each ``(run id, lease, changes)`` to its run while the lease holds, in order.

    Neighbours that change the same columns share one statement executed for each; the
    order stays the given one (by run id, as every batch transaction locks runs), so two
    transactions cannot deadlock. Raises :class:`SinkClosed` when a run did not match;
    inside :func:`pipelined`, ``sync`` is its function, which brings the counts of rows
    changed.
    """
    executed: list[tuple[Any, int]] = []
    try:
        for columns, group in groupby(updates, key=lambda update: tuple(update[2])):
            params = [
                [*(db_value(Run, name, value) for name, value in changes.items()), run_id, lease]
                for run_id, lease, changes in group
            ]
            cursor = connection.cursor()
            executed.append((cursor, len(params)))
            cursor.executemany(run_update_statement(columns), params)
        if sync is not None and executed:
            sync()
        for cursor, expected in executed:
            if cursor.rowcount != expected:
                missing = expected - cursor.rowcount
                raise SinkClosed(f"{missing} of {expected} runs are no longer held here")
    finally:
        for cursor, _ in executed:
            cursor.close()


@functools.lru_cache(maxsize=64)
def run_update_statement(columns: tuple[str, ...]) -> str:
    """``UPDATE`` of ``columns`` of the run with a given id and lease."""
    assignments = ", ".join(f"{quoted_column(Run, name)} = %s" for name in columns)
    return (
        f"UPDATE {quoted_table(Run)} SET {assignments} "
        f"WHERE {quoted_column(Run, 'id')} = %s AND {quoted_column(Run, 'lease')} = %s"
    )


def write_job(job: WriteJob, rows: tuple[Rows, Rows], *, is_retry: bool) -> bool:
    """Write one job (its event and checkpoint ``rows``, made by :func:`job_rows`);
    False for a beat whose lease is gone."""
    if job.is_beat:
        try:
            update_runs([(job.run_id, job.lease, job.changes)])
        except SinkClosed:
            return False
        return True
    if not is_retry or not is_batch_saved(job.run_id, job.events, job.checkpoints):
        with transaction.atomic():
            write_together([job], [rows])
    return True


def job_rows(job: WriteJob) -> tuple[Rows, Rows]:
    """A job's event rows and checkpoint rows, as the database takes them.

    Event data goes in as the text the sink encoded, except on PostgreSQL, whose driver
    takes the data itself for ``jsonb``.
    """
    run_id = job.run_id
    as_text = connection.vendor != "postgresql"
    on_sqlite = connection.vendor == "sqlite"
    event_rows = [
        (
            run_id,
            event.seq,
            event.type,
            event.source,
            event.data_text if as_text else event.data,
            searchable_text(event.type, event.data),
            False,
            event.at.sqlite_text() if on_sqlite else event.at.as_datetime(),
        )
        for event in job.events
    ]
    checkpoint_rows: Rows = []
    if job.checkpoints:
        now = Moment.now()
        at = now.sqlite_text() if on_sqlite else now.as_datetime()
        checkpoint_rows = [
            (
                run_id,
                checkpoint.seq,
                checkpoint.kind.value,
                checkpoint.base_seq,
                checkpoint.prev_seq,
                checkpoint.state_json,
                at,
            )
            for checkpoint in job.checkpoints
        ]
    return (
        adapt_rows(RunEvent, EVENT_COLUMNS, event_rows, ready_columns(as_text, on_sqlite)),
        adapt_rows(
            Checkpoint, CHECKPOINT_COLUMNS, checkpoint_rows, ready_columns(False, on_sqlite)
        ),
    )


@functools.cache
def ready_columns(data_as_text: bool, on_sqlite: bool) -> frozenset[str]:
    """The columns :func:`job_rows` writes as the database takes them already: an
    event's data as its text (not on PostgreSQL), a time as SQLite's text."""
    ready = set()
    if data_as_text:
        ready.add("data")
    if on_sqlite:
        ready.add("created_at")
    return frozenset(ready)


#: event loop -> the writer of the runs on it
WRITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, BatchWriter] = (
    weakref.WeakKeyDictionary()
)


def writer_of_running_loop() -> BatchWriter:
    """The batch writer of the running event loop."""
    loop = asyncio.get_running_loop()
    writer = WRITERS.get(loop)
    if writer is None:
        threads = LOOP_THREADS.get(loop)
        parallel = threads.size if threads is not None and connection.vendor != "sqlite" else 1
        writer = WRITERS[loop] = BatchWriter(parallel)
    return writer


async def writes_settled() -> None:
    """Wait until the running loop's batch writer has written everything handed to it."""
    writer = WRITERS.get(asyncio.get_running_loop())
    if writer is not None:
        await writer.settled()


async def beat(run_id: int, lease: str) -> bool:
    """Renew a run's lease with the next batch transaction; False when another took it."""
    changes = {"heartbeat_at": timezone.now()}
    job = WriteJob(run_id, lease, [], [], changes, is_beat=True)
    return await writer_of_running_loop().write(job)


def is_batch_saved(
    run_id: int, events: list[PendingEvent], checkpoints: list[EncodedCheckpoint]
) -> bool:
    """Whether a batch is in the database already (a batch commits whole or not at all).

    Seqs are unique per run and this executor's seqs come after every earlier attempt's,
    so the batch's first event, with its own timestamp, identifies it.
    """
    if events:
        first = events[0]
        at = first.at.as_datetime()
        return RunEvent.objects.filter(run_id=run_id, seq=first.seq, created_at=at).exists()
    if checkpoints:
        return Checkpoint.objects.filter(run_id=run_id, seq=checkpoints[0].seq).exists()
    return False


EVENT_COLUMNS = ("run_id", "seq", "type", "source", "data", "text", "discarded", "created_at")
CHECKPOINT_COLUMNS = ("run_id", "seq", "kind", "base_seq", "prev_seq", "state_json", "created_at")


def insert_rows(model: type[Model], columns: tuple[str, ...], rows: Rows) -> None:
    """Insert rows of database values (:func:`adapt_rows`).

    On PostgreSQL one statement text, every row through ``executemany``, pipelined with
    server-side parameters. On SQLite a few statements of many rows each
    (:func:`statement_sizes`): SQLite lets go of the interpreter lock for every statement it
    steps and must wait for a busy run thread to hand it back: row by row, a batch
    waited for the run once per row (tens of milliseconds on a loaded machine).
    ``bulk_create`` would build a model instance per row and compile its values one by
    one, which cost more than the rest of a batch (and, on PostgreSQL, sends arrays the
    driver escapes item by item).

    Both go through the driver's own cursor: Django's would rewrite every statement's
    placeholders (hundreds per statement here) on each call. Its errors are the
    driver's, which :func:`is_refusal` knows.
    """
    if not rows:
        return
    connection.ensure_connection()
    if connection.vendor != "postgresql":
        most = connection.features.max_query_params
        largest = SQLITE_ROWS_PER_STATEMENT
        if most:  # the parameters a statement takes at most
            largest = min(largest, max(most // len(columns), 1))
        cursor = connection.connection.cursor()
        try:
            start = 0
            for size in statement_sizes(len(rows), largest):
                chunk = rows[start : start + size]
                start += size
                values = [value for row in chunk for value in row]
                cursor.execute(insert_statement(model, columns, size, "?"), values)
        finally:
            cursor.close()
        return
    from psycopg import Cursor

    with Cursor(connection.connection) as cursor:
        # Parsed once, every row in one pipelined round trip.
        cursor.executemany(insert_statement(model, columns, 1, "%s"), rows)


#: The most rows one SQLite ``INSERT`` carries. Statements come in power-of-two sizes up
#: to it, so a table has a handful of statement shapes: the driver keeps every prepared
#: statement it has seen (128 per connection), and one per batch size held tens of
#: megabytes of compiled statements in each run host.
SQLITE_ROWS_PER_STATEMENT = 256


def statement_sizes(count: int, largest: int) -> Iterator[int]:
    """Powers of two, none above ``largest`` (itself brought down to one), that add up to
    ``count``, largest first: 300 rows in at most 256 are 256, 32, 8 and 4."""
    cap = 1 << (largest.bit_length() - 1)
    while count:
        size = min(cap, 1 << (count.bit_length() - 1))
        yield size
        count -= size


@functools.lru_cache(maxsize=64)
def insert_statement(model: type[Model], columns: tuple[str, ...], rows: int, mark: str) -> str:
    """``INSERT`` of ``rows`` rows of ``columns``, with the driver's placeholder ``mark``."""
    names = ", ".join(quoted_column(model, column) for column in columns)
    placeholders = "(" + ", ".join([mark] * len(columns)) + ")"
    return f"INSERT INTO {quoted_table(model)} ({names}) VALUES " + ", ".join([placeholders] * rows)


def adapt_rows(
    model: type[Model], columns: tuple[str, ...], rows: Rows, ready: frozenset[str] = frozenset()
) -> Rows:
    """Rows of plain values (a ``data`` column holds JSON-ready data) as the database
    takes them: only values a column must adapt (JSON, dates) go through their field,
    unless the column is named ``ready`` (its values are the database's already)."""
    if not rows:
        return rows
    adapted = row_adapters(model, columns, ready)
    if not adapted:
        return rows
    return [adapt_row(row, adapted) for row in rows]


@functools.lru_cache(maxsize=64)
def row_adapters(
    model: type[Model], columns: tuple[str, ...], ready: frozenset[str]
) -> list[tuple[int, Adapter]]:
    """The ``(index, adapter)`` of each of ``columns`` that :func:`adapt_rows` adapts,
    looked up once per table, columns and database."""
    return [
        (index, adapt)
        for index, column in enumerate(columns)
        if column not in ready and (adapt := column_adapter(model, column)) is not None
    ]


def adapt_row(row: tuple[Any, ...], adapted: list[tuple[int, Adapter]]) -> tuple[Any, ...]:
    """``row`` with the values of the ``adapted`` columns (index, adapter) converted."""
    values = list(row)
    for index, adapt in adapted:
        values[index] = adapt(values[index])
    return tuple(values)


def column_adapter(model: type[Model], column: str) -> Adapter | None:
    """How a column's values become database values, when the driver cannot take them
    as they are: JSON with the field's encoder (event data escapes NUL characters),
    dates as the database stores them.

    JSON text comes from one encoder for the whole batch, as the field would write it
    (the field makes an encoder for every value); on PostgreSQL the driver encodes
    what the field hands it. Dates are the sink's own, always aware: they skip the
    field's checks for naive ones (on SQLite the sink writes them as text already, see
    :func:`ready_columns`).
    """
    field = model._meta.get_field(column.removesuffix("_id"))
    if isinstance(field, DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if not isinstance(field, JSONField):
        return None
    if connection.vendor != "postgresql":
        encoder: type[json.JSONEncoder] = field.encoder or json.JSONEncoder
        return encoder().encode
    prepare = field.get_db_prep_value
    return lambda value: prepare(value, connection)


def write_events(
    run_id: int, described: list[tuple[str, str, dict[str, Any]]], backend: Backend
) -> None:
    """Persist and publish events from the server side, when no executor holds the run.

    Used for a run that ends without an executor (stopped while queued or parked,
    timed out while parked, its worker gone). Locks the run row to number them safely.
    """
    with transaction.atomic():
        Run.objects.select_for_update().filter(pk=run_id).first()
        last = RunEvent.objects.filter(run_id=run_id).order_by("-seq").values("seq").first()
        seq = last["seq"] if last else 0
        rows = []
        for event_type, source, data in described:
            seq += 1
            rows.append(
                RunEvent(
                    run_id=run_id,
                    seq=seq,
                    type=event_type,
                    source=source,
                    data=data,
                    text=searchable_text(event_type, data),
                    created_at=timezone.now(),
                )
            )
        RunEvent.objects.bulk_create(rows)
    frames = [make_frame(row.envelope()) for row in rows]
    transaction.on_commit(lambda: backend.publish(run_id, frames))
