"""A team's spec: the fully resolved JSON that versions store and the builder reads.

Shape (the contract with `studio.teams.building` and the runs app)::

    team  = {"id", "name", "description", "kind": round_robin|selector|swarm|graph,
             "participants": [agent], "termination": condition|None,
             "max_turns": int|None,
             "selector": {"model": model|None, "prompt", "allow_repeated_speaker"}|None,
             "graph": {"edges": [{"source", "target", "condition"}]}|None,
             "layout": {...}}
    agent = {"id", "name", "kind": assistant|user_proxy|team, "description",
             "system_message", "model": model|None, "tools": [name], "handoffs": [name],
             "reflect_on_tool_use", "max_tool_iterations", "model_client_stream",
             "team": team|None, "instruction", "response_prompt"}
    model = {"id", "name", "provider", "model", "base_url", "credential": id|None,
             "params": {...}, "model_info": {...}, "price_input_per_million",
             "price_output_per_million", "scripted_replies": [...]}
    condition = {"type": "or"|"and", "conditions": [condition]}
              | {"type": "max_messages", "max_messages": 10} | … (see CONDITION_FIELDS)

A spec never holds an API key: models name their credential by id, and the key is
resolved on the server when the team is built.
"""

from __future__ import annotations

from typing import Any

from studio.teams.models import Agent, ModelConfig, Team, TeamKind
from studio.teams.spec import AGENT_CLASSES, AssistantSpec

SPEC_FORMAT = "roundtable/team@1"
#: The spec class of each agent kind, whose fields an agent's spec holds.
AGENT_SPEC_BY_KIND = {
    spec_class.model_fields["kind"].default: spec_class for spec_class in AGENT_CLASSES
}

# Termination condition types and their fields: name -> (type, required).
CONDITION_FIELDS: dict[str, dict[str, tuple[type | tuple[type, ...], bool]]] = {
    "max_messages": {"max_messages": (int, True), "include_agent_event": (bool, False)},
    "text_mention": {"text": (str, True), "sources": (list, False)},
    "token_usage": {
        "max_total_tokens": (int, False),
        "max_prompt_tokens": (int, False),
        "max_completion_tokens": (int, False),
    },
    "timeout": {"timeout_seconds": ((int, float), True)},
    "handoff": {"target": (str, True)},
    "source_match": {"sources": (list, True)},
    "external": {},
    "stop_message": {},
    "function_call": {"function_name": (str, True)},
    "text_message": {"source": (str, False)},
    "cost": {"max_cost_usd": ((int, float), True)},
}
COMBINATORS = ("or", "and")


def model_spec(model: ModelConfig) -> dict[str, Any]:
    """The resolved spec of one model configuration (no key, credential by id)."""
    return {
        "id": model.pk,
        "name": model.name,
        "provider": model.provider,
        "model": model.model,
        "base_url": model.base_url or (model.credential.base_url if model.credential else ""),
        "credential": model.credential_id,
        "params": dict(model.params or {}),
        "model_info": dict(model.model_info or {}),
        "price_input_per_million": float(model.price_input_per_million),
        "price_output_per_million": float(model.price_output_per_million),
        "scripted_replies": list(model.scripted_replies or []),
    }


def agent_spec(agent: Agent, *, seen: frozenset[int] = frozenset()) -> dict[str, Any]:
    """The resolved spec of one agent, with the fields of its kind's spec class; nested
    teams are resolved inline."""
    data: dict[str, Any] = {"id": agent.pk, "kind": agent.kind}
    for name in AGENT_SPEC_BY_KIND.get(agent.kind, AssistantSpec).model_fields:
        if name in data:
            continue
        if name == "model":
            data["model"] = model_spec(agent.model) if agent.model else None
        elif name == "team":
            data["team"] = inner_team_spec(agent, seen)
        else:
            data[name] = getattr(agent, name)
    return data


def inner_team_spec(agent: Agent, seen: frozenset[int]) -> dict[str, Any] | None:
    """A nested team's spec, or a marker when the team contains itself."""
    if agent.inner_team_id in seen:
        return {"cycle": agent.inner_team_id}
    if agent.inner_team is None:
        return None
    return team_spec(agent.inner_team, seen=seen)


def team_spec(team: Team, *, seen: frozenset[int] = frozenset()) -> dict[str, Any]:
    """The fully resolved spec of a team as stored now."""
    seen = seen | {team.pk}
    selector = None
    if team.kind == TeamKind.SELECTOR:
        selector = {
            "model": model_spec(team.selector_model) if team.selector_model else None,
            "prompt": team.selector_prompt,
            "allow_repeated_speaker": team.allow_repeated_speaker,
        }
    graph = None
    if team.kind == TeamKind.GRAPH:
        graph = {"edges": [dict(edge) for edge in team.graph_edges or []]}
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "kind": team.kind,
        "participants": [agent_spec(agent, seen=seen) for agent in team.ordered_members()],
        "termination": team.termination,
        "max_turns": team.max_turns,
        "selector": selector,
        "graph": graph,
        "layout": dict(team.layout or {}),
    }


def iter_model_specs(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every model spec in a team spec, nested teams and the selector included."""
    found: list[dict[str, Any]] = []
    selector = spec.get("selector") or {}
    if isinstance(selector, dict) and isinstance(selector.get("model"), dict):
        found.append(selector["model"])
    for agent in spec.get("participants") or []:
        if not isinstance(agent, dict):
            continue
        if isinstance(agent.get("model"), dict):
            found.append(agent["model"])
        if isinstance(agent.get("team"), dict):
            found.extend(iter_model_specs(agent["team"]))
    return found


#: Spec fields holding data of their own, whose keys are not the spec's (a scripted
#: tool call has an "id"; the layout is keyed by agent names).
OPAQUE_FIELDS = frozenset({"scripted_replies", "params", "model_info", "layout"})


def strip_ids(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of a team spec for export: no database ids, no credential references."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: item if key in OPAQUE_FIELDS else clean(item)
                for key, item in value.items()
                if key not in {"id", "credential"}
            }
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    cleaned: dict[str, Any] = clean(spec)
    return cleaned
