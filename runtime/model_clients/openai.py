"""OpenAI chat completions, and every server that speaks the same API.

Works with OpenAI itself and with OpenAI-compatible servers (Ollama, vLLM, LM Studio,
Azure-style gateways) through ``base_url``. Built on the official async SDK with its own
retries switched off: :mod:`runtime.model_clients.retry` decides when to try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import re
import uuid
from collections.abc import AsyncGenerator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
from openai.resources.chat.completions import AsyncCompletions
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionToolParam,
)
from openai.types.completion_usage import CompletionUsage

from runtime.cancellation import CancellationToken
from runtime.errors import ModelResponseError
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

PROVIDER = "openai"

_ChunkStream = openai.AsyncStream[ChatCompletionChunk]

_FULL_FEATURES = ModelInfo(
    vision=True, function_calling=True, json_output=True, structured_output=True
)
_TEXT_FEATURES = ModelInfo(
    vision=False, function_calling=True, json_output=True, structured_output=False
)
#: (name prefix, family, capabilities); the first matching prefix wins.
_KNOWN_MODELS: tuple[tuple[str, str, ModelInfo], ...] = (
    ("gpt-5", "gpt-5", _FULL_FEATURES),
    ("gpt-4.1", "gpt-41", _FULL_FEATURES),
    ("gpt-4o", "gpt-4o", _FULL_FEATURES),
    ("gpt-4-turbo", "gpt-4", _FULL_FEATURES),
    ("gpt-4", "gpt-4", _TEXT_FEATURES),
    ("gpt-3.5", "gpt-35", _TEXT_FEATURES),
    ("o4", "o4", _FULL_FEATURES),
    ("o3", "o3", _FULL_FEATURES),
    ("o1", "o1", _FULL_FEATURES),
)
#: Models that take ``max_completion_tokens`` and reason before answering.
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
#: Parameters the SDK's ``chat.completions.create`` takes by name; others (vendor
#: extensions such as vLLM's ``top_k``) travel in ``extra_body``.
_SDK_PARAMETERS = frozenset(inspect.signature(AsyncCompletions.create).parameters) - {"self"}
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "function_calls",
    "function_call": "function_calls",
    "content_filter": "content_filter",
}


def default_model_info(model: str) -> ModelInfo:
    """What ``model`` can do, guessed from its name.

    Unknown names (typically local models behind Ollama or vLLM) are assumed to call
    functions and to lack vision; pass ``model_info`` to say otherwise.
    """
    name = model.lower().rsplit("/", 1)[-1]
    for prefix, family, features in _KNOWN_MODELS:
        if name.startswith(prefix):
            return ModelInfo(**features, family=family, multiple_system_messages=True)
    return ModelInfo(**_TEXT_FEATURES, family="unknown", multiple_system_messages=True)


def classify_openai_error(error: BaseException) -> ProviderFailure | None:
    """Describe an ``openai`` SDK exception for the retry policy (None: not the SDK's)."""
    if isinstance(error, openai.APIStatusError):
        return ProviderFailure(
            message=message_from_body(error.body, error.message),
            status_code=error.status_code,
            retry_after=parse_retry_after(error.response.headers),
            is_retryable=is_retryable_status(error.status_code),
        )
    if isinstance(error, openai.APITimeoutError):
        return ProviderFailure(message="the request timed out", is_retryable=True)
    if isinstance(error, openai.APIConnectionError):
        return connection_failure(error, error.message)
    if isinstance(error, openai.APIResponseValidationError):
        return ProviderFailure(message=error.message, is_response_error=True)
    if isinstance(error, openai.APIError):
        return ProviderFailure(message=message_from_body(error.body, error.message))
    return None


def participant_name(source: str) -> str:
    """``source`` as OpenAI accepts it in a message's ``name`` field."""
    return _NAME_UNSAFE.sub("_", source)[:64]


def to_openai_messages(
    messages: Iterable[LLMMessage], *, include_names: bool = True
) -> list[ChatCompletionMessageParam]:
    """Our LLM messages in the chat completions shape (one ``tool`` message per result)."""
    converted: list[ChatCompletionMessageParam] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            converted.append({"role": "system", "content": message.content})
        elif isinstance(message, UserMessage):
            data: dict[str, Any] = {"role": "user", "content": _user_content(message.content)}
            if include_names:
                data["name"] = participant_name(message.source)
            converted.append(data)  # type: ignore[arg-type]  # a user message param
        elif isinstance(message, AssistantMessage):
            converted.append(_assistant_message(message, include_names=include_names))
        elif isinstance(message, FunctionExecutionResultMessage):
            for result in message.content:
                converted.append(
                    {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
                )
    return converted


def _user_content(content: str | list[str | Image]) -> str | list[dict[str, Any]]:
    """Text as is; text and images as content parts (images as data URIs or URLs)."""
    if isinstance(content, str):
        return content
    return [
        {"type": "text", "text": part}
        if isinstance(part, str)
        else {"type": "image_url", "image_url": {"url": part.data_uri}}
        for part in content
    ]


def _assistant_message(
    message: AssistantMessage, *, include_names: bool
) -> ChatCompletionMessageParam:
    data: dict[str, Any] = {"role": "assistant"}
    if include_names:
        data["name"] = participant_name(message.source)
    if isinstance(message.content, str):
        data["content"] = message.content
    else:
        data["content"] = message.thought
        data["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.content
        ]
    return data  # type: ignore[return-value]  # an assistant message param built key by key


def to_openai_tools(tools: Iterable[ToolSchema]) -> list[ChatCompletionToolParam]:
    """Tool schemas as chat completions function tools."""
    converted: list[ChatCompletionToolParam] = []
    for tool in tools:
        function: dict[str, Any] = {
            "name": tool["name"],
            "parameters": tool.get("parameters") or {"type": "object", "properties": {}},
        }
        if "description" in tool:
            function["description"] = tool["description"]
        if "strict" in tool:
            function["strict"] = tool["strict"]
        converted.append({"type": "function", "function": function})  # type: ignore[typeddict-item]
    return converted


def response_format(json_output: JsonOutput) -> dict[str, Any]:
    """The ``response_format`` that asks for JSON: any object for ``True``, or JSON of a
    pydantic model's schema (OpenAI's strict structured outputs) for a model class."""
    if not isinstance(json_output, type):
        return {"type": "json_object"}
    try:
        from openai.lib._pydantic import to_strict_json_schema  # the SDK's own converter

        schema, strict = to_strict_json_schema(json_output), True
    except ImportError:  # pragma: no cover - an SDK without the helper
        schema, strict = json_output.model_json_schema(), False
    return {
        "type": "json_schema",
        "json_schema": {"name": json_output.__name__, "schema": schema, "strict": strict},
    }


def split_thought(text: str) -> tuple[str, str | None]:
    """Separate a leading ``<think>…</think>`` block (DeepSeek-R1 style) from the answer."""
    stripped = text.lstrip()
    if not stripped.startswith("<think>"):
        return text, None
    end = stripped.find("</think>")
    if end < 0:
        return text, None
    thought = stripped[len("<think>") : end].strip()
    return stripped[end + len("</think>") :].lstrip(), thought or None


def _reasoning_of(item: object) -> str | None:
    """Reasoning text compatible servers attach as an extra field (vLLM, Ollama, ...)."""
    for name in ("reasoning_content", "reasoning"):
        value = getattr(item, name, None)
        if isinstance(value, str) and value:
            return value
    return None


def _usage_of(usage: CompletionUsage | None) -> RequestUsage:
    if usage is None:
        return RequestUsage()
    return RequestUsage(usage.prompt_tokens or 0, usage.completion_tokens or 0)


def _new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


@dataclass(slots=True)
class _PendingCall:
    """A tool call being assembled from stream deltas."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def build(self) -> FunctionCall:
        return FunctionCall(
            id=self.id or _new_call_id(), arguments="".join(self.arguments), name=self.name
        )


class OpenAIChatCompletionClient(ProviderClient):
    """A model behind the OpenAI chat completions API (or a compatible server).

    ``model_info`` entries override the defaults guessed from the model name. Extra
    keyword arguments (``top_p``, ``seed``, ``parallel_tool_calls``, ``reasoning_effort``,
    ...) are sent with every request; ``extra_create_args`` adds more per call.
    ``include_name_in_message`` sends each message's source as ``name`` (turn it off for
    servers that reject the field).
    """

    component_provider = "autogen_ext.models.openai.OpenAIChatCompletionClient"
    _classify_sdk_error = staticmethod(classify_openai_error)

    def __init__(
        self,
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        model_info: ModelInfo | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        max_retries: int = 4,
        timeout: float = 60.0,
        retry_backoff: float = 0.5,
        organization: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        network_guard: NetworkGuard | None = None,
        include_name_in_message: bool = True,
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
        self._max_tokens = max_tokens
        self._organization = organization
        self._include_names = include_name_in_message
        self._client = openai.AsyncOpenAI(
            api_key=resolve_api_key(
                api_key, base_url, env_var="OPENAI_API_KEY", client="OpenAIChatCompletionClient"
            ),
            base_url=base_url,
            organization=organization,
            timeout=timeout,
            max_retries=0,
            default_headers=self._default_headers or None,
            http_client=network_guard.async_http_client(timeout=timeout) if network_guard else None,
        )

    @property
    def max_tokens(self) -> int | None:
        """Answer length limit sent with each request (None: the server's default)."""
        return self._max_tokens

    @property
    def organization(self) -> str | None:
        """The OpenAI organization header, if any."""
        return self._organization

    @property
    def include_name_in_message(self) -> bool:
        """Whether message sources are sent as the ``name`` field."""
        return self._include_names

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()

    def _request_args(
        self,
        messages: Sequence[LLMMessage],
        tools: Sequence[ToolSchema],
        tool_choice: ToolChoice,
        json_output: JsonOutput,
        extra_create_args: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "model": self._model,
            "messages": to_openai_messages(messages, include_names=self._include_names),
        }
        if self._temperature is not None:
            args["temperature"] = self._temperature
        if self._max_tokens is not None:
            reasoning = self._model.lower().rsplit("/", 1)[-1].startswith(_REASONING_PREFIXES)
            args["max_completion_tokens" if reasoning else "max_tokens"] = self._max_tokens
        if tools:
            args["tools"] = to_openai_tools(tools)
            args["tool_choice"] = tool_choice
        if json_output:
            args["response_format"] = response_format(json_output)
        args.update(self._create_args)
        if extra_create_args:
            args.update(extra_create_args)
        if not tools:
            args.pop("parallel_tool_calls", None)  # the API rejects it without tools
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
        """Ask the model once; retries as the policy allows; cancellable by the token."""
        args = self._request_args(messages, tools, tool_choice, json_output, extra_create_args)
        args["stream"] = False

        async def attempt() -> ChatCompletion:
            response: ChatCompletion = await self._client.chat.completions.create(**args)
            return response

        response = await call_with_retries(
            attempt,
            policy=self._retry,
            classify=self._classify,
            provider=PROVIDER,
            scope=TokenScope(cancellation_token),
        )
        result = _result_from_completion(response)
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
        """Yield text as it arrives, then one CreateResult (tool calls assembled from deltas).

        Opening the stream is retried like :meth:`create`; a failure after text has
        been yielded is raised as ModelClientError without retrying.
        """
        args = self._request_args(messages, tools, tool_choice, json_output, extra_create_args)
        args["stream"] = True
        args.setdefault("stream_options", {"include_usage": True})
        scope = TokenScope(cancellation_token)

        async def attempt() -> _ChunkStream:
            stream: _ChunkStream = await self._client.chat.completions.create(**args)
            return stream

        stream = await call_with_retries(
            attempt,
            policy=self._retry,
            classify=self._classify,
            provider=PROVIDER,
            scope=scope,
        )
        assembly = _StreamAssembly()
        chunks = stream_items(
            stream.__aiter__(), classify=self._classify, provider=PROVIDER, scope=scope
        )
        try:
            async with contextlib.aclosing(chunks):
                async for chunk in chunks:
                    text = assembly.add(chunk)
                    if text:
                        yield text
        finally:
            await asyncio.shield(stream.close())
        result = assembly.result()
        self._record_usage(result.usage)
        yield result


class _StreamAssembly:
    """Collects text, reasoning, tool-call deltas, finish reason and usage of a stream."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, _PendingCall] = {}
        self.finish_reason: str | None = None
        self.usage = RequestUsage()

    def add(self, chunk: ChatCompletionChunk) -> str:
        """Take one chunk in; return the text it adds (possibly empty)."""
        if chunk.usage is not None:
            self.usage = _usage_of(chunk.usage)
        if not chunk.choices:
            return ""
        choice = chunk.choices[0]
        if choice.finish_reason is not None:
            self.finish_reason = choice.finish_reason
        delta = choice.delta
        reasoning = _reasoning_of(delta)
        if reasoning:
            self.reasoning.append(reasoning)
        for call_delta in delta.tool_calls or ():
            pending = self.calls.setdefault(call_delta.index, _PendingCall())
            if call_delta.id:
                pending.id = call_delta.id
            if call_delta.function is not None:
                if call_delta.function.name:
                    pending.name += call_delta.function.name
                if call_delta.function.arguments:
                    pending.arguments.append(call_delta.function.arguments)
        text = delta.content or ""
        if text:
            self.text.append(text)
        return text

    def result(self) -> CreateResult:
        text, thought = split_thought("".join(self.text))
        if self.reasoning:
            thought = "".join(self.reasoning)
        finish = _FINISH_REASONS.get(self.finish_reason or "", "unknown")
        if self.calls:
            calls = [self.calls[index].build() for index in sorted(self.calls)]
            return CreateResult(
                content=calls,
                finish_reason="function_calls",
                usage=self.usage,
                thought=thought or text or None,
            )
        return CreateResult(content=text, finish_reason=finish, usage=self.usage, thought=thought)


def _result_from_completion(response: ChatCompletion) -> CreateResult:
    if not response.choices:
        raise ModelResponseError(
            f"{PROVIDER} returned no choices for model {response.model!r}",
            provider=PROVIDER,
        )
    choice = response.choices[0]
    message = choice.message
    usage = _usage_of(response.usage)
    text, thought = split_thought(message.content or "")
    thought = _reasoning_of(message) or thought
    finish = _FINISH_REASONS.get(str(choice.finish_reason), "unknown")  # None from some servers
    if message.tool_calls:
        calls = [_function_call(call) for call in message.tool_calls]
        return CreateResult(
            content=calls,
            finish_reason="function_calls",
            usage=usage,
            thought=thought or text or None,
        )
    return CreateResult(content=text, finish_reason=finish, usage=usage, thought=thought)


def _function_call(call: object) -> FunctionCall:
    """A FunctionCall from a function tool call of the SDK (ids are made up when missing)."""
    function = getattr(call, "function", None)
    if function is None:
        raise ModelResponseError(
            f"{PROVIDER} returned a tool call that is not a function call", provider=PROVIDER
        )
    call_id = getattr(call, "id", None) or _new_call_id()
    return FunctionCall(id=call_id, arguments=function.arguments or "", name=function.name)
