"""Anthropic's Messages API through the official async SDK.

Anthropic differs from chat completions in ways this module hides: system text is a
separate parameter, roles must alternate (consecutive same-role messages are merged),
tool calls are ``tool_use`` blocks answered by ``tool_result`` blocks in a user turn,
and thinking arrives as its own blocks (it becomes ``CreateResult.thought``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import re
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic
from anthropic.resources.messages import AsyncMessages
from anthropic.types import (
    InputJSONDelta,
    Message,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStreamEvent,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
)

from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError
from runtime.images import Image
from runtime.llm import (
    AssistantMessage,
    CreateResult,
    FinishReason,
    FunctionCall,
    FunctionExecutionResultMessage,
    LLMMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    ToolSchema,
    UserMessage,
)
from runtime.model_clients.base import JsonOutput, ToolChoice, resolve_api_key
from runtime.model_clients.provider import ProviderClient
from runtime.model_clients.retry import (
    ProviderFailure,
    TokenScope,
    call_with_retries,
    connection_failure,
    is_retryable_status,
    message_from_body,
    move_unknown_to_extra_body,
    parse_retry_after,
    stream_items,
)
from runtime.network import NetworkGuard

PROVIDER = "anthropic"

_EventStream = anthropic.AsyncStream[RawMessageStreamEvent]

#: Anthropic rejects empty text blocks; an empty message is sent as this text instead.
EMPTY_TEXT = "(empty)"
#: The tool whose input is a structured answer (``json_output`` with a model class).
OUTPUT_TOOL = "structured_output"
#: Sent as the first user turn when a conversation would otherwise start with the model.
OPENING_TEXT = "(the conversation so far follows)"

_DATE_SUFFIX = re.compile(r"(-\d{8}|-latest)$")
_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "function_calls",
    "refusal": "content_filter",
}
_TOOL_CHOICES = {"auto": "auto", "required": "any", "none": "none"}
#: Parameters the SDK's ``messages.create`` takes by name; others (``temperature``,
#: ``top_p``, ``top_k``, ...) travel in ``extra_body``.
_SDK_PARAMETERS = frozenset(inspect.signature(AsyncMessages.create).parameters) - {"self"}


def default_model_info(model: str) -> ModelInfo:
    """Capabilities of a Claude model; the family is its name without a date suffix."""
    return ModelInfo(
        vision=model.startswith("claude"),
        function_calling=True,
        json_output=False,
        structured_output=False,
        family=_DATE_SUFFIX.sub("", model) if model.startswith("claude") else "unknown",
        multiple_system_messages=True,
    )


def classify_anthropic_error(error: BaseException) -> ProviderFailure | None:
    """Describe an ``anthropic`` SDK exception for the retry policy (None: not the SDK's)."""
    if isinstance(error, anthropic.APIStatusError):
        return ProviderFailure(
            message=message_from_body(error.body, error.message),
            status_code=error.status_code,
            retry_after=parse_retry_after(error.response.headers),
            is_retryable=is_retryable_status(error.status_code),
        )
    if isinstance(error, anthropic.APITimeoutError):
        return ProviderFailure(message="the request timed out", is_retryable=True)
    if isinstance(error, anthropic.APIConnectionError):
        return connection_failure(error, error.message)
    if isinstance(error, anthropic.APIResponseValidationError):
        return ProviderFailure(message=error.message, is_response_error=True)
    if isinstance(error, anthropic.APIError):
        return ProviderFailure(message=message_from_body(error.body, error.message))
    return None


def _text_blocks(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}] if text.strip() else []


def _part_blocks(part: str | Image) -> list[dict[str, Any]]:
    if isinstance(part, str):
        return _text_blocks(part)
    if part.url is not None:
        return [{"type": "image", "source": {"type": "url", "url": part.url}}]
    source = {"type": "base64", "media_type": part.mime, "data": part.to_base64()}
    return [{"type": "image", "source": source}]


def _tool_input(arguments: str) -> dict[str, Any]:
    """Arguments as the object Anthropic wants; unreadable JSON is kept under a key."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {"raw_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def _blocks_of(message: LLMMessage) -> tuple[str, list[dict[str, Any]]]:
    """The role and content blocks of one non-system message."""
    if isinstance(message, UserMessage):
        if isinstance(message.content, str):
            return "user", _text_blocks(message.content)
        return "user", [block for part in message.content for block in _part_blocks(part)]
    if isinstance(message, FunctionExecutionResultMessage):
        return "user", [
            {
                "type": "tool_result",
                "tool_use_id": result.call_id,
                "content": result.content,
                "is_error": result.is_error,
            }
            for result in message.content
        ]
    assert isinstance(message, AssistantMessage)
    if isinstance(message.content, str):
        return "assistant", _text_blocks(message.content)
    blocks = _text_blocks(message.thought or "")
    for call in message.content:
        block: dict[str, Any] = {"type": "tool_use", "id": call.id, "name": call.name}
        block["input"] = _tool_input(call.arguments)
        blocks.append(block)
    return "assistant", blocks


def to_anthropic_messages(
    messages: Iterable[LLMMessage],
) -> tuple[str, list[dict[str, Any]]]:
    """System text and the alternating user/assistant turns Anthropic accepts."""
    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system.append(message.content)
            continue
        role, blocks = _blocks_of(message)
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": _text_blocks(OPENING_TEXT)})
    for turn in turns:
        if not turn["content"]:
            turn["content"] = _text_blocks(EMPTY_TEXT)
    last_block = turns[-1]["content"][-1]
    if turns[-1]["role"] == "assistant" and last_block["type"] == "text":
        # a final assistant turn is a prefill, and the API rejects trailing whitespace there
        last_block["text"] = last_block["text"].rstrip()
    return "\n\n".join(system), turns


def to_anthropic_tools(tools: Iterable[ToolSchema]) -> list[dict[str, Any]]:
    """Tool schemas in Anthropic's shape (``input_schema``)."""
    converted: list[dict[str, Any]] = []
    for tool in tools:
        item: dict[str, Any] = {
            "name": tool["name"],
            "input_schema": tool.get("parameters") or {"type": "object", "properties": {}},
        }
        if tool.get("description"):
            item["description"] = tool["description"]
        converted.append(item)
    return converted


def _output_tool(model: type[Any]) -> dict[str, Any]:
    return {
        "name": OUTPUT_TOOL,
        "description": f"Give your final answer as a {model.__name__} object.",
        "input_schema": model.model_json_schema(),
    }


def _structured_answer(result: CreateResult, json_output: JsonOutput) -> CreateResult:
    """A call of the output tool is the structured answer: its arguments become the text."""
    if not isinstance(json_output, type) or isinstance(result.content, str):
        return result
    for call in result.content:
        if call.name == OUTPUT_TOOL:
            return CreateResult(
                content=call.arguments,
                finish_reason="stop",
                usage=result.usage,
                thought=result.thought,
            )
    return result


def _usage_of(input_tokens: int | None, *extra: int | None) -> int:
    return (input_tokens or 0) + sum(value or 0 for value in extra)


def _result_from_message(message: Message) -> CreateResult:
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[FunctionCall] = []
    for block in message.content:
        if isinstance(block, TextBlock):
            texts.append(block.text)
        elif isinstance(block, ThinkingBlock):
            thoughts.append(block.thinking)
        elif isinstance(block, ToolUseBlock):
            calls.append(
                FunctionCall(id=block.id, arguments=json.dumps(block.input), name=block.name)
            )
    usage = message.usage
    prompt = _usage_of(
        usage.input_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens
    )
    return _build_result(
        "".join(texts),
        "".join(thoughts),
        calls,
        str(message.stop_reason),
        RequestUsage(prompt, usage.output_tokens or 0),
    )


def _build_result(
    text: str, thought: str, calls: list[FunctionCall], stop_reason: str, usage: RequestUsage
) -> CreateResult:
    if calls:
        return CreateResult(
            content=calls,
            finish_reason="function_calls",
            usage=usage,
            thought=thought or text or None,
        )
    return CreateResult(
        content=text,
        finish_reason=_STOP_REASONS.get(stop_reason, "unknown"),
        usage=usage,
        thought=thought or None,
    )


@dataclass(slots=True)
class _StreamBlock:
    kind: str
    id: str = ""
    name: str = ""
    parts: list[str] = field(default_factory=list)


class _StreamAssembly:
    """Collects the blocks, stop reason and usage of a Messages stream."""

    def __init__(self) -> None:
        self.blocks: dict[int, _StreamBlock] = {}
        self.stop_reason = ""
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def add(self, event: RawMessageStreamEvent) -> str:
        """Take one event in; return the answer text it adds (possibly empty)."""
        if isinstance(event, RawContentBlockDeltaEvent):
            return self._add_delta(event)
        if isinstance(event, RawContentBlockStartEvent):
            block = event.content_block
            if isinstance(block, ToolUseBlock):
                self.blocks[event.index] = _StreamBlock("tool_use", block.id, block.name)
            elif isinstance(block, TextBlock):
                self.blocks[event.index] = _StreamBlock("text", parts=[block.text])
            elif isinstance(block, ThinkingBlock):
                self.blocks[event.index] = _StreamBlock("thinking", parts=[block.thinking])
        elif isinstance(event, RawMessageStartEvent):
            usage = event.message.usage
            self.prompt_tokens = _usage_of(
                usage.input_tokens,
                usage.cache_creation_input_tokens,
                usage.cache_read_input_tokens,
            )
            self.completion_tokens = usage.output_tokens or 0
        elif isinstance(event, RawMessageDeltaEvent):
            self.stop_reason = str(event.delta.stop_reason)
            self.completion_tokens = event.usage.output_tokens or self.completion_tokens
            if event.usage.input_tokens:
                self.prompt_tokens = _usage_of(
                    event.usage.input_tokens,
                    event.usage.cache_creation_input_tokens,
                    event.usage.cache_read_input_tokens,
                )
        return ""

    def _add_delta(self, event: RawContentBlockDeltaEvent) -> str:
        block = self.blocks.setdefault(event.index, _StreamBlock("text"))
        delta = event.delta
        if isinstance(delta, TextDelta):
            block.parts.append(delta.text)
            return delta.text
        if isinstance(delta, InputJSONDelta):
            block.parts.append(delta.partial_json)
        elif isinstance(delta, ThinkingDelta):
            block.parts.append(delta.thinking)
        return ""

    def result(self) -> CreateResult:
        texts: list[str] = []
        thoughts: list[str] = []
        calls: list[FunctionCall] = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            joined = "".join(block.parts)
            if block.kind == "tool_use":
                calls.append(FunctionCall(id=block.id, arguments=joined or "{}", name=block.name))
            elif block.kind == "thinking":
                thoughts.append(joined)
            else:
                texts.append(joined)
        usage = RequestUsage(self.prompt_tokens, self.completion_tokens)
        return _build_result("".join(texts), "".join(thoughts), calls, self.stop_reason, usage)


class AnthropicChatCompletionClient(ProviderClient):
    """A Claude model behind Anthropic's Messages API.

    Extra keyword arguments (``top_p``, ``thinking``, ``stop_sequences``, ...) go with
    every request; ``parallel_tool_calls=False`` asks for one tool call at a time.
    """

    component_provider = "autogen_ext.models.anthropic.AnthropicChatCompletionClient"
    _classify_sdk_error = staticmethod(classify_anthropic_error)

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int = 4096,
        model_info: ModelInfo | None = None,
        temperature: float | None = None,
        max_retries: int = 4,
        timeout: float = 60.0,
        retry_backoff: float = 0.5,
        default_headers: Mapping[str, str] | None = None,
        network_guard: NetworkGuard | None = None,
        **create_args: Any,
    ) -> None:
        super().__init__(
            model,
            api_key=api_key,
            base_url=base_url,
            model_info=model_info,
            default_model_info=default_model_info,
            temperature=temperature,
            max_retries=max_retries,
            timeout=timeout,
            retry_backoff=retry_backoff,
            default_headers=default_headers,
            create_args=create_args,
        )
        if max_tokens < 1:
            raise ConfigurationError(f"max_tokens must be at least 1, got {max_tokens}")
        self._max_tokens = max_tokens
        self._client = anthropic.AsyncAnthropic(
            api_key=resolve_api_key(
                api_key,
                base_url,
                env_var="ANTHROPIC_API_KEY",
                client="AnthropicChatCompletionClient",
            ),
            base_url=base_url,
            timeout=timeout,
            max_retries=0,
            default_headers=self._default_headers or None,
            http_client=network_guard.async_http_client(timeout=timeout) if network_guard else None,
        )

    @property
    def max_tokens(self) -> int:
        """Answer length limit (Anthropic requires one)."""
        return self._max_tokens

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    def _request_args(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[ToolSchema],
        tool_choice: ToolChoice,
        extra_create_args: Mapping[str, Any] | None,
        json_output: JsonOutput = None,
    ) -> dict[str, Any]:
        system, turns = to_anthropic_messages(messages)
        args: dict[str, Any] = {"model": self._model, "max_tokens": self._max_tokens}
        args["messages"] = turns
        if system:
            args["system"] = system
        if self._temperature is not None:
            args["temperature"] = self._temperature
        args.update(self._create_args)
        if extra_create_args:
            args.update(extra_create_args)
        is_parallel = args.pop("parallel_tool_calls", None) is not False
        if isinstance(json_output, type):
            # Anthropic has no JSON mode: the answer is the input of a tool the model must
            # call (or may call, while it can still use the other tools).
            args["tools"] = [*to_anthropic_tools(tools), _output_tool(json_output)]
            if tools and tool_choice != "none":
                args["tool_choice"] = {"type": _TOOL_CHOICES[tool_choice]}
            else:
                args["tool_choice"] = {"type": "tool", "name": OUTPUT_TOOL}
        elif tools:
            args["tools"] = to_anthropic_tools(tools)
            choice: dict[str, Any] = {"type": _TOOL_CHOICES[tool_choice]}
            if not is_parallel and tool_choice != "none":
                choice["disable_parallel_tool_use"] = True
            args["tool_choice"] = choice
        return move_unknown_to_extra_body(args, _SDK_PARAMETERS)

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
        """Ask the model once; retries as the policy allows; cancellable by the token.

        ``json_output`` with a pydantic model class makes the model answer through a tool
        whose input schema is the model's, and that input is the answer's text; ``True``
        alone is ignored (Anthropic has no JSON mode: ask for JSON in the prompt).
        """
        args = self._request_args(messages, tools, tool_choice, extra_create_args, json_output)
        args["stream"] = False

        async def attempt() -> Message:
            response: Message = await self._client.messages.create(**args)
            return response

        response = await call_with_retries(
            attempt,
            policy=self._retry,
            classify=self._classify,
            provider=PROVIDER,
            scope=TokenScope(cancellation_token),
        )
        result = _structured_answer(_result_from_message(response), json_output)
        self._record_usage(result.usage)
        return result

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
        """Yield answer text as it arrives, then one CreateResult.

        Tool calls are assembled from ``input_json`` deltas, their arguments kept exactly
        as streamed. Opening the stream is retried like :meth:`create`; a failure after
        text has been yielded is raised as ModelClientError without retrying.
        """
        args = self._request_args(messages, tools, tool_choice, extra_create_args, json_output)
        args["stream"] = True
        scope = TokenScope(cancellation_token)

        async def attempt() -> _EventStream:
            stream: _EventStream = await self._client.messages.create(**args)
            return stream

        stream = await call_with_retries(
            attempt,
            policy=self._retry,
            classify=self._classify,
            provider=PROVIDER,
            scope=scope,
        )
        assembly = _StreamAssembly()
        events = stream_items(
            stream.__aiter__(), classify=self._classify, provider=PROVIDER, scope=scope
        )
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    text = assembly.add(event)
                    if text:
                        yield text
        finally:
            await asyncio.shield(stream.close())
        result = _structured_answer(assembly.result(), json_output)
        self._record_usage(result.usage)
        yield result
