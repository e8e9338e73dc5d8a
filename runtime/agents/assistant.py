"""The model-backed agent: answers, calls tools, reflects on them, and hands off."""

from __future__ import annotations

import asyncio
import json
import time
import warnings
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from runtime.agents.base import BaseChatAgent, Response
from runtime.agents.encoded_context import EncodedContext, SharedSave, copy_dicts
from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError, ModelResponseError, StateError, ToolError
from runtime.llm import (
    AssistantMessage,
    CreateResult,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    LLMMessage,
    SystemMessage,
    ToolSchema,
)
from runtime.memory import Memory
from runtime.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    MemoryQueryEvent,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    StructuredMessage,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    new_id,
    structured_message_type,
)
from runtime.model_clients.base import ChatCompletionClient, ToolChoice, load_client_state
from runtime.model_context import ChatCompletionContext, UnboundedChatCompletionContext
from runtime.task_tools import TaskRunnerTool, reset_item_receiver, set_item_receiver
from runtime.tools import FunctionTool, Handoff, as_tool

__all__ = ["AssistantAgent"]

DEFAULT_DESCRIPTION = "An agent that provides assistance with ability to use tools."
DEFAULT_SYSTEM_MESSAGE = (
    "You are a helpful AI assistant. Solve tasks using your tools. "
    "Reply with TERMINATE when the task has been completed."
)
STATE_TYPE = "AssistantAgentState"
STATE_VERSION = "1.0.0"

InnerItem = BaseAgentEvent | BaseChatMessage
#: a tool call's result and the seconds it took
TimedResult = tuple[FunctionExecutionResult, float]
#: ``(call, result) -> line`` writes one line of a tool call summary.
SummaryFormatter = Callable[[FunctionCall, FunctionExecutionResult], str]


class AssistantAgent(BaseChatAgent):
    """An agent that answers through a model client, with tools and handoffs.

    One turn: the model sees ``[system_message, *history]``. A text answer ends the
    turn as a :class:`~runtime.TextMessage`. Tool calls run concurrently (results keep
    the call order); malformed arguments, unknown tools and tool exceptions become
    error results the model sees on its next call. The model is called again while it
    asks for tools, up to ``max_tool_iterations`` calls; then the turn ends with a
    reflection answer (``reflect_on_tool_use``) or a :class:`~runtime.ToolCallSummaryMessage`
    whose lines ``tool_call_summary_formatter(call, result)`` writes, or else
    ``tool_call_summary_format`` (fields ``tool_name``, ``arguments``, ``result``,
    ``is_error``). Calling a handoff ends the turn with a
    :class:`~runtime.HandoffMessage` carrying the turn's other tool work as context.

    Messages that carry model usage also carry ``metadata["model"]`` (the client's
    model name) so costs can be priced.
    """

    component_provider = "autogen_agentchat.agents.AssistantAgent"
    produced_message_types: Sequence[type[BaseChatMessage]] = (
        TextMessage,
        ToolCallSummaryMessage,
        HandoffMessage,
    )

    def __init__(
        self,
        name: str,
        model_client: ChatCompletionClient,
        *,
        tools: Iterable[FunctionTool | Callable[..., Any]] | None = None,
        handoffs: Iterable[Handoff | str] | None = None,
        description: str = DEFAULT_DESCRIPTION,
        system_message: str | None = DEFAULT_SYSTEM_MESSAGE,
        model_client_stream: bool = False,
        reflect_on_tool_use: bool | None = None,
        max_tool_iterations: int = 1,
        tool_call_summary_format: str = "{result}",
        tool_call_summary_formatter: SummaryFormatter | None = None,
        model_context: ChatCompletionContext | None = None,
        output_content_type: type[Any] | None = None,
        output_content_type_format: str | None = None,
        memory: Sequence[Memory] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(name, description)
        if not isinstance(model_client, ChatCompletionClient):
            raise ConfigurationError(
                f"agent {name!r}: model_client must be a ChatCompletionClient, "
                f"got {type(model_client).__name__}"
            )
        if isinstance(max_tool_iterations, bool) or not isinstance(max_tool_iterations, int):
            raise ConfigurationError(f"agent {name!r}: max_tool_iterations must be an integer")
        if max_tool_iterations < 1:
            raise ConfigurationError(
                f"agent {name!r}: max_tool_iterations must be at least 1, got {max_tool_iterations}"
            )
        self._model_client = model_client
        self._system_message = system_message
        self._system = SystemMessage(system_message) if system_message else None
        self._model_client_stream = model_client_stream
        self._output_type: type[StructuredMessage] | None = None
        if output_content_type is not None:
            self._output_type = structured_message_type(output_content_type)
            self.produced_message_types = (*self.produced_message_types, self._output_type)
        self._output_content_type = output_content_type
        self._output_content_type_format = output_content_type_format
        if reflect_on_tool_use is None:
            reflect_on_tool_use = output_content_type is not None
        self._reflect_on_tool_use = bool(reflect_on_tool_use)
        self._max_tool_iterations = max_tool_iterations
        self._tool_call_summary_format = _checked_format(name, tool_call_summary_format)
        if tool_call_summary_formatter is not None and not callable(tool_call_summary_formatter):
            raise ConfigurationError(
                f"agent {name!r}: tool_call_summary_formatter must be callable"
            )
        self._tool_call_summary_formatter = tool_call_summary_formatter
        self._metadata: dict[str, str] = dict(metadata or {})
        self._tools = _tools_by_name(name, tools)
        self._handoffs = _handoffs_by_name(name, handoffs, self._tools)
        self._task_tools = frozenset(
            name for name, tool in self._tools.items() if isinstance(tool, TaskRunnerTool)
        )
        if (self._tools or self._handoffs) and model_client.model_info.get(
            "function_calling", True
        ) is False:
            raise ConfigurationError(
                f"agent {name!r}: the model client's model does not support function calling "
                "(model_info['function_calling'] is False), so it cannot use tools or handoffs"
            )
        self._tool_schemas: list[ToolSchema] = [t.schema for t in self._tools.values()] + [
            h.schema for h in self._handoffs.values()
        ]
        model = model_client.model
        self._usage_metadata: Mapping[str, str] = MappingProxyType(
            {"model": model} if model else {}
        )
        if model_context is not None and not isinstance(model_context, ChatCompletionContext):
            raise ConfigurationError(
                f"agent {name!r}: model_context must be a ChatCompletionContext, "
                f"got {type(model_context).__name__}"
            )
        self._model_context = model_context or UnboundedChatCompletionContext()
        context_class = type(self._model_context)
        # Built-in contexts store into a list the agent may append to directly: the
        # history grows on every message, so the hot path skips a coroutine per message.
        self._is_plain_context = (
            context_class.add_message is ChatCompletionContext.add_message
            and context_class.save_state is ChatCompletionContext.save_state
            and context_class.load_state is ChatCompletionContext.load_state
        )
        self._shows_everything = context_class is UnboundedChatCompletionContext
        self._sees_images = bool(model_client.model_info.get("vision", False))
        self._memory = list(memory or ())
        for item in self._memory:
            if not isinstance(item, Memory):
                raise ConfigurationError(
                    f"agent {name!r}: memory items must be Memory objects, "
                    f"got {type(item).__name__}"
                )
        self._encoded_context = EncodedContext()
        #: the last ``save_state(shared=True)`` result, with what it was made of
        self._shared_save: SharedSave | None = None

    # -- configuration, readable under the constructor's names ---------------------------

    @property
    def model_client(self) -> ChatCompletionClient:
        """The client every model call goes through."""
        return self._model_client

    @property
    def tools(self) -> list[FunctionTool]:
        """The tools offered to the model, in the order given."""
        return list(self._tools.values())

    @property
    def handoffs(self) -> list[Handoff]:
        """The handoffs offered to the model, in the order given."""
        return list(self._handoffs.values())

    @property
    def system_message(self) -> str | None:
        """The system message put before the history on every call (``None``: none)."""
        return self._system_message

    @property
    def model_client_stream(self) -> bool:
        """Whether replies stream as chunk events."""
        return self._model_client_stream

    @property
    def reflect_on_tool_use(self) -> bool:
        """Whether the model is asked once more to answer in words after its tool calls."""
        return self._reflect_on_tool_use

    @property
    def max_tool_iterations(self) -> int:
        """The most model calls one turn makes while the model keeps asking for tools."""
        return self._max_tool_iterations

    @property
    def tool_call_summary_format(self) -> str:
        """The format of each line of a tool call summary."""
        return self._tool_call_summary_format

    @property
    def tool_call_summary_formatter(self) -> SummaryFormatter | None:
        """The function that writes each summary line instead of the format, if any."""
        return self._tool_call_summary_formatter

    @property
    def memory(self) -> list[Memory]:
        """The memories asked before every model call, in order."""
        return list(self._memory)

    @property
    def output_content_type(self) -> type[Any] | None:
        """The pydantic model final answers are parsed into (``None``: plain text)."""
        return self._output_content_type

    @property
    def output_content_type_format(self) -> str | None:
        """How a structured answer reads as text (``str.format`` over its fields)."""
        return self._output_content_type_format

    @property
    def metadata(self) -> dict[str, str]:
        """Free-form labels of the agent (kept in its component config)."""
        return dict(self._metadata)

    @property
    def model_context(self) -> ChatCompletionContext:
        """The agent's history and what of it the model sees (after the system message)."""
        return self._model_context

    # -- one turn --------------------------------------------------------------------------

    async def on_messages_stream(
        self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        """Take the new messages, call the model (and tools), then yield a Response last."""
        if self._is_plain_context:
            context = self._model_context._messages
            for message in messages:
                if isinstance(message, HandoffMessage) and message.context:
                    context.extend(message.context)
                elif isinstance(message, MultiModalMessage) and not self._sees_images:
                    self._refuse_images(message)
                context.append(message.to_model_message())
        else:
            for message in messages:
                if isinstance(message, MultiModalMessage) and not self._sees_images:
                    self._refuse_images(message)
                if isinstance(message, HandoffMessage):
                    for earlier in message.context:
                        await self._model_context.add_message(earlier)
                await self._model_context.add_message(message.to_model_message())
        inner: list[InnerItem] = []
        for memory in self._memory:
            recalled = await memory.update_context(self._model_context)
            if recalled.memories.results:
                event = MemoryQueryEvent(content=tuple(recalled.memories.results), source=self.name)
                inner.append(event)
                yield event
        stream_id = new_id() if self._model_client_stream else None
        result: CreateResult | None = None
        last_calls: list[FunctionCall] = []
        last_results: list[FunctionExecutionResult] = []
        for _ in range(self._max_tool_iterations):
            async for item in self._ask("auto", stream_id, cancellation_token):
                if isinstance(item, CreateResult):
                    result = item
                else:
                    yield item
            assert result is not None
            if result.thought:
                thought = self._thought(result.thought, stream_id)
                inner.append(thought)
                yield thought
                if stream_id is not None:
                    stream_id = new_id()
            content = result.content
            said = AssistantMessage(content=content, source=self.name, thought=result.thought)
            if self._is_plain_context:  # the common case, without a coroutine per message
                self._model_context._messages.append(said)
            else:
                await self._model_context.add_message(said)
            if isinstance(content, str):
                yield Response(
                    chat_message=self._text(content, result, stream_id), inner_messages=inner
                )
                return
            request = ToolCallRequestEvent(
                content=tuple(content),
                source=self.name,
                models_usage=result.usage,
                metadata=self._usage_metadata,
            )
            inner.append(request)
            yield request
            if self._task_tools and any(call.name in self._task_tools for call in content):
                timed: list[TimedResult] = []
                async for piece in self._execute_streaming(content, cancellation_token):
                    if isinstance(piece, list):
                        timed = piece
                    else:
                        inner.append(piece)
                        yield piece
            else:
                timed = await self._execute(content, cancellation_token)
            results = [result for result, _ in timed]
            execution = ToolCallExecutionEvent(
                content=tuple(results),
                source=self.name,
                durations=tuple(seconds for _, seconds in timed),
            )
            inner.append(execution)
            yield execution
            await self._remember(FunctionExecutionResultMessage(results))
            if self._handoffs:
                handoff = self._handoff_message(content, results, result.thought)
                if handoff is not None:
                    yield Response(chat_message=handoff, inner_messages=inner)
                    return
            last_calls, last_results = content, results
        if self._reflect_on_tool_use:
            reflection_id = new_id() if stream_id is not None else None
            async for step in self._reflect(reflection_id, inner, cancellation_token):
                yield step
            return
        summary = ToolCallSummaryMessage(
            content=self._summary_text(last_calls, last_results),
            source=self.name,
            tool_calls=tuple(last_calls),
            results=tuple(last_results),
        )
        yield Response(chat_message=summary, inner_messages=inner)

    async def _reflect(
        self, stream_id: str | None, inner: list[InnerItem], cancellation_token: CancellationToken
    ) -> AsyncGenerator[BaseMessage | Response, None]:
        """One more model call, tools shown but not allowed, for an answer in words."""
        result: CreateResult | None = None
        async for piece in self._ask("none", stream_id, cancellation_token):
            if isinstance(piece, CreateResult):
                result = piece
            else:
                yield piece
        assert result is not None
        if not isinstance(result.content, str):
            raise ModelResponseError(
                f"agent {self.name!r}: the model answered the reflection call with tool calls; "
                "it was asked for text (tool_choice='none')"
            )
        if result.thought:
            thought = self._thought(result.thought, stream_id)
            inner.append(thought)
            yield thought
            if stream_id is not None:
                stream_id = new_id()
        await self._remember(
            AssistantMessage(content=result.content, source=self.name, thought=result.thought)
        )
        yield Response(
            chat_message=self._text(result.content, result, stream_id), inner_messages=inner
        )

    def _refuse_images(self, message: MultiModalMessage) -> None:
        if message.images:
            raise ConfigurationError(
                f"agent {self.name!r} got images from {message.source!r}, but its model "
                f"{self._model_client.model or '(unnamed)'} cannot see images "
                "(model_info['vision'] is False); give it a vision model or send text"
            )

    async def _remember(self, message: LLMMessage) -> None:
        if self._is_plain_context:
            self._model_context._messages.append(message)
        else:
            await self._model_context.add_message(message)

    async def _request(self) -> list[LLMMessage]:
        history = await self._model_context.get_messages()
        return [self._system, *history] if self._system is not None else list(history)

    async def _ask(
        self,
        tool_choice: ToolChoice,
        stream_id: str | None,
        cancellation_token: CancellationToken,
    ) -> AsyncGenerator[ModelClientStreamingChunkEvent | CreateResult, None]:
        """One model call: its text chunks as events when streaming, then its result."""
        if self._shows_everything:  # the whole history: one copy, no coroutine
            history = self._model_context._messages
            request = [self._system, *history] if self._system is not None else list(history)
        else:
            request = await self._request()
        if stream_id is None:
            yield await self._model_client.create(
                request,
                tools=self._tool_schemas,
                tool_choice=tool_choice,
                json_output=self._output_content_type,
                cancellation_token=cancellation_token,
            )
            return
        result: CreateResult | None = None
        async for item in self._model_client.create_stream(
            request,
            tools=self._tool_schemas,
            tool_choice=tool_choice,
            json_output=self._output_content_type,
            cancellation_token=cancellation_token,
        ):
            if isinstance(item, CreateResult):
                result = item
            elif isinstance(item, str):
                yield ModelClientStreamingChunkEvent(
                    content=item, source=self.name, full_message_id=stream_id
                )
            else:
                raise ModelResponseError(
                    f"agent {self.name!r}: the model stream yielded a {type(item).__name__}; "
                    "streams yield text pieces and one CreateResult"
                )
        if result is None:
            raise ModelResponseError(
                f"agent {self.name!r}: the model stream ended without a final result"
            )
        yield result

    def _thought(self, text: str, stream_id: str | None) -> ThoughtEvent:
        if stream_id is None:
            return ThoughtEvent(content=text, source=self.name)
        return ThoughtEvent(content=text, source=self.name, id=stream_id)

    def _text(
        self, content: str, result: CreateResult, stream_id: str | None
    ) -> TextMessage | StructuredMessage:
        if self._output_type is not None:
            return self._output_type(
                content=self._output_type.content_type.model_validate_json(content),
                format_string=self._output_content_type_format,
                source=self.name,
                id=stream_id or new_id(),
                models_usage=result.usage,
                metadata=self._usage_metadata,
            )
        if stream_id is None:
            return TextMessage(
                content=content,
                source=self.name,
                models_usage=result.usage,
                metadata=self._usage_metadata,
            )
        return TextMessage(
            content=content,
            source=self.name,
            id=stream_id,
            models_usage=result.usage,
            metadata=self._usage_metadata,
        )

    # -- tools -----------------------------------------------------------------------------

    async def _execute(
        self, calls: list[FunctionCall], cancellation_token: CancellationToken
    ) -> list[TimedResult]:
        if len(calls) == 1:
            return [await self._execute_timed(calls[0], cancellation_token)]
        return list(
            await asyncio.gather(*(self._execute_timed(c, cancellation_token) for c in calls))
        )

    async def _execute_timed(
        self, call: FunctionCall, cancellation_token: CancellationToken
    ) -> TimedResult:
        started = time.perf_counter()
        result = await self._execute_one(call, cancellation_token)
        return result, time.perf_counter() - started

    async def _execute_streaming(
        self, calls: list[FunctionCall], cancellation_token: CancellationToken
    ) -> AsyncGenerator[InnerItem | list[TimedResult], None]:
        """Run the calls like :meth:`_execute`, yielding the inner items of agent and team
        tools as they happen, then the results."""
        queue: asyncio.Queue[InnerItem | None] = asyncio.Queue()
        receiver = set_item_receiver(queue.put_nowait)
        try:
            # The tasks copy this context, receiver included.
            running = asyncio.ensure_future(self._execute(calls, cancellation_token))
        finally:
            reset_item_receiver(receiver)
        running.add_done_callback(lambda _: queue.put_nowait(None))
        try:
            while (item := await queue.get()) is not None:
                yield item
            yield running.result()
        finally:
            if not running.done():
                running.cancel()
                await asyncio.gather(running, return_exceptions=True)

    async def _execute_one(
        self, call: FunctionCall, cancellation_token: CancellationToken
    ) -> FunctionExecutionResult:
        name = call.name
        handoff = self._handoffs.get(name)
        if handoff is not None:
            return FunctionExecutionResult(content=handoff.message, name=name, call_id=call.id)
        tool = self._tools.get(name)
        if tool is None:
            offered = ", ".join([*self._tools, *self._handoffs]) or "none"
            return _error(call, f"Error: there is no tool named {name!r} (available: {offered})")
        try:
            args = json.loads(call.arguments) if call.arguments.strip() else {}
        except ValueError as exc:
            return _error(
                call,
                f"Error: the arguments for {name!r} are not valid JSON ({exc}); send an object",
            )
        if not isinstance(args, dict):
            return _error(call, f"Error: the arguments for {name!r} must be a JSON object")
        try:
            content = await tool.run_json(args, cancellation_token, call_id=call.id)
        except ToolError as exc:
            return _error(call, f"Error: {exc}")
        except Exception as exc:  # a tool's own failure is the model's to handle
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return _error(call, f"Error: {detail}")
        return FunctionExecutionResult(content=content, name=name, call_id=call.id)

    def _handoff_message(
        self,
        calls: list[FunctionCall],
        results: list[FunctionExecutionResult],
        thought: str | None,
    ) -> HandoffMessage | None:
        chosen: Handoff | None = None
        chosen_result = ""
        other_calls: list[FunctionCall] = []
        other_results: list[FunctionExecutionResult] = []
        called: list[str] = []
        for call, result in zip(calls, results, strict=True):
            handoff = self._handoffs.get(call.name)
            if handoff is None:
                other_calls.append(call)
                other_results.append(result)
                continue
            called.append(handoff.name)
            if chosen is None:
                chosen, chosen_result = handoff, result.content
        if chosen is None:
            return None
        if len(called) > 1:
            warnings.warn(
                f"agent {self.name!r} called several handoffs at once ({', '.join(called)}); "
                f"only the first, {called[0]}, is followed. Turn off parallel tool calls "
                "in the model client to avoid this.",
                stacklevel=2,
            )
        context: list[LLMMessage] = []
        if other_calls:
            context.append(AssistantMessage(content=other_calls, source=self.name, thought=thought))
            context.append(FunctionExecutionResultMessage(other_results))
        elif thought:
            context.append(AssistantMessage(content=thought, source=self.name))
        return HandoffMessage(
            content=chosen_result, target=chosen.target, source=self.name, context=tuple(context)
        )

    def _summary_text(
        self, calls: list[FunctionCall], results: list[FunctionExecutionResult]
    ) -> str:
        formatter = self._tool_call_summary_formatter
        if formatter is not None:
            return "\n".join(
                formatter(call, result) for call, result in zip(calls, results, strict=True)
            )
        template = self._tool_call_summary_format
        if template == "{result}":
            return "\n".join(result.content for result in results)
        return "\n".join(
            template.format(
                tool_name=call.name,
                arguments=call.arguments,
                result=result.content,
                is_error=result.is_error,
            )
            for call, result in zip(calls, results, strict=True)
        )

    # -- lifecycle and state ---------------------------------------------------------------

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        """Forget the history."""
        await self._model_context.clear()
        self._encoded_context.clear()

    async def save_state(self, *, shared: bool = False) -> dict[str, Any]:
        """The history as JSON data, in AutoGen's ``AssistantAgentState`` shape, plus the
        model client's state under ``"model_client"`` when it has any.

        Each history entry is dumped once: later saves return new lists holding the same
        entry dicts, so treat the returned dicts as read-only (copy before changing one).
        With ``shared`` (a team saving after every turn) the history list is not copied
        either: it is the agent's own, only ever appended to, and a new list once the
        history changes otherwise (reset, load). Never change it. An agent with a
        built-in model context that did not change since the previous shared save (it
        did not speak, its model client's state is equal) returns that save's dict
        again, the same object, which is never changed: whoever compares the two saves
        can tell so at once, without looking inside.
        """
        client_state = self._model_client.save_state()
        if not self._is_plain_context:
            llm_context = await self._model_context.save_state()
            if shared:  # a shared save gives no dict again that may have changed
                llm_context, client_state = copy_dicts(llm_context), copy_dicts(client_state)
            return self._state(llm_context, client_state)
        dumps = self._encoded_context.dump(self._model_context._messages, shared=shared)
        if not shared:
            return self._state({"messages": dumps}, client_state)
        last = self._shared_save
        if last is None or not last.holds(dumps, client_state):
            # The client may keep the dict it gave and change it: the save holds a copy.
            kept = copy_dicts(client_state)
            last = self._shared_save = SharedSave(
                dumps, kept, self._state({"messages": dumps}, kept)
            )
        return last.state

    @staticmethod
    def _state(llm_context: dict[str, Any], client_state: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {
            "type": STATE_TYPE,
            "version": STATE_VERSION,
            "llm_context": llm_context,
        }
        if client_state:
            state["model_client"] = client_state
        return state

    async def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the history with one from :meth:`save_state` (or AutoGen's)."""
        kind = state.get("type", STATE_TYPE)
        if kind != STATE_TYPE:
            raise StateError(f"agent {self.name!r}: expected {STATE_TYPE} state, got {kind!r}")
        llm_context = state.get("llm_context")
        if not isinstance(llm_context, Mapping) or not isinstance(
            llm_context.get("messages"), list
        ):
            raise StateError(f"agent {self.name!r}: state has no llm_context.messages list")
        try:
            await self._model_context.load_state(llm_context)
        except StateError as exc:
            raise StateError(f"agent {self.name!r}: unreadable llm_context: {exc}") from exc
        load_client_state(f"agent {self.name!r}", self._model_client, state)
        self._encoded_context.clear()


def _error(call: FunctionCall, content: str) -> FunctionExecutionResult:
    return FunctionExecutionResult(content=content, name=call.name, call_id=call.id, is_error=True)


def _checked_format(agent: str, template: str) -> str:
    try:
        template.format(tool_name="", arguments="", result="", is_error=False)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigurationError(
            f"agent {agent!r}: tool_call_summary_format {template!r} is not a valid format "
            f"string ({exc}); use the fields {{tool_name}}, {{arguments}}, {{result}}, {{is_error}}"
        ) from exc
    return template


def _tools_by_name(
    agent: str, tools: Iterable[FunctionTool | Callable[..., Any]] | None
) -> dict[str, FunctionTool]:
    by_name: dict[str, FunctionTool] = {}
    for item in tools or ():
        try:
            tool = as_tool(item)
        except ToolError as exc:
            raise ConfigurationError(f"agent {agent!r}: {exc}") from exc
        if tool.name in by_name:
            raise ConfigurationError(f"agent {agent!r}: two tools are named {tool.name!r}")
        by_name[tool.name] = tool
    return by_name


def _handoffs_by_name(
    agent: str, handoffs: Iterable[Handoff | str] | None, tools: Mapping[str, FunctionTool]
) -> dict[str, Handoff]:
    by_name: dict[str, Handoff] = {}
    for item in handoffs or ():
        if isinstance(item, str):
            handoff = Handoff(target=item)
        elif isinstance(item, Handoff):
            handoff = item
        else:
            raise ConfigurationError(
                f"agent {agent!r}: handoffs must be Handoff objects or agent names, "
                f"got {type(item).__name__}"
            )
        if handoff.name in by_name:
            raise ConfigurationError(f"agent {agent!r}: two handoffs are named {handoff.name!r}")
        if handoff.name in tools:
            raise ConfigurationError(
                f"agent {agent!r}: handoff {handoff.name!r} has the same name as a tool"
            )
        if handoff.target in tools:
            raise ConfigurationError(
                f"agent {agent!r}: handoff target {handoff.target!r} has the same name as a "
                "tool; rename the tool or the target"
            )
        by_name[handoff.name] = handoff
    return by_name
