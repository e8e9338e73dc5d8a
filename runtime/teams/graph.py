"""GraphFlow: participants run along the edges of a directed graph.

Build the graph with :class:`DiGraphBuilder`::

    graph = DiGraphBuilder().add_node(writer).add_node(critic).add_edge(writer, critic).build()
    team = GraphFlow([writer, critic], graph)

Execution starts at the start nodes. When a node finishes its turn, each outgoing edge
whose condition holds for the node's message activates its target; a target with
``"all"`` activation waits for every edge of its activation group, one with ``"any"``
runs on the first. All activated nodes run together (in parallel when several). When
nothing is left to run the run stops with ``"Digraph execution is complete"`` and the
next run starts over from the start nodes, keeping the conversation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from runtime.agents.base import BaseChatAgent
from runtime.conditions import TerminationCondition
from runtime.errors import ConfigurationError
from runtime.messages import BaseChatMessage, BaseMessage
from runtime.teams.base import BaseGroupChat, Seat
from runtime.teams.run_control import RunControl

__all__ = ["DiGraph", "DiGraphBuilder", "DiGraphEdge", "DiGraphNode", "GraphFlow"]

Activation = Literal["all", "any"]
EdgeCondition = str | Callable[[BaseChatMessage], bool] | None

COMPLETE = "Digraph execution is complete"


@dataclass(slots=True)
class DiGraphEdge:
    """An edge to ``target``. ``condition`` is a keyword that must appear in the source's
    message, a predicate on that message, or None (always). Edges into one target that
    share an ``activation_group`` are waited for together (``"all"``) or not (``"any"``).
    """

    target: str
    condition: EdgeCondition = None
    activation_group: str = ""
    activation_condition: Activation = "all"

    def __post_init__(self) -> None:
        if not self.activation_group:
            self.activation_group = self.target
        if self.activation_condition not in ("all", "any"):
            raise ConfigurationError(
                f"activation_condition must be 'all' or 'any', got {self.activation_condition!r}"
            )

    @property
    def is_conditional(self) -> bool:
        return self.condition is not None

    @property
    def condition_function(self) -> Callable[[BaseChatMessage], bool] | None:
        """The predicate when the condition is a function (functions are not serialisable)."""
        return self.condition if callable(self.condition) else None

    def check_condition(self, message: BaseChatMessage) -> bool:
        """Whether this edge fires after ``message``."""
        if self.condition is None:
            return True
        if isinstance(self.condition, str):
            return self.condition in message.to_model_text()
        return bool(self.condition(message))


@dataclass(slots=True)
class DiGraphNode:
    """A participant in the graph with its outgoing edges.

    ``activation`` is the default activation condition of edges that point to this node.
    """

    name: str
    edges: list[DiGraphEdge] = field(default_factory=list)
    activation: Activation = "all"


class DiGraph:
    """Nodes by name and an optional default start node; :meth:`graph_validate` checks it."""

    def __init__(
        self,
        nodes: Mapping[str, DiGraphNode] | Iterable[DiGraphNode],
        default_start_node: str | None = None,
    ) -> None:
        if isinstance(nodes, Mapping):
            self.nodes: dict[str, DiGraphNode] = dict(nodes)
        else:
            self.nodes = {node.name: node for node in nodes}
        self.default_start_node = default_start_node

    def get_parents(self) -> dict[str, list[str]]:
        """For each node, the nodes with an edge to it."""
        parents: dict[str, list[str]] = {name: [] for name in self.nodes}
        for node in self.nodes.values():
            for edge in node.edges:
                parents.setdefault(edge.target, []).append(node.name)
        return parents

    def start_nodes(self) -> list[str]:
        """The start nodes in the order the nodes were given (execution starts so)."""
        if self.default_start_node is not None:
            return [self.default_start_node]
        parents = self.get_parents()
        return [name for name in self.nodes if not parents[name]]

    def get_start_nodes(self) -> set[str]:
        """The default start node, or else every node nobody points to."""
        return set(self.start_nodes())

    def get_leaf_nodes(self) -> set[str]:
        """Nodes without outgoing edges."""
        return {name for name, node in self.nodes.items() if not node.edges}

    def has_cycles(self) -> bool:
        """Whether any path leads back to where it started."""
        return _find_cycle(self.nodes, lambda edge: True) is not None

    def has_cycles_with_exit(self) -> bool:
        """Whether the graph loops, every loop having a conditional edge to leave by.

        False without loops; :class:`ConfigurationError` (a ValueError) for a loop whose
        edges are all unconditional, as it could never end.
        """
        cycle = _find_cycle(self.nodes, lambda edge: not edge.is_conditional)
        if cycle is not None:
            raise ConfigurationError(
                f"the loop {' -> '.join(cycle)} has no exit: give one of its edges a condition"
            )
        return self.has_cycles()

    def model_dump(self) -> dict[str, Any]:
        """The graph as JSON data, in AutoGen's ``DiGraph`` shape.

        Function conditions cannot be written down: they are a :class:`ConfigurationError`
        (AutoGen writes such edges as unconditional ones).
        """
        nodes: dict[str, Any] = {}
        for name, node in self.nodes.items():
            edges = []
            for edge in node.edges:
                if callable(edge.condition):
                    raise ConfigurationError(
                        f"the edge {name} -> {edge.target} has a function as its condition, "
                        "which cannot be written as JSON; use a text condition"
                    )
                edges.append(
                    {
                        "target": edge.target,
                        "condition": edge.condition,
                        "activation_group": edge.activation_group,
                        "activation_condition": edge.activation_condition,
                    }
                )
            nodes[name] = {"name": name, "edges": edges, "activation": node.activation}
        return {"nodes": nodes, "default_start_node": self.default_start_node}

    def model_dump_json(self) -> str:
        """:meth:`model_dump` as JSON text."""
        return json.dumps(self.model_dump())

    @classmethod
    def model_validate(cls, data: Mapping[str, Any]) -> DiGraph:
        """A graph from :meth:`model_dump` data (or AutoGen's); bad shapes are a
        :class:`ConfigurationError`."""
        nodes_data = data.get("nodes") if isinstance(data, Mapping) else None
        if not isinstance(nodes_data, Mapping):
            raise ConfigurationError("a graph needs a 'nodes' object")
        nodes: dict[str, DiGraphNode] = {}
        for name, node in nodes_data.items():
            if not isinstance(node, Mapping):
                raise ConfigurationError(f"graph node {name!r} must be an object")
            edges = [_edge_from(name, edge) for edge in node.get("edges") or ()]
            nodes[str(name)] = DiGraphNode(
                str(node.get("name", name)), edges=edges, activation=node.get("activation", "all")
            )
        start = data.get("default_start_node")
        return cls(nodes, default_start_node=start if isinstance(start, str) else None)

    @classmethod
    def model_validate_json(cls, text: str | bytes) -> DiGraph:
        """A graph from :meth:`model_dump_json` text."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"the graph is not valid JSON: {exc}") from exc
        return cls.model_validate(data)

    def graph_validate(self) -> None:
        """Raise :class:`ConfigurationError` unless the graph can run and can end."""
        if not self.nodes:
            raise ConfigurationError("the graph has no nodes")
        for node in self.nodes.values():
            for edge in node.edges:
                if edge.target not in self.nodes:
                    raise ConfigurationError(
                        f"edge {node.name} -> {edge.target} points to an unknown node"
                    )
            kinds = {edge.is_conditional for edge in node.edges}
            if len(kinds) > 1:
                raise ConfigurationError(
                    f"node {node.name!r} mixes conditional and unconditional edges; "
                    "give every edge from it a condition, or none"
                )
        if self.default_start_node is not None and self.default_start_node not in self.nodes:
            raise ConfigurationError(f"start node {self.default_start_node!r} is not in the graph")
        if not self.get_start_nodes():
            raise ConfigurationError(
                "the graph has no start node (every node has a parent); call set_entry_point()"
            )
        if not self.get_leaf_nodes():
            raise ConfigurationError("the graph has no leaf node (a node without outgoing edges)")
        groups: dict[tuple[str, str], str] = {}
        for node in self.nodes.values():
            for edge in node.edges:
                key = (edge.target, edge.activation_group)
                if groups.setdefault(key, edge.activation_condition) != edge.activation_condition:
                    raise ConfigurationError(
                        f"edges into {edge.target!r} (group {edge.activation_group!r}) mix 'all' "
                        "and 'any' activation"
                    )
        cycle = _find_cycle(self.nodes, lambda edge: not edge.is_conditional)
        if cycle is not None:
            raise ConfigurationError(
                f"the loop {' -> '.join(cycle)} has no exit: give one of its edges a condition"
            )


def _edge_from(source: str, data: Any) -> DiGraphEdge:
    if not isinstance(data, Mapping) or not isinstance(data.get("target"), str):
        raise ConfigurationError(f"an edge of node {source!r} needs a 'target' name")
    condition = data.get("condition")
    if condition is not None and not isinstance(condition, str):
        raise ConfigurationError(f"an edge of node {source!r} has a condition that is not text")
    return DiGraphEdge(
        data["target"],
        condition=condition,
        activation_group=str(data.get("activation_group") or ""),
        activation_condition=data.get("activation_condition") or "all",
    )


def _find_cycle(
    nodes: Mapping[str, DiGraphNode], follows: Callable[[DiGraphEdge], bool]
) -> list[str] | None:
    """A cycle (as a node path) using only edges for which ``follows`` holds, if any."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = 1
        path.append(name)
        for edge in nodes[name].edges:
            if not follows(edge) or edge.target not in nodes:
                continue
            if state.get(edge.target) == 1:
                return [*path[path.index(edge.target) :], edge.target]
            if edge.target not in state and (found := visit(edge.target)) is not None:
                return found
        path.pop()
        state[name] = 2
        return None

    for name in nodes:
        if name not in state and (found := visit(name)) is not None:
            return found
    return None


def _node_name(node: BaseChatAgent | str) -> str:
    return node if isinstance(node, str) else node.name


class DiGraphBuilder:
    """Fluent construction of a :class:`DiGraph`; every method but ``build`` returns self."""

    def __init__(self) -> None:
        self.nodes: dict[str, DiGraphNode] = {}
        self.agents: dict[str, BaseChatAgent] = {}
        self._default_start_node: str | None = None

    def add_node(self, agent: BaseChatAgent, activation: Activation = "all") -> DiGraphBuilder:
        """Add ``agent`` as a node (its name is the node name)."""
        if agent.name in self.nodes:
            raise ConfigurationError(f"node {agent.name!r} was already added")
        self.nodes[agent.name] = DiGraphNode(name=agent.name, activation=activation)
        self.agents[agent.name] = agent
        return self

    def add_edge(
        self,
        source: BaseChatAgent | str,
        target: BaseChatAgent | str,
        condition: EdgeCondition = None,
        activation_group: str | None = None,
        activation_condition: Activation | None = None,
    ) -> DiGraphBuilder:
        """Add an edge; both nodes must exist. Activation defaults to the target's."""
        source_name, target_name = _node_name(source), _node_name(target)
        for name in (source_name, target_name):
            if name not in self.nodes:
                raise ConfigurationError(f"add node {name!r} before adding edges to it")
        self.nodes[source_name].edges.append(
            DiGraphEdge(
                target=target_name,
                condition=condition,
                activation_group=activation_group or target_name,
                activation_condition=activation_condition or self.nodes[target_name].activation,
            )
        )
        return self

    def add_conditional_edges(
        self, source: BaseChatAgent | str, condition_to_target: Mapping[str, BaseChatAgent | str]
    ) -> DiGraphBuilder:
        """One keyword-conditioned edge per ``{keyword: target}`` entry."""
        for keyword, target in condition_to_target.items():
            self.add_edge(source, target, condition=keyword)
        return self

    def set_entry_point(self, agent: BaseChatAgent | str) -> DiGraphBuilder:
        """Start execution here instead of at every node without parents."""
        name = _node_name(agent)
        if name not in self.nodes:
            raise ConfigurationError(f"entry point {name!r} is not a node")
        self._default_start_node = name
        return self

    def build(self) -> DiGraph:
        """The validated graph."""
        graph = DiGraph(self.nodes, default_start_node=self._default_start_node)
        graph.graph_validate()
        return graph

    def get_participants(self) -> list[BaseChatAgent]:
        """The agents, in the order they were added."""
        return list(self.agents.values())


class GraphFlow(BaseGroupChat):
    """A team whose turn order is a :class:`DiGraph` (see the module docstring).

    A graph with loops needs a way out besides its conditions: give a
    ``termination_condition`` or ``max_turns``.
    """

    manager_name = "GraphManager"

    component_provider = "autogen_agentchat.teams.GraphFlow"
    allows_team_participants = False

    def __init__(
        self,
        participants: Sequence[BaseChatAgent],
        graph: DiGraph,
        *,
        termination_condition: TerminationCondition | None = None,
        max_turns: int | None = None,
        name: str | None = None,
        description: str | None = None,
        emit_team_events: bool = False,
        custom_message_types: Sequence[type[BaseMessage]] | None = None,
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
        graph.graph_validate()
        names = {seat.name for seat in self._seats}
        if names != set(graph.nodes):
            raise ConfigurationError(
                f"participants {sorted(names)} and graph nodes {sorted(graph.nodes)} differ"
            )
        if graph.has_cycles() and termination_condition is None and max_turns is None:
            raise ConfigurationError(
                "the graph has a loop: give a termination_condition or max_turns so it ends"
            )
        self._graph = graph
        self._initial = self._count_group_edges()
        self._ready: list[str] = []
        self._remaining: dict[str, dict[str, int]] = {}
        self._fired_any: dict[str, dict[str, bool]] = {}
        self._restart()

    @property
    def graph(self) -> DiGraph:
        return self._graph

    def _count_group_edges(self) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {name: {} for name in self._graph.nodes}
        for node in self._graph.nodes.values():
            for edge in node.edges:
                groups = counts[edge.target]
                groups[edge.activation_group] = groups.get(edge.activation_group, 0) + 1
        return counts

    def _restart(self) -> None:
        self._ready = self._graph.start_nodes()
        self._remaining = {name: dict(groups) for name, groups in self._initial.items()}
        self._fired_any = {
            name: dict.fromkeys(groups, False) for name, groups in self._initial.items()
        }

    async def _next_speakers(self, control: RunControl) -> list[Seat] | str:
        if not self._ready:
            self._restart()
            return COMPLETE
        speakers, self._ready = self._ready, []
        for name in speakers:
            self._remaining[name] = dict(self._initial[name])
            self._fired_any[name] = dict.fromkeys(self._initial[name], False)
        return [self._seat_by_name[name] for name in speakers]

    def _after_turn(self, seat: Seat, said: list[BaseChatMessage]) -> None:
        message = said[-1]  # graph participants are agents: one chat message a turn
        for edge in self._graph.nodes[seat.name].edges:
            if not edge.check_condition(message):
                continue
            target, group = edge.target, edge.activation_group
            if edge.activation_condition == "all":
                self._remaining[target][group] -= 1
                if self._remaining[target][group] <= 0:
                    self._enqueue(target)
            elif not self._fired_any[target][group]:
                self._fired_any[target][group] = True
                self._enqueue(target)

    def _enqueue(self, name: str) -> None:
        if name not in self._ready:
            self._ready.append(name)

    def _requeue(self, seats: list[Seat]) -> None:
        self._ready = [seat.name for seat in seats] + [
            name for name in self._ready if name not in {seat.name for seat in seats}
        ]

    async def _reset_manager(self) -> None:
        self._restart()

    def _save_manager(self) -> dict[str, Any]:
        return {
            "ready": list(self._ready),
            "remaining": {name: dict(groups) for name, groups in self._remaining.items()},
            "fired_any": {name: dict(groups) for name, groups in self._fired_any.items()},
        }

    def _load_manager(self, state: Mapping[str, Any]) -> None:
        if not state:
            return
        self._ready = [name for name in state.get("ready", ()) if name in self._graph.nodes]
        for name, groups in (state.get("remaining") or {}).items():
            if name in self._remaining:
                self._remaining[name].update({g: int(n) for g, n in groups.items()})
        for name, groups in (state.get("fired_any") or {}).items():
            if name in self._fired_any:
                self._fired_any[name].update({g: bool(v) for g, v in groups.items()})
