"""Business rules for teams, agents, models and credentials.

Views parse and authorize, then call one function here. Every id a client sends is
looked up through `visible_to(user)`; anything missing becomes a `ServiceError` with
the field's path. Saving a team (or restoring a version) snapshots it into an immutable
`TeamVersion`; `snapshot_team` is also what a run calls to pin the version it runs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from runtime import ConfigurationError
from studio.errors import Problem, ServiceError
from studio.teams.building import check_url_literal, key_destination_problem
from studio.teams.models import (
    Agent,
    AgentKind,
    Credential,
    ModelConfig,
    Owned,
    Role,
    Share,
    Team,
    TeamKind,
    TeamMember,
    TeamVersion,
    same_url,
    spec_hash,
)
from studio.teams.specs import team_spec
from studio.teams.tools import tool_registry
from studio.teams.validation import validate_spec
from studio.teams.writing import AGENT_ROW_FIELDS, apply_team_spec


def invalid(path: str, message: str) -> ServiceError:
    """A 422 for one field."""
    return ServiceError("The request is not valid.", 422, [Problem(path, message)])


def lookup(model: type[Owned], user: User, pk: Any, path: str) -> Any:
    """The object with id `pk` that `user` can see, or a 422 naming `path`."""
    found = model.objects.visible_to(user).filter(pk=pk).first() if pk is not None else None
    if found is None:
        label = model._meta.verbose_name
        raise invalid(path, f"no {label} with id {pk} that you can use")
    return found


def assign(instance: Any, data: dict[str, Any], fields: tuple[str, ...]) -> None:
    """Copy the given fields of `data` onto `instance`."""
    for field in fields:
        if field in data:
            setattr(instance, field, data[field])


def delete_owned(instance: Owned) -> None:
    """Delete an object, or answer 409 when something still uses it."""
    try:
        instance.delete()
    except ProtectedError as exc:
        users = sorted({str(obj) for obj in exc.protected_objects})[:5]
        raise ServiceError(
            f"{instance} is still used by: {', '.join(users)}. Remove it there first.", 409
        ) from None


# --- Credentials ---


def delete_credential(credential: Credential) -> None:
    """Delete a credential none of its owner's models uses; while some do, a 409 names
    them, since deleting it would leave them unable to reach their provider.

    Models of people it was shared with do not hold it back: its owner cannot repoint
    them, and deleting is how an owner takes a key back. Those models lose it.
    """
    own_models = credential.models.filter(owner_id=credential.owner_id).order_by("name", "pk")
    users = [model.name for model in own_models[:6]]
    if users:
        listed = ", ".join(users[:5]) + (" and more" if len(users) > 5 else "")
        raise ServiceError(
            f"{credential} is still used by the models {listed}. "
            "Pick another credential for them (or delete them) first.",
            409,
        )
    delete_owned(credential)


CREDENTIAL_FIELDS = ("name", "provider", "base_url", "key_env_var")


def save_credential(
    user: User, data: dict[str, Any], credential: Credential | None = None
) -> Credential:
    """Create or update a credential; `api_key` is write-only and stored encrypted."""
    if credential is not None and credential.owner_id != user.pk:
        refuse_redirecting_a_key(credential, data)
    credential = credential or Credential(owner=user)
    assign(credential, data, CREDENTIAL_FIELDS)
    if "api_key" in data and data["api_key"] is not None:
        credential.set_key(data["api_key"])
        if data["api_key"]:
            credential.key_env_var = data.get("key_env_var") or ""
    if credential.key_env_var and "api_key" not in data and data.get("key_env_var"):
        credential.encrypted_key = ""
    try:
        credential.full_clean(exclude=["owner"])
    except ValidationError as exc:
        raise from_django_validation(exc) from None
    check_base_url("base_url", credential.base_url)
    credential.save()
    return credential


def refuse_redirecting_a_key(credential: Credential, data: dict[str, Any]) -> None:
    """An editor who is not the owner may not send the stored key to another URL (they
    may point the credential elsewhere together with a key of their own)."""
    moves = "base_url" in data and not same_url(data["base_url"], credential.base_url)
    if moves and not data.get("api_key") and credential.encrypted_key:
        raise ServiceError(
            "Only the credential's owner can change where its key is sent.",
            403,
            [Problem("base_url", "give a key of your own with the new URL, or ask the owner")],
        )


def check_key_destination(user: User, model: ModelConfig) -> None:
    """The model's URL must be one its credential's key may go to, chosen by its owner."""
    if model.credential is None:
        return
    url = model.base_url or model.credential.base_url
    problem = key_destination_problem(model.credential, url, chosen_by=user.pk)
    if problem is not None:
        status = 422 if model.credential.key_env_var else 403
        raise ServiceError(
            "This model cannot send its credential's key there.",
            status,
            [Problem("base_url", problem)],
        )


def check_base_url(path: str, url: str | None) -> None:
    """Refuse a base URL that names an internal address outright, with the reason."""
    if url:
        try:
            check_url_literal(url)
        except ConfigurationError as exc:
            raise invalid(path, str(exc)) from None


# --- Models ---

MODEL_FIELDS = (
    "name",
    "provider",
    "model",
    "base_url",
    "params",
    "model_info",
    "price_input_per_million",
    "price_output_per_million",
    "scripted_replies",
)


def save_model(user: User, data: dict[str, Any], model: ModelConfig | None = None) -> ModelConfig:
    """Create or update a model configuration."""
    model = model or ModelConfig(owner=user)
    assign(model, data, MODEL_FIELDS)
    if "credential" in data:
        credential_id = data["credential"]
        model.credential = (
            lookup(Credential, user, credential_id, "credential") if credential_id else None
        )
    if model.credential and model.credential.provider != model.provider:
        raise invalid("credential", "the credential is for another provider")
    if "base_url" in data or "credential" in data:
        check_base_url("base_url", model.base_url)
        check_key_destination(user, model)
    for field in ("price_input_per_million", "price_output_per_million"):
        if getattr(model, field) < 0:
            raise invalid(field, "a price cannot be negative")
    model.save()
    return model


# --- Agents ---

#: What an agent's own columns hold: the fields of the agent spec classes.
AGENT_FIELDS = AGENT_ROW_FIELDS


def save_agent(user: User, data: dict[str, Any], agent: Agent | None = None) -> Agent:
    """Create or update an agent; its model and nested team must be visible to `user`."""
    agent = agent or Agent(owner=user)
    assign(agent, data, AGENT_FIELDS)
    if "model" in data:
        agent.model = lookup(ModelConfig, user, data["model"], "model") if data["model"] else None
    if "team" in data:
        agent.inner_team = lookup(Team, user, data["team"], "team") if data["team"] else None
    registry = tool_registry()
    for index, name in enumerate(agent.tools or []):
        if name not in registry:
            raise invalid(f"tools[{index}]", f'unknown tool "{name}"')
    if agent.kind == AgentKind.TEAM and agent.inner_team and agent.pk:
        ensure_no_cycle(agent, agent.inner_team)
    try:
        agent.full_clean(exclude=["owner", "model", "inner_team"])
    except Exception as exc:
        raise from_django_validation(exc) from None
    agent.save()
    return agent


def ensure_no_cycle(agent: Agent, team: Team, depth: int = 0) -> None:
    """Refuse a nested team that (indirectly) contains the agent itself."""
    if depth > 8:
        raise invalid("team", "teams nest too deep")
    for member in team.ordered_members():
        if member.pk == agent.pk:
            raise invalid("team", "a nested team cannot contain the agent that holds it")
        if member.kind == AgentKind.TEAM and member.inner_team:
            ensure_no_cycle(agent, member.inner_team, depth + 1)


def from_django_validation(exc: Exception) -> ServiceError:
    """Turn a Django ValidationError into a 422 with a problem per field."""
    problems = []
    for field, messages in getattr(exc, "message_dict", {"": [str(exc)]}).items():
        for message in messages:
            problems.append(Problem("" if field == "__all__" else field, message))
    return ServiceError("The request is not valid.", 422, problems)


# --- Teams ---

TEAM_FIELDS = (
    "name",
    "description",
    "kind",
    "termination",
    "max_turns",
    "selector_prompt",
    "allow_repeated_speaker",
    "graph_edges",
    "layout",
)


@transaction.atomic
def save_team(
    user: User,
    data: dict[str, Any],
    team: Team | None = None,
    *,
    note: str = "",
) -> Team:
    """Create or update a team and snapshot it as a new version when it changed."""
    team = team or Team(owner=user)
    assign(team, data, TEAM_FIELDS)
    if team.kind not in TeamKind.values:
        raise invalid("kind", f"must be one of {', '.join(TeamKind.values)}")
    if "selector_model" in data:
        model_id = data["selector_model"]
        team.selector_model = (
            lookup(ModelConfig, user, model_id, "selector_model") if model_id else None
        )
    agents = None
    if "participants" in data:
        agents = [
            lookup(Agent, user, agent_id, f"participants[{index}]")
            for index, agent_id in enumerate(data["participants"])
        ]
        names = [agent.name for agent in agents]
        for index, name in enumerate(names):
            if names.index(name) != index:
                raise invalid(f"participants[{index}]", f'two participants are named "{name}"')
    team.save()
    if agents is not None:
        team.members.all().delete()
        TeamMember.objects.bulk_create(
            TeamMember(team=team, agent=agent, position=index) for index, agent in enumerate(agents)
        )
        for agent in agents:
            if agent.kind == AgentKind.TEAM and agent.inner_team_id == team.pk:
                raise invalid("participants", "a team cannot contain itself")
    snapshot_team(team, user, note=note)
    return team


@transaction.atomic
def snapshot_team(team: Team, user: User | None, *, note: str = "") -> TeamVersion:
    """The version matching the team as it is now, created if the spec changed."""
    Team.objects.select_for_update().filter(pk=team.pk).first()
    spec = team_spec(team)
    latest = team.latest_version()
    if latest is not None and latest.content_hash == spec_hash(spec):
        return latest
    number = (latest.number + 1) if latest else 1
    return TeamVersion.objects.create(
        team=team,
        number=number,
        spec=spec,
        note=note,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def validate_team(team: Team) -> list[Problem]:
    """Every problem of the team as stored now."""
    return validate_spec(team_spec(team))


@transaction.atomic
def restore_version(user: User, team: Team, version: TeamVersion) -> Team:
    """Make the team match an older version again (a new version records the restore)."""
    apply_team_spec(user, version.spec, team=team, reuse_ids=True)
    snapshot_team(team, user, note=f"Restored from version {version.number}")
    return team


def diff_specs(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Field-level differences between two specs: [{path, old, new}]."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[dict[str, Any]] = []
        for key in list(old) + [key for key in new if key not in old]:
            child = f"{path}.{key}" if path else key
            changes += diff_specs(old.get(key), new.get(key), child)
        return changes
    if isinstance(old, list) and isinstance(new, list):
        changes = []
        for index in range(max(len(old), len(new))):
            changes += diff_specs(
                old[index] if index < len(old) else None,
                new[index] if index < len(new) else None,
                f"{path}[{index}]",
            )
        return changes
    return [] if old == new else [{"path": path, "old": old, "new": new}]


# --- Sharing ---


def share_object(
    instance: Owned, *, username: str | None, group_name: str | None, role: str
) -> Share:
    """Share with a user (by username) or a group (by name)."""
    if role not in Role.values:
        raise invalid("role", f"must be one of {', '.join(Role.values)}")
    if bool(username) == bool(group_name):
        raise invalid("user", "give either a user or a group")
    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise invalid("user", f'no user "{username}"')
        if user.pk == instance.owner_id:
            raise invalid("user", "the owner already has every right")
        return instance.share_with(user=user, role=role)
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        raise invalid("group", f'no group "{group_name}"')
    try:
        return instance.share_with(group=group, role=role)
    except IntegrityError:
        raise invalid("group", "already shared") from None


@transaction.atomic
def duplicate_team(user: User, team: Team) -> Team:
    """A copy of a visible team, its agents and models owned by `user`."""
    spec = team_spec(team)
    spec["name"] = f"{team.name} (copy)"
    copy = apply_team_spec(user, spec, reuse_ids=False)
    copy.layout = team.layout
    copy.save(update_fields=["layout"])
    snapshot_team(copy, user, note=f"Copied from {team.name}"[:200])  # the note's column size
    return copy
