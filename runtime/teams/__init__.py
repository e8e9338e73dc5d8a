"""Teams: participants taking turns on one shared conversation."""

from runtime.teams.base import BaseGroupChat, TeamStatus
from runtime.teams.graph import DiGraph, DiGraphBuilder, DiGraphEdge, DiGraphNode, GraphFlow
from runtime.teams.round_robin import RoundRobinGroupChat
from runtime.teams.selector import SelectorGroupChat
from runtime.teams.swarm import Swarm

__all__ = [
    "BaseGroupChat",
    "DiGraph",
    "DiGraphBuilder",
    "DiGraphEdge",
    "DiGraphNode",
    "GraphFlow",
    "RoundRobinGroupChat",
    "SelectorGroupChat",
    "Swarm",
    "TeamStatus",
]
