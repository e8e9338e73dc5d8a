"""Fakes that ship with the runtime, so tests and offline demos need no mocking library.

- :class:`ScriptedModelClient` answers from a script (AutoGen's
  ``ReplayChatCompletionClient``), in constant time per call.
- :class:`RecordingSink` keeps every event a run emits.
- :class:`ScriptedInput` is a human who answers from a list.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from runtime.agents.user_proxy import current_request_id
from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError, InputError, ModelClientError, StateError
from runtime.llm import CreateResult, LLMMessage, ModelInfo, RequestUsage, ToolSchema
from runtime.model_clients.base import ChatCompletionClient, JsonOutput, ToolChoice
from runtime.sink import EventSink

if TYPE_CHECKING:
    from runtime.messages import BaseMessage

#: How many calls :attr:`ScriptedModelClient.calls` remembers.
CALL_HISTORY = 100


class ScriptedCall(NamedTuple):
    """What one call to a scripted model looked like: context size and tool names."""

    messages: int
    tools: tuple[str, ...]


def _split_words(text: str) -> list[str]:
    """Stream pieces (words with their leading space) that join back to ``text``."""
    if not text:
        return []
    pieces = text.split(" ")
    return [pieces[0], *[" " + piece for piece in pieces[1:]]]


class ScriptedModelClient(ChatCompletionClient):
    """A model that answers with the next reply of a script, whatever it is asked.

    Each reply is a ``str`` (a text answer) or a :class:`CreateResult` (for example tool
    calls). Calls cost O(1): prompt tokens are estimated from the last message only, and
    only the last 100 calls are remembered in :attr:`calls`. ``delay`` makes each call
    take that long (cancellable), to imitate a slow model.
    """

    component_provider = "autogen_ext.models.replay.ReplayChatCompletionClient"

    def __init__(
        self,
        replies: Iterable[str | CreateResult],
        *,
        model_info: ModelInfo | None = None,
        model: str = "scripted",
        delay: float = 0.0,
    ) -> None:
        self._replies: tuple[str | CreateResult, ...] = tuple(replies)
        for reply in self._replies:
            if not isinstance(reply, str | CreateResult):
                raise ConfigurationError(
                    f"scripted replies are str or CreateResult, got {type(reply).__name__}"
                )
        if delay < 0:
            raise ConfigurationError(f"delay must not be negative, got {delay}")
        self._completion_tokens = tuple(
            len(reply.split()) if isinstance(reply, str) else 0 for reply in self._replies
        )
        self._model = model
        self._delay = delay
        self._model_info = ModelInfo(
            vision=False, function_calling=True, json_output=False, family="unknown"
        )
        self._model_info.update(model_info or {})
        self._index = 0
        self._last_usage = RequestUsage()
        self._prompt_total = 0
        self._completion_total = 0
        self.calls: deque[ScriptedCall] = deque(maxlen=CALL_HISTORY)

    @property
    def replies(self) -> tuple[str | CreateResult, ...]:
        """The whole script, used or not."""
        return self._replies

    @property
    def remaining(self) -> int:
        """How many replies are left."""
        return len(self._replies) - self._index

    @property
    def model(self) -> str:
        """The name this client reports (for prices and display)."""
        return self._model

    @property
    def delay(self) -> float:
        """Seconds each call takes."""
        return self._delay

    @property
    def model_info(self) -> ModelInfo:
        """Capabilities; function calling is on by default so tools can be scripted."""
        return self._model_info

    def actual_usage(self) -> RequestUsage:
        """Usage of the last call."""
        return self._last_usage

    def total_usage(self) -> RequestUsage:
        """Usage summed over every call since construction or :meth:`reset`."""
        return RequestUsage(self._prompt_total, self._completion_total)

    def reset(self) -> None:
        """Rewind to the first reply and forget usage and calls."""
        self._index = 0
        self._last_usage = RequestUsage()
        self._prompt_total = 0
        self._completion_total = 0
        self.calls.clear()

    def save_state(self) -> dict[str, Any]:
        """The position in the script, so a relaunched run gets the next reply, not the
        first one again."""
        return {"position": self._index}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Move to a saved position (absolute, so agents sharing this client may each
        load the same state without skipping replies)."""
        position = state.get("position", 0)
        if not isinstance(position, int) or isinstance(position, bool):
            raise StateError(f"scripted model state needs an integer position, got {position!r}")
        if not 0 <= position <= len(self._replies):
            raise StateError(
                f"scripted model state is at reply {position}, but the script has "
                f"{len(self._replies)}; load it into a client built from the same script"
            )
        self._index = position

    async def _wait(self, cancellation_token: CancellationToken | None) -> None:
        """Honour the token and the configured delay before a reply is taken."""
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the cancellation token was cancelled")
        if self._delay:  # a linked sleep: the token cuts it short
            sleep: asyncio.Future[None] = asyncio.ensure_future(asyncio.sleep(self._delay))
            if cancellation_token is not None:
                cancellation_token.link_future(sleep)
            await sleep

    def _take(self, messages: Sequence[LLMMessage], tools: Sequence[ToolSchema]) -> CreateResult:
        """Use up the next reply; constant work whatever the size of ``messages``."""
        index = self._index
        if index >= len(self._replies):
            raise ModelClientError(
                f"scripted model ran out of replies after {len(self._replies)}",
                provider="scripted",
            )
        self._index = index + 1
        names = tuple([tool["name"] for tool in tools]) if tools else ()
        self.calls.append(ScriptedCall(len(messages), names))
        prompt_tokens = 0
        if messages:
            content = messages[-1].content
            prompt_tokens = len(content) // 4 + 1 if isinstance(content, str) else len(content)
        reply = self._replies[index]
        if isinstance(reply, str):
            completion_tokens = self._completion_tokens[index]
            usage = RequestUsage(prompt_tokens, completion_tokens)
            result = CreateResult(content=reply, usage=usage)
        else:
            completion_tokens = reply.usage.completion_tokens
            usage = RequestUsage(prompt_tokens, completion_tokens)
            result = CreateResult(
                content=reply.content,
                finish_reason=reply.finish_reason,
                usage=usage,
                cached=reply.cached,
                thought=reply.thought,
            )
        self._last_usage = usage
        self._prompt_total += prompt_tokens
        self._completion_total += completion_tokens
        return result

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: JsonOutput = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        """The next scripted reply; ModelClientError once the script is used up."""
        if self._delay or (cancellation_token is not None and cancellation_token.is_cancelled()):
            await self._wait(cancellation_token)
        return self._take(messages, tools)

    async def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: JsonOutput = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        """The next reply's text word by word (nothing for tool calls), then the reply."""
        await self._wait(cancellation_token)
        result = self._take(messages, tools)
        if isinstance(result.content, str):
            for piece in _split_words(result.content):
                yield piece
        yield result


class RecordingSink(EventSink):
    """An event sink that remembers everything: ``items`` emitted, ``turns`` completed."""

    def __init__(self) -> None:
        self.items: list[BaseMessage] = []
        self.turns: list[str] = []

    async def emit(self, item: BaseMessage) -> None:
        """Record one message or event."""
        self.items.append(item)

    async def turn_completed(self, speaker: str) -> None:
        """Record the speaker of a completed turn."""
        self.turns.append(speaker)

    def types(self) -> list[str]:
        """The ``type`` of every recorded item, in order."""
        return [item.type for item in self.items]


class ScriptedInput:
    """A human who answers input requests from a list, in order.

    Pass an instance as ``input_func``. ``prompts`` and ``request_ids`` record what was
    asked; running out of answers raises :class:`~runtime.errors.InputError`.
    """

    def __init__(self, answers: Iterable[str]) -> None:
        self._answers: tuple[str, ...] = tuple(answers)
        self._index = 0
        self.prompts: list[str] = []
        self.request_ids: list[str | None] = []

    @property
    def remaining(self) -> int:
        """How many answers are left."""
        return len(self._answers) - self._index

    async def __call__(self, prompt: str, cancellation_token: CancellationToken | None) -> str:
        """Give the next answer (recording the prompt and the request id first)."""
        self.prompts.append(prompt)
        self.request_ids.append(current_request_id())
        if cancellation_token is not None and cancellation_token.is_cancelled():
            raise asyncio.CancelledError("the cancellation token was cancelled")
        if self._index >= len(self._answers):
            raise InputError(f"scripted input ran out of answers after {len(self._answers)}")
        answer = self._answers[self._index]
        self._index += 1
        return answer
