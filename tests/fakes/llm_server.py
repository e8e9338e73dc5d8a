"""A local HTTP server that speaks enough of the OpenAI and Anthropic APIs for their SDKs.

It runs on 127.0.0.1 in a thread with its own event loop, so async tests, sync tests and
a Django server under test can all call it. Each test scripts the replies in order::

    llm_server.script([text("Hello"), error(429, "slow down", retry_after="0.05")])
    client = OpenAIChatCompletionClient("gpt-4o", base_url=llm_server.openai_url)

A reply is provider-neutral: the server renders it in the shape of the endpoint that was
called (``/v1/chat/completions`` or ``/v1/messages``), streamed as server-sent events when
the request asked for ``stream``. ``/v1/embeddings`` answers unscripted, with
:func:`embedding` vectors. Every request is recorded in ``llm_server.requests``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MODEL_ECHO = "fake-model"


@dataclass(frozen=True, slots=True)
class ToolCallSpec:
    """One tool call a scripted reply makes; ``arguments`` is sent exactly as written."""

    name: str
    arguments: str
    id: str


_call_ids = itertools.count(1)


def call(name: str, arguments: str | Mapping[str, Any] = "{}", *, id: str = "") -> ToolCallSpec:
    """A tool call; a mapping is JSON-encoded, a string is passed through untouched."""
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments))
    return ToolCallSpec(name=name, arguments=text, id=id or f"call_{next(_call_ids)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What the server answers to one request.

    ``delay`` is waited before anything is sent (a slow model; the wait ends early when
    the client hangs up), ``chunk_delay`` between streamed events.
    """

    text: str = ""
    calls: tuple[ToolCallSpec, ...] = ()
    thought: str | None = None
    status: int = 200
    error: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunk_delay: float = 0.0
    usage: tuple[int, int] = (11, 7)
    finish_reason: str | None = None
    body: Any = None
    events: tuple[Any, ...] = ()


def text(
    content: str,
    *,
    thought: str | None = None,
    usage: tuple[int, int] = (11, 7),
    delay: float = 0.0,
    chunk_delay: float = 0.0,
    finish_reason: str | None = None,
) -> Reply:
    """A plain text answer (streamed word by word when the client streams)."""
    return Reply(
        text=content,
        thought=thought,
        usage=usage,
        delay=delay,
        chunk_delay=chunk_delay,
        finish_reason=finish_reason,
    )


def tool_calls(
    *calls: ToolCallSpec,
    text: str = "",
    thought: str | None = None,
    usage: tuple[int, int] = (11, 7),
) -> Reply:
    """An answer that calls one or more tools (several: a parallel tool call)."""
    return Reply(calls=tuple(calls), text=text, thought=thought, usage=usage)


def error(
    status: int,
    message: str,
    *,
    retry_after: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """An HTTP error with the provider's error body; ``retry_after`` sets that header."""
    all_headers = dict(headers or {})
    if retry_after is not None:
        all_headers["retry-after"] = retry_after
    return Reply(status=status, error=message, headers=all_headers)


def raw(body: Any = None, *, events: Iterable[Any] = ()) -> Reply:
    """A reply sent verbatim: ``body`` as the JSON answer, ``events`` as the stream.

    Each event is its JSON data, or a ``(event_name, data)`` pair; a string is sent as is
    (``"[DONE]"``). For shapes the helpers above do not make: odd servers, broken streams.
    """
    return Reply(body=body, events=tuple(events))


def slow(seconds: float, content: str = "too late") -> Reply:
    """A text answer that only starts after ``seconds`` (for cancellation and timeouts)."""
    return Reply(text=content, delay=seconds)


@dataclass(slots=True)
class RecordedRequest:
    """A request the server received; ``disconnected`` is set when the client hung up
    while the server was still waiting to answer."""

    api: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    disconnected: bool = False

    @property
    def is_stream(self) -> bool:
        """Whether the client asked for server-sent events."""
        return isinstance(self.body, dict) and bool(self.body.get("stream"))

    @property
    def messages(self) -> list[Any]:
        """The ``messages`` the client sent."""
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


class FakeLLMServer:
    """The server; use it as a context manager or call :meth:`start` and :meth:`stop`."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        #: answered when the script is empty; None answers 400 "no scripted reply left"
        self.default_reply: Reply | None = None
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None

    # -- public API ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def openai_url(self) -> str:
        """The ``base_url`` for OpenAI clients (ends in ``/v1``)."""
        return f"{self.url}/v1"

    @property
    def anthropic_url(self) -> str:
        """The ``base_url`` for Anthropic clients."""
        return self.url

    def script(self, replies: Iterable[Reply]) -> None:
        """Replace the queued replies; each request takes the next one."""
        with self._lock:
            self._replies = deque(replies)

    def add(self, *replies: Reply) -> None:
        """Queue more replies after the ones already scripted."""
        with self._lock:
            self._replies.extend(replies)

    @property
    def remaining(self) -> int:
        """How many scripted replies are still unused."""
        with self._lock:
            return len(self._replies)

    def reset(self) -> None:
        """Forget scripted replies, the default reply and recorded requests."""
        with self._lock:
            self._replies.clear()
            self.requests = []
            self.default_reply = None

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests arrived (for sync tests); return them all."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {len(self.requests)} requests, expected {count}")
            time.sleep(0.005)
        return list(self.requests)

    def start(self) -> FakeLLMServer:
        """Start serving on a free port; returns once the port is open."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(ready)), name="fake-llm-server", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake LLM server did not start")
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._loop is not None and self._stopped is not None:
            stopped = self._stopped
            self._loop.call_soon_threadsafe(lambda: stopped.done() or stopped.set_result(None))
        if self._thread is not None:
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = self._loop.create_future()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self._port = server.sockets[0].getsockname()[1]
        ready.set()
        try:
            await self._stopped
        finally:
            server.close()

    def _next_reply(self) -> Reply:
        with self._lock:
            if self._replies:
                return self._replies.popleft()
        if self.default_reply is not None:
            return self.default_reply
        return error(400, "fake LLM server: no scripted reply left")

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode("latin-1").strip()
        if not request_line:
            return
        method, path, _ = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        while (line := (await reader.readline()).decode("latin-1").strip()) != "":
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        raw = await reader.readexactly(int(headers.get("content-length", "0")))
        body = json.loads(raw) if raw else None
        path = path.split("?", 1)[0]
        if path.endswith("/embeddings"):
            self.requests.append(RecordedRequest("embeddings", method, path, headers, body))
            await _send_json(writer, 200, _embeddings(body))
            return
        if path.endswith("/chat/completions"):
            api = "openai"
        elif path.endswith("/messages"):
            api = "anthropic"
        else:
            await _send_json(writer, 404, {"error": {"message": f"no route {path}"}})
            return
        record = RecordedRequest(api, method, path, headers, body)
        self.requests.append(record)
        reply = self._next_reply()
        if reply.delay and await _client_left_within(reader, reply.delay):
            record.disconnected = True
            return
        if reply.status != 200:
            await _send_json(writer, reply.status, _error_body(api, reply), reply.headers)
        elif record.is_stream and reply.events:
            await _send_events(writer, map(_as_named_event, reply.events), reply.chunk_delay)
        elif reply.body is not None:
            await _send_json(writer, 200, reply.body, reply.headers)
        elif record.is_stream:
            events = _openai_events(reply, body) if api == "openai" else _anthropic_events(reply)
            await _send_events(writer, events, reply.chunk_delay)
        elif api == "openai":
            await _send_json(writer, 200, _openai_completion(reply), reply.headers)
        else:
            await _send_json(writer, 200, _anthropic_message(reply), reply.headers)


async def _client_left_within(reader: asyncio.StreamReader, seconds: float) -> bool:
    """Wait ``seconds``; True as soon as the client closes the connection instead."""
    try:
        await asyncio.wait_for(reader.read(1), seconds)
    except TimeoutError:
        return False
    return True


async def _send_json(
    writer: asyncio.StreamWriter,
    status: int,
    payload: Any,
    headers: Mapping[str, str] | None = None,
) -> None:
    body = json.dumps(payload).encode()
    head = [f"HTTP/1.1 {status} Fake", "content-type: application/json"]
    head += [f"content-length: {len(body)}", "connection: close"]
    head += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()


async def _send_events(
    writer: asyncio.StreamWriter, events: Iterator[tuple[str | None, Any]], chunk_delay: float
) -> None:
    head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
    writer.write(head.encode())
    for name, data in events:
        prefix = f"event: {name}\n" if name else ""
        payload = data if isinstance(data, str) else json.dumps(data)
        writer.write(f"{prefix}data: {payload}\n\n".encode())
        await writer.drain()
        if chunk_delay:
            await asyncio.sleep(chunk_delay)


def _as_named_event(event: Any) -> tuple[str | None, Any]:
    return event if isinstance(event, tuple) else (None, event)


def _error_body(api: str, reply: Reply) -> dict[str, Any]:
    if api == "openai":
        kind = "rate_limit_error" if reply.status == 429 else "server_error"
        return {"error": {"message": reply.error, "type": kind, "param": None, "code": None}}
    kind = "rate_limit_error" if reply.status == 429 else "api_error"
    return {"type": "error", "error": {"type": kind, "message": reply.error}}


def _words(content: str) -> list[str]:
    """Split text into stream pieces that join back to exactly ``content``."""
    pieces = content.split(" ")
    return [pieces[0], *(f" {piece}" for piece in pieces[1:])] if content else []


def _halves(arguments: str) -> list[str]:
    middle = len(arguments) // 2
    return [part for part in (arguments[:middle], arguments[middle:]) if part]


# -- Embeddings --------------------------------------------------------------------------

EMBEDDING_SIZE = 16


def embedding(text: str) -> list[float]:
    """A deterministic stand-in for a text's embedding: each word lands in one of
    ``EMBEDDING_SIZE`` buckets, so texts sharing words point the same way."""
    vector = [0.0] * EMBEDDING_SIZE
    for word in text.lower().split():
        word = word.strip(".,!?;:")
        if word:
            vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % EMBEDDING_SIZE] += 1.0
    return vector


def _embeddings(body: Any) -> dict[str, Any]:
    texts = body.get("input") if isinstance(body, dict) else None
    if isinstance(texts, str):
        texts = [texts]
    data = [
        {"object": "embedding", "index": index, "embedding": embedding(str(text))}
        for index, text in enumerate(texts or [])
    ]
    usage = {"prompt_tokens": len(data), "total_tokens": len(data)}
    return {"object": "list", "data": data, "model": MODEL_ECHO, "usage": usage}


# -- OpenAI shapes ---------------------------------------------------------------------


def _openai_usage(reply: Reply) -> dict[str, int]:
    prompt, completion = reply.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _openai_completion(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.thought is not None:
        message["reasoning_content"] = reply.thought
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": spec.id,
                "type": "function",
                "function": {"name": spec.name, "arguments": spec.arguments},
            }
            for spec in reply.calls
        ]
    finish = reply.finish_reason or ("tool_calls" if reply.calls else "stop")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ECHO,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": _openai_usage(reply),
    }


def _openai_chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL_ECHO,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _openai_events(reply: Reply, body: Any) -> Iterator[tuple[str | None, Any]]:
    yield None, _openai_chunk({"role": "assistant", "content": ""})
    if reply.thought:
        for piece in _words(reply.thought):
            yield None, _openai_chunk({"reasoning_content": piece})
    for piece in _words(reply.text):
        yield None, _openai_chunk({"content": piece})
    for index, spec in enumerate(reply.calls):
        opening = {"index": index, "id": spec.id, "type": "function"}
        opening["function"] = {"name": spec.name, "arguments": ""}
        yield None, _openai_chunk({"tool_calls": [opening]})
        for part in _halves(spec.arguments):
            piece = {"index": index, "function": {"arguments": part}}
            yield None, _openai_chunk({"tool_calls": [piece]})
    finish = reply.finish_reason or ("tool_calls" if reply.calls else "stop")
    yield None, _openai_chunk({}, finish)
    options = body.get("stream_options") or {} if isinstance(body, dict) else {}
    if options.get("include_usage"):
        usage_chunk = _openai_chunk({})
        usage_chunk["choices"] = []
        usage_chunk["usage"] = _openai_usage(reply)
        yield None, usage_chunk
    yield None, "[DONE]"


# -- Anthropic shapes ------------------------------------------------------------------


def _anthropic_stop_reason(reply: Reply) -> str:
    return reply.finish_reason or ("tool_use" if reply.calls else "end_turn")


def _tool_input(arguments: str) -> Any:
    try:
        value = json.loads(arguments)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _anthropic_message(reply: Reply) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.thought is not None:
        content.append({"type": "thinking", "thinking": reply.thought, "signature": "sig"})
    if reply.text:
        content.append({"type": "text", "text": reply.text})
    for spec in reply.calls:
        block = {"type": "tool_use", "id": spec.id, "name": spec.name}
        block["input"] = _tool_input(spec.arguments)
        content.append(block)
    prompt, completion = reply.usage
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": MODEL_ECHO,
        "content": content,
        "stop_reason": _anthropic_stop_reason(reply),
        "stop_sequence": None,
        "usage": {"input_tokens": prompt, "output_tokens": completion},
    }


def _anthropic_events(reply: Reply) -> Iterator[tuple[str | None, Any]]:
    prompt, completion = reply.usage
    start = _anthropic_message(reply)
    start.update(content=[], stop_reason=None, usage={"input_tokens": prompt, "output_tokens": 1})
    yield "message_start", {"type": "message_start", "message": start}
    index = 0
    if reply.thought is not None:
        block = {"type": "thinking", "thinking": "", "signature": ""}
        yield from _anthropic_block(index, block, "thinking_delta", "thinking", reply.thought)
        index += 1
    if reply.text:
        block = {"type": "text", "text": ""}
        yield from _anthropic_block(index, block, "text_delta", "text", reply.text)
        index += 1
    for spec in reply.calls:
        block = {"type": "tool_use", "id": spec.id, "name": spec.name, "input": {}}
        yield from _anthropic_block(
            index, block, "input_json_delta", "partial_json", spec.arguments
        )
        index += 1
    delta = {"stop_reason": _anthropic_stop_reason(reply), "stop_sequence": None}
    usage = {"input_tokens": prompt, "output_tokens": completion}
    yield "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
    yield "message_stop", {"type": "message_stop"}


def _anthropic_block(
    index: int, block: dict[str, Any], delta_type: str, key: str, content: str
) -> Iterator[tuple[str | None, Any]]:
    start = {"type": "content_block_start", "index": index, "content_block": block}
    yield "content_block_start", start
    pieces = _halves(content) if delta_type == "input_json_delta" else _words(content)
    deltas = [{"type": delta_type, key: piece} for piece in pieces]
    if delta_type == "thinking_delta":
        deltas.append({"type": "signature_delta", "signature": "sig"})
    for delta in deltas:
        yield "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}
    yield "content_block_stop", {"type": "content_block_stop", "index": index}
