"""Component kinds of the teams (round robin, selector, swarm, graph flow) and of the
tools that run an agent or a team."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime.components.registry import (
    ComponentKind,
    ConfigReader,
    ConfigWriter,
    compact,
)
from runtime.errors import ComponentError
from runtime.task_tools import AgentTool, TeamTool
from runtime.teams import (
    DiGraph,
    DiGraphEdge,
    DiGraphNode,
    GraphFlow,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
)

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []


def _team_options(reader: ConfigReader) -> dict[str, Any]:
    options: dict[str, Any] = {
        "termination_condition": reader.optional_component("termination_condition", "termination"),
        "max_turns": reader.integer("max_turns", None),
        "emit_team_events": reader.flag("emit_team_events", False),
    }
    for key in ("name", "description"):
        if key in reader:
            options[key] = reader.text(key)
    return options


def _team_config(team: Any, writer: ConfigWriter) -> dict[str, Any]:
    condition = team.termination_condition
    return {
        "name": team.name,
        "description": team.description,
        "participants": [writer.component(p) for p in team.participants],
        "termination_condition": writer.component(condition) if condition else None,
        "max_turns": team.max_turns,
        "emit_team_events": team.emit_team_events,
    }


def _load_round_robin(reader: ConfigReader) -> RoundRobinGroupChat:
    return RoundRobinGroupChat(
        reader.components("participants", "agent|team"), **_team_options(reader)
    )


def _dump_round_robin(team: RoundRobinGroupChat, writer: ConfigWriter) -> dict[str, Any]:
    return compact(_team_config(team, writer))


def _load_selector(reader: ConfigReader) -> SelectorGroupChat:
    options = _team_options(reader)
    options["model_context"] = reader.optional_component("model_context", "context")
    if "selector_prompt" in reader:
        options["selector_prompt"] = reader.text("selector_prompt")
    return SelectorGroupChat(
        reader.components("participants", "agent|team"),
        reader.component("model_client", "model"),
        allow_repeated_speaker=reader.flag("allow_repeated_speaker", False),
        max_selector_attempts=reader.integer("max_selector_attempts", 3),
        model_client_streaming=reader.flag("model_client_streaming", False),
        **options,
    )


def _dump_selector(team: SelectorGroupChat, writer: ConfigWriter) -> dict[str, Any]:
    for name in ("selector_func", "candidate_func"):
        if getattr(team, name) is not None:
            raise ComponentError(
                f"this SelectorGroupChat has a {name}, a Python function that cannot be "
                "written to a file; leave the choice to its model to export it",
                component="SelectorGroupChat",
            )
    config = _team_config(team, writer)
    config.update(
        {
            "model_client": writer.component(team.model_client),
            "selector_prompt": team.selector_prompt,
            "allow_repeated_speaker": team.allow_repeated_speaker,
            "max_selector_attempts": team.max_selector_attempts,
            "model_client_streaming": team.model_client_streaming,
            "model_context": writer.component(team.model_context) if team.model_context else None,
        }
    )
    return compact(config)


def _load_swarm(reader: ConfigReader) -> Swarm:
    return Swarm(reader.components("participants", "agent"), **_team_options(reader))


def _dump_swarm(team: Swarm, writer: ConfigWriter) -> dict[str, Any]:
    return compact(_team_config(team, writer))


def _load_edge(value: Any, reader: ConfigReader, key: str) -> DiGraphEdge:
    if not isinstance(value, Mapping) or not isinstance(value.get("target"), str):
        raise reader.error("an edge must be an object with a 'target' name", key)
    condition = value.get("condition")
    if condition is not None and not isinstance(condition, str):
        raise reader.error("an edge condition must be text (code is never loaded)", key)
    options: dict[str, Any] = {}
    if isinstance(value.get("activation_group"), str):
        options["activation_group"] = value["activation_group"]
    if value.get("activation_condition") in ("all", "any"):
        options["activation_condition"] = value["activation_condition"]
    return DiGraphEdge(value["target"], condition=condition, **options)


def _load_graph(reader: ConfigReader) -> DiGraph:
    graph = reader.mapping("graph")
    nodes_data = graph.get("nodes")
    if not isinstance(nodes_data, Mapping) or not nodes_data:
        raise reader.error("the graph needs a non-empty 'nodes' object", "graph.nodes")
    nodes: dict[str, DiGraphNode] = {}
    for name, node in nodes_data.items():
        key = f"graph.nodes.{name}"
        if not isinstance(node, Mapping):
            raise reader.error("a graph node must be an object", key)
        edges = [
            _load_edge(edge, reader, f"{key}.edges[{index}]")
            for index, edge in enumerate(node.get("edges") or [])
        ]
        activation = node.get("activation", "all")
        nodes[name] = DiGraphNode(name, edges=edges, activation=activation)
    start = graph.get("default_start_node")
    return DiGraph(nodes=nodes, default_start_node=start if isinstance(start, str) else None)


def _load_graph_flow(reader: ConfigReader) -> GraphFlow:
    return GraphFlow(
        reader.components("participants", "agent"), _load_graph(reader), **_team_options(reader)
    )


def _dump_graph(graph: DiGraph) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for name, node in graph.nodes.items():
        edges = []
        for edge in node.edges:
            if edge.condition is not None and not isinstance(edge.condition, str):
                raise ComponentError(
                    f"the edge {name} -> {edge.target} has a function as its condition, "
                    "which cannot be written to a file; use a text condition",
                    component="GraphFlow",
                )
            edges.append(
                compact(
                    {
                        "target": edge.target,
                        "condition": edge.condition,
                        "activation_group": edge.activation_group,
                        "activation_condition": edge.activation_condition,
                    }
                )
            )
        nodes[name] = {"name": name, "edges": edges, "activation": node.activation}
    return compact({"nodes": nodes, "default_start_node": graph.default_start_node})


def _dump_graph_flow(team: GraphFlow, writer: ConfigWriter) -> dict[str, Any]:
    config = _team_config(team, writer)
    config["graph"] = _dump_graph(team.graph)
    return compact(config)


def _load_agent_tool(reader: ConfigReader) -> AgentTool:
    return AgentTool(
        reader.component("agent", "agent"),
        return_value_as_last_message=reader.flag("return_value_as_last_message", False),
    )


def _dump_agent_tool(tool: AgentTool, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "agent": writer.component(tool.agent),
        "return_value_as_last_message": tool.return_value_as_last_message,
    }


def _load_team_tool(reader: ConfigReader) -> TeamTool:
    return TeamTool(
        reader.component("team", "team"),
        reader.text("name"),
        reader.text("description"),
        return_value_as_last_message=reader.flag("return_value_as_last_message", False),
    )


def _dump_team_tool(tool: TeamTool, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "team": writer.component(tool.team),
        "name": tool.name,
        "description": tool.description,
        "return_value_as_last_message": tool.return_value_as_last_message,
    }


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        ComponentKind(
            "autogen_agentchat.teams.RoundRobinGroupChat",
            RoundRobinGroupChat,
            "team",
            _load_round_robin,
            _dump_round_robin,
            aliases=("RoundRobinGroupChat",),
            description="Participants take turns in a fixed order.",
        ),
        ComponentKind(
            "autogen_agentchat.teams.SelectorGroupChat",
            SelectorGroupChat,
            "team",
            _load_selector,
            _dump_selector,
            aliases=("SelectorGroupChat",),
            description="A model (or a function) picks who speaks next.",
        ),
        ComponentKind(
            "autogen_agentchat.teams.Swarm",
            Swarm,
            "team",
            _load_swarm,
            _dump_swarm,
            aliases=("Swarm",),
            description="Agents pass the conversation on with handoffs.",
        ),
        ComponentKind(
            "autogen_agentchat.teams.GraphFlow",
            GraphFlow,
            "team",
            _load_graph_flow,
            _dump_graph_flow,
            aliases=("GraphFlow",),
            description="Agents speak along the edges of a directed graph.",
        ),
        ComponentKind(
            "autogen_agentchat.tools.AgentTool",
            AgentTool,
            "tool",
            _load_agent_tool,
            _dump_agent_tool,
            aliases=("AgentTool",),
            description="An agent that another agent's model can give a task.",
        ),
        ComponentKind(
            "autogen_agentchat.tools.TeamTool",
            TeamTool,
            "tool",
            _load_team_tool,
            _dump_team_tool,
            aliases=("TeamTool",),
            description="A team that an agent's model can give a task.",
        ),
    ]
