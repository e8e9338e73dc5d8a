"""The permission matrix: every route of the URL conf, every operation of the API schema
and every websocket route, tried by every persona.

Each route names its policy in ROUTES below; the expected answer of each persona follows
from the policy. A route that is added without an entry here fails
`test_every_route_has_a_policy`, so nothing reaches users unexamined.

Personas: anonymous; stranger (logged in, nothing shared); viewer and editor (the owner's
objects shared with them in that role); owner; staff (is_staff, nothing shared); reviewer
(in a group holding the runs' review permission when it exists, nothing shared).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from studio.accounts.models import ApiToken
from studio.api import api
from studio.runs.models import Run
from studio.runs.routing import websocket_urlpatterns
from studio.teams import services
from studio.teams.models import Role, Share
from tests.studio.conftest import make_user

PERSONAS = ("anonymous", "stranger", "viewer", "editor", "owner", "staff", "reviewer")
SIGNED_IN = PERSONAS[1:]
#: Who may do what under each policy ("login": anyone signed in).
POLICIES: dict[str, tuple[str, ...]] = {
    "public": PERSONAS,
    "login": SIGNED_IN,
    "view": ("viewer", "editor", "owner"),
    "edit": ("editor", "owner"),
    "own": ("owner",),
    # Things nobody shares (API tokens): everyone else is told they do not exist.
    "self": ("owner",),
    "staff": ("staff",),
    # Runs: reviewers (staff, holders of runs.review_run) read every run and review it.
    "read": ("viewer", "editor", "owner", "staff", "reviewer"),
    "review": ("staff", "reviewer"),
    "nobody": (),
}


@dataclass(frozen=True)
class Route:
    """One row of the matrix: how to call it and which policy guards it."""

    policy: str
    body: Any = None


# Every API operation, by "METHOD /path" as the OpenAPI schema names it.
API_ROUTES: dict[str, Route] = {
    "GET /api/teams": Route("login"),
    "POST /api/teams": Route("login", {"name": "New team"}),
    "POST /api/teams/import": Route("login", {"not": "a team"}),
    "GET /api/teams/catalog": Route("login"),
    "POST /api/teams/validate": Route("login", {"spec": {"name": "Unsaved"}}),
    "GET /api/teams/{team_id}": Route("view"),
    "PUT /api/teams/{team_id}/spec": Route("edit", {"spec": {"name": "Renamed"}}),
    "GET /api/teams/{team_id}/draft": Route("edit"),
    "PUT /api/teams/{team_id}/draft": Route("edit", {"spec": {"name": "Work in progress"}}),
    "DELETE /api/teams/{team_id}/draft": Route("edit"),
    "PUT /api/teams/{team_id}": Route("edit", {"description": "changed"}),
    "DELETE /api/teams/{team_id}": Route("own"),
    "POST /api/teams/{team_id}/validate": Route("view"),
    "POST /api/teams/{team_id}/duplicate": Route("view"),
    "GET /api/teams/{team_id}/export": Route("view"),
    "GET /api/teams/{team_id}/versions": Route("view"),
    "GET /api/teams/{team_id}/versions/{number}": Route("view"),
    "GET /api/teams/{team_id}/versions/{number}/diff": Route("view"),
    "POST /api/teams/{team_id}/versions/{number}/restore": Route("edit"),
    "GET /api/agents": Route("login"),
    "POST /api/agents": Route("login", {"name": "new_agent"}),
    "GET /api/agents/{agent_id}": Route("view"),
    "PUT /api/agents/{agent_id}": Route("edit", {"description": "changed"}),
    "DELETE /api/agents/{agent_id}": Route("own"),
    "GET /api/models": Route("login"),
    "POST /api/models": Route(
        "login", {"name": "m", "provider": "scripted", "scripted_replies": ["hi"]}
    ),
    "GET /api/models/{model_id}": Route("view"),
    "PUT /api/models/{model_id}": Route("edit", {"name": "renamed"}),
    "DELETE /api/models/{model_id}": Route("own"),
    "GET /api/credentials": Route("login"),
    "POST /api/credentials": Route("login", {"name": "c", "provider": "openai", "api_key": "k"}),
    "GET /api/credentials/{credential_id}": Route("view"),
    "PUT /api/credentials/{credential_id}": Route("edit", {"name": "renamed"}),
    "DELETE /api/credentials/{credential_id}": Route("own"),
    "GET /api/tools": Route("login"),
    "GET /api/runs": Route("login"),
    "POST /api/runs": Route("view", {"team": "{team_id}", "task": "Plan a picnic"}),
    "GET /api/runs/{run_id}": Route("read"),
    "GET /api/runs/{run_id}/events": Route("read"),
    "GET /api/runs/{run_id}/export": Route("read"),
    "GET /api/runs/{run_id}/reviews": Route("read"),
    "POST /api/runs/{run_id}/reviews": Route("review", {"verdict": "good", "tags": ["ok"]}),
    "POST /api/runs/{run_id}/flag": Route("read", {"reason": "odd answer"}),
    "GET /api/runs/{run_id}/comments": Route("read"),
    "POST /api/runs/{run_id}/comments": Route("review", {"seq": 1, "text": "Why this?"}),
    "GET /api/review-queue": Route("review"),
    "POST /api/runs/{run_id}/input": Route("edit", {"request_id": "r1", "content": "yes"}),
    "POST /api/runs/{run_id}/stop": Route("edit"),
    "POST /api/runs/{run_id}/interject": Route("edit", {"content": "also this"}),
    "POST /api/runs/{run_id}/continue": Route("edit", {"task": "more"}),
    "POST /api/runs/{run_id}/fork": Route("edit", {"from_seq": 1}),
    "GET /api/tokens": Route("login"),
    "POST /api/tokens": Route("login", {"name": "script"}),
    "DELETE /api/tokens/{token_id}": Route("self"),
}
for kind in ("teams", "agents", "models", "credentials"):
    API_ROUTES[f"GET /api/{kind}/{{object_id}}/shares"] = Route("own")
    API_ROUTES[f"POST /api/{kind}/{{object_id}}/shares"] = Route(
        "own", {"user": "rita", "role": "viewer"}
    )
    API_ROUTES[f"DELETE /api/{kind}/{{object_id}}/shares/{{share_id}}"] = Route("own")

# Every other route of the URL conf, by its name (admin routes by their pattern).
PAGE_ROUTES: dict[str, Route] = {
    "login": Route("public"),
    "logout": Route("public"),
    "web-team-list": Route("login"),
    "web-team-builder": Route("view"),
    "web-run-list": Route("login"),
    "web-run-detail": Route("read"),
    "web-run-compare": Route("read"),
    "web-model-list": Route("login"),
    "web-settings": Route("login"),
    "web-static": Route("public"),
    "health": Route("public"),
    "runs-stats": Route("review"),
    "api:openapi-json": Route("login"),
    "api:openapi-view": Route("login"),
    "api:api-root": Route("nobody"),
}
ADMIN_PUBLIC = {"admin:login", "admin:logout", "admin:password_reset_done"}
#: Websocket routes, by name.
SOCKET_ROUTES: dict[str, Route] = {"runs-socket": Route("read")}


def iter_patterns(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    """(route, name) of every URL pattern, nested includes flattened."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from iter_patterns(pattern.url_patterns, route, inner)
        else:
            yield route, f"{namespace}{pattern.name}" if pattern.name else route


def schema_operations() -> set[str]:
    schema = api.get_openapi_schema()
    return {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}


def url_conf_routes() -> dict[str, str]:
    """Non-API routes by name: the API is covered operation by operation from its schema."""
    routes = {}
    for route, name in iter_patterns(get_resolver().url_patterns):
        if route.startswith("api/") and name not in PAGE_ROUTES:
            continue
        if route.startswith("^api/"):
            continue  # the API's JSON 404 for unknown paths
        routes[name] = route
    return routes


def test_every_route_has_a_policy() -> None:
    operations = schema_operations()
    assert operations - API_ROUTES.keys() == set(), "API operations without a policy"
    assert API_ROUTES.keys() - operations == set(), "policies for API operations that are gone"
    pages = {name for name, route in url_conf_routes().items() if not route.startswith("admin/")}
    assert pages - PAGE_ROUTES.keys() == set(), "routes without a policy"
    assert PAGE_ROUTES.keys() - pages == set(), "policies for routes that are gone"
    sockets = {pattern.name for pattern in websocket_urlpatterns}
    assert sockets == SOCKET_ROUTES.keys()


# --- The world every cell runs in ---


@dataclass
class World:
    clients: dict[str, Client]
    ids: dict[str, Any]
    owner: User


def share_all(objects: list[Any], viewer: User, editor: User) -> None:
    for item in objects:
        item.share_with(user=viewer, role=Role.VIEWER)
        item.share_with(user=editor, role=Role.EDITOR)


def build_world() -> World:
    owner, viewer, editor = make_user("olivia"), make_user("vera"), make_user("eddie")
    stranger, staff, reviewer = make_user("sam"), make_user("stella"), make_user("remy")
    make_user("rita")  # someone to share with
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    reviewers = Group.objects.create(name="reviewers")
    reviewers.permissions.set(Permission.objects.filter(codename="review_run"))
    reviewer.groups.add(reviewers)
    credential = services.save_credential(
        owner, {"name": "key", "provider": "openai", "api_key": "sk-canary"}
    )
    model = services.save_model(
        owner, {"name": "m", "provider": "scripted", "scripted_replies": ["Done. APPROVE"] * 9}
    )
    agent = services.save_agent(owner, {"name": "writer", "model": model.pk})
    team = services.save_team(
        owner,
        {
            "name": "Drafting",
            "participants": [agent.pk],
            "termination": {"type": "max_messages", "max_messages": 2},
        },
    )
    team = services.save_team(owner, {"description": "second version"}, team)
    share_all([credential, model, agent, team], viewer, editor)
    version = team.latest_version()
    run = Run.objects.create(
        team=team, team_version=version, task="t", started_by=owner, status="completed"
    )
    token, _ = ApiToken.objects.issue(owner, name="script")
    clients = {"anonymous": Client()}
    for name, user in {
        "stranger": stranger,
        "viewer": viewer,
        "editor": editor,
        "owner": owner,
        "staff": staff,
        "reviewer": reviewer,
    }.items():
        clients[name] = Client()
        clients[name].force_login(user)
    ids = {
        "team_id": team.pk,
        "agent_id": agent.pk,
        "model_id": model.pk,
        "credential_id": credential.pk,
        "run_id": run.pk,
        "token_id": token.pk,
        "number": version.number,
        "kinds": {"teams": team, "agents": agent, "models": model, "credentials": credential},
    }
    return World(clients, ids, owner)


def fill(template: str, world: World, share_id: int = 0) -> str:
    kind = template.split("/")[2] if template.startswith("/api/") else ""
    values = {**world.ids, "share_id": share_id}
    if kind in world.ids["kinds"]:
        values["object_id"] = world.ids["kinds"][kind].pk
    return re.sub(r"\{(\w+)\}", lambda match: str(values[match.group(1)]), template)


def fill_body(body: Any, world: World) -> Any:
    if isinstance(body, dict):
        return {key: fill_body(value, world) for key, value in body.items()}
    if body == "{team_id}":
        return world.ids["team_id"]
    return body


def is_denied(persona: str, status: int, location: str = "") -> bool:
    return status in (401, 403, 404) or (status == 302 and "login" in location)


def expected_denial(persona: str, policy: str, template: str = "") -> tuple[int, ...]:
    """The statuses a persona the policy refuses may see: strangers never learn an object
    exists (404); people who can see it learn they may not change it (403). Reviewers see
    every run, so a run they may not steer answers them 403."""
    if persona == "anonymous":
        return (401,)
    if policy == "self":
        return (404,)
    if "{" not in template and policy in ("login", "staff", "review"):
        return (403,)
    seers = POLICIES["read"] if "{run_id}" in template else POLICIES["view"]
    if policy in ("view", "edit", "own", "read", "review") and persona not in seers:
        return (404,)
    return (403,)


# --- The API, one test per operation, every persona in it ---


@pytest.mark.django_db
@pytest.mark.parametrize("operation", sorted(API_ROUTES))
def test_api_operation_answers_every_persona_by_its_policy(operation: str) -> None:
    world = build_world()
    method, template = operation.split(" ", 1)
    route = API_ROUTES[operation]
    problems = []
    # The owner goes last: their DELETE or restore changes what the others would see.
    for persona in sorted(PERSONAS, key=lambda name: name == "owner"):
        share_id = 0
        if "{share_id}" in template:
            kind = template.split("/")[2]
            target = world.ids["kinds"][kind]
            share_id = (
                Share.objects.filter(object_id=target.pk, user__username="vera")
                .values_list("pk", flat=True)
                .filter(content_type__model=target._meta.model_name)
                .first()
            )
        path = fill(template, world, share_id)
        body = fill_body(route.body, world)
        call = getattr(world.clients[persona], method.lower())
        response = call(path) if body is None else call(path, body, content_type="application/json")
        allowed = persona in POLICIES[route.policy]
        status = response.status_code
        if status >= 500:
            problems.append(f"{persona}: {status}")
        elif allowed and is_denied(persona, status):
            problems.append(f"{persona}: refused with {status}, policy {route.policy} allows")
        elif not allowed and status not in expected_denial(persona, route.policy, template):
            wanted = expected_denial(persona, route.policy, template)
            problems.append(f"{persona}: {status}, expected {wanted} ({route.policy})")
    assert problems == []


# --- Pages ---


def page_path(name: str, route: str, world: World) -> str:
    if name == "web-team-builder":
        return f"/teams/{world.ids['team_id']}/"
    if name == "web-run-detail":
        return f"/runs/{world.ids['run_id']}/"
    if name == "web-static":
        return "/static/css/roundtable.css"
    if name == "web-run-compare":
        return f"/runs/compare/?a={world.ids['run_id']}&b={world.ids['run_id']}"
    return "/" + re.sub(r"^\^|\$$", "", route)


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(PAGE_ROUTES))
def test_page_answers_every_persona_by_its_policy(name: str) -> None:
    world = build_world()
    route = PAGE_ROUTES[name]
    path = page_path(name, url_conf_routes()[name], world)
    problems = []
    for persona in PERSONAS:
        client = world.clients[persona]
        response = client.post(path) if name == "logout" else client.get(path)
        status, location = response.status_code, response.get("Location", "")
        allowed = persona in POLICIES[route.policy]
        if status >= 500:
            problems.append(f"{persona}: {status}")
        elif allowed and is_denied(persona, status, location) and name != "logout":
            problems.append(f"{persona}: refused with {status}")
        elif not allowed and not is_denied(persona, status, location):
            problems.append(f"{persona}: allowed with {status}")
        elif not allowed and persona != "anonymous" and route.policy != "login" and status != 404:
            # Someone a thing is not shared with must not learn that it exists.
            problems.append(f"{persona}: {status}, expected 404 for someone it is not shared with")
    assert problems == []


@pytest.mark.django_db
def test_the_admin_lets_in_staff_only() -> None:
    world = build_world()
    routes = {
        name: route for name, route in url_conf_routes().items() if route.startswith("admin/")
    }
    assert routes, "the admin has routes"
    problems = []
    for name, route in routes.items():
        if name in ADMIN_PUBLIC or "<" in route or "(?P<" in route:
            continue
        path = "/" + route.lstrip("^").rstrip("$")
        for persona in ("anonymous", "stranger", "owner", "reviewer"):
            response = world.clients[persona].get(path)
            if not (response.status_code == 302 and "/admin/login/" in response["Location"]):
                problems.append(f"{name} {persona}: {response.status_code}")
        staff = world.clients["staff"].get(path)
        if staff.status_code >= 500:
            problems.append(f"{name} staff: {staff.status_code}")
    assert problems == []


# --- The run socket ---


@pytest.mark.django_db(transaction=True)
async def test_the_run_socket_answers_every_persona_by_its_policy() -> None:
    from asgiref.sync import sync_to_async

    from tests.studio.runs.conftest import open_socket

    world = await sync_to_async(build_world)()
    users = {user.username: user async for user in User.objects.all()}
    names = {
        "stranger": "sam",
        "viewer": "vera",
        "editor": "eddie",
        "owner": "olivia",
        "staff": "stella",
        "reviewer": "remy",
    }
    outcome = {}
    for persona in PERSONAS:
        user = users[names[persona]] if persona in names else None
        connected, socket = await open_socket(world.ids["run_id"], user)
        outcome[persona] = connected
        if connected:
            await socket.disconnect()
    expected = {
        persona: persona in POLICIES[SOCKET_ROUTES["runs-socket"].policy] for persona in PERSONAS
    }
    assert outcome == expected
