"""Helpers of the page tests: API calls with the page's session, and runs of small
scripted teams made for one test."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect


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
