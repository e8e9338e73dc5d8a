"""The runs JSON API: create, list, read, steer; personas on every endpoint."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient

from studio.runs.models import Status
from studio.teams.models import Team
from tests.studio.runs.conftest import EDITOR, VIEWER, chatty_team, wait_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]

STEERING = ["input", "stop", "interject", "continue", "fork"]


async def client_for(user: User) -> AsyncClient:
    client = AsyncClient()
    await client.aforce_login(user)
    return client


async def start_over_api(client: AsyncClient, team_id: int, task: str, **extra: object) -> dict:
    response = await client.post(
        "/api/runs", {"team": team_id, "task": task, **extra}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


async def test_a_run_started_over_the_api_completes_and_its_events_can_be_paged(
    owner: User,
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    client = await client_for(owner)
    created = await start_over_api(client, team.pk, "Say hello", budget={"tokens": 5000})
    assert created["status"] == "queued" and created["budget"] == {"tokens": 5000, "usd": None}
    await wait_finished(created["id"])
    detail = (await client.get(f"/api/runs/{created['id']}")).json()
    assert detail["status"] == "completed" and detail["can_steer"] is True
    assert detail["total_tokens"] > 0 and detail["version_number"] == 1
    events = (await client.get(f"/api/runs/{created['id']}/events?after=2")).json()
    assert events[0]["seq"] == 3
    assert [e["seq"] for e in events] == list(range(3, 3 + len(events)))
    assert events[-1]["type"] == "run.finished"


async def test_runs_are_listed_with_team_status_and_text_filters(owner: User) -> None:
    first = await sync_to_async(chatty_team)(owner, turns=2)
    second = await sync_to_async(chatty_team)(owner, turns=2)
    client = await client_for(owner)
    one = await start_over_api(client, first.pk, "Find the walrus")
    two = await start_over_api(client, second.pk, "Count the penguins")
    await wait_finished(one["id"])
    await wait_finished(two["id"])
    by_team = (await client.get(f"/api/runs?team={first.pk}")).json()
    assert [run["id"] for run in by_team] == [one["id"]]
    by_text = (await client.get("/api/runs?q=penguins")).json()
    assert [run["id"] for run in by_text] == [two["id"]]
    by_reply = (await client.get("/api/runs?q=here is more")).json()
    assert {run["id"] for run in by_reply} == {one["id"], two["id"]}
    assert (await client.get("/api/runs?status=failed")).json() == []
    assert (await client.get("/api/runs?status=sleeping")).status_code == 422


async def test_a_stranger_gets_404_from_every_run_endpoint(owner: User, stranger: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await start_over_api(await client_for(owner), team.pk, "Private matters")
    await wait_finished(run["id"])
    client = await client_for(stranger)
    assert (await client.get(f"/api/runs/{run['id']}")).status_code == 404
    assert (await client.get(f"/api/runs/{run['id']}/events")).status_code == 404
    assert (await client.get("/api/runs")).json() == []
    bodies = {
        "input": {"request_id": "x", "content": "y"},
        "interject": {"content": "hi"},
        "fork": {"from_seq": 2},
        "continue": {},
        "stop": {},
    }
    for action in STEERING:
        response = await client.post(
            f"/api/runs/{run['id']}/{action}", bodies[action], content_type="application/json"
        )
        assert response.status_code == 404, action
    response = await client.post(
        "/api/runs", {"team": team.pk, "task": "mine now"}, content_type="application/json"
    )
    assert response.status_code == 404


async def test_a_viewer_reads_but_cannot_steer_and_an_editor_can(
    owner: User, teammate: User, stranger: User
) -> None:
    team = await sync_to_async(chatty_team)(
        owner, turns=2, shared_with={teammate: VIEWER, stranger: EDITOR}
    )
    run = await start_over_api(await client_for(owner), team.pk, "Shared work")
    await wait_finished(run["id"])
    viewer = await client_for(teammate)
    assert (await viewer.get(f"/api/runs/{run['id']}")).json()["can_steer"] is False
    response = await viewer.post(
        f"/api/runs/{run['id']}/continue", {"task": "more"}, content_type="application/json"
    )
    assert response.status_code == 403
    editor = await client_for(stranger)
    response = await editor.post(
        f"/api/runs/{run['id']}/continue", {"task": "more"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (await wait_finished(run["id"])).status == Status.COMPLETED


async def test_input_for_a_request_that_is_not_pending_is_a_clear_409(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    client = await client_for(owner)
    run = await start_over_api(client, team.pk, "No humans here")
    await wait_finished(run["id"])
    response = await client.post(
        f"/api/runs/{run['id']}/input",
        {"request_id": "abc", "content": "hello"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert "not pending" in response.json()["message"]


async def test_a_fork_over_the_api_starts_a_new_run_from_a_message(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    client = await client_for(owner)
    run = await start_over_api(client, team.pk, "Branch out")
    await wait_finished(run["id"])
    events = (await client.get(f"/api/runs/{run['id']}/events")).json()
    reply = next(e for e in events if e["type"] == "message" and e["source"] == "writer")
    response = await client.post(
        f"/api/runs/{run['id']}/fork",
        {"from_seq": reply["seq"], "edited_content": "A different idea"},
        content_type="application/json",
    )
    assert response.status_code == 201
    fork = response.json()
    assert fork["parent"] == run["id"] and fork["parent_seq"] == reply["seq"]
    assert (await wait_finished(fork["id"])).status == Status.COMPLETED


async def test_every_runs_endpoint_is_in_the_openapi_schema(owner: User) -> None:
    schema = (await (await client_for(owner)).get("/api/openapi.json")).json()
    paths = schema["paths"]
    assert {"post", "get"} <= set(paths["/api/runs"])
    assert "get" in paths["/api/runs/{run_id}"]
    assert "get" in paths["/api/runs/{run_id}/events"]
    for action in STEERING:
        assert "post" in paths[f"/api/runs/{run_id_path(action)}"], action


def run_id_path(action: str) -> str:
    return "{run_id}/" + action


async def test_a_run_of_a_gallery_team_is_private_to_whoever_started_it(
    owner: User, stranger: User
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    await Team.objects.filter(pk=team.pk).aupdate(is_gallery=True)
    run = await start_over_api(await client_for(stranger), team.pk, "My secret plan")
    await wait_finished(run["id"])
    onlooker = await sync_to_async(User.objects.create_user)("onlooker")
    client = await client_for(onlooker)
    assert (await client.get(f"/api/runs/{run['id']}")).status_code == 404
    assert (await client.get(f"/api/runs/{run['id']}/events")).status_code == 404
    assert (await client.get("/api/runs")).json() == []
    starter = await client_for(stranger)
    assert (await starter.get(f"/api/runs/{run['id']}")).json()["can_steer"] is True
    assert (await (await client_for(owner)).get(f"/api/runs/{run['id']}")).status_code == 200


async def test_a_viewer_can_use_no_steering_endpoint(owner: User, teammate: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2, shared_with={teammate: VIEWER})
    run = await start_over_api(await client_for(owner), team.pk, "Watch only")
    await wait_finished(run["id"])
    events = (await (await client_for(owner)).get(f"/api/runs/{run['id']}/events")).json()
    reply = next(e for e in events if e["type"] == "message" and e["source"] == "writer")
    bodies = {
        "input": {"request_id": "x", "content": "y"},
        "interject": {"content": "hi"},
        "fork": {"from_seq": reply["seq"]},
        "continue": {},
        "stop": {},
    }
    viewer = await client_for(teammate)
    for action in STEERING:
        response = await viewer.post(
            f"/api/runs/{run['id']}/{action}", bodies[action], content_type="application/json"
        )
        assert response.status_code == 403, action
