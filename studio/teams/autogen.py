"""Translate between AutoGen's component JSON and Roundtable team specs.

Only providers named in the tables below are understood; anything else is reported with
its path. Tools are matched by name onto registered tools: code inside a file is never
executed or imported. API keys in a file are ignored (credentials are attached later).
"""

from __future__ import annotations

import re
from typing import Any

from runtime import ToolRegistry

AGENTCHAT = "autogen_agentchat"
TEAM_KINDS = {
    f"{AGENTCHAT}.teams.RoundRobinGroupChat": "round_robin",
    f"{AGENTCHAT}.teams.SelectorGroupChat": "selector",
    f"{AGENTCHAT}.teams.Swarm": "swarm",
    f"{AGENTCHAT}.teams.GraphFlow": "graph",
}
TEAM_PROVIDERS = {kind: provider for provider, kind in TEAM_KINDS.items()}
OPENAI_CLIENT = "autogen_ext.models.openai.OpenAIChatCompletionClient"
ANTHROPIC_CLIENT = "autogen_ext.models.anthropic.AnthropicChatCompletionClient"
REPLAY_CLIENT = "autogen_ext.models.replay.ReplayChatCompletionClient"
OLLAMA_CLIENT = "autogen_ext.models.ollama.OllamaChatCompletionClient"
FUNCTION_TOOL = "autogen_core.tools.FunctionTool"
WORKBENCHES = {"autogen_core.tools.StaticWorkbench", "autogen_core.tools.StaticStreamWorkbench"}
# AutoGen condition class -> (our type, {their field: our field}).
CONDITIONS: dict[str, tuple[str, dict[str, str]]] = {
    "MaxMessageTermination": (
        "max_messages",
        {"max_messages": "max_messages", "include_agent_event": "include_agent_event"},
    ),
    "TextMentionTermination": ("text_mention", {"text": "text", "sources": "sources"}),
    "TokenUsageTermination": (
        "token_usage",
        {
            "max_total_token": "max_total_tokens",
            "max_prompt_token": "max_prompt_tokens",
            "max_completion_token": "max_completion_tokens",
        },
    ),
    "TimeoutTermination": ("timeout", {"timeout_seconds": "timeout_seconds"}),
    "HandoffTermination": ("handoff", {"target": "target"}),
    "SourceMatchTermination": ("source_match", {"sources": "sources"}),
    "ExternalTermination": ("external", {}),
    "StopMessageTermination": ("stop_message", {}),
    "FunctionCallTermination": ("function_call", {"function_name": "function_name"}),
    "TextMessageTermination": ("text_message", {"source": "source"}),
    "CostTermination": ("cost", {"max_cost_usd": "max_cost_usd"}),
}
CONDITION_MODULES = {
    "cost": "roundtable.conditions",
}
COMBINATOR_PROVIDERS = {
    f"{AGENTCHAT}.base.OrTerminationCondition": "or",
    f"{AGENTCHAT}.base.AndTerminationCondition": "and",
}
OPENAI_PARAMS = (
    "temperature",
    "max_tokens",
    "top_p",
    "frequency_penalty",
    "presence_penalty",
    "seed",
    "stop",
    "timeout",
    "max_retries",
)
ANTHROPIC_PARAMS = ("temperature", "max_tokens", "top_p", "top_k", "stop_sequences", "timeout")
DEFAULT_MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


class ComponentProblem(Exception):
    """A component that cannot be imported, with the path where it sits."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def _config(component: Any, path: str) -> dict[str, Any]:
    if not isinstance(component, dict) or not isinstance(component.get("provider"), str):
        raise ComponentProblem(path, "not a component (needs provider and config)")
    config = component.get("config", {})
    if not isinstance(config, dict):
        raise ComponentProblem(f"{path}.config", "must be an object")
    return config


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def safe_identifier(name: str) -> str:
    """An agent name AutoGen would accept, made from any label."""
    cleaned = re.sub(r"\W+", "_", name).strip("_") or "agent"
    return cleaned if not cleaned[0].isdigit() else f"a_{cleaned}"


# --- AutoGen -> spec ---


class AutoGenReader:
    """Reads AutoGen components into spec fragments, tools matched by name."""

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools

    def team(self, component: Any, path: str = "") -> dict[str, Any]:
        """A team spec from a team component (named by its label)."""
        config = _config(component, path)
        kind = TEAM_KINDS.get(component["provider"])
        if kind is None:
            raise ComponentProblem(
                _join(path, "provider"), f'unsupported team provider "{component["provider"]}"'
            )
        participants = config.get("participants") or []
        spec: dict[str, Any] = {
            "name": component.get("label") or config.get("name") or "Imported team",
            "description": config.get("description") or component.get("description") or "",
            "kind": kind,
            "participants": [
                self.participant(item, _join(path, f"config.participants[{index}]"))
                for index, item in enumerate(participants)
            ],
            "termination": None,
            "max_turns": config.get("max_turns"),
            "selector": None,
            "graph": None,
        }
        if config.get("termination_condition"):
            spec["termination"] = self.condition(
                config["termination_condition"], _join(path, "config.termination_condition")
            )
        if kind == "selector":
            spec["selector"] = {
                "model": self.model(config.get("model_client"), _join(path, "config.model_client")),
                "prompt": config.get("selector_prompt") or "",
                "allow_repeated_speaker": bool(config.get("allow_repeated_speaker")),
            }
        if kind == "graph":
            spec["graph"] = self.graph(config.get("graph"), _join(path, "config.graph"))
        return spec

    def participant(self, component: Any, path: str) -> dict[str, Any]:
        """An agent spec from an agent component (or a team sitting in a seat)."""
        config = _config(component, path)
        provider = component["provider"]
        if provider in TEAM_KINDS:
            inner = self.team(component, path)
            return self.agent_defaults(safe_identifier(config.get("name") or inner["name"])) | {
                "kind": "team",
                "description": inner["description"],
                "team": inner,
            }
        return self.agent(component, path)

    def agent_defaults(self, name: str) -> dict[str, Any]:
        """An agent spec with every field at its default."""
        return {
            "name": name,
            "kind": "assistant",
            "description": "",
            "system_message": "",
            "model": None,
            "tools": [],
            "handoffs": [],
            "reflect_on_tool_use": False,
            "max_tool_iterations": 1,
            "model_client_stream": False,
            "team": None,
            "instruction": "",
            "response_prompt": "",
        }

    def agent(self, component: Any, path: str) -> dict[str, Any]:
        """An agent spec from an AssistantAgent, UserProxyAgent or SocietyOfMindAgent."""
        config = _config(component, path)
        provider = component["provider"]
        name = config.get("name")
        if not isinstance(name, str) or not name:
            raise ComponentProblem(_join(path, "config.name"), "an agent needs a name")
        spec = self.agent_defaults(name)
        spec["description"] = config.get("description") or ""
        if provider == f"{AGENTCHAT}.agents.UserProxyAgent":
            return spec | {"kind": "user_proxy"}
        if provider == f"{AGENTCHAT}.agents.SocietyOfMindAgent":
            model = config.get("model_client")
            return spec | {
                "kind": "team",
                "team": self.team(config.get("team"), _join(path, "config.team")),
                "model": self.model(model, _join(path, "config.model_client")) if model else None,
                "instruction": config.get("instruction") or "",
                "response_prompt": config.get("response_prompt") or "",
            }
        if provider != f"{AGENTCHAT}.agents.AssistantAgent":
            raise ComponentProblem(_join(path, "provider"), f'unsupported agent "{provider}"')
        tools = [self.tool(tool, tool_path) for tool, tool_path in self.agent_tools(config, path)]
        return spec | {
            "system_message": config.get("system_message") or "",
            "model": self.model(config.get("model_client"), _join(path, "config.model_client")),
            "tools": tools,
            "handoffs": [
                self.handoff(item, _join(path, f"config.handoffs[{index}]"))
                for index, item in enumerate(config.get("handoffs") or [])
            ],
            "reflect_on_tool_use": bool(config.get("reflect_on_tool_use")),
            "max_tool_iterations": int(config.get("max_tool_iterations") or 1),
            "model_client_stream": bool(config.get("model_client_stream")),
        }

    def agent_tools(self, config: dict[str, Any], path: str) -> list[tuple[Any, str]]:
        """Tool components of an agent: `tools` (0.4) or inside `workbench` (0.5+)."""
        found = [
            (tool, _join(path, f"config.tools[{index}]"))
            for index, tool in enumerate(config.get("tools") or [])
        ]
        workbenches = config.get("workbench") or []
        if isinstance(workbenches, dict):
            workbenches = [workbenches]
        for index, bench in enumerate(workbenches):
            bench_path = _join(path, f"config.workbench[{index}]")
            bench_config = _config(bench, bench_path)
            if bench["provider"] not in WORKBENCHES:
                raise ComponentProblem(
                    _join(bench_path, "provider"), f'unsupported workbench "{bench["provider"]}"'
                )
            found += [
                (tool, _join(bench_path, f"config.tools[{position}]"))
                for position, tool in enumerate(bench_config.get("tools") or [])
            ]
        return found

    def tool(self, component: Any, path: str) -> str:
        """The registered tool a tool component stands for (matched by name)."""
        config = _config(component, path)
        if component["provider"] != FUNCTION_TOOL:
            raise ComponentProblem(
                _join(path, "provider"), f'unsupported tool provider "{component["provider"]}"'
            )
        name = config.get("name") or ""
        if name in self.tools:
            return str(name)
        raise ComponentProblem(
            path,
            f'tool "{name}" carries code, which is never executed, and no tool of that name '
            "is registered on this server",
        )

    def handoff(self, item: Any, path: str) -> str:
        """A handoff target from a string or a Handoff object."""
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            target = item.get("target") or (item.get("config") or {}).get("target")
            if isinstance(target, str) and target:
                return target
        raise ComponentProblem(path, "a handoff needs a target")

    def model(self, component: Any, path: str) -> dict[str, Any]:
        """A model spec (no key) from a model client component."""
        config = _config(component, path)
        provider = component["provider"]
        info = config.get("model_info") or config.get("model_capabilities") or {}
        spec: dict[str, Any] = {
            "name": "",
            "provider": "",
            "model": str(config.get("model") or ""),
            "base_url": "",
            "params": {},
            "model_info": dict(info),
            "price_input_per_million": 0.0,
            "price_output_per_million": 0.0,
            "scripted_replies": [],
        }
        if provider == REPLAY_CLIENT:
            replies = config.get("chat_completions") or []
            spec |= {"provider": "scripted", "model": "scripted", "scripted_replies": replies}
            spec["name"] = "Scripted replies"
        elif provider == OPENAI_CLIENT:
            base_url = str(config.get("base_url") or "")
            is_openai = not base_url or "api.openai.com" in base_url
            spec |= {
                "provider": "openai" if is_openai else "openai_compatible",
                "base_url": base_url,
                "params": {
                    key: config[key] for key in OPENAI_PARAMS if config.get(key) is not None
                },
            }
        elif provider == ANTHROPIC_CLIENT:
            spec |= {
                "provider": "anthropic",
                "base_url": str(config.get("base_url") or ""),
                "params": {
                    key: config[key] for key in ANTHROPIC_PARAMS if config.get(key) is not None
                },
            }
        elif provider == OLLAMA_CLIENT:
            host = str(config.get("host") or "http://127.0.0.1:11434").rstrip("/")
            spec |= {"provider": "openai_compatible", "base_url": f"{host}/v1"}
            spec["model_info"] = spec["model_info"] or dict(DEFAULT_MODEL_INFO)
        else:
            raise ComponentProblem(_join(path, "provider"), f'unsupported model "{provider}"')
        if not spec["model"] and spec["provider"] != "scripted":
            raise ComponentProblem(_join(path, "config.model"), "the model name is missing")
        spec["name"] = spec["name"] or spec["model"]
        return spec

    def condition(self, component: Any, path: str) -> dict[str, Any]:
        """A termination condition tree."""
        config = _config(component, path)
        provider = component["provider"]
        if provider in COMBINATOR_PROVIDERS:
            return {
                "type": COMBINATOR_PROVIDERS[provider],
                "conditions": [
                    self.condition(item, _join(path, f"config.conditions[{index}]"))
                    for index, item in enumerate(config.get("conditions") or [])
                ],
            }
        module, _, class_name = provider.rpartition(".")
        known = CONDITIONS.get(class_name)
        if known is None or module not in {f"{AGENTCHAT}.conditions", "roundtable.conditions"}:
            raise ComponentProblem(_join(path, "provider"), f'unsupported condition "{provider}"')
        kind, fields = known
        spec = {"type": kind}
        for theirs, ours in fields.items():
            if config.get(theirs) is not None:
                spec[ours] = config[theirs]
        return spec

    def graph(self, data: Any, path: str) -> dict[str, Any]:
        """Graph edges from a GraphFlow's `graph.nodes`."""
        nodes = (data or {}).get("nodes") if isinstance(data, dict) else None
        if not isinstance(nodes, dict):
            raise ComponentProblem(_join(path, "nodes"), "a graph needs nodes")
        edges = []
        for name, node in nodes.items():
            for index, edge in enumerate((node or {}).get("edges") or []):
                condition = edge.get("condition")
                if condition is not None and not isinstance(condition, str):
                    raise ComponentProblem(
                        _join(path, f"nodes.{name}.edges[{index}].condition"),
                        "only text conditions can be imported (functions are code)",
                    )
                edges.append({"source": name, "target": edge.get("target"), "condition": condition})
        return {"edges": edges}


# --- spec -> AutoGen ---


def component(
    provider: str, component_type: str, config: dict[str, Any], *, label: str = "", version: int = 1
) -> dict[str, Any]:
    """One AutoGen component envelope."""
    return {
        "provider": provider,
        "component_type": component_type,
        "version": version,
        "component_version": version,
        "description": "",
        "label": label or provider.rpartition(".")[2],
        "config": config,
    }


class AutoGenWriter:
    """Writes team specs as AutoGen component JSON (no keys, tools as named stubs)."""

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools

    def team(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A team component AutoGen Studio can import."""
        config: dict[str, Any] = {
            "name": safe_identifier(spec["name"]),
            "description": spec.get("description") or "",
            "participants": [self.agent(agent) for agent in spec["participants"]],
        }
        if spec.get("termination"):
            config["termination_condition"] = self.condition(spec["termination"])
        if spec.get("max_turns"):
            config["max_turns"] = spec["max_turns"]
        if spec["kind"] == "selector":
            selector = spec.get("selector") or {}
            config["model_client"] = self.model(selector["model"])
            if selector.get("prompt"):
                config["selector_prompt"] = selector["prompt"]
            config["allow_repeated_speaker"] = bool(selector.get("allow_repeated_speaker"))
        if spec["kind"] == "graph":
            config["graph"] = self.graph(spec)
        return component(TEAM_PROVIDERS[spec["kind"]], "team", config, label=spec["name"])

    def agent(self, spec: dict[str, Any]) -> dict[str, Any]:
        """An agent component."""
        base = {"name": spec["name"], "description": spec.get("description") or ""}
        if spec["kind"] == "user_proxy":
            return component(f"{AGENTCHAT}.agents.UserProxyAgent", "agent", base)
        if spec["kind"] == "team":
            config = base | {"team": self.team(spec["team"])}
            if spec.get("model"):
                config["model_client"] = self.model(spec["model"])
            for key in ("instruction", "response_prompt"):
                if spec.get(key):
                    config[key] = spec[key]
            return component(f"{AGENTCHAT}.agents.SocietyOfMindAgent", "agent", config)
        tools = [self.tool(name) for name in spec.get("tools") or []]
        config = base | {
            "model_client": self.model(spec["model"]),
            "workbench": [
                component(
                    "autogen_core.tools.StaticStreamWorkbench",
                    "workbench",
                    {"tools": tools, "tool_overrides": {}},
                )
            ],
            "handoffs": [self.handoff(target) for target in spec.get("handoffs") or []],
            "model_context": component(
                "autogen_core.model_context.UnboundedChatCompletionContext",
                "chat_completion_context",
                {},
            ),
            "system_message": spec.get("system_message") or None,
            "model_client_stream": bool(spec.get("model_client_stream")),
            "reflect_on_tool_use": bool(spec.get("reflect_on_tool_use")),
            "tool_call_summary_format": "{result}",
            "max_tool_iterations": int(spec.get("max_tool_iterations") or 1),
            "metadata": {},
        }
        return component(f"{AGENTCHAT}.agents.AssistantAgent", "agent", config, version=2)

    def handoff(self, target: str) -> dict[str, Any]:
        """A handoff in AutoGen's shape, with its default wording."""
        return {
            "target": target,
            "description": f"Hand off to {target}.",
            "name": f"transfer_to_{target}",
            "message": f"Transferred to {target}, adopting the role of {target} immediately.",
        }

    def tool(self, name: str) -> dict[str, Any]:
        """A FunctionTool naming a server tool; its code is a stub to replace."""
        tool = self.tools.get(name)
        properties = dict(tool.schema.get("parameters", {}).get("properties", {}))
        types = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
        args = ", ".join(
            f"{param}: {types.get(str(schema.get('type')), 'object')}"
            for param, schema in properties.items()
        )
        source = (
            f"def {name}({args}) -> str:\n"
            f"    {tool.description!r}\n"
            f"    raise NotImplementedError({name!r} + ' runs on the Roundtable server')\n"
        )
        return component(
            FUNCTION_TOOL,
            "tool",
            {
                "source_code": source,
                "name": name,
                "description": tool.description,
                "global_imports": [],
                "has_cancellation_support": False,
            },
        )

    def model(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A model client component (never with a key)."""
        provider = spec["provider"]
        info = spec.get("model_info") or None
        if provider == "scripted":
            return component(
                REPLAY_CLIENT,
                "replay_chat_completion_client",
                {
                    "chat_completions": list(spec.get("scripted_replies") or []),
                    "model_info": info or dict(DEFAULT_MODEL_INFO),
                },
            )
        config: dict[str, Any] = {"model": spec["model"], **(spec.get("params") or {})}
        if spec.get("base_url"):
            config["base_url"] = spec["base_url"]
        if provider == "anthropic":
            return component(ANTHROPIC_CLIENT, "model", config)
        if info or provider == "openai_compatible":
            config["model_info"] = info or dict(DEFAULT_MODEL_INFO)
        return component(OPENAI_CLIENT, "model", config)

    def condition(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A termination condition component (tree)."""
        kind = spec["type"]
        if kind in ("or", "and"):
            name = "OrTerminationCondition" if kind == "or" else "AndTerminationCondition"
            parts = [self.condition(item) for item in spec["conditions"]]
            return component(f"{AGENTCHAT}.base.{name}", "termination", {"conditions": parts})
        class_name, fields = next(
            (name, fields) for name, (ours, fields) in CONDITIONS.items() if ours == kind
        )
        module = CONDITION_MODULES.get(kind, f"{AGENTCHAT}.conditions")
        config = {theirs: spec[ours] for theirs, ours in fields.items() if ours in spec}
        return component(f"{module}.{class_name}", "termination", config)

    def graph(self, spec: dict[str, Any]) -> dict[str, Any]:
        """GraphFlow's `graph` config from our edges."""
        nodes: dict[str, Any] = {
            agent["name"]: {"name": agent["name"], "edges": [], "activation": "all"}
            for agent in spec["participants"]
        }
        for edge in (spec.get("graph") or {}).get("edges") or []:
            nodes[edge["source"]]["edges"].append(
                {
                    "target": edge["target"],
                    "condition": edge.get("condition"),
                    "activation_group": edge["target"],
                    "activation_condition": "all",
                }
            )
        return {"nodes": nodes}
