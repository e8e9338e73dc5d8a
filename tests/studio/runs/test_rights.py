"""Rights are checked at every action, not once: a revoked share takes a run's watching
and steering with it, over HTTP and on an open socket; and a socket's Origin must match
the server's own host and port."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import Client

from studio.runs import services
from studio.runs.models import Run, Status
from studio.teams.models import Share
from tests.studio.conftest import logged_in_client
from tests.studio.runs.conftest import (
    VIEWER,
    chatty_team,
    is_type,
    open_socket,
    receive_until,
    transcript,
    wait_finished,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


async def viewer_run(owner: User, viewer: User, **options: object) -> Run:
    """A run the viewer started on a team the owner shared with them as viewer."""
    team = await sync_to_async(chatty_team)(owner, shared_with={viewer: VIEWER}, **options)
    return await sync_to_async(services.start_run)(viewer, team.pk, "Plan a picnic")


def revoke(user: User) -> None:
    Share.objects.filter(user=user).delete()


async def test_a_viewer_whose_share_was_revoked_cannot_continue_the_run_they_started(
    owner: User, teammate: User
) -> None:
    run = await viewer_run(owner, teammate, turns=2)
    await wait_finished(run.pk)
    await sync_to_async(revoke)(teammate)
    client = await sync_to_async(logged_in_client)(teammate)

    def attempt() -> tuple[int, int]:
        continued = client.post(
            f"/api/runs/{run.pk}/continue", {"task": "more"}, content_type="application/json"
        )
        return continued.status_code, client.get(f"/api/runs/{run.pk}").status_code

    assert await sync_to_async(attempt)() == (404, 404)
    assert (await Run.objects.aget(pk=run.pk)).status == Status.COMPLETED


async def test_while_shared_the_viewer_still_continues_their_own_run(
    owner: User, teammate: User
) -> None:
    run = await viewer_run(owner, teammate, turns=2)
    await wait_finished(run.pk)
    client: Client = await sync_to_async(logged_in_client)(teammate)
    response = await sync_to_async(client.post)(
        f"/api/runs/{run.pk}/continue", {"task": "more"}, content_type="application/json"
    )
    assert response.status_code == 200
    continued = await wait_finished(run.pk)
    assert continued.status == Status.COMPLETED
    events = await sync_to_async(transcript)(run.pk)
    assert any(event.data.get("content") == "more" for event in events)


async def test_an_open_socket_is_closed_when_the_share_is_revoked(
    owner: User, teammate: User, settings: object
) -> None:
    settings.RUNS_WS_RIGHTS_CHECK_SECONDS = 1
    run = await viewer_run(owner, teammate, turns=40, delay=0.2)
    connected, socket = await open_socket(run.pk, teammate)
    assert connected
    await receive_until(socket, lambda frame: (frame.get("seq") or 0) >= 2)
    await sync_to_async(revoke)(teammate)
    frames = []
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4403
            break
        frames.append(json.loads(output["text"]))
    assert frames[-1]["type"] == "error" and frames[-1]["code"] == "forbidden"
    await services_stop(owner, run.pk)


async def services_stop(owner: User, run_id: int) -> None:
    await sync_to_async(services.stop_run)(owner, run_id)
    await wait_finished(run_id)


async def test_a_socket_stays_open_while_rights_hold(owner: User, settings: object) -> None:
    settings.RUNS_WS_RIGHTS_CHECK_SECONDS = 1
    team = await sync_to_async(chatty_team)(owner, turns=8, delay=0.3)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    connected, socket = await open_socket(run.pk, owner)
    assert connected
    frames = await receive_until(socket, is_type("run.finished"), limit=15)
    await socket.disconnect()
    assert frames[-1]["data"]["status"] == "completed"


@pytest.mark.parametrize(
    ("host", "origin", "allowed"),
    [
        (b"localhost:8000", b"http://localhost:8000", True),
        (b"localhost:8000", b"http://localhost:9999", False),
        (b"localhost:8000", b"http://localhost", False),
        (b"testserver", b"http://testserver", True),
        (b"testserver", b"https://testserver", True),
        (b"testserver", b"http://testserver:8080", False),
        (b"localhost:8000", b"http://127.0.0.1:8000", False),
        (b"evil.example", b"http://evil.example", False),
        (b"localhost:8000", b"null", False),
    ],
)
async def test_a_socket_origin_must_be_the_servers_own_host_and_port(
    owner: User, host: bytes, origin: bytes, allowed: bool
) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    connected, socket = await open_socket(run.pk, owner, origin=origin, host=host)
    assert connected is allowed
    if connected:
        await socket.disconnect()


async def test_a_trusted_origin_from_settings_is_allowed(owner: User, settings: object) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://studio.example.org"]
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    connected, socket = await open_socket(
        run.pk, owner, origin=b"https://studio.example.org", host=b"localhost:8000"
    )
    assert connected
    await socket.disconnect()


async def test_an_open_socket_closes_when_the_password_changes(
    owner: User, settings: object
) -> None:
    settings.RUNS_WS_RIGHTS_CHECK_SECONDS = 1
    team = await sync_to_async(chatty_team)(owner, turns=40, delay=0.2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    connected, socket = await open_socket(run.pk, owner)
    assert connected
    await receive_until(socket, lambda frame: (frame.get("seq") or 0) >= 2)

    def change_password() -> None:
        owner.set_password("a new secret")
        owner.save(update_fields=["password"])

    await sync_to_async(change_password)()
    while True:
        output = await socket.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            assert output["code"] == 4403
            break
    await services_stop(owner, run.pk)
