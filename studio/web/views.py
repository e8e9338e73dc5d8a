"""The pages. Each view authorizes through the models' scoped querysets and renders a
template; the interactive parts are React islands that talk to the JSON API, whose URLs
reach them through data-* attributes."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from studio.runs import services as run_services
from studio.runs.models import Run, Status, is_reviewer
from studio.teams.models import AgentKind, Team, TeamKind
from studio.teams.services import diff_specs


def api_url(name: str, **kwargs: Any) -> str:
    """The path of a named API route."""
    return reverse(f"api:{name}", kwargs=kwargs or None)


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """Every team the user may see: their own and shared ones first, then the gallery."""
    teams = (
        Team.objects.visible_to(request.user)
        .select_related("owner")
        .annotate(seat_count=Count("members", distinct=True))
        .order_by("is_gallery", "name", "pk")
    )
    context = {
        "nav": "teams",
        "own_teams": [team for team in teams if not team.is_gallery],
        "gallery_teams": [team for team in teams if team.is_gallery],
        "team_kinds": TeamKind.choices,
        "teams_url": api_url("teams-list"),
        "import_url": api_url("teams-import"),
    }
    return render(request, "web/team_list.html", context)


@login_required
def team_builder(request: HttpRequest, pk: int) -> HttpResponse:
    """The canvas editor of one team (read-only for teams the user may only see)."""
    team = get_object_or_404(Team.objects.visible_to(request.user), pk=pk)
    export_url = api_url("teams-export", team_id=team.pk)
    urls = {
        "team_url": api_url("teams-detail", team_id=team.pk),
        "validate_url": api_url("teams-validate", team_id=team.pk),
        "duplicate_url": api_url("teams-duplicate", team_id=team.pk),
        "export_url": f"{export_url}?format=roundtable",
        "export_autogen_url": f"{export_url}?format=autogen",
        "agents_url": api_url("agents-list"),
        "models_url": api_url("models-list"),
        "tools_url": api_url("tools-list"),
        "teams_url": api_url("teams-list"),
        "runs_url": api_url("runs-create"),
        "run_page_base": reverse("web-run-list"),
        "builder_base": reverse("web-team-list") + "teams/",
        "team_list_url": reverse("web-team-list"),
        # the owner's Share dialog (frontend/src/sharing) lists and adds shares here
        "shares_url": api_url("teams-shares", object_id=team.pk),
    }
    context = {"nav": "teams", "team": team, "urls": urls}
    return render(request, "web/team_builder.html", context)


def human_names(spec: dict[str, Any]) -> list[str]:
    """Names of the human seats in a team spec (nested teams included)."""
    return [agent["name"] for agent in speaking_agents(spec) if agent["is_human"]]


def speaking_agents(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The agents of a team spec who can speak, nested teams' included, in spec order:
    ``{"name": ..., "is_human": ...}`` each (the run view's conversation graph)."""
    agents = []
    for agent in spec.get("participants") or []:
        if isinstance(agent.get("team"), dict):
            agents.extend(speaking_agents(agent["team"]))
        else:
            is_human = agent.get("kind") == AgentKind.USER_PROXY
            agents.append({"name": agent.get("name", ""), "is_human": is_human})
    return agents


@login_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The live view of one run."""
    run = get_object_or_404(
        Run.objects.visible_to(request.user).select_related("team", "team_version"), pk=pk
    )
    context = {
        "nav": "runs",
        "run": run,
        "can_steer": run_services.can_steer(request.user, run.pk),
        "human_names": human_names(run.team_version.spec),
        "agents": speaking_agents(run.team_version.spec),
        "socket_path": f"/ws/runs/{run.pk}/",
        "urls": {
            "input_url": api_url("runs-input", run_id=run.pk),
            "stop_url": api_url("runs-stop", run_id=run.pk),
            "interject_url": api_url("runs-interject", run_id=run.pk),
            "continue_url": api_url("runs-continue", run_id=run.pk),
            "fork_url": api_url("runs-fork", run_id=run.pk),
            "team_url": reverse("web-team-builder", args=[run.team_id]),
            "history_url": reverse("web-run-list"),
        },
        # The review console lives in the admin, which staff reviewers can open.
        "review_url": reverse("admin:runs_run_change", args=[run.pk])
        if request.user.is_staff and is_reviewer(request.user)
        else "",
    }
    return render(request, "web/run_detail.html", context)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    """Past and current runs with filters; the list itself loads from the API."""
    teams = Team.objects.visible_to(request.user).order_by("name", "pk").values("pk", "name")
    context = {
        "nav": "runs",
        "teams": list(teams),
        "statuses": Status.choices,
        "filters": {
            "team": request.GET.get("team", ""),
            "status": request.GET.get("status", ""),
            "q": request.GET.get("q", ""),
        },
        "runs_url": api_url("runs-list"),
    }
    return render(request, "web/run_list.html", context)


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    """Models and credentials: where provider keys are entered and attached to models."""
    context = {
        "nav": "models",
        "models_url": api_url("models-list"),
        "credentials_url": api_url("credentials-list"),
    }
    return render(request, "web/model_list.html", context)


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """Your API tokens, and who your teams, models and credentials are shared with."""
    context = {
        "nav": "settings",
        "tokens_url": api_url("tokens-list"),
        "teams_url": api_url("teams-list"),
        "models_url": api_url("models-list"),
        "credentials_url": api_url("credentials-list"),
        "api_docs_url": reverse("api:openapi-view"),
    }
    return render(request, "web/settings.html", context)


def as_text(value: Any) -> str | None:
    """A spec value as people read it: strings as they are, the rest as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def compare_summary(run: Run) -> dict[str, Any]:
    """What the comparison page shows about one run before its events load."""
    return {
        "id": run.pk,
        "team": run.team.name,
        "version": run.team_version.number,
        "task": run.task,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "total_tokens": run.total_tokens,
        "cost_usd": run.cost_usd,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "events_url": api_url("runs-events", run_id=run.pk),
        "page_url": reverse("web-run-detail", args=[run.pk]),
    }


@login_required
def run_compare(request: HttpRequest) -> HttpResponse:
    """Two runs side by side, with the differences between the team versions they ran."""
    visible = Run.objects.visible_to(request.user).select_related("team", "team_version")
    try:
        ids = [int(request.GET["a"]), int(request.GET["b"])]
    except (KeyError, ValueError):
        messages.info(request, "Tick two runs in the list, then press Compare selected runs.")
        return redirect("web-run-list")
    first, second = (get_object_or_404(visible, pk=pk) for pk in ids)
    changes = [
        {"path": change["path"], "old": as_text(change["old"]), "new": as_text(change["new"])}
        for change in diff_specs(first.team_version.spec, second.team_version.spec)
    ]
    context = {
        "nav": "runs",
        "runs": [first, second],
        "summaries": [compare_summary(first), compare_summary(second)],
        "changes": changes,
        "same_version": first.team_version_id == second.team_version_id,
    }
    return render(request, "web/run_compare.html", context)
