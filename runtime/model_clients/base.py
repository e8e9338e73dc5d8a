"""The one interface every model client implements."""

from __future__ import annotations

import abc
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Literal

from runtime.cancellation import CancellationToken
from runtime.components.component import Component
from runtime.errors import ConfigurationError, StateError
from runtime.llm import CreateResult, LLMMessage, ModelInfo, RequestUsage, ToolSchema

ToolChoice = Literal["auto", "required", "none"]
#: ``True`` asks for any JSON object; a pydantic model class asks for JSON of its schema.
JsonOutput = bool | type[Any] | None


class ChatCompletionClient(Component, abc.ABC):
    """Talks to one model. ``create`` returns a whole answer, ``create_stream`` yields text
    pieces and then exactly one :class:`CreateResult`."""

    #: the provider string this class dumps under (see ``runtime.components``)
    component_provider: str = ""

    @abc.abstractmethod
    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: JsonOutput = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult: ...

    @abc.abstractmethod
    def create_stream(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: ToolChoice = "auto",
        json_output: JsonOutput = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]: ...

    @property
    @abc.abstractmethod
    def model_info(self) -> ModelInfo: ...

    @property
    def model(self) -> str:
        """The model name, used for price lookups and display."""
        return ""

    @abc.abstractmethod
    def actual_usage(self) -> RequestUsage:
        """Usage of the last call."""

    @abc.abstractmethod
    def total_usage(self) -> RequestUsage:
        """Usage summed over every call of this client."""

    def count_tokens(
        self, messages: Sequence[LLMMessage], *, tools: Sequence[ToolSchema] = ()
    ) -> int:
        """A cheap estimate (about four characters a token); providers may do better."""
        chars = 0
        for message in messages:
            content = message.content
            chars += len(content) if isinstance(content, str) else len(str(content))
        for tool in tools:
            chars += len(str(tool))
        return chars // 4 + 1

    def save_state(self) -> dict[str, Any]:
        """What a fresh client needs to carry on where this one is, as JSON data.

        Stateless clients (every provider client) have nothing to save: ``{}``. Agents and
        teams put a non-empty state into their own, so a checkpoint restores it.
        """
        return {}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`save_state` data. Loading the same state twice is the same as
        loading it once, so agents that share one client may each load it."""
        return None

    async def close(self) -> None:
        """Release connections; the client is unusable afterwards."""
        return None


def load_client_state(owner: str, client: ChatCompletionClient, state: Mapping[str, Any]) -> None:
    """Give ``client`` the state ``owner`` saved for it under ``"model_client"``, if any.

    A state without the key (older checkpoints, AutoGen's) leaves the client as it is.
    """
    client_state = state.get("model_client")
    if client_state is None:
        return
    if not isinstance(client_state, Mapping):
        raise StateError(f"{owner}: saved model_client state is not an object: {client_state!r}")
    client.load_state(client_state)


def resolve_api_key(api_key: str | None, base_url: str | None, *, env_var: str, client: str) -> str:
    """The key a client sends: the one given, else ``env_var``, else a placeholder when a
    ``base_url`` points at a local server that needs none."""
    if api_key:
        return api_key
    from_env = os.environ.get(env_var)
    if from_env:
        return from_env
    if base_url:
        return "not-needed"
    raise ConfigurationError(
        f"{client} needs an API key: pass api_key or set {env_var} "
        "(or give base_url for a local server that needs none)"
    )
