"""Check a team spec and report every problem with its path, not only the first.

`validate_spec` walks the spec (structure, names, models, credentials, tools, handoffs,
graph edges, termination tree) and, when the structure is sound, builds the runtime team
to catch what only the runtime knows. Paths look like `participants[2].model`.

A spec may come from an imported file, so any JSON value may sit anywhere: every field
is checked for its type before it is used, and a termination tree nests at most
`MAX_CONDITION_DEPTH` levels.
"""

from __future__ import annotations

import re
from typing import Any

from runtime import RoundtableError, ToolRegistry
from studio.errors import Problem
from studio.inputs import MAX_ID, MAX_SMALL_COUNT
from studio.teams.building import PARAMS_BY_PROVIDER, build_team, check_url_literal
from studio.teams.models import IDENTIFIER, AgentKind, Credential, Provider, TeamKind
from studio.teams.specs import COMBINATORS, CONDITION_FIELDS
from studio.teams.tools import tool_registry

MAX_NESTING = 4
#: combinators nest at most this deep in a termination tree
MAX_CONDITION_DEPTH = 32
#: fields of an agent spec that hold text, and those that hold a switch
AGENT_TEXT_FIELDS = ("description", "system_message", "instruction", "response_prompt")
AGENT_SWITCH_FIELDS = ("reflect_on_tool_use", "model_client_stream")
#: column sizes of the rows a model spec becomes
MODEL_TEXT_LIMITS = {"name": 100, "model": 200, "base_url": 500}


class SpecChecker:
    """Collects problems while walking one spec."""

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        """Record one problem."""
        self.problems.append(Problem(path, message))

    def team(self, spec: Any, path: str = "", depth: int = 0) -> None:
        """Check a team spec and everything in it."""
        at = f"{path}." if path else ""
        if not isinstance(spec, dict):
            self.add(path, "must be an object describing a team")
            return
        for key in ("name", "description"):
            if spec.get(key) is not None and not isinstance(spec[key], str):
                self.add(f"{at}{key}", "must be text")
        kind = spec.get("kind")
        if kind not in TeamKind.values:
            self.add(f"{at}kind", f"must be one of {', '.join(TeamKind.values)}")
        participants = spec.get("participants")
        if not isinstance(participants, list) or not participants:
            self.add(f"{at}participants", "a team needs at least one participant")
            participants = []
        names: set[str] = set()
        for index, agent in enumerate(participants):
            self.agent(agent, f"{at}participants[{index}]", names, depth)
        handoff_targets = self.handoff_targets(spec.get("termination"))
        for index, agent in enumerate(participants):
            if not isinstance(agent, dict):
                continue
            handoffs = agent.get("handoffs")
            for position, target in enumerate(handoffs if isinstance(handoffs, list) else []):
                if isinstance(target, str) and target not in names | handoff_targets:
                    self.add(
                        f"{at}participants[{index}].handoffs[{position}]",
                        f'hands off to "{target}", who is not in the team '
                        "(add a handoff termination for that target to end the run there)",
                    )
        max_turns = spec.get("max_turns")
        if max_turns is not None and (
            not _is_int(max_turns) or not 1 <= max_turns <= MAX_SMALL_COUNT
        ):
            self.add(
                f"{at}max_turns", f"must be a whole number from 1 to {MAX_SMALL_COUNT}, or empty"
            )
        if spec.get("termination") is not None:
            self.condition(spec["termination"], f"{at}termination")
        selector = spec.get("selector") or {}
        if not isinstance(selector, dict):
            self.add(f"{at}selector", "must be an object")
            selector = {}
        if selector.get("prompt") is not None and not isinstance(selector["prompt"], str):
            self.add(f"{at}selector.prompt", "must be text")
        if kind == TeamKind.SELECTOR:
            if not isinstance(selector.get("model"), dict):
                self.add(f"{at}selector.model", "a selector team needs a model to pick speakers")
            else:
                self.model(selector["model"], f"{at}selector.model")
        if kind == TeamKind.SWARM and participants:
            first = participants[0]
            if isinstance(first, dict) and first.get("kind") != AgentKind.ASSISTANT:
                self.add(f"{at}participants[0]", "a swarm starts with an assistant agent")
        if kind == TeamKind.GRAPH:
            self.graph(spec.get("graph"), f"{at}graph", names)
        if not spec.get("termination") and not max_turns and kind != TeamKind.GRAPH:
            self.add(
                f"{at}termination",
                "the team never stops: add a termination condition or max turns",
            )

    def agent(self, spec: Any, path: str, names: set[str], depth: int) -> None:
        """Check one participant."""
        if not isinstance(spec, dict):
            self.add(path, "must be an object describing an agent")
            return
        name = spec.get("name")
        if not isinstance(name, str) or not re.match(IDENTIFIER, name):
            self.add(f"{path}.name", "must be an identifier: letters, digits, underscores")
        elif name in names:
            self.add(f"{path}.name", f'"{name}" is already taken in this team')
        else:
            names.add(name)
        kind = spec.get("kind")
        if kind not in AgentKind.values:
            self.add(f"{path}.kind", f"must be one of {', '.join(AgentKind.values)}")
        self.agent_fields(spec, path)
        if kind == AgentKind.ASSISTANT:
            if not isinstance(spec.get("model"), dict):
                self.add(f"{path}.model", f'agent "{name}" has no model')
            else:
                self.model(spec["model"], f"{path}.model")
            tools = spec.get("tools")
            for index, tool in enumerate(tools if isinstance(tools, list) else []):
                if isinstance(tool, str) and tool not in self.tools:
                    self.add(f"{path}.tools[{index}]", f'unknown tool "{tool}"')
            iterations = spec.get("max_tool_iterations", 1)
            if not _is_int(iterations) or not 1 <= iterations <= 50:
                self.add(f"{path}.max_tool_iterations", "must be between 1 and 50")
        if kind == AgentKind.TEAM:
            if depth >= MAX_NESTING:
                self.add(f"{path}.team", f"teams nest at most {MAX_NESTING} deep")
            elif isinstance(spec.get("team"), dict) and "cycle" in spec["team"]:
                self.add(f"{path}.team", "a team cannot contain itself")
            elif spec.get("team") is None:
                self.add(f"{path}.team", f'nested agent "{name}" has no team')
            else:
                self.team(spec["team"], f"{path}.team", depth + 1)
            if isinstance(spec.get("model"), dict):
                self.model(spec["model"], f"{path}.model")

    def agent_fields(self, spec: dict[str, Any], path: str) -> None:
        """Check the types of an agent's plain fields (set or not, whatever its kind)."""
        for key in AGENT_TEXT_FIELDS:
            if spec.get(key) is not None and not isinstance(spec[key], str):
                self.add(f"{path}.{key}", "must be text")
        for key in AGENT_SWITCH_FIELDS:
            if spec.get(key) is not None and not isinstance(spec[key], bool):
                self.add(f"{path}.{key}", "must be true or false")
        for key in ("tools", "handoffs"):
            items = spec.get(key)
            if items is None:
                continue
            if not isinstance(items, list):
                self.add(f"{path}.{key}", "must be a list of names")
                continue
            for index, item in enumerate(items):
                if not isinstance(item, str):
                    self.add(f"{path}.{key}[{index}]", "must be a name")

    def model_fields(self, spec: dict[str, Any], path: str) -> None:
        """Check the types and sizes of a model's plain fields."""
        for key, limit in MODEL_TEXT_LIMITS.items():
            value = spec.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                self.add(f"{path}.{key}", f"must be text of at most {limit} characters")
        for key in ("params", "model_info"):
            if spec.get(key) is not None and not isinstance(spec[key], dict):
                self.add(f"{path}.{key}", "must be an object")
        replies = spec.get("scripted_replies")
        if replies is not None and not isinstance(replies, list):
            self.add(f"{path}.scripted_replies", "must be a list")
        for key in ("price_input_per_million", "price_output_per_million"):
            price = spec.get(key)
            if price is not None and (
                isinstance(price, bool) or not isinstance(price, int | float) or price < 0
            ):
                self.add(f"{path}.{key}", "must be a number of at least 0")
        credential = spec.get("credential")
        if credential is not None and (not _is_int(credential) or not 0 < credential <= MAX_ID):
            self.add(f"{path}.credential", "must be the id of a credential")

    def model(self, spec: dict[str, Any], path: str) -> None:
        """Check a model spec, its parameters and its credential."""
        provider = spec.get("provider")
        label = spec.get("name") or spec.get("model") or "?"
        if provider not in Provider.values:
            self.add(f"{path}.provider", f"must be one of {', '.join(Provider.values)}")
            return
        problems = len(self.problems)
        self.model_fields(spec, path)
        if len(self.problems) > problems:
            return
        allowed = PARAMS_BY_PROVIDER[provider]
        for key in spec.get("params") or {}:
            if key not in allowed:
                self.add(f"{path}.params.{key}", f"not a {provider} parameter")
        if provider == Provider.SCRIPTED:
            if not spec.get("scripted_replies"):
                self.add(f"{path}.scripted_replies", f'model "{label}" has no scripted replies')
            return
        if not spec.get("model"):
            self.add(f"{path}.model", "the model name is missing")
        credential_id = spec.get("credential")
        if spec.get("base_url"):
            try:
                check_url_literal(spec["base_url"])
            except RoundtableError as exc:
                self.add(f"{path}.base_url", f'model "{label}": {exc}')
        if provider == Provider.OPENAI_COMPATIBLE:
            if not spec.get("base_url"):
                self.add(f"{path}.base_url", f'model "{label}" needs a base URL')
        elif not credential_id:
            self.add(path, f'model "{label}" has no credential')
        if credential_id:
            credential = Credential.objects.filter(pk=credential_id).first()
            if credential is None:
                self.add(f"{path}.credential", f'model "{label}": the credential was deleted')
            elif (problem := credential.key_problem()) is not None:
                self.add(f"{path}.credential", f'model "{label}": {problem}')

    def condition(self, spec: Any, path: str, depth: int = 1) -> None:
        """Check a termination condition tree."""
        if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
            self.add(path, "must be an object with a type")
            return
        kind = spec["type"]
        if kind in COMBINATORS:
            parts = spec.get("conditions")
            if not isinstance(parts, list) or not parts:
                self.add(f"{path}.conditions", f'"{kind}" needs at least one condition')
                return
            if depth >= MAX_CONDITION_DEPTH:
                self.add(
                    f"{path}.conditions",
                    f"conditions nest at most {MAX_CONDITION_DEPTH} levels deep",
                )
                return
            for index, part in enumerate(parts):
                self.condition(part, f"{path}.conditions[{index}]", depth + 1)
            return
        fields = CONDITION_FIELDS.get(kind)
        if fields is None:
            self.add(f"{path}.type", f'unknown condition "{kind}"')
            return
        for key, (expected, required) in fields.items():
            value = spec.get(key)
            if value is None:
                if required:
                    self.add(f"{path}.{key}", "is required")
                continue
            if not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
                self.add(f"{path}.{key}", "has the wrong type")
            elif isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
                self.add(f"{path}.{key}", "must be positive")
        for key in spec:
            if key != "type" and key not in fields:
                self.add(f"{path}.{key}", f'is not a field of "{kind}"')

    def graph(self, spec: Any, path: str, names: set[str]) -> None:
        """Check a graph team's edges."""
        edges = (spec or {}).get("edges") if isinstance(spec, dict) else None
        if not isinstance(edges, list) or not edges:
            self.add(f"{path}.edges", "a graph team needs at least one edge")
            return
        targets = set()
        for index, edge in enumerate(edges):
            if not isinstance(edge, dict):
                self.add(f"{path}.edges[{index}]", "must be an object")
                continue
            for end in ("source", "target"):
                if not isinstance(edge.get(end), str) or edge[end] not in names:
                    self.add(f"{path}.edges[{index}].{end}", f'no participant "{edge.get(end)}"')
            if isinstance(edge.get("target"), str):
                targets.add(edge["target"])
            condition = edge.get("condition")
            if condition is not None and not isinstance(condition, str):
                self.add(f"{path}.edges[{index}].condition", "must be text or empty")
        if names and names <= targets:
            self.add(f"{path}.edges", "every participant has an incoming edge: no start node")

    def handoff_targets(self, spec: Any, depth: int = 1) -> set[str]:
        """Targets named by handoff conditions anywhere in a termination tree."""
        if not isinstance(spec, dict) or depth > MAX_CONDITION_DEPTH:
            return set()
        if spec.get("type") in COMBINATORS:
            found: set[str] = set()
            parts = spec.get("conditions")
            for part in parts if isinstance(parts, list) else []:
                found |= self.handoff_targets(part, depth + 1)
            return found
        target = spec.get("target")
        return {target} if spec.get("type") == "handoff" and isinstance(target, str) else set()


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_spec(spec: Any, *, tools: ToolRegistry | None = None) -> list[Problem]:
    """Every problem in a team spec, each with a path; empty when the team can run."""
    registry = tools if tools is not None else tool_registry()
    checker = SpecChecker(registry)
    checker.team(spec)
    if checker.problems:
        return checker.problems
    try:
        build_team(spec, tools=registry)
    except (RoundtableError, ValueError, TypeError, KeyError) as exc:
        return [Problem("", f"the runtime refused this team: {exc}")]
    return []
