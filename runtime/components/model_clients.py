"""Component kinds of the model clients: OpenAI, Anthropic, and the scripted client that
AutoGen's replay client loads as.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from runtime.components.registry import (
    MASKED_SECRET,
    ComponentKind,
    ConfigReader,
    ConfigWriter,
    compact,
    refuse_dump,
)
from runtime.llm import CreateResult, ModelInfo
from runtime.testing import ScriptedModelClient

if TYPE_CHECKING:
    from runtime.model_clients.anthropic import AnthropicChatCompletionClient
    from runtime.model_clients.openai import OpenAIChatCompletionClient
    from runtime.model_clients.provider import ProviderClient

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []


def _model_info(reader: ConfigReader) -> ModelInfo | None:
    """``model_info``, or the older ``model_capabilities`` of AutoGen 0.4.x files."""
    info = reader.mapping("model_info", None)
    if info is None:
        info = reader.mapping("model_capabilities", None)
        if info is None:
            return None
        info.setdefault("family", "unknown")
    known = ModelInfo.__annotations__
    # Only ModelInfo's own keys are kept; their values are passed on as the file has them.
    return cast(ModelInfo, {key: value for key, value in info.items() if key in known})


#: The model_info keys AutoGen's configs require, with the values it assumes.
_MODEL_INFO_DEFAULTS: Final[ModelInfo] = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


def _model_info_config(info: ModelInfo) -> dict[str, Any]:
    return {**_MODEL_INFO_DEFAULTS, **info}


def _api_key(reader: ConfigReader) -> str | None:
    """The caller's key for every client, else the file's (AutoGen masks it in dumps)."""
    if reader.api_key is not None:
        return reader.api_key
    key = reader.text("api_key", None)
    return None if key in (None, "", MASKED_SECRET) else key


def _secret(client: object, writer: ConfigWriter) -> str | None:
    if not writer.include_secrets:
        return None
    key = getattr(client, "api_key", None)
    return key if isinstance(key, str) and key else None


#: OpenAI request arguments a file may carry; anything else is ignored, never forwarded.
_OPENAI_CREATE_ARGS: Final = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "n",
        "presence_penalty",
        "seed",
        "stop",
        "top_p",
        "user",
        "parallel_tool_calls",
        "reasoning_effort",
        "response_format",
        "stream_options",
        "max_completion_tokens",
    }
)


def _provider_settings(reader: ConfigReader, names: frozenset[str]) -> dict[str, Any]:
    """The constructor arguments every SDK-backed client takes, plus its request
    arguments among ``names``."""
    settings: dict[str, Any] = {key: reader.raw(key) for key in names if key in reader}
    settings.update(
        api_key=_api_key(reader),
        base_url=reader.text("base_url", None),
        model_info=_model_info(reader),
        temperature=reader.number("temperature", None),
        max_retries=reader.integer("max_retries", 4),
        timeout=reader.number("timeout", 60.0),
        retry_backoff=reader.number("retry_backoff", 0.5),
        default_headers=reader.mapping("default_headers", None),
    )
    return settings


def _provider_config(
    client: ProviderClient,
    writer: ConfigWriter,
    names: frozenset[str],
    specific: Mapping[str, Any],
) -> dict[str, Any]:
    """The settings every SDK-backed client dumps, with ``specific`` ones of its kind and
    its request arguments among ``names``."""
    config: dict[str, Any] = {
        "model": client.model,
        "api_key": _secret(client, writer),
        "base_url": client.base_url,
        "model_info": _model_info_config(client.model_info),
        "temperature": client.temperature,
        "max_retries": client.max_retries,
        "timeout": client.timeout,
        **specific,
        "default_headers": client.default_headers or None,
    }
    if client.retry_backoff != 0.5:
        config["retry_backoff"] = client.retry_backoff
    config.update((key, value) for key, value in client.create_args.items() if key in names)
    return compact(config)


def _load_openai(reader: ConfigReader) -> OpenAIChatCompletionClient:
    from runtime.model_clients.openai import OpenAIChatCompletionClient

    return OpenAIChatCompletionClient(
        reader.text("model"),
        max_tokens=reader.integer("max_tokens", None),
        organization=reader.text("organization", None),
        include_name_in_message=reader.flag("include_name_in_message", True),
        **_provider_settings(reader, _OPENAI_CREATE_ARGS),
    )


def _dump_openai(client: OpenAIChatCompletionClient, writer: ConfigWriter) -> dict[str, Any]:
    specific: dict[str, Any] = {
        "max_tokens": client.max_tokens,
        "organization": client.organization,
    }
    if not client.include_name_in_message:
        specific["include_name_in_message"] = False
    return _provider_config(client, writer, _OPENAI_CREATE_ARGS, specific)


#: Ollama's sampling options that its OpenAI-compatible endpoint takes, by their names there.
_OLLAMA_OPTIONS: Final = {
    "top_p": "top_p",
    "seed": "seed",
    "stop": "stop",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "num_predict": "max_tokens",
}
_OLLAMA_HOST: Final = "http://127.0.0.1:11434"
#: Ollama ignores the key; an explicit one keeps the environment's OpenAI key at home.
_OLLAMA_KEY: Final = "ollama"


def _load_ollama(reader: ConfigReader) -> OpenAIChatCompletionClient:
    """AutoGen's Ollama client, as an OpenAI client on Ollama's OpenAI-compatible API
    (``<host>/v1``); its ``options`` become the matching request arguments."""
    from runtime.model_clients.openai import OpenAIChatCompletionClient

    host = reader.text("host", None) or _OLLAMA_HOST
    if "://" not in host:
        host = f"http://{host}"
    options = reader.mapping("options", {})
    arguments = {
        ours: options[theirs] for theirs, ours in _OLLAMA_OPTIONS.items() if theirs in options
    }
    return OpenAIChatCompletionClient(
        reader.text("model"),
        api_key=reader.api_key or _OLLAMA_KEY,
        base_url=f"{host.rstrip('/')}/v1",
        model_info=_model_info(reader),
        temperature=options.get("temperature"),
        timeout=reader.number("timeout", 60.0),
        default_headers=reader.mapping("headers", None),
        **arguments,
    )


_ANTHROPIC_CREATE_ARGS: Final = frozenset({"top_p", "top_k", "stop_sequences", "metadata"})


def _load_anthropic(reader: ConfigReader) -> AnthropicChatCompletionClient:
    from runtime.model_clients.anthropic import AnthropicChatCompletionClient

    return AnthropicChatCompletionClient(
        reader.text("model"),
        max_tokens=reader.integer("max_tokens", 4096),
        **_provider_settings(reader, _ANTHROPIC_CREATE_ARGS),
    )


def _dump_anthropic(client: AnthropicChatCompletionClient, writer: ConfigWriter) -> dict[str, Any]:
    specific = {"max_tokens": client.max_tokens}
    return _provider_config(client, writer, _ANTHROPIC_CREATE_ARGS, specific)


def _load_scripted(reader: ConfigReader) -> ScriptedModelClient:
    replies: list[str | CreateResult] = []
    for index, item in enumerate(reader.items("chat_completions")):
        if isinstance(item, str):
            replies.append(item)
        elif isinstance(item, Mapping) and "content" in item:
            replies.append(CreateResult.from_dict(item))
        else:
            raise reader.error(
                "each scripted reply must be a string or a CreateResult object",
                f"chat_completions[{index}]",
            )
    return ScriptedModelClient(
        replies,
        # AutoGen's replay client offers no function calling unless told otherwise.
        model_info=_model_info(reader) or ModelInfo(**_MODEL_INFO_DEFAULTS),
        model=reader.text("model", "scripted"),
        delay=reader.number("delay", 0.0),
    )


def _dump_scripted(client: ScriptedModelClient, writer: ConfigWriter) -> dict[str, Any]:
    replies = [r if isinstance(r, str) else r.to_dict() for r in client.replies]
    config: dict[str, Any] = {
        "chat_completions": replies,
        "model_info": _model_info_config(client.model_info),
    }
    # Ours only; AutoGen ignores them.
    if client.model != "scripted":
        config["model"] = client.model
    if client.delay:
        config["delay"] = client.delay
    return config


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        ComponentKind(
            "autogen_ext.models.openai.OpenAIChatCompletionClient",
            "runtime.model_clients.openai.OpenAIChatCompletionClient",
            "model",
            _load_openai,
            _dump_openai,
            aliases=("OpenAIChatCompletionClient", "openai_chat_completion_client"),
            description="Chat completion client for OpenAI and OpenAI-compatible servers.",
        ),
        ComponentKind(
            "autogen_ext.models.ollama.OllamaChatCompletionClient",
            # Loads as an OpenAI client (which dumps as one): nothing dumps as this kind.
            "autogen_ext.models.ollama.OllamaChatCompletionClient",
            "model",
            _load_ollama,
            refuse_dump,
            aliases=("OllamaChatCompletionClient",),
            description="Ollama, through its OpenAI-compatible API.",
        ),
        ComponentKind(
            "autogen_ext.models.anthropic.AnthropicChatCompletionClient",
            "runtime.model_clients.anthropic.AnthropicChatCompletionClient",
            "model",
            _load_anthropic,
            _dump_anthropic,
            aliases=("AnthropicChatCompletionClient", "anthropic_chat_completion_client"),
            description="Chat completion client for Anthropic's Claude models.",
        ),
        ComponentKind(
            "autogen_ext.models.replay.ReplayChatCompletionClient",
            ScriptedModelClient,
            "model",
            _load_scripted,
            _dump_scripted,
            component_type="replay_chat_completion_client",
            aliases=("ReplayChatCompletionClient", "roundtable.testing.ScriptedModelClient"),
            description="A scripted model client that replays predefined replies in order.",
        ),
    ]
