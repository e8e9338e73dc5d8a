"""JSON API for teams, agents, models, credentials and tools.

Each view parses, authorizes (objects a user cannot see are 404; objects they can see
but not change are 403), calls one service and responds.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from studio.accounts.users import AuthenticatedRequest
from studio.errors import Problem, ServiceError
from studio.inputs import ObjectId
from studio.teams import importing, saving, services
from studio.teams.catalog import build_catalog, credential_label, model_labels
from studio.teams.models import Agent, Credential, ModelConfig, Owned, Share, Team
from studio.teams.schemas import (
    AgentIn,
    AgentOut,
    AgentPatch,
    CredentialIn,
    CredentialOut,
    CredentialPatch,
    DiffOut,
    DraftIn,
    DraftOut,
    ImportOut,
    ModelIn,
    ModelOut,
    ModelPatch,
    ShareIn,
    ShareOut,
    SpecCheckIn,
    SpecSaveIn,
    TeamIn,
    TeamOut,
    TeamPatch,
    TeamSummary,
    ToolOut,
    ValidationOut,
    VersionDetail,
    VersionOut,
)
from studio.teams.specs import team_spec
from studio.teams.tools import describe_tools

router = Router(tags=["teams"])


# --- Lookups and output ---


def get_visible(model: type[Owned], request: AuthenticatedRequest, pk: int) -> Any:
    """The object if the user may see it, else 404."""
    found = model.objects.visible_to(request.user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def get_editable(model: type[Owned], request: AuthenticatedRequest, pk: int) -> Any:
    """The object if the user may change it; 403 if only visible or in the gallery (which
    nobody changes); 404 otherwise."""
    found = get_visible(model, request, pk)
    saving.refuse_gallery(found)
    if not model.objects.editable_by(request.user).filter(pk=pk).exists():
        raise HttpError(403, "You can view this but not change it.")
    return found


def get_owned(model: type[Owned], request: AuthenticatedRequest, pk: int) -> Any:
    """The object if the user owns it (deleting and sharing); 403/404 otherwise."""
    found = get_visible(model, request, pk)
    saving.refuse_gallery(found)
    if found.role_of(request.user) != "owner":
        raise HttpError(403, "Only the owner can do this.")
    return found


def common_fields(instance: Owned, request: AuthenticatedRequest) -> dict[str, Any]:
    """Fields every owned object shows."""
    return {
        "owner": instance.owner.get_username(),
        "role": instance.role_of(request.user),
        "is_gallery": instance.is_gallery,
        "updated_at": instance.updated_at,
    }


def credential_out(credential: Credential, request: AuthenticatedRequest) -> dict[str, Any]:
    """A credential without its key."""
    return {
        "id": credential.pk,
        "name": credential.name,
        "provider": credential.provider,
        "base_url": credential.base_url,
        "key_env_var": credential.key_env_var,
        "has_key": credential.has_key,
        "label": credential_label(credential, request.user),
        **common_fields(credential, request),
    }


def model_out(
    model: ModelConfig, request: AuthenticatedRequest, label: str | None = None
) -> dict[str, Any]:
    """A model configuration; `label` tells it apart from the others of a list."""
    return {
        "id": model.pk,
        "label": label or model_labels([model], request.user)[model.pk],
        "credential": model.credential_id,
        **{field: getattr(model, field) for field in services.MODEL_FIELDS},
        **common_fields(model, request),
    }


def agent_out(agent: Agent, request: AuthenticatedRequest) -> dict[str, Any]:
    """An agent."""
    return {
        "id": agent.pk,
        "model": agent.model_id,
        "team": agent.inner_team_id,
        **{field: getattr(agent, field) for field in services.AGENT_FIELDS},
        **common_fields(agent, request),
    }


def team_summary(team: Team, request: AuthenticatedRequest) -> dict[str, Any]:
    """A team in a list."""
    latest = team.latest_version()
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "kind": team.kind,
        "version": latest.number if latest else None,
        **common_fields(team, request),
    }


def team_out(team: Team, request: AuthenticatedRequest) -> dict[str, Any]:
    """A team with its fields and resolved spec."""
    return {
        **team_summary(team, request),
        "participants": [agent.pk for agent in team.ordered_members()],
        "termination": team.termination,
        "max_turns": team.max_turns,
        "selector_model": team.selector_model_id,
        "selector_prompt": team.selector_prompt,
        "allow_repeated_speaker": team.allow_repeated_speaker,
        "graph_edges": team.graph_edges,
        "layout": team.layout,
        "spec": team_spec(team),
        "draft": saving.get_draft(request.user, team),
    }


def version_out(version: Any) -> dict[str, Any]:
    """A version's metadata."""
    return {
        "number": version.number,
        "content_hash": version.content_hash,
        "note": version.note,
        "created_by": version.created_by.get_username() if version.created_by else None,
        "created_at": version.created_at,
    }


def payload_data(payload: Schema) -> dict[str, Any]:
    """The fields the client actually sent."""
    return payload.model_dump(exclude_unset=True)


# --- Teams ---


@router.get("/teams", response=list[TeamSummary], url_name="teams-list")
def list_teams(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    """Teams you own, that are shared with you, or in the gallery."""
    teams = Team.objects.visible_to(request.user).select_related("owner")
    return [team_summary(team, request) for team in teams]


@router.get("/teams/catalog", response=dict[str, Any], url_name="teams-catalog")
def team_catalog(request: AuthenticatedRequest) -> dict[str, Any]:
    """What the builder lists: the spec's JSON Schema, team and agent kinds, condition
    types with their fields, providers, tools and model presets."""
    return build_catalog()


@router.post("/teams/validate", response=ValidationOut, url_name="teams-validate-spec")
def validate_spec(request: AuthenticatedRequest, payload: SpecCheckIn) -> dict[str, Any]:
    """Every problem a save of this spec would be refused for, each with its path; nothing
    is stored. The builder checks unsaved work with it as it is edited."""
    problems = saving.spec_problems(request.user, payload.spec)
    return {"is_valid": not problems, "problems": [problem.as_dict() for problem in problems]}


@router.post("/teams", response={201: TeamOut}, url_name="teams-create")
def create_team(request: AuthenticatedRequest, payload: TeamIn) -> Status[dict[str, Any]]:
    """Create a team from a whole spec, or from fields (version 1 is saved with it)."""
    data = payload_data(payload)
    if payload.spec is not None:
        team = saving.save_team_spec(request.user, payload.spec, note=payload.note)
        return Status(201, team_out(team, request))
    if not data.get("name"):
        raise ServiceError("The request is not valid.", 422, [Problem("name", "is required")])
    data.pop("note", None)
    data.pop("spec", None)
    team = services.save_team(request.user, data)
    return Status(201, team_out(team, request))


@router.put("/teams/{team_id}/spec", response=TeamOut, url_name="teams-save-spec")
def save_team_spec(
    request: AuthenticatedRequest, team_id: ObjectId, payload: SpecSaveIn
) -> dict[str, Any]:
    """Save a whole spec as the next version: all of it, or nothing and every problem
    (422); 409 when another version was saved after `base_version`."""
    team = get_editable(Team, request, team_id)
    saved = saving.save_team_spec(
        request.user, payload.spec, team, base_version=payload.base_version, note=payload.note
    )
    return team_out(saved, request)


@router.get("/teams/{team_id}/draft", response={200: DraftOut, 204: None}, url_name="teams-draft")
def get_draft(request: AuthenticatedRequest, team_id: ObjectId) -> Any:
    """Your unsaved work on a team (204 when there is none)."""
    draft = saving.get_draft(request.user, get_editable(Team, request, team_id))
    return draft if draft is not None else Status(204, None)


@router.put("/teams/{team_id}/draft", response=DraftOut, url_name="teams-draft-save")
def save_draft(request: AuthenticatedRequest, team_id: ObjectId, payload: DraftIn) -> Any:
    """Keep your unsaved work on a team, valid or not; saving the team clears it."""
    team = get_editable(Team, request, team_id)
    return saving.save_draft(request.user, team, payload.spec, payload.base_version)


@router.delete("/teams/{team_id}/draft", response={204: None}, url_name="teams-draft-delete")
def discard_draft(request: AuthenticatedRequest, team_id: ObjectId) -> Status[None]:
    """Forget your unsaved work on a team."""
    saving.discard_draft(request.user, get_editable(Team, request, team_id))
    return Status(204, None)


@router.post("/teams/import", response=ImportOut, url_name="teams-import")
def import_teams(request: AuthenticatedRequest) -> dict[str, Any]:
    """Import AutoGen component JSON, an AutoGen Studio gallery, or our own export.

    The body is the file's JSON. Each team is saved whole or not at all; the report says
    what happened to every component.
    """
    data = importing.read_document(request.body)
    items = [item.as_dict() for item in importing.import_document(request.user, data)]
    return {
        "imported": sum(item["status"] == "imported" for item in items),
        "failed": sum(item["status"] == "failed" for item in items),
        "items": items,
    }


@router.get("/teams/{team_id}", response=TeamOut, url_name="teams-detail")
def get_team(request: AuthenticatedRequest, team_id: ObjectId) -> dict[str, Any]:
    """One team with its resolved spec."""
    return team_out(get_visible(Team, request, team_id), request)


@router.put("/teams/{team_id}", response=TeamOut, url_name="teams-update")
def update_team(
    request: AuthenticatedRequest, team_id: ObjectId, payload: TeamPatch
) -> dict[str, Any]:
    """Change a team; a new version is saved when its spec changed."""
    team = get_editable(Team, request, team_id)
    return team_out(services.save_team(request.user, payload_data(payload), team), request)


@router.delete("/teams/{team_id}", response={204: None}, url_name="teams-delete")
def delete_team(request: AuthenticatedRequest, team_id: ObjectId) -> Status[None]:
    """Delete a team (owner only)."""
    services.delete_owned(get_owned(Team, request, team_id))
    return Status(204, None)


@router.post("/teams/{team_id}/validate", response=ValidationOut, url_name="teams-validate")
def validate_team(request: AuthenticatedRequest, team_id: ObjectId) -> dict[str, Any]:
    """Every problem that would stop the team from running, each with a path."""
    problems = services.validate_team(get_visible(Team, request, team_id))
    return {"is_valid": not problems, "problems": [problem.as_dict() for problem in problems]}


@router.post("/teams/{team_id}/duplicate", response={201: TeamOut}, url_name="teams-duplicate")
def duplicate_team(request: AuthenticatedRequest, team_id: ObjectId) -> Status[dict[str, Any]]:
    """Copy a team you can see (a gallery team, say) into one you own."""
    team = get_visible(Team, request, team_id)
    copy = services.duplicate_team(request.user, team)
    return Status(201, team_out(copy, request))


def export_filename(team: Team, export_format: str) -> str:
    """`<team name>.<format>.json`, the name kept to what file systems accept."""
    name = " ".join(re.sub(r'[\x00-\x1f\x7f/\\:*?"<>|]', " ", team.name).split()).strip(".")
    return f"{name[:100] or f'team-{team.pk}'}.{export_format}.json"


@router.get("/teams/{team_id}/export", url_name="teams-export")
def export_team(
    request: AuthenticatedRequest,
    team_id: ObjectId,
    response: HttpResponse,
    format: str = "roundtable",
) -> Any:
    """The team as a file named after it: `format=autogen` (AutoGen Studio) or
    `roundtable`."""
    team = get_visible(Team, request, team_id)
    document = importing.export_team(team, format)
    filename = export_filename(team, format)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    return document


@router.get("/teams/{team_id}/versions", response=list[VersionOut], url_name="teams-versions")
def list_versions(request: AuthenticatedRequest, team_id: ObjectId) -> list[dict[str, Any]]:
    """Saved versions, newest first."""
    team = get_visible(Team, request, team_id)
    return [version_out(version) for version in team.versions.select_related("created_by")]


@router.get("/teams/{team_id}/versions/{number}", response=VersionDetail, url_name="teams-version")
def get_version(
    request: AuthenticatedRequest, team_id: ObjectId, number: ObjectId
) -> dict[str, Any]:
    """One version with its spec."""
    version = get_visible(Team, request, team_id).versions.filter(number=number).first()
    if version is None:
        raise Http404
    return {**version_out(version), "spec": version.spec}


@router.get("/teams/{team_id}/versions/{number}/diff", response=DiffOut, url_name="teams-diff")
def diff_version(
    request: AuthenticatedRequest,
    team_id: ObjectId,
    number: ObjectId,
    against: ObjectId | None = None,
) -> dict[str, Any]:
    """What changed from version `against` (default: the one before) to `number`."""
    team = get_visible(Team, request, team_id)
    old_number = against if against is not None else number - 1
    versions = {v.number: v for v in team.versions.filter(number__in=[number, old_number])}
    if number not in versions or old_number not in versions:
        raise Http404
    changes = services.diff_specs(versions[old_number].spec, versions[number].spec)
    return {"old": old_number, "new": number, "changes": changes}


@router.post(
    "/teams/{team_id}/versions/{number}/restore", response=TeamOut, url_name="teams-restore"
)
def restore_version(
    request: AuthenticatedRequest, team_id: ObjectId, number: ObjectId
) -> dict[str, Any]:
    """Make the team match an older version (saved as a new version)."""
    team = get_editable(Team, request, team_id)
    version = team.versions.filter(number=number).first()
    if version is None:
        raise Http404
    return team_out(services.restore_version(request.user, team, version), request)


# --- Agents ---


@router.get("/agents", response=list[AgentOut], url_name="agents-list")
def list_agents(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    """Agents you can see."""
    agents = Agent.objects.visible_to(request.user).select_related("owner")
    return [agent_out(agent, request) for agent in agents]


@router.post("/agents", response={201: AgentOut}, url_name="agents-create")
def create_agent(request: AuthenticatedRequest, payload: AgentIn) -> Status[dict[str, Any]]:
    """Create an agent."""
    return Status(201, agent_out(services.save_agent(request.user, payload_data(payload)), request))


@router.get("/agents/{agent_id}", response=AgentOut, url_name="agents-detail")
def get_agent(request: AuthenticatedRequest, agent_id: ObjectId) -> dict[str, Any]:
    """One agent."""
    return agent_out(get_visible(Agent, request, agent_id), request)


@router.put("/agents/{agent_id}", response=AgentOut, url_name="agents-update")
def update_agent(
    request: AuthenticatedRequest, agent_id: ObjectId, payload: AgentPatch
) -> dict[str, Any]:
    """Change an agent (teams using it get a new version when next saved or run)."""
    agent = get_editable(Agent, request, agent_id)
    return agent_out(services.save_agent(request.user, payload_data(payload), agent), request)


@router.delete("/agents/{agent_id}", response={204: None}, url_name="agents-delete")
def delete_agent(request: AuthenticatedRequest, agent_id: ObjectId) -> Status[None]:
    """Delete an agent no team uses (owner only)."""
    services.delete_owned(get_owned(Agent, request, agent_id))
    return Status(204, None)


# --- Models ---


@router.get("/models", response=list[ModelOut], url_name="models-list")
def list_models(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    """Model configurations you can see."""
    models = list(ModelConfig.objects.visible_to(request.user).select_related("owner"))
    labels = model_labels(models, request.user)
    return [model_out(model, request, labels[model.pk]) for model in models]


@router.post("/models", response={201: ModelOut}, url_name="models-create")
def create_model(request: AuthenticatedRequest, payload: ModelIn) -> Status[dict[str, Any]]:
    """Create a model configuration."""
    return Status(201, model_out(services.save_model(request.user, payload_data(payload)), request))


@router.get("/models/{model_id}", response=ModelOut, url_name="models-detail")
def get_model(request: AuthenticatedRequest, model_id: ObjectId) -> dict[str, Any]:
    """One model configuration."""
    return model_out(get_visible(ModelConfig, request, model_id), request)


@router.put("/models/{model_id}", response=ModelOut, url_name="models-update")
def update_model(
    request: AuthenticatedRequest, model_id: ObjectId, payload: ModelPatch
) -> dict[str, Any]:
    """Change a model configuration."""
    model = get_editable(ModelConfig, request, model_id)
    return model_out(services.save_model(request.user, payload_data(payload), model), request)


@router.delete("/models/{model_id}", response={204: None}, url_name="models-delete")
def delete_model(request: AuthenticatedRequest, model_id: ObjectId) -> Status[None]:
    """Delete a model configuration no agent uses (owner only)."""
    services.delete_owned(get_owned(ModelConfig, request, model_id))
    return Status(204, None)


# --- Credentials ---


@router.get("/credentials", response=list[CredentialOut], url_name="credentials-list")
def list_credentials(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    """Credentials you can use (keys are never shown)."""
    credentials = Credential.objects.visible_to(request.user).select_related("owner")
    return [credential_out(credential, request) for credential in credentials]


@router.post("/credentials", response={201: CredentialOut}, url_name="credentials-create")
def create_credential(
    request: AuthenticatedRequest, payload: CredentialIn
) -> Status[dict[str, Any]]:
    """Create a credential; the key is stored encrypted."""
    credential = services.save_credential(request.user, payload_data(payload))
    return Status(201, credential_out(credential, request))


@router.get("/credentials/{credential_id}", response=CredentialOut, url_name="credentials-detail")
def get_credential(request: AuthenticatedRequest, credential_id: ObjectId) -> dict[str, Any]:
    """One credential (without its key)."""
    return credential_out(get_visible(Credential, request, credential_id), request)


@router.put("/credentials/{credential_id}", response=CredentialOut, url_name="credentials-update")
def update_credential(
    request: AuthenticatedRequest, credential_id: ObjectId, payload: CredentialPatch
) -> dict[str, Any]:
    """Change a credential; omit `api_key` to keep the stored one."""
    credential = get_editable(Credential, request, credential_id)
    saved = services.save_credential(request.user, payload_data(payload), credential)
    return credential_out(saved, request)


@router.delete("/credentials/{credential_id}", response={204: None}, url_name="credentials-delete")
def delete_credential(request: AuthenticatedRequest, credential_id: ObjectId) -> Status[None]:
    """Delete a credential no model uses (owner only)."""
    services.delete_credential(get_owned(Credential, request, credential_id))
    return Status(204, None)


# --- Tools ---


@router.get("/tools", response=list[ToolOut], url_name="tools-list")
def list_tools(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    """Tools registered on the server, with their JSON schemas."""
    return describe_tools()


# --- Sharing ---

SHAREABLE: dict[str, type[Owned]] = {
    "teams": Team,
    "agents": Agent,
    "models": ModelConfig,
    "credentials": Credential,
}


def share_out(share: Share) -> dict[str, Any]:
    """A share."""
    return {
        "id": share.pk,
        "user": share.user.get_username() if share.user else None,
        "group": share.group.name if share.group else None,
        "role": share.role,
    }


def add_share_routes(collection: str, model: type[Owned]) -> None:
    """List, add and remove shares of one kind of object (owner only)."""

    @router.get(
        f"/{collection}/{{object_id}}/shares",
        response=list[ShareOut],
        url_name=f"{collection}-shares",
        operation_id=f"list_{collection}_shares",
    )
    def list_shares(request: AuthenticatedRequest, object_id: ObjectId) -> list[dict[str, Any]]:
        instance = get_owned(model, request, object_id)
        return [share_out(share) for share in instance.shares.select_related("user", "group")]

    @router.post(
        f"/{collection}/{{object_id}}/shares",
        response={201: ShareOut},
        url_name=f"{collection}-share",
        operation_id=f"add_{collection}_share",
    )
    def add_share(
        request: AuthenticatedRequest, object_id: ObjectId, payload: ShareIn
    ) -> Status[dict[str, Any]]:
        instance = get_owned(model, request, object_id)
        share = services.share_object(
            instance, username=payload.user, group_name=payload.group, role=payload.role
        )
        return Status(201, share_out(share))

    @router.delete(
        f"/{collection}/{{object_id}}/shares/{{share_id}}",
        response={204: None},
        url_name=f"{collection}-unshare",
        operation_id=f"remove_{collection}_share",
    )
    def remove_share(
        request: AuthenticatedRequest, object_id: ObjectId, share_id: ObjectId
    ) -> Status[None]:
        instance = get_owned(model, request, object_id)
        deleted, _ = instance.shares.filter(pk=share_id).delete()
        if not deleted:
            raise Http404
        return Status(204, None)

    list_shares.__doc__ = f"Who {collection} of yours are shared with."
    add_share.__doc__ = "Share with a user or a group as viewer or editor."
    remove_share.__doc__ = "Stop sharing."


for _collection, _model in SHAREABLE.items():
    add_share_routes(_collection, _model)
