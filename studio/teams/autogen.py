"""AutoGen files and team specs, through the runtime's components: the one translator.

Import: the runtime's `load_component` reads a file through its one registry of AutoGen
providers (nothing named in a file is imported, no code in a file runs, tools are
matched by name onto the studio's registry, keys in the file are ignored), and
`SpecReader` maps the runtime objects it built onto a team spec, noting what a spec
cannot keep. Export: `write_team` builds the runtime team a spec describes, without
reading a key or checking an address, and writes it with `dump_component`; registered
tools become stubs AutoGen can load, since their code stays on this server.

A model's name travels as its component's label, a team's name and description in its
config (its label names it too). AutoGen files have no place for a model's prices or the
canvas layout.
"""

from __future__ import annotations

import functools
import inspect
import re
from typing import Any

from runtime import (
    DEFAULT_SELECTOR_PROMPT,
    AndTerminationCondition,
    AnthropicChatCompletionClient,
    AssistantAgent,
    BaseGroupChat,
    BufferedChatCompletionContext,
    ComponentError,
    ComponentKind,
    ComponentRegistry,
    CostTermination,
    ExternalTermination,
    FunctionCallTermination,
    GraphFlow,
    Handoff,
    HandoffTermination,
    HeadAndTailChatCompletionContext,
    ListMemory,
    MaxMessageTermination,
    OpenAIChatCompletionClient,
    OrTerminationCondition,
    RoundRobinGroupChat,
    RoundtableError,
    SelectorGroupChat,
    SocietyOfMindAgent,
    SourceMatchTermination,
    SQLiteVectorMemory,
    StopMessageTermination,
    Swarm,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenLimitedChatCompletionContext,
    TokenUsageTermination,
    ToolRegistry,
    UnsupportedProviderError,
    UserProxyAgent,
    dump_component,
    load_component,
)
from runtime.testing import ScriptedModelClient
from studio.errors import Problem
from studio.teams.building import PARAMS_BY_PROVIDER, TeamBuilder, model_prices
from studio.teams.models import Provider
from studio.teams.tools import tool_registry

#: Every client read from a file gets this key instead of the file's: reading never
#: sends a request, and no key of the server's environment is picked up.
UNUSED_KEY = "unused"
#: What a studio team cannot hold, refused while the file is read, at its path.
REFUSED_ROLES = {"embedding": "studio agents remember facts in a list, not by embeddings"}
REFUSED_PROVIDERS = {
    SQLiteVectorMemory.component_provider: (
        "studio agents remember facts in a list; use autogen_core.memory.ListMemory"
    ),
    "autogen_agentchat.agents.MessageFilterAgent": "studio teams have no message filters",
    "autogen_agentchat.tools.AgentTool": "a studio agent's tools are registered tools",
    "autogen_agentchat.tools.TeamTool": "a studio agent's tools are registered tools",
    "autogen_agentchat.messages.StructuredMessageFactory": (
        "studio agents answer in text, not in a structured output type"
    ),
}
TEAM_KINDS: tuple[tuple[type[BaseGroupChat], str], ...] = (
    (SelectorGroupChat, "selector"),
    (Swarm, "swarm"),
    (GraphFlow, "graph"),
    (RoundRobinGroupChat, "round_robin"),
)
# Runtime condition class -> (spec type, {runtime attribute: spec field}).
CONDITIONS: dict[type, tuple[str, dict[str, str]]] = {
    MaxMessageTermination: (
        "max_messages",
        {"max_messages": "max_messages", "include_agent_event": "include_agent_event"},
    ),
    TextMentionTermination: ("text_mention", {"text": "text", "sources": "sources"}),
    TokenUsageTermination: (
        "token_usage",
        {
            "max_total_token": "max_total_tokens",
            "max_prompt_token": "max_prompt_tokens",
            "max_completion_token": "max_completion_tokens",
        },
    ),
    TimeoutTermination: ("timeout", {"timeout_seconds": "timeout_seconds"}),
    HandoffTermination: ("handoff", {"target": "target"}),
    SourceMatchTermination: ("source_match", {"sources": "sources"}),
    ExternalTermination: ("external", {}),
    StopMessageTermination: ("stop_message", {}),
    FunctionCallTermination: ("function_call", {"function_name": "function_name"}),
    TextMessageTermination: ("text_message", {"source": "source"}),
    CostTermination: ("cost", {"max_cost_usd": "max_cost_usd"}),
}
#: Client settings the spec keeps among its `params`, read from the client's attributes.
CLIENT_SETTINGS = ("temperature", "max_tokens", "timeout", "max_retries")


class ComponentProblem(Exception):
    """A component that cannot be imported or exported, with the path where it sits."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def join(path: str, key: str) -> str:
    """`path` extended by `key` (either may be empty)."""
    return f"{path}.{key}" if path and key else path or key


def safe_identifier(name: str) -> str:
    """An agent name AutoGen would accept, made from any label."""
    cleaned = re.sub(r"\W+", "_", name).strip("_") or "agent"
    return cleaned if not cleaned[0].isdigit() else f"a_{cleaned}"


# --- AutoGen -> runtime objects -> spec ---


def refusal_reason(kind: ComponentKind) -> str | None:
    """Why a studio team cannot hold this kind of component (None: it can)."""
    return REFUSED_ROLES.get(kind.role) or REFUSED_PROVIDERS.get(kind.provider)


@functools.cache
def studio_registry() -> ComponentRegistry:
    """The runtime's registry, refusing what a studio team cannot hold."""
    return ComponentRegistry.default().refusing(refusal_reason)


def read_component(data: Any, path: str, expected: str) -> Any:
    """The runtime object a component document describes (`expected` is its role, such
    as "team" or "agent|team"); problems carry `path` in front of the file's own path."""
    try:
        return load_component(
            data,
            tools=tool_registry(),
            expected=expected,
            registry=studio_registry(),
            api_key=UNUSED_KEY,
        )
    except UnsupportedProviderError as exc:
        raise ComponentProblem(join(join(path, exc.path), "provider"), exc.reason) from exc
    except ComponentError as exc:
        raise ComponentProblem(join(path, exc.path), exc.reason) from exc


def constructor_default(cls: type, name: str) -> Any:
    """The default of a constructor parameter of a runtime class (None when it has none)."""
    parameter = inspect.signature(cls).parameters.get(name)
    if parameter is None or parameter.default is inspect.Parameter.empty:
        return None
    return parameter.default


@functools.cache
def default_team_description() -> str:
    """What the runtime calls a team it was given no description for."""
    return RoundRobinGroupChat([UserProxyAgent("probe")]).description


def dumped_model_info(client: Any) -> dict[str, Any]:
    """The `model_info` a client writes to a file (every key AutoGen requires filled)."""
    info: dict[str, Any] = dump_component(client)["config"].get("model_info") or {}
    return info


def assumed_model_info(client: Any) -> dict[str, Any]:
    """What a client of this kind assumes for its model when told nothing."""
    if isinstance(client, ScriptedModelClient):
        return dumped_model_info(ScriptedModelClient([]))
    return dumped_model_info(type(client)(client.model, api_key=UNUSED_KEY))


def provider_of(client: Any) -> str:
    """The spec's provider for an SDK client: OpenAI's own API or another at its URL."""
    if isinstance(client, AnthropicChatCompletionClient):
        return "anthropic"
    base_url = client.base_url or ""
    return "openai" if not base_url or "api.openai.com" in base_url else "openai_compatible"


def unless_default(value: Any, cls: type, name: str) -> Any:
    """`value`, or "" when it is the runtime's default for that parameter."""
    return "" if value == constructor_default(cls, name) else value


class SpecReader:
    """Maps runtime objects loaded from a file onto spec dicts.

    What a spec cannot keep is left out and noted in `warnings`, with its path in the
    file; what it cannot hold at all is a `ComponentProblem`.
    """

    def __init__(self) -> None:
        self.warnings: list[Problem] = []

    def note(self, path: str, message: str) -> None:
        self.warnings.append(Problem(path, message))

    # --- teams ---

    def team(self, team: BaseGroupChat, path: str = "") -> dict[str, Any]:
        """A team spec, named by the file's label for it when it has one."""
        kind = next((name for cls, name in TEAM_KINDS if isinstance(team, cls)), None)
        if kind is None:
            raise ComponentProblem(path, f"{type(team).__name__} is not a studio team kind")
        condition = team.termination_condition
        return {
            "name": team.component_label or team.name,
            "description": self.team_description(team),
            "kind": kind,
            "participants": [
                self.participant(member, join(path, f"config.participants[{index}]"))
                for index, member in enumerate(team.participants)
            ],
            "termination": (
                self.condition(condition, join(path, "config.termination_condition"))
                if condition is not None
                else None
            ),
            "max_turns": team.max_turns,
            "selector": self.selector(team, path) if isinstance(team, SelectorGroupChat) else None,
            "graph": self.graph(team) if isinstance(team, GraphFlow) else None,
        }

    def team_description(self, team: BaseGroupChat) -> str:
        """The team's own description; else, for a component the file named (as AutoGen
        Studio's galleries do), the description of its envelope."""
        if team.description != default_team_description():
            return team.description
        if team.component_label and team.component_description:
            return team.component_description
        return ""

    def selector(self, team: SelectorGroupChat, path: str) -> dict[str, Any]:
        if team.max_selector_attempts != constructor_default(
            SelectorGroupChat, "max_selector_attempts"
        ):
            self.note(join(path, "config.max_selector_attempts"), "not kept: the default is used")
        if team.model_context is not None:
            self.note(join(path, "config.model_context"), "not kept: the selector reads it all")
        prompt = team.selector_prompt
        return {
            "model": self.model(team.model_client, join(path, "config.model_client")),
            "prompt": "" if prompt == DEFAULT_SELECTOR_PROMPT else prompt,
            "allow_repeated_speaker": team.allow_repeated_speaker,
        }

    def graph(self, team: GraphFlow) -> dict[str, Any]:
        return {
            "edges": [
                {
                    "source": name,
                    "target": edge.target,
                    "condition": edge.condition,
                    # the runtime names a target's default group after the target
                    "activation_group": None
                    if edge.activation_group == edge.target
                    else edge.activation_group,
                    "activation_condition": edge.activation_condition,
                }
                for name, node in team.graph.nodes.items()
                for edge in node.edges
            ]
        }

    # --- agents ---

    def participant(self, member: Any, path: str) -> dict[str, Any]:
        """An agent spec for a seat of a team, with the fields of its kind."""
        if isinstance(member, BaseGroupChat):
            self.note(path, "a team in a seat becomes a nested team agent")
            inner = self.team(member, path)
            return {
                "name": safe_identifier(member.component_label or member.name),
                "kind": "team",
                "description": inner["description"],
                "model": None,
                "team": inner,
                "instruction": "",
                "response_prompt": "",
            }
        if isinstance(member, UserProxyAgent):
            return {
                "name": member.name,
                "kind": "user_proxy",
                "description": unless_default(member.description, UserProxyAgent, "description"),
            }
        if isinstance(member, SocietyOfMindAgent):
            return self.society(member, path)
        if isinstance(member, AssistantAgent):
            return self.assistant(member, path)
        raise ComponentProblem(path, f"{type(member).__name__} cannot sit in a studio team")

    def society(self, agent: SocietyOfMindAgent, path: str) -> dict[str, Any]:
        if self.context(agent.model_context, agent.model_client) is not None:
            self.note(join(path, "config.model_context"), "not kept: it reads the whole team")
        client = agent.model_client
        return {
            "name": agent.name,
            "kind": "team",
            "description": unless_default(agent.description, SocietyOfMindAgent, "description"),
            "model": self.model(client, join(path, "config.model_client")) if client else None,
            "team": self.team(agent.team, join(path, "config.team")),
            "instruction": unless_default(agent.instruction, SocietyOfMindAgent, "instruction"),
            "response_prompt": unless_default(
                agent.response_prompt, SocietyOfMindAgent, "response_prompt"
            ),
        }

    def assistant(self, agent: AssistantAgent, path: str) -> dict[str, Any]:
        if agent.metadata:
            self.note(join(path, "config.metadata"), "not kept")
        if any(handoff != Handoff(handoff.target) for handoff in agent.handoffs):
            self.note(join(path, "config.handoffs"), "only their targets are kept")
        context = agent.model_context
        if context.initial_messages:
            self.note(join(path, "config.model_context"), "its initial messages are not kept")
        return {
            "name": agent.name,
            "kind": "assistant",
            "description": unless_default(agent.description, AssistantAgent, "description"),
            "system_message": agent.system_message or "",
            "model": self.model(agent.model_client, join(path, "config.model_client")),
            "tools": [tool.name for tool in agent.tools],
            "handoffs": [handoff.target for handoff in agent.handoffs],
            "reflect_on_tool_use": agent.reflect_on_tool_use,
            "max_tool_iterations": agent.max_tool_iterations,
            "model_client_stream": agent.model_client_stream,
            "model_context": self.context(context, agent.model_client),
            "memory": self.memory(agent.memory, path),
            "tool_call_summary_format": agent.tool_call_summary_format,
        }

    def context(self, context: Any, client: Any) -> dict[str, Any] | None:
        """What a model sees of the conversation (None: all of it)."""
        if isinstance(context, BufferedChatCompletionContext):
            return {"type": "buffered", "buffer_size": context.buffer_size}
        if isinstance(context, HeadAndTailChatCompletionContext):
            return {
                "type": "head_and_tail",
                "head_size": context.head_size,
                "tail_size": context.tail_size,
            }
        if isinstance(context, TokenLimitedChatCompletionContext):
            # The spec counts tokens with the agent's own model.
            return {"type": "token_limited", "token_limit": context.token_limit}
        return None

    def memory(self, memories: list[Any], path: str) -> list[str]:
        """The facts of an agent's list memories, in order."""
        facts: list[str] = []
        for index, memory in enumerate(memories):
            where = join(path, f"config.memory[{index}]")
            if not isinstance(memory, ListMemory):
                raise ComponentProblem(where, f"{type(memory).__name__} is not a studio memory")
            for entry in memory.content:
                if isinstance(entry.content, str | dict):
                    facts.append(entry.to_text())
                else:
                    self.note(where, "only text entries are kept")
        return facts

    # --- models ---

    def model(self, client: Any, path: str) -> dict[str, Any]:
        """A model spec (no key): provider, model name, parameters, capabilities."""
        if isinstance(client, ScriptedModelClient):
            provider = "scripted"
            params: dict[str, Any] = {"delay": client.delay} if client.delay else {}
            base_url = ""
        elif isinstance(client, OpenAIChatCompletionClient | AnthropicChatCompletionClient):
            base_url = client.base_url or ""
            provider = provider_of(client)
            params = self.params(client, provider, path)
        else:
            raise ComponentProblem(path, f"{type(client).__name__} is not a studio model")
        assumed = assumed_model_info(client)
        info = {k: v for k, v in dumped_model_info(client).items() if assumed.get(k) != v}
        replies = client.replies if isinstance(client, ScriptedModelClient) else ()
        default_name = "Scripted replies" if provider == "scripted" else client.model
        return {
            "name": client.component_label or default_name,
            "provider": provider,
            "model": client.model,
            "base_url": base_url,
            "params": params,
            "model_info": info,
            "price_input_per_million": 0.0,
            "price_output_per_million": 0.0,
            "scripted_replies": [r if isinstance(r, str) else r.to_dict() for r in replies],
        }

    def params(self, client: Any, provider: str, path: str) -> dict[str, Any]:
        """The client's settings that differ from its defaults, among the spec's params."""
        values = {**client.create_args, **{name: getattr(client, name) for name in CLIENT_SETTINGS}}
        kept = PARAMS_BY_PROVIDER[Provider(provider)]
        dropped = sorted(name for name in values if name not in kept)
        if dropped:
            self.note(join(path, "config"), f"not kept: {', '.join(dropped)}")
        return {
            name: value
            for name, value in values.items()
            if name in kept
            and value is not None
            and value != constructor_default(type(client), name)
        }

    # --- termination conditions ---

    def condition(self, condition: Any, path: str) -> dict[str, Any]:
        """A termination condition tree; fields at their defaults are left out."""
        if isinstance(condition, OrTerminationCondition | AndTerminationCondition):
            combinator = "or" if isinstance(condition, OrTerminationCondition) else "and"
            return {
                "type": combinator,
                "conditions": [
                    self.condition(part, join(path, f"config.conditions[{index}]"))
                    for index, part in enumerate(condition.conditions)
                ],
            }
        known = CONDITIONS.get(type(condition))
        if known is None:
            raise ComponentProblem(path, f"{type(condition).__name__} is not a studio condition")
        kind, fields = known
        spec: dict[str, Any] = {"type": kind}
        for attribute, field in fields.items():
            value = getattr(condition, attribute)
            if value is None or value is False or value == ():
                continue
            spec[field] = list(value) if isinstance(value, tuple) else value
        return spec


# --- spec -> runtime objects -> AutoGen ---


class ExportBuilder(TeamBuilder):
    """Builds a spec's team to write it to a file: no key is read and no address is
    checked (nothing connects); teams carry the spec's name and description, and teams
    and models are labelled with their names."""

    def __init__(self, tools: ToolRegistry) -> None:
        super().__init__(input_func=None, wrap_model_client=None, tools=tools)

    def api_key(self, model: dict[str, Any]) -> str:
        return UNUSED_KEY

    def base_url(self, model: dict[str, Any]) -> str | None:
        return model.get("base_url") or None

    def model_client(self, model: dict[str, Any]) -> Any:
        client = super().model_client(model)
        client.component_label = model.get("name") or None
        return client

    def team_options(self, spec: dict[str, Any]) -> dict[str, Any]:
        # Runs leave teams their default names, which events show; files carry the spec's.
        named = {key: spec[key] for key in ("name", "description") if spec.get(key)}
        return super().team_options(spec) | named

    def team(self, spec: dict[str, Any]) -> Any:
        team = super().team(spec)
        team.component_label = spec.get("name") or None
        return team


def write_team(spec: dict[str, Any], *, tools: ToolRegistry | None = None) -> dict[str, Any]:
    """The AutoGen component document of a team spec: no keys, tools as stubs."""
    builder = ExportBuilder(tools if tools is not None else tool_registry())
    try:
        builder.prices = model_prices(spec)
        team = builder.team(spec)
        return dict(dump_component(team, tool_stubs=True))
    except (RoundtableError, KeyError, TypeError, ValueError) as exc:
        raise ComponentProblem("", f"the runtime cannot build this team: {exc}") from exc
