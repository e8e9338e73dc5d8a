"""The middleware chain and the views run synchronously, in one trip to the request's
thread, under ASGI."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse

from studio.middleware import SynchronousHandler

#: (what ran, on which thread) for the request under test
SEEN: list[tuple[str, int]] = []


class NoteThreads:
    """Notes the thread of the chain before and after the view."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        SEEN.append(("before the view", threading.get_ident()))
        response: HttpResponse = self.get_response(request)
        SEEN.append(("after the view", threading.get_ident()))
        return response


def test_the_chain_is_built_without_adapting_anything(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DEBUG = True  # Django reports each adaptation between sync and async then
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        SynchronousHandler()
    adapted = [record.getMessage() for record in caplog.records if "adapted" in record.getMessage()]
    assert adapted == []


@pytest.mark.django_db(transaction=True)
async def test_a_request_runs_its_chain_and_view_on_one_other_thread(settings: Any) -> None:
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.NoteThreads"]
    handler = SynchronousHandler()
    SEEN.clear()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/health/",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "scheme": "http",
    }
    messages = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(60)  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await handler(scope, receive, send)
    assert sent[0]["type"] == "http.response.start"
    assert sent[0]["status"] in (200, 503)  # the health check answers either way
    assert [what for what, _ in SEEN] == ["before the view", "after the view"]
    assert SEEN[0][1] == SEEN[1][1] != threading.get_ident()
