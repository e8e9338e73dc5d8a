"""SelectorGroupChat: a model (or your function) picks who speaks next."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from runtime.agents.base import BaseChatAgent
from runtime.conditions import TerminationCondition
from runtime.errors import ConfigurationError
from runtime.llm import AssistantMessage, CreateResult, LLMMessage, SystemMessage, UserMessage
from runtime.messages import (
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    SelectorEvent,
)
from runtime.model_clients.base import ChatCompletionClient, load_client_state
from runtime.model_context import ChatCompletionContext
from runtime.teams.base import BaseGroupChat, Seat
from runtime.teams.run_control import RunControl

__all__ = ["DEFAULT_SELECTOR_PROMPT", "SelectorGroupChat"]

DEFAULT_SELECTOR_PROMPT = """You coordinate a conversation between these participants:
{roles}

The conversation so far:
{history}

Decide who should speak next. Choose exactly one of {participants} and answer with \
that name only."""

SelectorFunc = Callable[[Sequence[BaseChatMessage]], str | Awaitable[str | None] | None]
CandidateFunc = Callable[[Sequence[BaseChatMessage]], Sequence[str] | Awaitable[Sequence[str]]]

_OPENAI_FAMILIES = ("gpt", "o1", "o3", "o4")


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class SelectorGroupChat(BaseGroupChat):
    """Before each turn the next speaker is chosen: by ``selector_func`` when it returns a
    name, otherwise by asking ``model_client`` with ``selector_prompt``.

    ``candidate_func`` narrows who may be chosen; without it the previous speaker is left
    out unless ``allow_repeated_speaker``. Only candidates count as valid answers; after
    ``max_selector_attempts`` unusable answers (each followed by a feedback message to the
    model) the first candidate speaks.
    """

    manager_name = "SelectorGroupChatManager"

    component_provider = "autogen_agentchat.teams.SelectorGroupChat"

    def __init__(
        self,
        participants: Sequence[BaseChatAgent | BaseGroupChat],
        model_client: ChatCompletionClient,
        *,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        name: str | None = None,
        description: str | None = None,
        selector_prompt: str = DEFAULT_SELECTOR_PROMPT,
        allow_repeated_speaker: bool = False,
        max_selector_attempts: int = 3,
        selector_func: SelectorFunc | None = None,
        candidate_func: CandidateFunc | None = None,
        emit_team_events: bool = False,
        custom_message_types: Sequence[type[BaseMessage]] | None = None,
        model_client_streaming: bool = False,
        model_context: ChatCompletionContext | None = None,
    ) -> None:
        super().__init__(
            participants,
            name=name,
            description=description,
            termination_condition=termination_condition,
            max_turns=max_turns,
            emit_team_events=emit_team_events,
            custom_message_types=custom_message_types,
        )
        if len(self._seats) < 2:
            raise ConfigurationError("SelectorGroupChat needs at least two participants")
        if max_selector_attempts < 1:
            raise ConfigurationError("max_selector_attempts must be at least 1")
        self._model_client = model_client
        self._selector_prompt = selector_prompt
        self._allow_repeated_speaker = allow_repeated_speaker
        self._max_selector_attempts = max_selector_attempts
        self._selector_func = selector_func
        self._candidate_func = candidate_func
        self._model_client_streaming = model_client_streaming
        self._previous_speaker: str | None = None
        self._history: list[str] = []
        if model_context is not None and not isinstance(model_context, ChatCompletionContext):
            raise ConfigurationError("model_context must be a ChatCompletionContext")
        self._model_context = model_context
        self._context_read = 0
        self._roles = "\n".join(
            f"{seat.name}: {' '.join(seat.member.description.split())}" for seat in self._seats
        )
        self._patterns = {seat.name: _mention_pattern(seat.name) for seat in self._seats}

    @property
    def model_client(self) -> ChatCompletionClient:
        return self._model_client

    @property
    def selector_prompt(self) -> str:
        return self._selector_prompt

    @property
    def allow_repeated_speaker(self) -> bool:
        return self._allow_repeated_speaker

    @property
    def max_selector_attempts(self) -> int:
        return self._max_selector_attempts

    @property
    def selector_func(self) -> SelectorFunc | None:
        return self._selector_func

    @property
    def candidate_func(self) -> CandidateFunc | None:
        return self._candidate_func

    @property
    def model_client_streaming(self) -> bool:
        return self._model_client_streaming

    @property
    def model_context(self) -> ChatCompletionContext | None:
        """What of the conversation the selector model sees (``None``: all of it)."""
        return self._model_context

    @property
    def previous_speaker(self) -> str | None:
        """Who spoke last (persists across runs; cleared by reset)."""
        return self._previous_speaker

    async def _next_speakers(self, control: RunControl) -> list[Seat] | str:
        name = await self._choose(control)
        return [self._seat_by_name[name]]

    async def _choose(self, control: RunControl) -> str:
        if self._selector_func is not None:
            picked = await control.step(_resolve(self._selector_func(tuple(self._thread))))
            if picked is not None:
                if picked not in self._seat_by_name:
                    raise ConfigurationError(
                        f"selector_func chose {picked!r}, which is not one of "
                        f"{list(self._seat_by_name)}"
                    )
                return str(picked)
        candidates = await self._candidates(control)
        if len(candidates) == 1:
            return candidates[0]
        return await self._ask_model(control, candidates)

    async def _candidates(self, control: RunControl) -> list[str]:
        if self._candidate_func is not None:
            names = list(await control.step(_resolve(self._candidate_func(tuple(self._thread)))))
            unknown = [n for n in names if n not in self._seat_by_name]
            if not names or unknown:
                raise ConfigurationError(
                    f"candidate_func must return participant names from "
                    f"{list(self._seat_by_name)}, got {names!r}"
                )
            return names
        names = list(self._seat_by_name)
        if not self._allow_repeated_speaker and self._previous_speaker in names:
            names.remove(self._previous_speaker)
        return names

    async def _history_text(self) -> str:
        context = self._model_context
        if context is None:
            for message in self._thread[len(self._history) :]:
                self._history.append(f"{message.source}: {message.to_model_text()}".rstrip())
            return "\n\n".join(self._history)
        # With a model context the selector sees what the context shows of the thread.
        for message in self._thread[self._context_read :]:
            if isinstance(message, HandoffMessage):
                for earlier in message.context:
                    await context.add_message(earlier)
            await context.add_message(message.to_model_message())
        self._context_read = len(self._thread)
        lines = []
        for shown in await context.get_messages():
            if isinstance(shown, UserMessage | AssistantMessage) and isinstance(shown.content, str):
                lines.append(f"{shown.source}: {shown.content}".rstrip())
        return "\n\n".join(lines)

    async def _prompt_message(self, candidates: list[str]) -> LLMMessage:
        prompt = self._selector_prompt.format(
            roles=self._roles,
            history=await self._history_text(),
            participants=str(candidates),
        )
        family = str(self._model_client.model_info.get("family", ""))
        if family.startswith(_OPENAI_FAMILIES):
            return SystemMessage(prompt)
        return UserMessage(prompt, "user")

    async def _ask_model(self, control: RunControl, candidates: list[str]) -> str:
        messages: list[LLMMessage] = [await self._prompt_message(candidates)]
        for _attempt in range(self._max_selector_attempts):
            reply = await self._complete(control, messages)
            mentioned = self._mentions(reply, candidates)
            if len(mentioned) == 1:
                return mentioned[0]
            if mentioned:
                feedback = (
                    "Name exactly one participant. Please choose only one of: "
                    f"{', '.join(candidates)}."
                )
            elif self._previous_speaker is not None and self._mentions(
                reply, [self._previous_speaker]
            ):
                feedback = (
                    f"{self._previous_speaker} just spoke and may not speak twice in a row. "
                    f"Please choose one of: {', '.join(candidates)}."
                )
            else:
                feedback = (
                    f"No valid name was given. Please choose one of: {', '.join(candidates)}."
                )
            messages.append(AssistantMessage(content=reply, source="selector"))
            messages.append(UserMessage(feedback, "user"))
        return candidates[0]

    async def _complete(self, control: RunControl, messages: list[LLMMessage]) -> str:
        if not self._model_client_streaming:
            result = await control.step(
                self._model_client.create(messages, cancellation_token=control.token)
            )
            return result.content if isinstance(result.content, str) else ""
        stream = self._model_client.create_stream(messages, cancellation_token=control.token)
        final: CreateResult | None = None
        try:
            while True:
                try:
                    piece = await control.step(stream.__anext__())
                except StopAsyncIteration:
                    break
                if isinstance(piece, CreateResult):
                    final = piece
                elif self._emit_team_events:
                    control.pending_events.append(
                        ModelClientStreamingChunkEvent(content=piece, source=self.manager_name)
                    )
        finally:
            await stream.aclose()
        answer = final.content if final is not None and isinstance(final.content, str) else ""
        if self._emit_team_events:
            control.pending_events.append(SelectorEvent(content=answer, source=self.manager_name))
        return answer

    def _mentions(self, text: str, names: Sequence[str]) -> list[str]:
        return [name for name in names if self._patterns[name].search(text)]

    def _after_turn(self, seat: Seat, said: list[BaseChatMessage]) -> None:
        self._previous_speaker = seat.name

    async def _reset_manager(self) -> None:
        self._previous_speaker = None
        self._history.clear()
        self._context_read = 0
        if self._model_context is not None:
            await self._model_context.clear()

    def _save_manager(self) -> dict[str, Any]:
        state: dict[str, Any] = {"previous_speaker": self._previous_speaker}
        client_state = self._model_client.save_state()
        if client_state:
            state["model_client"] = client_state
        return state

    def _load_manager(self, state: Mapping[str, Any]) -> None:
        previous = state.get("previous_speaker")
        self._previous_speaker = previous if previous in self._seat_by_name else None
        load_client_state(f"team {self._name!r}", self._model_client, state)


def _mention_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole word, also written with spaces or escaped underscores."""
    spellings = {name, name.replace("_", " "), name.replace("_", r"\_")}
    alternatives = "|".join(re.escape(s) for s in sorted(spellings, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")
