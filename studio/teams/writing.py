"""Write a team spec into the database: the rows of a team, its agents and its models.

The one place where a spec becomes rows, for saving from the builder, restoring a
version, copying a team, importing a file and seeding the gallery. The caller holds the
transaction and has validated the spec as far as it needs to.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import Field, Model

from studio.teams.models import (
    Agent,
    AgentKind,
    Credential,
    ModelConfig,
    Team,
    TeamMember,
    same_url,
)
from studio.teams.spec import AGENT_CLASSES

#: The agent columns a spec sets: every field of an agent spec class that is a column
#: of its own (the model and the nested team are rows, written apart).
AGENT_ROW_FIELDS = tuple(
    dict.fromkeys(
        name
        for spec_class in AGENT_CLASSES
        for name in spec_class.model_fields
        if name not in {"id", "model", "team"}
    )
)


class SpecWriter:
    """Creates (or, when restoring, updates) the rows a team spec describes."""

    def __init__(self, user: User, *, reuse_ids: bool) -> None:
        self.user = user
        self.reuse_ids = reuse_ids
        self.models: dict[str, ModelConfig] = {}
        #: Teams being written, outermost first: a nested spec naming one of them is a
        #: new team, never the same one (a team cannot contain itself).
        self.writing: set[int] = set()

    def model(self, spec: dict[str, Any]) -> ModelConfig:
        """A model config for a spec: reused when restoring, deduplicated per import."""
        if self.reuse_ids and spec.get("id"):
            found = ModelConfig.objects.visible_to(self.user).filter(pk=spec["id"]).first()
            if found is not None:
                return found
        key = repr(sorted((k, repr(v)) for k, v in spec.items() if k != "id"))
        if key not in self.models:
            credential = None
            if spec.get("credential"):
                visible = Credential.objects.visible_to(self.user)
                credential = visible.filter(
                    pk=spec["credential"], provider=spec["provider"]
                ).first()
            base_url = spec.get("base_url") or ""
            if credential is not None and not same_url(base_url, credential.base_url):
                # A URL that came with the data is nobody's choice for this key: a new
                # model with a credential follows the credential's own URL.
                base_url = ""
            self.models[key] = ModelConfig.objects.create(
                owner=self.user,
                name=fit(ModelConfig, "name", spec.get("name") or spec.get("model") or "Imported"),
                provider=spec["provider"],
                model=spec.get("model") or "",
                credential=credential,
                base_url=base_url,
                params=spec.get("params") or {},
                model_info=spec.get("model_info") or {},
                price_input_per_million=float(spec.get("price_input_per_million") or 0),
                price_output_per_million=float(spec.get("price_output_per_million") or 0),
                scripted_replies=spec.get("scripted_replies") or [],
            )
        return self.models[key]

    def agent(self, spec: dict[str, Any]) -> Agent:
        """An agent for a spec (its model and nested team created as needed)."""
        agent = None
        if self.reuse_ids and spec.get("id"):
            agent = (
                Agent.objects.editable_by(self.user).filter(pk=spec["id"], is_gallery=False).first()
            )
        agent = agent or Agent(owner=self.user)
        for name in AGENT_ROW_FIELDS:
            if name in spec and (spec[name] is not None or column(Agent, name).null):
                setattr(agent, name, spec[name])
        agent.model = self.model(spec["model"]) if spec.get("model") else None
        if spec.get("kind") == AgentKind.TEAM and isinstance(spec.get("team"), dict):
            agent.inner_team = self.team(spec["team"])
        agent.full_clean(exclude=["owner", "model", "inner_team"])
        agent.save()
        return agent

    def team(self, spec: dict[str, Any], team: Team | None = None) -> Team:
        """A team (created, or updated in place) matching the spec."""
        if team is None and self.reuse_ids and spec.get("id") and spec["id"] not in self.writing:
            team = (
                Team.objects.editable_by(self.user).filter(pk=spec["id"], is_gallery=False).first()
            )
        team = team or Team(owner=self.user)
        if team._state.adding:  # a new team needs its id before nested teams are written
            team.save()
        self.writing.add(team.pk)
        team.name = fit(Team, "name", spec.get("name") or "Imported team")
        team.description = spec.get("description") or ""
        team.kind = spec["kind"]
        team.termination = spec.get("termination")
        team.max_turns = spec.get("max_turns")
        selector = spec.get("selector") or {}
        team.selector_model = self.model(selector["model"]) if selector.get("model") else None
        team.selector_prompt = selector.get("prompt") or ""
        team.allow_repeated_speaker = bool(selector.get("allow_repeated_speaker"))
        graph = spec.get("graph")
        team.graph_edges = list(graph.get("edges") or []) if isinstance(graph, dict) else []
        team.layout = spec.get("layout") or {}  # nested teams keep their canvas too
        team.save()
        agents = [self.agent(agent) for agent in spec["participants"]]
        team.members.all().delete()
        TeamMember.objects.bulk_create(
            TeamMember(team=team, agent=agent, position=index) for index, agent in enumerate(agents)
        )
        return team


def column(model: type[Model], name: str) -> Field[Any, Any]:
    """The field of one of `model`'s own columns (not a relation seen from its far side)."""
    field = model._meta.get_field(name)
    if not isinstance(field, Field):
        raise TypeError(f"{model.__name__}.{name} is not a column.")
    return field


def fit(model: type[Model], field_name: str, text: str) -> str:
    """Text cut to the size of a column (an imported label may be longer than a name)."""
    limit = column(model, field_name).max_length
    return text[:limit] if limit else text


def apply_team_spec(
    user: User, spec: dict[str, Any], *, team: Team | None = None, reuse_ids: bool
) -> Team:
    """Write a spec to the database (the caller holds the transaction)."""
    return SpecWriter(user, reuse_ids=reuse_ids).team(spec, team=team)
