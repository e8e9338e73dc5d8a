"""The distributed backend: Celery executes runs; Redis carries their live events.

- live log: a Redis Stream per run. Entry ids are ``<seq>-0`` for persisted events and
  ``<seq>-<n>`` for the n-th streaming chunk after seq, so ``XREAD`` from an id is
  exactly "read after this position". Trimmed with ``MAXLEN ~``; expires after the run.
- inbox: a Redis list (``RPUSH`` / ``LPOP``), and a cancel flag key that a run which
  has not started yet honours when it does. Each post also names its run on one Pub/Sub
  channel; the run host of every worker listens there on a single connection and wakes
  the run's reader at once, so hundreds of runs wait for messages without a blocking
  read (and a connection) each. A notice lost while Redis restarts costs at most one
  periodic look at the list.

Blocking reads wait at most ``REDIS_BLOCK_SECONDS`` and every client gets a socket
timeout above that (redis-py 8 cuts reads at 5 s by default). Async clients are per event
loop: a worker's runs share the run host's, the server's watchers share the server's.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import functools
import json
import logging
import threading
import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import redis
import redis.asyncio as aioredis
from django.conf import settings
from redis.driver_info import DriverInfo

from studio.runs.backends import (
    Backend,
    Inbox,
    LiveLog,
    Position,
    wait_at_most,
)
from studio.runs.events import Frame, make_frame

logger = logging.getLogger(__name__)

KEY_PREFIX = "roundtable:run"
INBOX_TTL_SECONDS = 7 * 24 * 3600


def log_key(run_id: int) -> str:
    """The stream holding a run's live events."""
    return f"{KEY_PREFIX}:{run_id}:log"


def inbox_key(run_id: int) -> str:
    """The list holding messages to a run."""
    return f"{KEY_PREFIX}:{run_id}:inbox"


def cancel_key(run_id: int) -> str:
    """The flag that asks a run to stop even before it starts."""
    return f"{KEY_PREFIX}:{run_id}:cancel"


def launch_key(run_id: int) -> str:
    """The mark of a launch whose task has not started yet.

    It lives in the broker's Redis beside the task message, so the two vanish together
    when Redis restarts empty (or come back together from the same snapshot): a queued
    run without it has lost its task.
    """
    return f"{KEY_PREFIX}:{run_id}:launch"


#: the Pub/Sub channel every inbox post names its run on
NOTICE_CHANNEL = f"{KEY_PREFIX}:inbox-notices"


def log_entry(frames: Sequence[Frame]) -> dict[str, Any]:
    """``XADD`` arguments that put ``frames`` (in order) in a run's stream as one entry.

    A batch is one entry, named by its last frame's position: a reader after some
    position reads every entry named after it and drops the frames at or before it
    (:func:`read_stream`). An entry per event cost the writer a command and the readers
    a reply to parse for every event. The stream keeps the entries covering the last
    ``RUNS_LOG_MAXLEN`` seqs (about: Redis trims whole nodes), as an entry per event did.

    The entry holds the frames' positions (``p``: numbers, two per frame) and their texts
    as they are (``f``: one per line; JSON text holds no line break), so a reader takes
    them without decoding an event.
    """
    seq, index = frames[-1].position
    oldest = seq - settings.RUNS_LOG_MAXLEN
    positions = " ".join(f"{at} {within}" for (at, within), _ in frames)
    return {
        "fields": {"p": positions, "f": "\n".join(text for _, text in frames)},
        "id": f"{seq}-{index}",
        "minid": f"{oldest}-0" if oldest > 0 else None,
        "approximate": True,
    }


def entry_frames(fields: dict[bytes, bytes]) -> list[Frame]:
    """The frames of a stream entry (:func:`log_entry`)."""
    if b"f" not in fields:  # written before frames: a JSON list of envelopes
        return [make_frame(envelope) for envelope in json.loads(fields[b"b"])]
    numbers = [int(number) for number in fields[b"p"].split()]
    positions = zip(numbers[::2], numbers[1::2], strict=True)
    texts = fields[b"f"].decode().split("\n")
    return [Frame(position, text) for position, text in zip(positions, texts, strict=True)]


class StreamLog(LiveLog):
    """A run's live log as a Redis Stream."""

    def __init__(self, backend: DistributedBackend, run_id: int) -> None:
        self._backend = backend
        self._run_id = run_id
        self._key = log_key(run_id)
        self._kept = False  # whether this writer took back an expiry set by an earlier end

    async def append(self, frames: Sequence[Frame]) -> None:
        """See :meth:`LiveLog.append`."""
        if not frames:
            return
        client = self._backend.async_client()
        try:
            if self._kept:
                await client.xadd(self._key, **log_entry(frames))
                return
            # A run going on (resumed, continued) keeps the log its last end set to expire.
            pipe = client.pipeline(transaction=False)
            pipe.xadd(self._key, **log_entry(frames))
            pipe.persist(self._key)
            await pipe.execute()
            self._kept = True
        except redis.ResponseError as exc:
            # An id at or below the stream's top: only after a crashed attempt; the
            # database keeps the record, so readers still get the events.
            logger.warning("live log %s refused an entry: %s", self._key, exc)

    async def read(self, position: Position, block: float) -> list[Frame]:
        """See :meth:`LiveLog.read`: through the process's one tail of the stream."""
        return await self._backend.tail(self._run_id, position).read(position, block)

    async def finish(self) -> None:
        """See :meth:`LiveLog.finish`."""
        await self._backend.async_client().expire(self._key, settings.RUNS_LOG_TTL_SECONDS)


async def read_stream(
    client: aioredis.Redis, key: str, position: Position, block: float
) -> list[Frame]:
    """The frames of a stream after ``position``, waiting up to ``block`` s (capped
    at ``REDIS_BLOCK_SECONDS``) when there are none."""
    block_ms = int(min(block, settings.REDIS_BLOCK_SECONDS) * 1000) if block > 0 else None
    response = await client.xread({key: f"{position[0]}-{position[1]}"}, count=1000, block=block_ms)
    # These clients speak RESP2: [[key, [(entry id, fields), ...]], ...], or None.
    assert response is None or isinstance(response, list)
    frames: list[Frame] = []
    for _key, entries in response or []:
        for number, (_entry_id, fields) in enumerate(entries):
            found = entry_frames(fields)
            if number == 0:  # it may hold frames at or before the position (see log_entry)
                found = [frame for frame in found if frame.position > position]
            frames += found
    return frames


class StreamTail:
    """This process's reader of one run's stream, shared by all its watchers here.

    One blocking ``XREAD`` per run and process however many sockets watch it (each would
    otherwise hold a Redis connection of its own); each entry is parsed once, kept in
    memory (the last ``RUNS_LOG_MAXLEN``, at most :data:`TAIL_KEEP`) and handed to every
    watcher from its own position. A watcher behind what the tail holds reads the stream
    itself, without waiting. While nobody has read it for :data:`TAIL_READ_AHEAD_SECONDS`
    the tail stops asking Redis and waits for a watcher to come back; it ends once nobody
    has for :data:`TAIL_IDLE_SECONDS` (every watcher of a run that ended has gone): it
    would otherwise hold a blocked read, and its connection, long after anyone cared.
    """

    def __init__(self, backend: DistributedBackend, run_id: int, start: Position) -> None:
        self._backend = backend
        self._run_id = run_id
        self._key = log_key(run_id)
        self._covered_after = start  # every entry after this position is held or to come
        self._top = start
        self._positions: list[Position] = []
        self._entries: list[Frame] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._error: Exception | None = None
        self._has_read = False  # whether a read of the stream has come back yet
        self._readers = 0  # watchers inside :meth:`read` now
        self._read_at = asyncio.get_running_loop().time()  # when the last one left it
        self._reader_came = asyncio.Event()  # set by every watcher entering :meth:`read`
        self._task = asyncio.get_running_loop().create_task(self._follow())

    @property
    def is_done(self) -> bool:
        """Whether it stopped following (idle too long)."""
        return self._task.done()

    async def read(self, position: Position, block: float) -> list[Frame]:
        """Entries after ``position``, waiting up to ``block`` s for some."""
        self._readers += 1
        self._reader_came.set()
        try:
            return await self._read(position, block)
        finally:
            self._readers -= 1
            self._read_at = asyncio.get_running_loop().time()

    async def _read(self, position: Position, block: float) -> list[Frame]:
        loop = asyncio.get_running_loop()
        if position < self._covered_after:
            return await read_stream(self._backend.async_client(), self._key, position, 0)
        found = self._after(position)
        if not found and block <= 0 and not self._has_read:
            # A tail just started holds nothing yet, though the stream may: a watcher
            # joining a run reads it at once, instead of asking the database for it.
            return await read_stream(self._backend.async_client(), self._key, position, 0)
        if found or block <= 0:
            return found
        # Woken by entries that are all at or before the position (the tail's first read
        # bringing what the watcher had already), it waits on for the rest of its time.
        deadline = loop.time() + min(block, settings.REDIS_BLOCK_SECONDS)
        while not found:
            if self._error is not None:
                raise self._error
            remaining = deadline - loop.time()
            if remaining <= 0 or self.is_done:
                break
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append(future)
            try:
                await wait_at_most(future, remaining)
            finally:
                if future in self._waiters:
                    self._waiters.remove(future)
            found = self._after(position)
        return found

    def _after(self, position: Position) -> list[Frame]:
        return self._entries[bisect.bisect_right(self._positions, position) :]

    async def _follow(self) -> None:
        try:
            await self._read_while_watched()
        finally:
            self._entries.clear()
            self._positions.clear()
            self._backend.forget_tail(self._run_id, self)

    async def _read_while_watched(self) -> None:
        loop = asyncio.get_running_loop()
        while self._readers or loop.time() - self._read_at < TAIL_IDLE_SECONDS:
            idle = loop.time() - self._read_at
            if not self._readers and idle >= TAIL_READ_AHEAD_SECONDS:
                # Nobody reads (the run ended and its watchers left, mostly): no more
                # blocked reads of a stream nobody waits for, until a watcher is back.
                self._reader_came.clear()
                try:
                    async with asyncio.timeout(TAIL_IDLE_SECONDS - idle):
                        await self._reader_came.wait()
                except TimeoutError:
                    return
                continue
            try:
                entries = await read_stream(
                    self._backend.async_client(), self._key, self._top, TAIL_BLOCK_SECONDS
                )
                self._error = None
                self._has_read = True
            except (redis.RedisError, OSError) as exc:
                self._error = exc
                self._wake()
                await asyncio.sleep(0.5)
                continue
            if entries:
                self._add(entries)

    def _add(self, entries: list[Frame]) -> None:
        for frame in entries:
            self._positions.append(frame.position)
            self._entries.append(frame)
        self._top = self._positions[-1]
        keep = min(settings.RUNS_LOG_MAXLEN, TAIL_KEEP)
        if len(self._entries) > 2 * keep:
            self._covered_after = self._positions[-keep - 1]
            del self._positions[:-keep]
            del self._entries[:-keep]
        self._wake()

    async def close(self) -> None:
        """Stop following."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    def _wake(self) -> None:
        waiting, self._waiters = self._waiters, []
        for future in waiting:
            if not future.done():
                future.set_result(None)


#: entries a tail keeps at most, and how long its blocking read waits at a time
TAIL_KEEP = 1000
TAIL_BLOCK_SECONDS = 1.0
#: a tail no watcher read for this long stops following its stream (a watcher reads
#: again as soon as it has sent what it got; one that comes back later starts a new tail)
TAIL_IDLE_SECONDS = 3.0
#: a tail no watcher read for this long reads ahead no more until one reads again: its
#: blocked reads after a run's end (three a run, a third of all a server sent while ten
#: runs streamed) only kept a connection busy for watchers that had gone
TAIL_READ_AHEAD_SECONDS = 0.5


class ListInbox(Inbox):
    """A run's inbox as a Redis list, woken by notices on :data:`NOTICE_CHANNEL`."""

    def __init__(self, backend: DistributedBackend, run_id: int) -> None:
        self._backend = backend
        self._run_id = run_id
        self._key = inbox_key(run_id)

    async def get(self, wait: float) -> dict[str, Any] | None:
        """See :meth:`Inbox.get`."""
        client = self._backend.async_client()
        notices = self._backend.notices()
        wait = min(max(wait, 0.01), settings.REDIS_BLOCK_SECONDS)
        # Listen before looking, so that a post in between still wakes this reader.
        notice = notices.expect(self._run_id)
        try:
            await notices.wait_subscribed(wait)
            item = await client.lpop(self._key)
            if item is None:
                await wait_at_most(notice, wait)
                item = await client.lpop(self._key)
        finally:
            notices.forget(self._run_id, notice)
        if item is None:
            return None
        assert isinstance(item, bytes)
        message: dict[str, Any] = json.loads(item)
        return message


class InboxNotices:
    """One subscription per event loop to :data:`NOTICE_CHANNEL`, waking inbox readers."""

    def __init__(self, backend: DistributedBackend) -> None:
        self._backend = backend
        self._waiting: dict[int, list[asyncio.Future[None]]] = {}
        self._subscribed = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None

    def expect(self, run_id: int) -> asyncio.Future[None]:
        """A future resolved by the next notice for ``run_id``."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(run_id, []).append(future)
        return future

    def forget(self, run_id: int, future: asyncio.Future[None]) -> None:
        """Stop waiting with ``future``."""
        waiting = self._waiting.get(run_id, [])
        if future in waiting:
            waiting.remove(future)
        if not waiting:
            self._waiting.pop(run_id, None)

    async def wait_subscribed(self, limit: float) -> None:
        """Wait (at most ``limit`` s) until notices arrive; readers look anyway after."""
        if not self._subscribed.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(limit):
                    await self._subscribed.wait()

    async def _listen(self) -> None:
        while True:
            pubsub = self._backend.async_client().pubsub()
            try:
                await pubsub.subscribe(NOTICE_CHANNEL)
                self._subscribed.set()
                while True:
                    message = await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=settings.REDIS_BLOCK_SECONDS
                    )
                    if message is not None and message.get("type") == "message":
                        self._wake(int(message["data"]))
            except redis.RedisError as exc:
                self._subscribed.clear()
                logger.warning("inbox notices: %s; subscribing again", exc)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated upstream

    def _wake(self, run_id: int) -> None:
        for future in self._waiting.pop(run_id, []):
            if not future.done():
                future.set_result(None)

    async def close(self) -> None:
        """Stop listening."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)


@functools.cache
def driver_info() -> DriverInfo:
    """What every connection tells Redis of its client, read once: redis-py reads its own
    version from the installed package's metadata for each connection it opens
    otherwise, which cost a server more than a millisecond per new watcher's connection."""
    return DriverInfo()


class LoopClients:
    """One asynchronous Redis client per event loop, for one URL: a client's connections
    belong to the loop that opened them (Celery tasks and the run host each have one)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> aioredis.Redis:
        """The running loop's client, made on first use."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            # A loop that runs hundreds of runs has that many commands under way at once:
            # past the pool's size they wait for a connection, not fail (the default pool
            # refuses the 101st, and a run's events then missed its live log).
            pool = aioredis.BlockingConnectionPool.from_url(
                self.url,
                max_connections=settings.REDIS_MAX_CONNECTIONS,
                timeout=settings.REDIS_SOCKET_TIMEOUT,
                socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                driver_info=driver_info(),
            )
            client = self._clients[loop] = aioredis.Redis.from_pool(pool)
        return client

    async def close(self) -> None:
        """Close and forget the running loop's client, if it has one."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


class DistributedBackend(Backend):
    """Celery runs, Redis logs and inboxes."""

    name = "distributed"

    def __init__(self, url: str) -> None:
        self.url = url
        self._sync_client: redis.Redis | None = None
        self._async_clients = LoopClients(url)
        self._notices: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, InboxNotices] = (
            weakref.WeakKeyDictionary()
        )
        self._tails: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, StreamTail]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def sync_client(self) -> redis.Redis:
        """The process's synchronous client (services, the sweeper)."""
        with self._lock:
            if self._sync_client is None:
                self._sync_client = redis.Redis.from_url(
                    self.url,
                    socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
                    driver_info=driver_info(),
                )
            return self._sync_client

    def async_client(self) -> aioredis.Redis:
        """The client of the running event loop."""
        return self._async_clients.get()

    def tail(self, run_id: int, position: Position) -> StreamTail:
        """The running loop's tail of a run's stream (started at ``position`` if new)."""
        loop = asyncio.get_running_loop()
        tails = self._tails.get(loop)
        if tails is None:
            tails = self._tails[loop] = {}
        tail = tails.get(run_id)
        if tail is None or tail.is_done:
            tail = tails[run_id] = StreamTail(self, run_id, position)
        return tail

    def forget_tail(self, run_id: int, tail: StreamTail) -> None:
        """Drop a tail that stopped following (of the running loop)."""
        tails = self._tails.get(asyncio.get_running_loop(), {})
        if tails.get(run_id) is tail:
            del tails[run_id]

    def notices(self) -> InboxNotices:
        """The inbox notices of the running event loop."""
        loop = asyncio.get_running_loop()
        notices = self._notices.get(loop)
        if notices is None:
            notices = self._notices[loop] = InboxNotices(self)
        return notices

    async def release(self) -> None:
        """See :meth:`Backend.release`."""
        loop = asyncio.get_running_loop()
        notices = self._notices.pop(loop, None)
        if notices is not None:
            await notices.close()
        for tail in list(self._tails.pop(loop, {}).values()):
            await tail.close()
        await self._async_clients.close()

    def log(self, run_id: int) -> StreamLog:
        """See :meth:`Backend.log`."""
        return StreamLog(self, run_id)

    def inbox(self, run_id: int) -> ListInbox:
        """See :meth:`Backend.inbox`."""
        return ListInbox(self, run_id)

    def post(self, run_id: int, message: dict[str, Any]) -> None:
        """See :meth:`Backend.post`."""
        pipe = self.sync_client().pipeline()
        pipe.rpush(inbox_key(run_id), json.dumps(message))
        pipe.expire(inbox_key(run_id), INBOX_TTL_SECONDS)
        pipe.publish(NOTICE_CHANNEL, str(run_id))
        pipe.execute()

    def publish(self, run_id: int, frames: Sequence[Frame]) -> None:
        """See :meth:`Backend.publish`: the database has them, so Redis being away is no error."""
        if not frames:
            return
        try:
            self.sync_client().xadd(log_key(run_id), **log_entry(frames))
        except redis.ResponseError as exc:
            logger.warning("live log of run %s refused an entry: %s", run_id, exc)
        except redis.RedisError as exc:
            logger.warning("publishing events of run %s failed: %s", run_id, exc)

    def request_cancel(self, run_id: int) -> None:
        """See :meth:`Backend.request_cancel`."""
        self.sync_client().set(cancel_key(run_id), "1", ex=INBOX_TTL_SECONDS)
        self.post(run_id, {"type": "stop"})

    async def is_cancel_requested(self, run_id: int) -> bool:
        """See :meth:`Backend.is_cancel_requested`.

        Redis restarting is waited out for ``REDIS_BLOCK_SECONDS``; after that the run
        starts: a stop posted meanwhile still reaches its inbox, and a lost flag is no
        reason to fail a run that nobody stopped.
        """
        deadline = asyncio.get_running_loop().time() + settings.REDIS_BLOCK_SECONDS
        while True:
            try:
                return bool(await self.async_client().exists(cancel_key(run_id)))
            except redis.RedisError as exc:
                if asyncio.get_running_loop().time() > deadline:
                    logger.warning("run %s: its stop flag could not be read: %s", run_id, exc)
                    return False
                await asyncio.sleep(0.2)

    def reset_inbox(self, run_id: int) -> None:
        """See :meth:`Backend.reset_inbox`."""
        self.sync_client().delete(cancel_key(run_id), inbox_key(run_id))

    def check_stop_later(self, run_id: int, delay: float) -> None:
        """See :meth:`Backend.check_stop_later`: a delayed Celery task."""
        from studio.runs.tasks import enforce_stop_task

        enforce_stop_task.apply_async(args=(run_id,), countdown=delay)

    def launch(self, run_id: int) -> str:
        """See :meth:`Backend.launch`: one Celery task per run, its id returned.

        Marks the launch as pending first (see :func:`launch_key`); the mark expires after
        ten times ``RUNS_QUEUED_RELAUNCH_SECONDS`` in case the task was lost otherwise.
        """
        from studio.runs.tasks import execute_run_task

        task_id = f"run-{run_id}-{uuid.uuid4().hex[:12]}"
        pending_for = 10 * settings.RUNS_QUEUED_RELAUNCH_SECONDS
        self.sync_client().set(launch_key(run_id), task_id, ex=pending_for)
        execute_run_task.apply_async(args=(run_id,), task_id=task_id)
        return task_id

    def is_launch_pending(self, run_id: int) -> bool:
        """See :meth:`Backend.is_launch_pending`; with Redis away, nothing could relaunch."""
        try:
            return bool(self.sync_client().exists(launch_key(run_id)))
        except redis.RedisError:
            return True

    def launch_started(self, run_id: int) -> None:
        """See :meth:`Backend.launch_started`."""
        try:
            self.sync_client().delete(launch_key(run_id))
        except redis.RedisError as exc:
            logger.warning("run %s: clearing its launch mark failed: %s", run_id, exc)

    def terminate(self, run_id: int, task_id: str) -> None:
        """See :meth:`Backend.terminate`: its executor cancels it on the next message.

        Its worker process holds other runs too, so it is not killed.
        """
        self.post(run_id, {"type": "terminate"})
