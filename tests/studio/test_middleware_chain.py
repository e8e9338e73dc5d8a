"""The middleware chain and the views run synchronously under ASGI, with the signals
around them, in one trip to the request's thread; streaming responses still stop when
their client leaves."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from asgiref.sync import ThreadSensitiveContext
from django.core import signals
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path

from studio.middleware import SynchronousHandler

#: (what ran, on which thread) for the request under test: the chain, a view, a stream
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


def asgi_scope(path: str) -> dict[str, Any]:
    """An HTTP GET of ``path`` as the server hands it to the application."""
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "scheme": "http",
    }


class Exchange:
    """The client side of one ASGI request: what it receives, and when it leaves."""

    def __init__(self, leave_after_chunks: int | None = None) -> None:
        self.sent: list[dict[str, Any]] = []
        self.leave_after_chunks = leave_after_chunks
        self.requested = False
        self.left = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.left.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        bodies = [item for item in self.sent if item["type"] == "http.response.body"]
        if self.leave_after_chunks is not None and len(bodies) >= self.leave_after_chunks:
            self.left.set()
        await asyncio.sleep(0)

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


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
    SEEN.clear()
    exchange = Exchange()
    await SynchronousHandler()(asgi_scope("/health/"), exchange.receive, exchange.send)
    assert exchange.sent[0]["type"] == "http.response.start"
    assert exchange.sent[0]["status"] in (200, 503)  # the health check answers either way
    assert [what for what, _ in SEEN] == ["before the view", "after the view"]
    assert SEEN[0][1] == SEEN[1][1] != threading.get_ident()


def streaming_view(request: HttpRequest) -> StreamingHttpResponse:
    # asynchronous: Django reads a synchronous one whole before sending any of it
    async def parts() -> Any:
        try:
            for number in range(int(request.GET.get("parts", "3"))):
                SEEN.append((f"part {number}", threading.get_ident()))
                yield f"part {number};".encode()
                await asyncio.sleep(0)
        finally:
            SEEN.append(("generator closed", threading.get_ident()))

    return StreamingHttpResponse(parts())


def plain_view(request: HttpRequest) -> HttpResponse:
    SEEN.append(("view", threading.get_ident()))
    return HttpResponse(b"plain answer")


urlpatterns = [path("stream/", streaming_view), path("plain/", plain_view)]


@pytest.fixture
def test_views(settings: Any) -> None:
    """Requests go to this module's views, which note what they did afresh."""
    settings.ROOT_URLCONF = __name__
    SEEN.clear()


@pytest.fixture
def signal_threads() -> Any:
    """(signal name, thread) of every request_started and request_finished sent."""
    seen: list[tuple[str, int]] = []

    def started(**kwargs: Any) -> None:
        seen.append(("request_started", threading.get_ident()))

    def finished(**kwargs: Any) -> None:
        seen.append(("request_finished", threading.get_ident()))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    yield seen
    signals.request_started.disconnect(started)
    signals.request_finished.disconnect(finished)


class CountingExecutor(ThreadPoolExecutor):
    """The request's thread, as the server lends it, counting the trips made to it."""

    def __init__(self) -> None:
        super().__init__(1)
        self.trips = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        self.trips += 1
        return super().submit(*args, **kwargs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("test_views")
async def test_the_signals_around_a_request_go_with_it_in_one_trip(
    signal_threads: list[tuple[str, int]],
) -> None:
    exchange = Exchange()
    lent = CountingExecutor()
    async with ThreadSensitiveContext(executor=lent):
        await SynchronousHandler()(asgi_scope("/plain/"), exchange.receive, exchange.send)
    lent.shutdown()
    assert exchange.sent[0]["status"] == 200
    assert exchange.body == b"plain answer"
    assert [name for name, _ in signal_threads] == ["request_started", "request_finished"]
    assert [what for what, _ in SEEN] == ["view"]
    # the signals and the view, on the request's thread, in one trip there
    assert len({thread for _, thread in [*signal_threads, *SEEN]}) == 1
    assert lent.trips == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("test_views")
async def test_a_streaming_response_is_sent_whole_then_closed(
    signal_threads: list[tuple[str, int]],
) -> None:
    exchange = Exchange()
    await SynchronousHandler()(asgi_scope("/stream/"), exchange.receive, exchange.send)
    assert exchange.sent[0]["status"] == 200
    assert exchange.body == b"part 0;part 1;part 2;"
    assert not exchange.sent[-1].get("more_body", False)  # the end of the body was sent
    # closed once everything was sent: request_finished comes last
    assert [name for name, _ in signal_threads] == ["request_started", "request_finished"]
    assert [what for what, _ in SEEN][-1] == "generator closed"


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("test_views")
async def test_a_client_leaving_stops_a_streaming_response(
    signal_threads: list[tuple[str, int]],
) -> None:
    exchange = Exchange(leave_after_chunks=2)
    scope = {**asgi_scope("/stream/"), "query_string": b"parts=100000"}
    await asyncio.wait_for(SynchronousHandler()(scope, exchange.receive, exchange.send), 10)
    streamed = [what for what, _ in SEEN]
    assert streamed[-1] == "generator closed"
    assert len(streamed) < 1000  # stopped long before its end
    assert [name for name, _ in signal_threads] == ["request_started", "request_finished"]
