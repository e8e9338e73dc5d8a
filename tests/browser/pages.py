"""Helpers of the page tests: API calls with the page's session, small scripted teams made
for one test and their runs, and the builder's common moves."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator, Page, expect


def csrf_headers(page: Page) -> dict[str, str]:
    """The header Django wants on the session's unsafe requests."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token}


def api_post(page: Page, path: str, body: dict[str, Any]) -> Any:
    """POST JSON with the page's session; fails the test on an error answer."""
    response = page.request.post(path, data=body, headers=csrf_headers(page))
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def scripted_team(page: Page, name: str, replies: list[str], *, agent: str = "mallory") -> int:
    """A one-agent round robin team on a scripted model, stopping after its replies."""
    model = api_post(
        page,
        "/api/models",
        {"name": f"{name} model", "provider": "scripted", "scripted_replies": replies},
    )
    seat = api_post(page, "/api/agents", {"name": agent, "model": model["id"]})
    termination = {"type": "max_messages", "max_messages": len(replies) + 1}
    team = api_post(
        page, "/api/teams", {"name": name, "participants": [seat["id"]], "termination": termination}
    )
    return int(team["id"])


def finished_run(page: Page, team_id: int, task: str) -> int:
    """Start a run through the API and watch it finish on its page; returns its id."""
    run = api_post(page, "/api/runs", {"team": team_id, "task": task})
    page.goto(f"/runs/{run['id']}/")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    return int(run["id"])


def gallery_team_id(page: Page, name: str) -> int:
    """The id of a demo gallery team."""
    teams = page.request.get("/api/teams").json()
    return next(team["id"] for team in teams if team["name"] == name and team["is_gallery"])


def create_team_from_spec(page: Page, spec: dict[str, Any]) -> int:
    """Save a whole team spec through the API; returns the new team's id."""
    return int(api_post(page, "/api/teams", {"spec": spec})["id"])


def team_spec(
    name: str, names: tuple[str, ...] = ("alpha", "beta"), **fields: Any
) -> dict[str, Any]:
    """A round-robin spec of scripted assistants (each "You are <name>.", stopping after four
    messages); `fields` replace or add top-level fields (kind, graph, layout…)."""
    model = {"name": f"{name} model", "provider": "scripted", "scripted_replies": ["Done."]}
    spec = {
        "name": name,
        "kind": "round_robin",
        "participants": [
            {
                "kind": "assistant",
                "name": agent,
                "system_message": f"You are {agent}.",
                "model": model,
            }
            for agent in names
        ],
        "termination": {"type": "max_messages", "max_messages": 4},
    }
    return spec | fields


def create_team(page: Page, name: str, names: tuple[str, ...] = ("alpha", "beta")) -> int:
    """A team saved from `team_spec(name, names)`; returns its id."""
    return create_team_from_spec(page, team_spec(name, names))


def create_empty_team(page: Page, name: str, kind: str = "round_robin") -> int:
    """A team with no participants and no termination; returns its id."""
    return int(api_post(page, "/api/teams", {"name": name, "kind": kind})["id"])


def stored_team(page: Page, team_id: int) -> dict[str, Any]:
    """The team as the API serves it, spec and version included."""
    response = page.request.get(f"/api/teams/{team_id}")
    assert response.ok, response.text()
    return dict(response.json())


def open_builder(page: Page, team_id: int) -> None:
    """Open a team in the builder and wait for its canvas."""
    page.goto(f"/teams/{team_id}/")
    expect(page.get_by_test_id("team-node")).to_be_visible()


def palette(page: Page) -> Locator:
    """The builder's palette of things to drag onto the canvas."""
    return page.get_by_role("complementary", name="Palette")


def save_new_version(page: Page, version: int = 2) -> None:
    """Press Save in the builder and wait for the notice of the new version."""
    page.get_by_role("button", name="Save").click()
    expect(
        page.get_by_role("status").filter(has_text=f"Saved as version {version}")
    ).to_be_visible()


def rename_agent(page: Page, agent: str, new_name: str) -> Locator:
    """Select an agent on the canvas and type a new name; returns the name field."""
    page.get_by_label(f"Agent {agent}").click()
    name = page.get_by_label("Name", exact=True)
    name.fill(new_name)
    return name
