"""A terminal view of a run: ``await Console(team.run_stream(task=...))``, as in AutoGen."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterable
from typing import TextIO, TypeVar

from runtime.agents.base import Response
from runtime.llm import RequestUsage
from runtime.messages import BaseMessage, ModelClientStreamingChunkEvent, TaskResult

__all__ = ["Console"]

T = TypeVar("T", TaskResult, Response)

_RULE = "-" * 10


def _header(item: BaseMessage) -> str:
    return f"{_RULE} {type(item).__name__} ({item.source}) {_RULE}\n"


async def Console(
    stream: AsyncIterable[BaseMessage | T],
    *,
    output_stats: bool = False,
    output: TextIO | None = None,
) -> T:
    """Write every message and event of ``stream`` to the terminal and return its final
    item (the :class:`TaskResult` of a run, or the :class:`Response` of one agent turn).

    Each item gets a ``---------- Kind (source) ----------`` header; streaming chunks are
    written as they come, under the header of the message they build. ``output_stats``
    ends with the message count, stop reason, token usage and duration. ``output`` is
    where the text goes (standard output by default).
    """
    out = output or sys.stdout
    started = time.monotonic()
    usage = RequestUsage()
    count = 0
    final: T | None = None
    streaming: ModelClientStreamingChunkEvent | None = None  # the first chunk of a reply
    async for item in stream:
        if isinstance(item, TaskResult | Response):
            final = item
            if isinstance(item, Response):
                count, usage = _show(out, item.chat_message, streaming, count, usage)
                streaming = None
            continue
        if isinstance(item, ModelClientStreamingChunkEvent):
            if streaming is None:
                out.write(_header(item))
                streaming = item
            out.write(item.content)
            out.flush()
            continue
        count, usage = _show(out, item, streaming, count, usage)
        streaming = None
    if final is None:
        raise ValueError("the stream ended without a TaskResult or Response")
    if output_stats:
        reason = final.stop_reason if isinstance(final, TaskResult) else None
        out.write(
            f"{_RULE} Summary {_RULE}\n"
            f"Number of messages: {count}\n"
            f"Finish reason: {reason}\n"
            f"Total prompt tokens: {usage.prompt_tokens}\n"
            f"Total completion tokens: {usage.completion_tokens}\n"
            f"Duration: {time.monotonic() - started:.2f} seconds\n"
        )
    out.flush()
    return final


def _show(
    out: TextIO,
    item: BaseMessage,
    streaming: ModelClientStreamingChunkEvent | None,
    count: int,
    usage: RequestUsage,
) -> tuple[int, RequestUsage]:
    """Write one whole item; a message whose chunks were just written only ends its line."""
    if streaming is not None:
        out.write("\n")
    is_streamed = streaming is not None and streaming.full_message_id in (None, item.id)
    if not is_streamed:
        out.write(_header(item) + item.to_text() + "\n")
    out.flush()
    if item.models_usage is not None:
        usage = usage + item.models_usage
    return count + 1, usage
