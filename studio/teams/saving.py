"""Saving a whole team spec at once, and keeping unsaved work as a draft.

A save is all or nothing: the spec is validated first (every problem with its path, a
422 that changes nothing), then the team, its agents and its models are written in one
transaction and one new version is recorded. A save names the version it started from
(`base_version`); when someone saved in between it is refused with a 409 that says who
and when, so two tabs never overwrite each other. Drafts hold any JSON, valid or not,
per user and team, until the user saves or discards them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from pydantic import ValidationError

from studio.errors import Problem, ServiceError
from studio.inputs import json_problem
from studio.teams.models import Credential, ModelConfig, Team, TeamDraft, TeamVersion
from studio.teams.services import snapshot_team
from studio.teams.spec import AssistantSpec, ModelSpec, NestedTeamSpec, TeamSpec
from studio.teams.validation import validate_spec
from studio.teams.writing import apply_team_spec

GALLERY_REFUSAL = "This is in the gallery, which nobody changes: make an editable copy."
#: The largest draft kept, in characters of JSON.
MAX_DRAFT_CHARS = 2_000_000


def refuse_gallery(item: Any) -> None:
    """Gallery objects are read-only for everyone, staff included."""
    if getattr(item, "is_gallery", False):
        raise ServiceError(GALLERY_REFUSAL, 403)


def stale_base(latest: TeamVersion, base_version: int) -> ServiceError:
    """The 409 for a save that started from an older version than the latest."""
    who = latest.created_by.get_username() if latest.created_by else "someone"
    when = latest.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return ServiceError(
        f"{who} saved version {latest.number} at {when}, after version {base_version} "
        "that your changes start from. Reload to see it (your draft keeps your work).",
        409,
        [Problem("base_version", f"the latest version is {latest.number}")],
    )


def model_paths(team: TeamSpec, path: str = "") -> list[tuple[str, ModelSpec]]:
    """Every model of a team with its path in the spec."""
    at = f"{path}." if path else ""
    found = []
    if team.selector is not None and team.selector.model is not None:
        found.append((f"{at}selector.model", team.selector.model))
    for index, agent in enumerate(team.participants):
        where = f"{at}participants[{index}]"
        if isinstance(agent, AssistantSpec | NestedTeamSpec) and agent.model is not None:
            found.append((f"{where}.model", agent.model))
        if isinstance(agent, NestedTeamSpec):
            found.extend(model_paths(agent.team, f"{where}.team"))
    return found


def credential_problems(user: User, spec: TeamSpec) -> list[Problem]:
    """Models may only name credentials their author can use."""
    models = [(path, model) for path, model in model_paths(spec) if model.credential]
    wanted = {model.credential for _, model in models}
    usable = set(
        Credential.objects.visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True)
    )
    return [
        Problem(f"{path}.credential", f"no credential with id {model.credential} that you can use")
        for path, model in models
        if model.credential not in usable
    ]


def without_foreign_model_ids(user: User, data: Any) -> Any:
    """The spec with the ids of models the user cannot see removed: such a model is saved
    as a new one of theirs, and checked as theirs (whose URL a shared key may follow
    depends on who owns the model, so a borrowed id must not vouch for it)."""
    try:
        spec = TeamSpec.model_validate(data)
    except ValidationError:
        return data  # validation reports what is wrong; nothing is saved
    models = [model for _, model in model_paths(spec) if model.id is not None]
    visible = set(
        ModelConfig.objects.visible_to(user)
        .filter(pk__in=[model.id for model in models])
        .values_list("pk", flat=True)
    )
    for model in models:
        if model.id not in visible:
            model.id = None
    return spec.model_dump()


def spec_problems(user: User, data: Any) -> list[Problem]:
    """Every problem a save of `data` by `user` would be refused for (nothing is stored):
    the spec's own, then the credentials its models name."""
    data = without_foreign_model_ids(user, data)
    problems = validate_spec(data)
    if problems:
        return problems
    return credential_problems(user, TeamSpec.model_validate(data))


@transaction.atomic
def save_team_spec(
    user: User,
    data: Any,
    team: Team | None = None,
    *,
    base_version: int | None = None,
    note: str = "",
) -> Team:
    """Write a whole spec as the team's next version, or refuse and change nothing."""
    if team is not None:
        team = Team.objects.select_for_update().get(pk=team.pk)
        refuse_gallery(team)
        latest = team.latest_version()
        if latest is not None and base_version is None:
            raise ServiceError(
                "Say which version your changes start from, so that a save cannot "
                "overwrite one made meanwhile.",
                422,
                [Problem("base_version", f"is required (the latest version is {latest.number})")],
            )
        if latest is not None and base_version is not None and latest.number != base_version:
            raise stale_base(latest, base_version)
    data = without_foreign_model_ids(user, data)
    problems = spec_problems(user, data)
    if problems:
        raise ServiceError("The team has problems, so nothing was saved.", 422, problems)
    spec = TeamSpec.model_validate(data)
    written = apply_team_spec(user, spec.model_dump(), team=team, reuse_ids=True)
    snapshot_team(written, user, note=note)
    TeamDraft.objects.filter(team=written, user=user).delete()
    return written


def save_draft(user: User, team: Team, data: Any, base_version: int | None) -> TeamDraft:
    """Keep the user's unsaved work on a team, whatever state it is in."""
    refuse_gallery(team)
    problem = json_problem(data, "spec")
    if problem is not None:
        raise ServiceError("The draft cannot be stored.", 422, [Problem(*problem)])
    if len(str(data)) > MAX_DRAFT_CHARS:
        raise ServiceError(f"A draft holds at most {MAX_DRAFT_CHARS} characters.", 413)
    draft, _ = TeamDraft.objects.update_or_create(
        team=team, user=user, defaults={"spec": data, "base_version": base_version}
    )
    return draft


def get_draft(user: User, team: Team) -> TeamDraft | None:
    """The user's draft of a team, if they have one."""
    return TeamDraft.objects.filter(team=team, user=user).first()


def discard_draft(user: User, team: Team) -> None:
    """Forget the user's draft of a team."""
    TeamDraft.objects.filter(team=team, user=user).delete()
