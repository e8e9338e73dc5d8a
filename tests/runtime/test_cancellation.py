"""CancellationToken: callbacks run once, and a late link cancels at once."""

from __future__ import annotations

import asyncio

from runtime import CancellationToken


def test_cancelling_twice_runs_each_callback_once() -> None:
    token = CancellationToken()
    calls: list[str] = []
    token.add_callback(lambda: calls.append("first"))

    token.cancel()
    token.cancel()

    assert calls == ["first"]
    assert token.is_cancelled()


async def test_a_future_linked_to_a_cancelled_token_is_cancelled_at_once() -> None:
    token = CancellationToken()
    token.cancel()
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    token.link_future(future)

    assert future.cancelled()
