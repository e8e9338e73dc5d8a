"""The distributed backend: Celery executes runs; Redis carries their live events.

- live log: a Redis Stream per run. Entry ids are ``<seq>-0`` for persisted events and
  ``<seq>-<n>`` for the n-th streaming chunk after seq, so ``XREAD`` from an id is
  exactly "read after this position". Trimmed with ``MAXLEN ~``; expires after the run.
- inbox: a Redis list (``RPUSH`` / ``BLPOP``), and a cancel flag key that a run which
  has not started yet honours when it does.

Blocking reads wait at most ``REDIS_BLOCK_SECONDS`` and every client gets a socket
timeout above that (redis-py 8 cuts reads at 5 s by default). Async clients are per event
loop: Celery tasks each run their own loop with ``asyncio.run``, the server has one.
"""

from __future__ import annotations

import asyncio
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

from studio.runs.backends import Backend, Envelope, Inbox, LiveLog, Position
from studio.runs.events import envelope_position

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


def entry_id(envelope: Envelope) -> str:
    """A stream entry id from an envelope's position."""
    seq, index = envelope_position(envelope)
    return f"{seq}-{index}"


class StreamLog(LiveLog):
    """A run's live log as a Redis Stream."""

    def __init__(self, backend: DistributedBackend, run_id: int) -> None:
        self._backend = backend
        self._key = log_key(run_id)

    async def append(self, envelopes: Sequence[Envelope]) -> None:
        """See :meth:`LiveLog.append`."""
        if not envelopes:
            return
        client = self._backend.async_client()
        pipe = client.pipeline(transaction=False)
        for envelope in envelopes:
            pipe.xadd(
                self._key,
                {"e": json.dumps(envelope, separators=(",", ":"))},
                id=entry_id(envelope),
                maxlen=settings.RUNS_LOG_MAXLEN,
                approximate=True,
            )
        pipe.persist(self._key)
        results = await pipe.execute(raise_on_error=False)
        for result in results:
            if isinstance(result, Exception):
                # An id at or below the stream's top: only after a crashed attempt; the
                # database keeps the record, so readers still get the event.
                logger.warning("live log %s refused an entry: %s", self._key, result)

    async def read(self, position: Position, block: float) -> list[Envelope]:
        """See :meth:`LiveLog.read`."""
        client = self._backend.async_client()
        block_ms = int(min(block, settings.REDIS_BLOCK_SECONDS) * 1000) if block > 0 else None
        response = await client.xread(
            {self._key: f"{position[0]}-{position[1]}"}, count=1000, block=block_ms
        )
        # These clients speak RESP2: [[key, [(entry id, fields), ...]], ...], or None.
        assert response is None or isinstance(response, list)
        envelopes: list[Envelope] = []
        for _key, entries in response or []:
            for _entry_id, fields in entries:
                envelopes.append(json.loads(fields[b"e"]))
        return envelopes

    async def finish(self) -> None:
        """See :meth:`LiveLog.finish`."""
        await self._backend.async_client().expire(self._key, settings.RUNS_LOG_TTL_SECONDS)


class ListInbox(Inbox):
    """A run's inbox as a Redis list."""

    def __init__(self, backend: DistributedBackend, run_id: int) -> None:
        self._backend = backend
        self._key = inbox_key(run_id)

    async def get(self, wait: float) -> dict[str, Any] | None:
        """See :meth:`Inbox.get`."""
        client = self._backend.async_client()
        item = await client.blpop(
            [self._key], timeout=min(max(wait, 0.01), settings.REDIS_BLOCK_SECONDS)
        )
        if item is None:
            return None
        message: dict[str, Any] = json.loads(item[1])
        return message


class DistributedBackend(Backend):
    """Celery runs, Redis logs and inboxes."""

    name = "distributed"

    def __init__(self, url: str) -> None:
        self.url = url
        self._sync_client: redis.Redis | None = None
        self._async_clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aioredis.Redis
        ] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def sync_client(self) -> redis.Redis:
        """The process's synchronous client (services, the sweeper)."""
        with self._lock:
            if self._sync_client is None:
                self._sync_client = redis.Redis.from_url(
                    self.url, socket_timeout=settings.REDIS_SOCKET_TIMEOUT
                )
            return self._sync_client

    def async_client(self) -> aioredis.Redis:
        """The client of the running event loop."""
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = aioredis.Redis.from_url(self.url, socket_timeout=settings.REDIS_SOCKET_TIMEOUT)
            self._async_clients[loop] = client
        return client

    async def release(self) -> None:
        """See :meth:`Backend.release`."""
        client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

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
        pipe.execute()

    def publish(self, run_id: int, envelopes: Sequence[Envelope]) -> None:
        """See :meth:`Backend.publish`: the database has them, so Redis being away is no error."""
        pipe = self.sync_client().pipeline(transaction=False)
        for envelope in envelopes:
            pipe.xadd(
                log_key(run_id),
                {"e": json.dumps(envelope, separators=(",", ":"))},
                id=entry_id(envelope),
                maxlen=settings.RUNS_LOG_MAXLEN,
                approximate=True,
            )
        try:
            results = pipe.execute(raise_on_error=False)
        except redis.RedisError as exc:
            logger.warning("publishing events of run %s failed: %s", run_id, exc)
            return
        for result in results:
            if isinstance(result, Exception):
                logger.warning("live log of run %s refused an entry: %s", run_id, result)

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
        """See :meth:`Backend.terminate`: revoke and kill the worker process running it."""
        from studio.celery import app

        if task_id:
            app.control.revoke(task_id, terminate=True, signal="SIGKILL")
