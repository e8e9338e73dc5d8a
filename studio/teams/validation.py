"""Every problem of a team spec, each with its path (`participants[2].model`), at once.

The spec's structure is checked by its pydantic classes (`studio.teams.spec`): there is
no second walker. Parts are parsed one by one (each participant, the termination tree,
the selector, the graph, the rest) so that a broken part does not hide the problems of
the others. What the classes cannot know is checked on the parsed parts: unique names,
handoff and edge targets, registered tools, providers' parameters and credentials. Last,
a team whose parts are all sound is built, to catch what only the runtime knows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from pydantic import TypeAdapter, ValidationError

from runtime import RoundtableError, ToolRegistry
from studio.errors import Problem
from studio.inputs import MAX_JSON_DEPTH, json_problem
from studio.teams.building import PARAMS_BY_PROVIDER, build_team, check_url_literal
from studio.teams.models import Credential, Provider
from studio.teams.spec import (
    COMBINATORS,
    MAX_CONDITION_DEPTH,
    MAX_NESTING,
    AgentSpec,
    AssistantSpec,
    Condition,
    GraphSpec,
    HandoffTo,
    ModelSpec,
    NestedTeamSpec,
    SelectorSpec,
    Spec,
    TeamSpec,
    condition_depth,
)
from studio.teams.specs import iter_model_specs
from studio.teams.tools import tool_registry

T = TypeVar("T")
AGENT = TypeAdapter(AgentSpec)
CONDITION = TypeAdapter(Condition)
#: The team's own fields, parsed apart from the parts checked one by one.
TEAM_PARTS = ("participants", "termination", "selector", "graph")


def join(path: str, key: str | int) -> str:
    """`path` extended by a key (`a.b`) or an index (`a[2]`)."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def error_path(location: Sequence[Any], data: Any, path: str) -> str:
    """A pydantic error location as a spec path, without the union tags pydantic adds
    (`participants.0.assistant.name` is `participants[0].name`): a tag comes first
    whenever a tagged value is entered, and equals the value's `type` or `kind`."""
    entering = True
    for key in location:
        is_tag = entering and isinstance(data, dict) and key in (data.get("type"), data.get("kind"))
        entering = False
        if is_tag:
            continue  # the tagged value's own fields follow, in the same object
        path = join(path, key)
        if isinstance(data, dict | list):
            try:
                data = data[key]
            except (KeyError, IndexError, TypeError):
                data = None
        entering = True
    return path


def error_message(error: Any) -> str:
    """What a pydantic error means, in the words the builder shows."""
    kind, context = error["type"], error.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        bound = context.get("ge", context.get("gt"))
        return "must be positive" if bound in (0, 1) else f"must be at least {bound}"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')}"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return "must be an identifier: letters, digits, underscores"
    if kind == "union_tag_invalid":
        return f'unknown kind "{context.get("tag")}"'
    if kind == "union_tag_not_found":
        return f"needs a {context.get('discriminator', 'type').strip(chr(39))}"
    if kind == "extra_forbidden":
        return "is not a field here"
    return str(error["msg"])


class Checker:
    """Collects the problems of one spec."""

    def __init__(self, tools: ToolRegistry) -> None:
        self.tools = tools
        self.problems: list[Problem] = []
        self.credentials: dict[int, Credential | None] = {}

    def add(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def parse(self, parser: Callable[[Any], T], data: Any, path: str) -> T | None:
        """`parser(data)`, or None with its problems recorded under `path`."""
        try:
            return parser(data)
        except ValidationError as exc:
            for error in exc.errors():
                where = error_path(error["loc"], data, path)
                message = error_message(error)
                if error["type"] == "union_tag_invalid":
                    where = join(where, "type" if "kind" not in (data or {}) else "kind")
                    if where.endswith("type"):
                        message = f'unknown condition "{error["ctx"]["tag"]}"'
                self.add(where, message)
            return None

    # --- teams ---

    def team(self, data: Any, path: str = "", depth: int = 0) -> TeamSpec | None:
        """Check a team and everything in it; the parsed team when it is whole."""
        if not isinstance(data, dict):
            self.add(path, "must be an object describing a team")
            return None
        rest = {key: value for key, value in data.items() if key not in TEAM_PARTS}
        base = self.parse(TeamSpec.model_validate, rest, path)
        participants = data.get("participants")
        if not isinstance(participants, list) or not participants:
            self.add(join(path, "participants"), "a team needs at least one participant")
            participants = []
        names: set[str] = set()
        agents = [
            self.agent(agent, join(join(path, "participants"), index), depth, names)
            for index, agent in enumerate(participants)
        ]
        # Handoffs need the termination's targets, but are reported before its problems.
        before = len(self.problems)
        termination = self.termination(data.get("termination"), join(path, "termination"))
        termination_problems = self.problems[before:]
        del self.problems[before:]
        self.handoffs(agents, names, termination, path)
        self.problems += termination_problems
        kind = data.get("kind", "round_robin")
        selector = self.selector(data.get("selector"), kind, join(path, "selector"))
        graph = self.graph(data.get("graph"), kind, names, join(path, "graph"))
        if kind == "swarm" and agents and not isinstance(agents[0], AssistantSpec):
            self.add(join(join(path, "participants"), 0), "a swarm starts with an assistant agent")
        if not data.get("termination") and not data.get("max_turns") and kind != "graph":
            self.add(
                join(path, "termination"),
                "the team never stops: add a termination condition or max turns",
            )
        if base is None or None in agents or (data.get("termination") and termination is None):
            return None
        if (data.get("selector") and selector is None) or (data.get("graph") and graph is None):
            return None
        return base.model_copy(
            update={
                "participants": agents,
                "termination": termination,
                "selector": selector,
                "graph": graph,
            }
        )

    def handoffs(self, agents: list[Any], names: set[str], termination: Any, path: str) -> None:
        targets = names | handoff_targets(termination)
        for index, agent in enumerate(agents):
            if not isinstance(agent, AssistantSpec):
                continue
            for position, target in enumerate(agent.handoffs):
                if target not in targets:
                    where = join(join(join(path, "participants"), index), "handoffs")
                    self.add(
                        join(where, position),
                        f'hands off to "{target}", who is not in the team '
                        "(add a handoff termination for that target to end the run there)",
                    )

    # --- agents ---

    def agent(self, data: Any, path: str, depth: int, names: set[str]) -> Spec | None:
        """Check one participant; its name joins `names`, which it must not be in yet."""
        if isinstance(data, dict) and data.get("kind") == "team":
            inner = data.get("team")
            if isinstance(inner, dict) and "cycle" in inner:
                self.add(join(path, "team"), "a team cannot contain itself")
                return None
            if depth >= MAX_NESTING:
                self.add(join(path, "team"), f"teams nest at most {MAX_NESTING} deep")
                return None
            if inner is None:
                self.add(join(path, "team"), f'nested agent "{data.get("name")}" has no team')
                return None
            shallow = {**data, "team": {"name": "inner"}}
            parsed = self.parse(AGENT.validate_python, shallow, path)
            team = self.team(inner, join(path, "team"), depth + 1)
            if parsed is None or team is None:
                return None
            agent: AgentSpec | None = parsed.model_copy(update={"team": team})
        else:
            agent = self.parse(AGENT.validate_python, data, path)
        if agent is None:
            return None
        if agent.name in names:
            self.add(join(path, "name"), f'"{agent.name}" is already taken in this team')
        names.add(agent.name)
        if isinstance(agent, AssistantSpec):
            if agent.model is None:
                self.add(join(path, "model"), f'agent "{agent.name}" has no model')
            for index, tool in enumerate(agent.tools):
                if tool not in self.tools:
                    self.add(join(join(path, "tools"), index), f'unknown tool "{tool}"')
        if isinstance(agent, AssistantSpec | NestedTeamSpec) and agent.model is not None:
            self.model(agent.model, join(path, "model"))
        return agent

    # --- models ---

    def model(self, model: ModelSpec, path: str) -> None:
        """Check what a model's provider needs, and its credential."""
        label = model.name or model.model or "?"
        provider = Provider(model.provider)
        for key in model.params:
            if key not in PARAMS_BY_PROVIDER[provider]:
                self.add(join(join(path, "params"), key), f"not a {model.provider} parameter")
        if provider == Provider.SCRIPTED:
            if not model.scripted_replies:
                self.add(join(path, "scripted_replies"), f'model "{label}" has no scripted replies')
            return
        if not model.model:
            self.add(join(path, "model"), "the model name is missing")
        if model.base_url:
            try:
                check_url_literal(model.base_url)
            except RoundtableError as exc:
                self.add(join(path, "base_url"), f'model "{label}": {exc}')
        if provider == Provider.OPENAI_COMPATIBLE:
            if not model.base_url:
                self.add(join(path, "base_url"), f'model "{label}" needs a base URL')
        elif not model.credential:
            self.add(path, f'model "{label}" has no credential')
        if model.credential:
            credential = self.credential(model.credential)
            if credential is None:
                self.add(join(path, "credential"), f'model "{label}": the credential was deleted')
            elif credential.provider != model.provider:
                self.add(
                    join(path, "credential"),
                    f'model "{label}": the credential is for another provider',
                )
            elif (problem := credential.key_problem()) is not None:
                self.add(join(path, "credential"), f'model "{label}": {problem}')

    def credential(self, credential_id: int) -> Credential | None:
        if credential_id not in self.credentials:
            self.credentials[credential_id] = Credential.objects.filter(pk=credential_id).first()
        return self.credentials[credential_id]

    # --- termination, selector, graph ---

    def termination(self, data: Any, path: str) -> Any:
        if data is None:
            return None
        problem = json_problem(data, path, max_depth=MAX_JSON_DEPTH)
        if problem is not None:
            self.add(*problem)
            return None
        if condition_depth(data) > MAX_CONDITION_DEPTH:
            self.add(
                join(path, "conditions"),
                f"conditions nest at most {MAX_CONDITION_DEPTH} levels deep",
            )
            return None
        if isinstance(data, dict) and data.get("type") in COMBINATORS:
            # Each branch on its own, so one bad branch does not hide the others.
            parts = data.get("conditions")
            if not isinstance(parts, list) or not parts:
                self.add(join(path, "conditions"), f'"{data["type"]}" needs at least one condition')
                return None
            parsed = [
                self.termination(part, join(join(path, "conditions"), index))
                for index, part in enumerate(parts)
            ]
            if None in parsed:
                return None
            return CONDITION.validate_python({"type": data["type"], "conditions": parsed})
        return self.parse(CONDITION.validate_python, data, path)

    def selector(self, data: Any, kind: str, path: str) -> SelectorSpec | None:
        selector = self.parse(SelectorSpec.model_validate, data or {}, path)
        if kind == "selector" and selector is not None:
            if selector.model is None:
                self.add(join(path, "model"), "a selector team needs a model to pick speakers")
            else:
                self.model(selector.model, join(path, "model"))
        return selector if data is not None else None

    def graph(self, data: Any, kind: str, names: set[str], path: str) -> GraphSpec | None:
        graph = self.parse(GraphSpec.model_validate, data or {}, path)
        if kind != "graph" or graph is None:
            return graph if data is not None else None
        if not graph.edges:
            self.add(join(path, "edges"), "a graph team needs at least one edge")
            return graph
        for index, edge in enumerate(graph.edges):
            for end in ("source", "target"):
                if getattr(edge, end) not in names:
                    where = join(join(join(path, "edges"), index), end)
                    self.add(where, f'no participant "{getattr(edge, end)}"')
        if names and names <= {edge.target for edge in graph.edges}:
            self.add(join(path, "edges"), "every participant has an incoming edge: no start node")
        return graph


def handoff_targets(condition: Any) -> set[str]:
    """Targets named by handoff conditions anywhere in a parsed termination tree."""
    found: set[str] = set()
    stack = [condition]
    while stack:
        node = stack.pop()
        if isinstance(node, HandoffTo):
            found.add(node.target)
        stack.extend(getattr(node, "conditions", None) or [])
    return found


def parse_team(
    spec: Any, *, tools: ToolRegistry | None = None
) -> tuple[TeamSpec | None, list[Problem]]:
    """The typed team and every problem found (the team is None when a part is broken)."""
    checker = Checker(tools if tools is not None else tool_registry())
    team = checker.team(spec)
    return team, checker.problems


def validate_spec(
    spec: Any, *, tools: ToolRegistry | None = None, digest: str | None = None
) -> list[Problem]:
    """Every problem in a team spec, each with a path; empty when the team can run.

    ``digest`` is the spec's `spec_hash`, from a caller that resolved the spec itself
    (`team_spec`): a spec found runnable before is then not checked again, as long as it
    names no credential. The answer for such a spec depends on nothing but the spec, the
    built-in tools and ``MODEL_PRIVATE_HOSTS``; a credential is looked up in the database.
    """
    key = runnable_key(spec, digest) if tools is None and digest is not None else None
    if key is not None and key in RUNNABLE_SPECS:
        return []
    registry = tools if tools is not None else tool_registry()
    team, problems = parse_team(spec, tools=registry)
    if problems or team is None:
        return problems
    try:
        build_team(team.model_dump(), tools=registry)
    except (RoundtableError, ValueError, TypeError, KeyError) as exc:
        return [Problem("", f"the runtime refused this team: {exc}")]
    if key is not None:
        remember_runnable(key)
    return []


def runnable_key(spec: Any, digest: str) -> tuple[str, str] | None:
    """What decides whether a spec without credentials can run (None for one with)."""
    if not isinstance(spec, dict) or any(
        model.get("credential") for model in iter_model_specs(spec)
    ):
        return None
    return digest, repr(settings.MODEL_PRIVATE_HOSTS)


#: specs without credentials found runnable (see `validate_spec`), oldest first; read
#: freely, changed under ``RUNNABLE_LOCK``
RUNNABLE_SPECS: dict[tuple[str, str], None] = {}
RUNNABLE_LOCK = threading.Lock()
RUNNABLE_KEPT = 512


def remember_runnable(key: tuple[str, str]) -> None:
    """Remember a runnable spec's key, forgetting the oldest past ``RUNNABLE_KEPT``."""
    with RUNNABLE_LOCK:
        RUNNABLE_SPECS[key] = None
        while len(RUNNABLE_SPECS) > RUNNABLE_KEPT:
            del RUNNABLE_SPECS[next(iter(RUNNABLE_SPECS))]
