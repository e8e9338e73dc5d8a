"""Cooperative cancellation shared by a run, its agents, model calls and tools."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


class CancellationToken:
    """Cancels every linked future or task when :meth:`cancel` is called.

    A token is one-shot: once cancelled it stays cancelled, and anything linked
    afterwards is cancelled at once.
    """

    __slots__ = ("_callbacks", "_is_cancelled")

    def __init__(self) -> None:
        self._is_cancelled = False
        self._callbacks: list[Callable[[], Any]] = []

    def cancel(self) -> None:
        """Cancel everything linked to this token (idempotent)."""
        if self._is_cancelled:
            return
        self._is_cancelled = True
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def is_cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._is_cancelled

    def add_callback(self, callback: Callable[[], Any]) -> None:
        """Call ``callback`` on cancellation (immediately if already cancelled)."""
        if self._is_cancelled:
            callback()
        else:
            self._callbacks.append(callback)

    def remove_callback(self, callback: Callable[[], Any]) -> None:
        """Forget ``callback`` (no error if it is not registered or already ran)."""
        try:
            self._callbacks.remove(callback)
        except ValueError:
            pass

    def link_future(self, future: asyncio.Future[Any]) -> asyncio.Future[Any]:
        """Cancel ``future`` (a task or future) when this token is cancelled.

        The link is dropped once the future is done, so a long-lived token does not
        collect callbacks of finished work.
        """
        cancel = future.cancel
        self.add_callback(cancel)
        if not self._is_cancelled:
            future.add_done_callback(lambda _: self.remove_callback(cancel))
        return future
