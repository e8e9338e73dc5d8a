"""The human seat: a participant that answers through an injected input function."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import typing
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

from runtime.agents.base import BaseChatAgent, Response
from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError, InputError, TeamError
from runtime.messages import (
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    TextMessage,
    UserInputRequestedEvent,
    new_id,
)

__all__ = ["InputFunc", "UserProxyAgent", "current_request_id"]

#: ``async (prompt, cancellation_token) -> str``; sync ``(prompt) -> str`` or
#: ``(prompt, cancellation_token) -> str`` callables are accepted and run in a thread.
InputFunc = Callable[..., Awaitable[str]] | Callable[..., str]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "runtime_input_request_id", default=None
)


def current_request_id() -> str | None:
    """Inside an input function: the ``request_id`` of the event announcing this request.

    The :class:`~runtime.UserInputRequestedEvent` is emitted before the input function is
    called, so an application can pair the answer it collects with that event.
    Outside an input function this is ``None``.
    """
    return _request_id.get()


class UserProxyAgent(BaseChatAgent):
    """A participant whose turns are a human's answers.

    Each turn emits :class:`~runtime.UserInputRequestedEvent` (with a fresh
    ``request_id``) *before* waiting on ``input_func``, so observers can show a prompt.
    After a handoff addressed to this agent, the answer is a
    :class:`~runtime.HandoffMessage` back to the sender; otherwise a
    :class:`~runtime.TextMessage`. A last message that hands off to another agent is a
    :class:`~runtime.TeamError`. An input function that fails raises
    :class:`~runtime.InputError` (the failure is its ``__cause__``); cancellation
    propagates. Without an input function, asking is an :class:`~runtime.InputError`:
    the runtime never reads a terminal by itself.
    """

    component_provider = "autogen_agentchat.agents.UserProxyAgent"
    produced_message_types = (TextMessage, HandoffMessage)

    def __init__(
        self,
        name: str,
        *,
        description: str = "A human user",
        input_func: InputFunc | None = None,
    ) -> None:
        super().__init__(name, description)
        if input_func is not None and not callable(input_func):
            raise ConfigurationError(
                f"agent {name!r}: input_func must be callable, got {type(input_func).__name__}"
            )
        self._input_func = input_func
        self._is_async = input_func is not None and _is_async_callable(input_func)
        self._passes_token = input_func is not None and _accepts_two_arguments(input_func)

    @property
    def input_func(self) -> InputFunc | None:
        """The function that asks the human (``None``: asking fails)."""
        return self._input_func

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        """Announce the request, wait for the human, and answer with what they wrote."""
        last = messages[-1] if messages else None
        handoff = last if isinstance(last, HandoffMessage) else None
        if handoff is not None and handoff.target != self.name:
            raise TeamError(
                f"agent {self.name!r} was asked to answer a handoff addressed to "
                f"{handoff.target!r}; route handoffs to their target"
            )
        if handoff is not None:
            prompt = f"Handoff received from {handoff.source}. Enter your response: "
        else:
            prompt = "Enter your response: "
        event = UserInputRequestedEvent(
            request_id=new_id(),
            source=self.name,
            asked_by=last.source if last is not None else "",
            question=last.to_text() if last is not None else "",
        )
        yield event
        answer = await self._ask(prompt, event.request_id, cancellation_token)
        reply: BaseChatMessage
        if handoff is not None:
            reply = HandoffMessage(content=answer, target=handoff.source, source=self.name)
        else:
            reply = TextMessage(content=answer, source=self.name)
        yield Response(chat_message=reply, inner_messages=[event])

    async def _ask(
        self, prompt: str, request_id: str, cancellation_token: CancellationToken
    ) -> str:
        func = self._input_func
        if func is None:
            raise InputError(
                f"agent {self.name!r} was asked for input but has no input_func; "
                "give UserProxyAgent(input_func=...) a function that asks the human"
            )
        if cancellation_token.is_cancelled():
            raise asyncio.CancelledError()
        reset = _request_id.set(request_id)
        try:
            # The task and the thread both start from a copy of this context, so the input
            # function sees the request id through current_request_id().
            waiter: asyncio.Future[Any]
            args = (prompt, cancellation_token) if self._passes_token else (prompt,)
            if self._is_async:
                waiter = asyncio.ensure_future(typing.cast(Awaitable[str], func(*args)))
            else:
                call = functools.partial(contextvars.copy_context().run, func, *args)
                waiter = asyncio.get_running_loop().run_in_executor(None, call)
        finally:
            _request_id.reset(reset)
        cancellation_token.link_future(waiter)
        try:
            answer = await waiter
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise InputError(f"agent {self.name!r} could not get the human's input: {exc}") from exc
        if not isinstance(answer, str):
            raise InputError(
                f"agent {self.name!r}: the input function returned "
                f"{type(answer).__name__}, expected a string"
            )
        return answer

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Nothing to forget: the human keeps their own memory."""


def _is_async_callable(func: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an async __call__ on an object
    return call is not None and inspect.iscoroutinefunction(call)


def _accepts_two_arguments(func: Callable[..., Any]) -> bool:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return False
    try:
        signature.bind("prompt", CancellationToken())
    except TypeError:
        return False
    return True
