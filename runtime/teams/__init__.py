"""Teams: participants taking turns on one shared conversation."""

from runtime.teams.base import BaseGroupChat, TeamStatus
from runtime.teams.round_robin import RoundRobinGroupChat

__all__ = ["BaseGroupChat", "RoundRobinGroupChat", "TeamStatus"]
