"""Following a run: replay from the database, then tail the live log.

The database is the record and the live log a notification with replay. A follower
sends every persisted event with seq > ``after`` exactly once and in order, then
whatever the live log brings, going back to the database whenever the log skipped
seqs (trimmed, or a publish failed). Discarded events are sent too, flagged, so a
reconnecting client sees the same gap-free sequence a live one saw.

When the live log cannot be read (Redis restarting) the follower polls the database
until it can again. Database errors are raised: the websocket then closes with a code
that makes the client reconnect from its last seq. Each database read runs on one of the
server threads (:mod:`studio.server_threads`), so watchers hold no connection of their
own while they wait.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.db import connection

from studio.runs.backends import Backend
from studio.runs.events import (
    Frame,
    decode_event_data,
    event_frame,
    format_time,
    make_envelope,
    sent_data_text,
)
from studio.runs.models import RunEvent
from studio.server_threads import server_threads
from studio.sql import python_value, quoted_column, quoted_table

logger = logging.getLogger(__name__)

REPLAY_BATCH = 500
#: how often the database is polled while the live log cannot be read
POLL_SECONDS = 1.0


def stored_events(run_id: int, after: int, limit: int) -> list[tuple[Any, ...]]:
    """Rows ``(seq, type, source, data text, discarded, created_at)`` of the persisted
    events with seq > ``after``, oldest first: plain rows, with ``data`` as its stored
    text, without a model instance and a JSON decoder made for every event.

    Written out once (see :mod:`studio.sql`): every watcher that joins, catches up or
    hears nothing for a while asks it, and the ORM compiled it anew each time.
    """
    with connection.cursor() as cursor:
        cursor.execute(stored_events_statement(), [run_id, after, limit])
        rows = cursor.fetchall()
    return [
        (
            seq,
            event_type,
            source,
            data,
            python_value(RunEvent, "discarded", discarded),
            python_value(RunEvent, "created_at", created_at),
        )
        for seq, event_type, source, data, discarded, created_at in rows
    ]


@functools.cache
def stored_events_statement() -> str:
    """The statement of :func:`stored_events` (parameters: run id, after, limit)."""
    columns = [quoted_column(RunEvent, name) for name in ("seq", "type", "source")]
    discarded, created_at, data = (
        quoted_column(RunEvent, name) for name in ("discarded", "created_at", "data")
    )
    seq = quoted_column(RunEvent, "seq")
    return (
        f"SELECT {', '.join(columns)}, CAST({data} AS TEXT), {discarded}, {created_at} "
        f"FROM {quoted_table(RunEvent)} "
        f"WHERE {quoted_column(RunEvent, 'run')} = %s AND {seq} > %s ORDER BY {seq} LIMIT %s"
    )


def persisted_after(run_id: int, after: int, limit: int = REPLAY_BATCH) -> list[dict[str, Any]]:
    """Persisted events with seq > ``after``, oldest first, as envelopes (what
    :meth:`RunEvent.envelope` gives)."""
    envelopes = []
    for seq, event_type, source, data, is_discarded, created_at in stored_events(
        run_id, after, limit
    ):
        envelope = make_envelope(
            run_id, seq, event_type, source, created_at, decode_event_data(data)
        )
        if is_discarded:
            envelope["discarded"] = True
        envelopes.append(envelope)
    return envelopes


def persisted_frames(run_id: int, after: int, limit: int = REPLAY_BATCH) -> list[Frame]:
    """Persisted events with seq > ``after``, oldest first, as frames: the stored data
    text goes out as it is, unless it holds escapes."""
    return [
        event_frame(
            run_id,
            seq,
            event_type,
            source,
            format_time(created_at),
            sent_data_text(data),
            discarded=is_discarded,
        )
        for seq, event_type, source, data, is_discarded, created_at in stored_events(
            run_id, after, limit
        )
    ]


async def follow_run(
    run_id: int, after: int, backend: Backend, *, block: float | None = None
) -> AsyncIterator[list[Frame]]:
    """Yield batches of frames after seq ``after``, forever (cancel to stop).

    Each read of the live log waits up to ``block`` seconds (``REDIS_BLOCK_SECONDS``
    unless given) before the database is looked at again. A follower first reads the
    live log without waiting: when it continues right after ``after`` (a watcher joining
    a live run), the database is not asked at all, so a crowd of watchers joining at
    once does not queue on it.
    """
    if block is None:
        block = settings.REDIS_BLOCK_SECONDS
    last_seq = after
    position = (after, 0)
    entries = await read_log(backend, run_id, position, 0)
    while True:
        if not continues(entries, last_seq):
            while True:
                batch = await server_threads().call(persisted_frames, run_id, last_seq)
                if batch:
                    last_seq = batch[-1].position[0]
                    yield batch
                if len(batch) < REPLAY_BATCH:
                    break
            # Never step back: chunks after last_seq may have been sent already.
            position = max(position, (last_seq, 0))
            entries = []
        while True:
            if not entries:
                try:
                    entries = await read_log(backend, run_id, position, block, strict=True)
                except Exception as exc:
                    logger.warning("run %s: reading the live log failed (%s); polling", run_id, exc)
                    await asyncio.sleep(min(block, POLL_SECONDS))
                    break
                if not entries:
                    break  # quiet for a while: check the database for anything not published
            fresh: list[Frame] = []
            has_gap = False
            for frame in entries:
                seq, index = frame.position
                if index:  # a streaming chunk, after seq ``seq``
                    if seq >= last_seq:
                        fresh.append(frame)
                elif seq == last_seq + 1:
                    fresh.append(frame)
                    last_seq = seq
                elif seq > last_seq + 1:
                    has_gap = True
                    break
                position = frame.position
            entries = []
            if fresh:
                yield fresh
            if has_gap:
                break


async def read_log(
    backend: Backend, run_id: int, position: tuple[int, int], block: float, *, strict: bool = False
) -> list[Frame]:
    """The run's live log after ``position``; [] when it cannot be read, unless ``strict``."""
    try:
        # Asked each time: a backend may replace the log of a run that ended.
        return await backend.log(run_id).read(position, block)
    except Exception:
        if strict:
            raise
        return []


def continues(entries: list[Frame], last_seq: int) -> bool:
    """Whether ``entries`` (read after ``(last_seq, 0)``) start right after ``last_seq``:
    with the event after it, or with a streaming chunk that follows it."""
    if not entries:
        return False
    seq, index = entries[0].position
    return (seq, index) == (last_seq + 1, 0) or (seq == last_seq and index > 0)
