"""One run's cancellation and deadline plumbing, kept apart from the turn-taking loop.

A team awaits agent turns and selector calls through :meth:`RunControl.step`, so that a
cancelled token or a passed deadline interrupts the awaited step only: the loop itself
then decides what the interruption means (stop, or ask the termination condition).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import TypeVar

from runtime.cancellation import CancellationToken
from runtime.messages import BaseMessage
from runtime.sink import EventSink

# Internal to the teams package: nothing here is public API.
__all__: list[str] = []

T = TypeVar("T")


class DeadlineReached(Exception):
    """The termination condition's deadline passed during a step."""


class RunControl:
    """One run's cancellation and deadline plumbing.

    Awaits that may take long (agent turns, selector model calls) go through :meth:`step`.
    Cancelling the token or passing the deadline cancels the running step only, never
    the caller's own code between items.
    """

    __slots__ = (
        "deadline",
        "interrupt",
        "is_stepping",
        "pending_events",
        "sink",
        "stop_reason",
        "task",
        "token",
    )

    def __init__(self, token: CancellationToken, sink: EventSink | None) -> None:
        self.token = token
        self.sink = sink
        self.task = asyncio.current_task()
        self.deadline: float | None = None
        self.interrupt: str | None = None
        self.is_stepping = False
        self.stop_reason: str | None = None
        self.pending_events: list[BaseMessage] = []
        token.add_callback(self._on_cancel)

    def finish(self) -> None:
        """The run is over: a later cancellation of the caller's token is none of its business."""
        self.token.remove_callback(self._on_cancel)

    def _on_cancel(self) -> None:
        self.interrupt = "cancelled"
        if self.is_stepping and self.task is not None:
            self.task.cancel()

    def _on_deadline(self) -> None:
        if self.is_stepping and self.task is not None and self.interrupt is None:
            self.interrupt = "deadline"
            self.task.cancel()

    def _raise_interrupt(self) -> None:
        kind, self.interrupt = self.interrupt, None
        if kind == "cancelled":
            self.interrupt = kind  # stays cancelled for the rest of the run
            raise asyncio.CancelledError
        raise DeadlineReached

    def check(self) -> None:
        """Raise if the run was cancelled or its deadline passed."""
        if (
            self.interrupt is None
            and self.deadline is not None
            and time.monotonic() >= self.deadline
        ):
            self.interrupt = "deadline"
        if self.interrupt is not None:
            self._raise_interrupt()

    async def step(self, awaitable: Awaitable[T]) -> T:
        """Await ``awaitable`` so that cancellation and the deadline can interrupt it."""
        try:
            self.check()
        except BaseException:
            close = getattr(awaitable, "close", None)
            if close is not None:
                close()
            raise
        handle = None
        if self.deadline is not None:
            loop = asyncio.get_running_loop()
            handle = loop.call_later(self.deadline - time.monotonic(), self._on_deadline)
        self.is_stepping = True
        try:
            result = await awaitable
        except asyncio.CancelledError:
            if self.interrupt is None or self.task is None:
                raise
            self.task.uncancel()
            self._raise_interrupt()
            raise  # pragma: no cover - _raise_interrupt always raises
        finally:
            self.is_stepping = False
            if handle is not None:
                handle.cancel()
        if self.interrupt is not None and self.task is not None and self.task.cancelling():
            # The cancellation landed after the awaitable finished without suspending, so it
            # is still pending on the task: let it arrive here, where it is expected, rather
            # than at the caller's next await (uncancel() alone does not withdraw it on 3.11).
            try:
                await asyncio.sleep(0)
            except asyncio.CancelledError:
                pass
            self.task.uncancel()
            self._raise_interrupt()
        return result
