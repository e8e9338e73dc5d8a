"""What the builder lists, derived from the team spec and the registries: served at
`GET /api/teams/catalog` so the browser never keeps copies of these lists.

A new condition type, agent option, provider parameter or tool appears here (and so in
the builder's forms) as soon as it exists in `studio.teams.spec`, `studio.teams.building`
or the tool registry.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from pydantic import BaseModel

from studio.teams.building import PARAMS_BY_PROVIDER
from studio.teams.models import (
    AgentKind,
    Credential,
    ModelConfig,
    Owned,
    Provider,
    Team,
    TeamKind,
    TeamMember,
)
from studio.teams.spec import AGENT_CLASSES, CONDITION_CLASSES, SPEC_FORMAT, TeamSpec
from studio.teams.tools import describe_tools

#: What a team kind does, in a line the builder shows beside it.
TEAM_KIND_HELP = {
    TeamKind.ROUND_ROBIN: "Participants speak in turn, in seat order.",
    TeamKind.SELECTOR: "A model picks who speaks next from the participants' descriptions.",
    TeamKind.SWARM: "The speaker hands off to the next one with a handoff tool.",
    TeamKind.GRAPH: "Edges say who may speak after whom, with optional conditions.",
}
PROVIDER_HELP = {
    Provider.OPENAI: "OpenAI's API. Needs a credential.",
    Provider.ANTHROPIC: "Anthropic's API. Needs a credential.",
    Provider.OPENAI_COMPATIBLE: "Any server speaking OpenAI's API (Ollama, vLLM, LM Studio).",
    Provider.SCRIPTED: "Replies from a list, offline: for demos and tests.",
}
#: Starting points for a new model configuration.
MODEL_PRESETS = [
    {"name": "GPT-4o mini", "provider": "openai", "model": "gpt-4o-mini"},
    {"name": "GPT-4.1", "provider": "openai", "model": "gpt-4.1"},
    {"name": "Claude Sonnet 4.5", "provider": "anthropic", "model": "claude-sonnet-4-5"},
    {"name": "Claude Haiku 4.5", "provider": "anthropic", "model": "claude-haiku-4-5"},
    {
        "name": "Ollama (this machine)",
        "provider": "openai_compatible",
        "model": "llama3.2",
        "base_url": "http://localhost:11434/v1",
    },
    {"name": "Scripted replies", "provider": "scripted", "model": "scripted"},
]


def fields_of(spec_class: type[BaseModel], skip: frozenset[str]) -> list[dict[str, Any]]:
    """The fields of a spec class as the builder's forms need them."""
    schema = spec_class.model_json_schema()
    if "properties" not in schema:  # a recursive class is a reference into its $defs
        schema = schema["$defs"][spec_class.__name__]
    required = set(schema.get("required", []))
    fields = []
    for name, field in spec_class.model_fields.items():
        if name in skip:
            continue
        prop = schema["properties"].get(name, {})
        fields.append(
            {
                "name": name,
                "label": name.replace("_", " ").capitalize(),
                "required": name in required,
                "help": field.description or "",
                "default": None
                if field.is_required()
                else field.get_default(call_default_factory=True),
                "schema": prop,
            }
        )
    return fields


def first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text else ""


def build_catalog() -> dict[str, Any]:
    """Everything the builder lists, with the spec's JSON Schema."""
    return {
        "format": SPEC_FORMAT,
        "spec_schema": TeamSpec.model_json_schema(),
        "team_kinds": [
            {"value": kind.value, "label": kind.label, "help": TEAM_KIND_HELP[kind]}
            for kind in TeamKind
        ],
        "agent_kinds": [
            {
                "value": spec_class.model_fields["kind"].default,
                "label": AgentKind(spec_class.model_fields["kind"].default).label,
                "help": first_line(spec_class.__doc__),
                "fields": fields_of(spec_class, frozenset({"kind", "id"})),
            }
            for spec_class in AGENT_CLASSES
        ],
        "conditions": [
            {
                "type": spec_class.model_fields["type"].default,
                "label": spec_class.model_fields["type"].default.replace("_", " ").capitalize(),
                "help": first_line(spec_class.__doc__),
                "is_combinator": "conditions" in spec_class.model_fields,
                "fields": fields_of(spec_class, frozenset({"type", "conditions"})),
            }
            for spec_class in CONDITION_CLASSES
        ],
        "providers": [
            {
                "value": provider.value,
                "label": provider.label,
                "help": PROVIDER_HELP[provider],
                "params": sorted(PARAMS_BY_PROVIDER[provider]),
                "needs_credential": provider in (Provider.OPENAI, Provider.ANTHROPIC),
                "needs_base_url": provider == Provider.OPENAI_COMPATIBLE,
            }
            for provider in Provider
        ],
        "tools": describe_tools(),
        "model_presets": MODEL_PRESETS,
    }


# --- Labels that tell the entries of a dropdown apart ---


def provider_name(provider: str) -> str:
    """A provider's short name: "OpenAI-compatible", not its list of servers."""
    try:
        return str(Provider(provider).label).split(" (")[0]
    except ValueError:
        return provider


def whose(item: Owned, user: User) -> str:
    """ "" for the user's own things, else where they come from."""
    if item.is_gallery:
        return "gallery"
    if item.owner_id == user.pk:
        return ""
    return f"shared by {item.owner.get_username()}"


def model_label(model: ModelConfig, user: User) -> str:
    """`name (provider: model, shared by someone)`, the parts that differ between models."""
    details = provider_name(model.provider)
    if model.model and model.model != model.provider:
        details += f": {model.model}"
    source = whose(model, user)
    return f"{model.name} ({details}{', ' + source if source else ''})"


def teams_using(models: Sequence[ModelConfig], user: User) -> dict[int, list[str]]:
    """The names of the teams `user` can see that use each model (seats and selectors)."""
    ids = [model.pk for model in models]
    visible = Team.objects.visible_to(user)
    using: dict[int, set[str]] = defaultdict(set)
    seats = TeamMember.objects.filter(agent__model__in=ids, team__in=visible)
    for model_id, name in seats.values_list("agent__model_id", "team__name"):
        using[model_id].add(name)
    selecting = visible.filter(selector_model__in=ids)
    for model_id, name in selecting.values_list("selector_model_id", "name"):
        using[model_id].add(name)
    return {model_id: sorted(names) for model_id, names in using.items()}


def model_labels(models: Sequence[ModelConfig], user: User) -> dict[int, str]:
    """A label per model, unique within `models`: where two read alike, the teams using
    each are added, and where they still do, the id."""
    labels = {model.pk: model_label(model, user) for model in models}
    clashes = {label for label, count in Counter(labels.values()).items() if count > 1}
    if clashes:
        clashing = [model for model in models if labels[model.pk] in clashes]
        using = teams_using(clashing, user)
        for model in clashing:
            teams = using.get(model.pk)
            where = (
                f"in {', '.join(teams[:2])}{' …' if len(teams) > 2 else ''}" if teams else "unused"
            )
            labels[model.pk] += f" · {where}"
    counts = Counter(labels.values())
    return {pk: f"{label} · #{pk}" if counts[label] > 1 else label for pk, label in labels.items()}


def credential_label(credential: Credential, user: User) -> str:
    """`name (provider, shared by someone)`."""
    source = whose(credential, user)
    return (
        f"{credential.name} ({provider_name(credential.provider)}{', ' + source if source else ''})"
    )
