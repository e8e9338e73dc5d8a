"""Turn a resolved team spec (see `studio.teams.specs`) into runtime objects.

`build_team` is the one place where spec data becomes agents, model clients and
termination conditions. API keys are read here, on the server, from the credential the
model spec names; they never travel in the spec. Only classes named in the mappings
below are ever constructed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from runtime import (
    AndTerminationCondition,
    AnthropicChatCompletionClient,
    AssistantAgent,
    BufferedChatCompletionContext,
    ConfigurationError,
    CostTermination,
    CreateResult,
    DiGraphBuilder,
    ExternalTermination,
    FunctionCallTermination,
    GraphFlow,
    HandoffTermination,
    HeadAndTailChatCompletionContext,
    ListMemory,
    MaxMessageTermination,
    MemoryContent,
    NetworkGuard,
    OpenAIChatCompletionClient,
    OrTerminationCondition,
    RoundRobinGroupChat,
    SelectorGroupChat,
    SocietyOfMindAgent,
    SourceMatchTermination,
    StopMessageTermination,
    Swarm,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenLimitedChatCompletionContext,
    TokenUsageTermination,
    ToolRegistry,
    UnboundedChatCompletionContext,
    UserProxyAgent,
)
from studio.teams.models import Credential, ModelConfig, Provider, same_url
from studio.teams.specs import iter_model_specs
from studio.teams.tools import tool_registry

InputFunc = Callable[..., Any]
WrapModelClient = Callable[[Any, dict[str, Any]], Any]

# Model parameters passed to the client constructors; anything else is refused.
OPENAI_PARAMS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "frequency_penalty",
        "presence_penalty",
        "seed",
        "stop",
        "timeout",
        "max_retries",
    }
)
ANTHROPIC_PARAMS = frozenset(
    {"temperature", "max_tokens", "top_p", "top_k", "stop_sequences", "timeout", "max_retries"}
)
PARAMS_BY_PROVIDER = {
    Provider.OPENAI: OPENAI_PARAMS,
    Provider.OPENAI_COMPATIBLE: OPENAI_PARAMS,
    Provider.ANTHROPIC: ANTHROPIC_PARAMS,
    Provider.SCRIPTED: frozenset({"delay"}),
}
# Ollama and friends ignore the key, but the SDK wants one.
PLACEHOLDER_KEY = "not-needed"
LOCAL_SERVER_HINT = (
    "A local model server (Ollama on this machine, say) can be allowed by the operator "
    "with the MODEL_PRIVATE_HOSTS setting, e.g. MODEL_PRIVATE_HOSTS=localhost:11434."
)


def model_network_guard() -> NetworkGuard:
    """The guard every provider connection goes through: public addresses, plus the
    private hosts the operator allowed for local model servers."""
    try:
        return NetworkGuard(settings.MODEL_PRIVATE_HOSTS, hint=LOCAL_SERVER_HINT)
    except ValueError as exc:
        raise ImproperlyConfigured(f"MODEL_PRIVATE_HOSTS: {exc}") from None


def check_url_literal(url: str) -> None:
    """Refuse at once a base URL that names an internal address outright (an IP literal,
    localhost) and is not allowed; names are checked after DNS when connecting."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(f"{url!r} is not an http(s) URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ConfigurationError(f"{url!r} has an invalid port") from None
    model_network_guard().check_literal(parts.hostname, port)


def key_destination_problem(
    credential: Credential, url: str | None, *, chosen_by: int | None
) -> str | None:
    """Why `credential`'s key may not travel to `url` when user `chosen_by` picked that
    URL (None: it may). A key lent by the server's environment goes only where the
    operator said; a stored key goes only where its credential's owner pointed it."""
    problem = credential.destination_problem(url)
    if problem is not None:
        return problem
    if credential.key_env_var or same_url(url, credential.base_url):
        return None
    if chosen_by != credential.owner_id:
        return (
            f'it would send the key of credential "{credential.name}" to '
            f"{url or 'the provider'} instead of the credential's own URL; only the "
            "credential's owner may point its key elsewhere"
        )
    return None


# Spec condition type -> runtime class (an explicit allow-list).
CONDITION_CLASSES = {
    "max_messages": MaxMessageTermination,
    "text_mention": TextMentionTermination,
    "token_usage": TokenUsageTermination,
    "timeout": TimeoutTermination,
    "handoff": HandoffTermination,
    "source_match": SourceMatchTermination,
    "external": ExternalTermination,
    "stop_message": StopMessageTermination,
    "function_call": FunctionCallTermination,
    "text_message": TextMessageTermination,
    "cost": CostTermination,
}


def scripted_reply(reply: Any) -> str | CreateResult:
    """A stored scripted reply: text, or a CreateResult in its JSON form."""
    if isinstance(reply, str):
        return reply
    return CreateResult.from_dict(reply)


class TeamBuilder:
    """Builds one team spec, with the run's input function and client wrapper."""

    def __init__(
        self,
        *,
        input_func: InputFunc | None,
        wrap_model_client: WrapModelClient | None,
        tools: ToolRegistry,
    ) -> None:
        self.input_func = input_func
        self.wrap_model_client = wrap_model_client
        self.tools = tools
        self.credentials: dict[int, Credential] = {}
        self.prices: dict[str, tuple[float, float]] = {}

    def credential(self, model: dict[str, Any]) -> Credential | None:
        """The model's credential, looked up once per build."""
        credential_id = model.get("credential")
        if not credential_id:
            return None
        if credential_id not in self.credentials:
            credential = Credential.objects.filter(pk=credential_id).first()
            if credential is None:
                raise ConfigurationError(
                    f'model "{model.get("name")}": its credential no longer exists'
                )
            self.credentials[credential_id] = credential
        return self.credentials[credential_id]

    def api_key(self, model: dict[str, Any]) -> str:
        """The key the model's requests carry: its credential's, or a placeholder.

        Never empty: the SDKs fall back to the server's own OPENAI_API_KEY or
        ANTHROPIC_API_KEY when given no key, which would send the operator's key to
        whatever URL the model names.
        """
        credential = self.credential(model)
        key = credential.get_key() if credential is not None else ""
        return key or PLACEHOLDER_KEY

    def base_url(self, model: dict[str, Any]) -> str | None:
        """Where requests go, once it is sure the key may go there and the address is
        not an internal one (see `key_destination_problem` and `model_network_guard`)."""
        url = model.get("base_url") or None
        credential = self.credential(model)
        if credential is not None:
            problem = key_destination_problem(
                credential, url, chosen_by=self.url_chooser(model, credential, url)
            )
            if problem is None and credential.provider != model.get("provider"):
                problem = f'the credential "{credential.name}" is for another provider'
            if problem is not None:
                raise ConfigurationError(f'model "{model.get("name")}": {problem}')
        if url:
            check_url_literal(url)
        return url

    def url_chooser(
        self, model: dict[str, Any], credential: Credential, url: str | None
    ) -> int | None:
        """Who chose `url` for the key: the stored model's owner, as long as the model
        still points the key there (a pinned version may hold a URL since taken back)."""
        row = (
            ModelConfig.objects.filter(pk=model["id"])
            .values("owner_id", "base_url", "credential_id")
            .first()
            if model.get("id")
            else None
        )
        if row is None or row["credential_id"] != credential.pk:
            return None
        if not same_url(row["base_url"] or credential.base_url, url):
            return None
        return int(row["owner_id"])

    def model_client(self, model: dict[str, Any]) -> Any:
        """A chat completion client for a model spec, wrapped if the run asked to."""
        provider = model["provider"]
        params = dict(model.get("params") or {})
        model_info = model.get("model_info") or None
        if provider == Provider.SCRIPTED:
            from runtime.testing import ScriptedModelClient

            replies = [scripted_reply(reply) for reply in model.get("scripted_replies") or []]
            client: Any = ScriptedModelClient(
                replies,
                model_info=model_info,
                model=model.get("model") or "scripted",
                delay=float(params.get("delay", 0.0)),
            )
        elif provider in (Provider.OPENAI, Provider.OPENAI_COMPATIBLE):
            client = OpenAIChatCompletionClient(
                model["model"],
                api_key=self.api_key(model),
                base_url=self.base_url(model),
                model_info=model_info,
                network_guard=model_network_guard(),
                **params,
            )
        elif provider == Provider.ANTHROPIC:
            client = AnthropicChatCompletionClient(
                model["model"],
                api_key=self.api_key(model),
                base_url=self.base_url(model),
                network_guard=model_network_guard(),
                **params,
            )
        else:
            raise ConfigurationError(f"unknown model provider {provider!r}")
        if self.wrap_model_client is not None:
            client = self.wrap_model_client(client, model)
        return client

    def condition(self, spec: dict[str, Any]) -> Any:
        """A termination condition (tree) from its spec."""
        kind = spec["type"]
        if kind in ("or", "and"):
            parts = [self.condition(item) for item in spec["conditions"]]
            if len(parts) == 1:
                return parts[0]
            combine = OrTerminationCondition if kind == "or" else AndTerminationCondition
            return combine(*parts)
        args = {key: value for key, value in spec.items() if key != "type"}
        if kind == "token_usage":
            args = {key.removesuffix("s"): value for key, value in args.items()}
        if kind == "cost":
            args.setdefault("prices", self.prices)
        return CONDITION_CLASSES[kind](**args)

    def agent(self, spec: dict[str, Any]) -> Any:
        """One participant from its spec."""
        kind = spec["kind"]
        optional = {
            key: spec[key]
            for key in ("description", "instruction", "response_prompt")
            if spec.get(key)
        }
        if kind == "user_proxy":
            return UserProxyAgent(
                spec["name"], input_func=self.input_func, **_only(optional, "description")
            )
        if kind == "team":
            inner = self.team(spec["team"])
            client = self.model_client(spec["model"]) if spec.get("model") else None
            return SocietyOfMindAgent(spec["name"], inner, client, **optional)
        client = self.model_client(spec["model"])
        return AssistantAgent(
            spec["name"],
            client,
            tools=[self.tools.get(name) for name in spec.get("tools") or []],
            handoffs=list(spec.get("handoffs") or []),
            system_message=spec.get("system_message") or None,
            model_client_stream=bool(spec.get("model_client_stream")),
            reflect_on_tool_use=spec.get("reflect_on_tool_use"),
            max_tool_iterations=int(spec.get("max_tool_iterations") or 1),
            model_context=model_context(spec.get("model_context"), client),
            memory=[
                ListMemory(memory_contents=[MemoryContent(content=text) for text in spec["memory"]])
            ]
            if spec.get("memory")
            else None,
            tool_call_summary_format=spec.get("tool_call_summary_format") or "{result}",
            **_only(optional, "description"),
        )

    def team_options(self, spec: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments every kind of team is built with."""
        options: dict[str, Any] = {}
        if spec.get("termination"):
            options["termination_condition"] = self.condition(spec["termination"])
        if spec.get("max_turns"):
            options["max_turns"] = spec["max_turns"]
        return options

    def team(self, spec: dict[str, Any]) -> Any:
        """A runtime team from a team spec (nested teams included)."""
        participants = [self.agent(agent) for agent in spec["participants"]]
        options = self.team_options(spec)
        kind = spec["kind"]
        if kind == "selector":
            selector = spec.get("selector") or {}
            if selector.get("prompt"):
                options["selector_prompt"] = selector["prompt"]
            return SelectorGroupChat(
                participants,
                model_client=self.model_client(selector["model"]),
                allow_repeated_speaker=bool(selector.get("allow_repeated_speaker")),
                emit_team_events=True,  # the run view shows who was picked and why
                **options,
            )
        if kind == "swarm":
            return Swarm(participants, **options)
        if kind == "graph":
            return GraphFlow(
                participants,
                graph=self.graph(spec, participants),
                emit_team_events=True,  # shows which nodes a fan-out activated
                **options,
            )
        return RoundRobinGroupChat(participants, **options)

    def graph(self, spec: dict[str, Any], participants: list[Any]) -> Any:
        """The directed graph of a graph team, its edges naming participants."""
        by_name = {agent.name: agent for agent in participants}
        builder = DiGraphBuilder()
        for agent in participants:
            builder.add_node(agent)
        for edge in (spec.get("graph") or {}).get("edges") or []:
            builder.add_edge(
                by_name[edge["source"]],
                by_name[edge["target"]],
                condition=edge.get("condition"),
                activation_group=edge.get("activation_group"),
                activation_condition=edge.get("activation_condition"),
            )
        return builder.build()


def model_context(spec: dict[str, Any] | None, client: Any) -> Any:
    """The runtime model context a spec names (None: the whole history)."""
    options = dict(spec or {})
    kind = options.pop("type", None)
    if kind == "buffered":
        return BufferedChatCompletionContext(**options)
    if kind == "head_and_tail":
        return HeadAndTailChatCompletionContext(**options)
    if kind == "token_limited":
        return TokenLimitedChatCompletionContext(client, **options)
    return UnboundedChatCompletionContext() if kind == "unbounded" else None


def _only(options: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in options.items() if key in keys}


def build_team(
    spec: dict[str, Any],
    *,
    input_func: InputFunc | None = None,
    wrap_model_client: WrapModelClient | None = None,
    tools: ToolRegistry | None = None,
) -> Any:
    """Build the runtime team a resolved spec describes.

    `input_func` answers the human seats; `wrap_model_client(client, model_spec)` may wrap
    every model client (budgets, usage); `tools` defaults to the studio's registry.
    Reads credentials from the database, so call it from sync code (or `abuild_team`).
    """
    builder = TeamBuilder(
        input_func=input_func,
        wrap_model_client=wrap_model_client,
        tools=tools if tools is not None else tool_registry(),
    )
    builder.prices = model_prices(spec)
    return builder.team(spec)


def model_prices(spec: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """(input, output) USD per million tokens of every model of a team, by model name."""
    return {
        model["model"] or model["name"]: (
            float(model.get("price_input_per_million") or 0.0),
            float(model.get("price_output_per_million") or 0.0),
        )
        for model in iter_model_specs(spec)
    }


async def abuild_team(
    spec: dict[str, Any],
    *,
    input_func: InputFunc | None = None,
    wrap_model_client: WrapModelClient | None = None,
    tools: ToolRegistry | None = None,
) -> Any:
    """`build_team` for async callers (credentials are read in a worker thread)."""
    from asgiref.sync import sync_to_async

    return await sync_to_async(build_team, thread_sensitive=True)(
        spec, input_func=input_func, wrap_model_client=wrap_model_client, tools=tools
    )
