"""The run websocket on the embedded backend: watching, reconnecting, steering, refusing."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import User

from studio.accounts.models import ApiToken
from studio.runs import services
from studio.runs.models import Status
from tests.studio.runs.conftest import (
    VIEWER,
    assistant,
    chatty_team,
    human,
    is_type,
    make_team,
    open_socket,
    receive_until,
    scripted_model,
    transcript,
    wait_finished,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


def persisted_seqs(run_id: int) -> list[int]:
    return [event.seq for event in transcript(run_id)]


async def start(owner: User, **team_options: object) -> int:
    team = await sync_to_async(chatty_team)(owner, **team_options)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a picnic")
    return run.pk


async def test_a_viewer_receives_every_event_in_order_up_to_the_finish(owner: User) -> None:
    run_id = await start(owner, turns=4, delay=0.02)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    frames = await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    seqs = [frame["seq"] for frame in frames if frame["seq"] is not None]
    assert seqs == await sync_to_async(persisted_seqs)(run_id)
    assert frames[-1]["data"]["status"] == "completed"
    assert all(frame["run"] == run_id for frame in frames)


async def test_a_client_that_reconnects_with_after_sees_every_event_exactly_once(
    owner: User,
) -> None:
    run_id = await start(owner, turns=6, delay=0.05)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    first = await receive_until(socket, lambda frame: frame.get("seq") == 4)
    await socket.disconnect()
    await asyncio.sleep(0.15)  # events keep coming while nobody watches
    connected, socket = await open_socket(run_id, owner, after=4)
    assert connected
    second = await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    seen = [frame["seq"] for frame in first + second if frame["seq"] is not None]
    assert seen == await sync_to_async(persisted_seqs)(run_id)


async def test_two_viewers_see_the_same_sequence(owner: User, teammate: User) -> None:
    team = await sync_to_async(chatty_team)(
        owner, turns=4, delay=0.02, shared_with={teammate: VIEWER}
    )
    run = await sync_to_async(services.start_run)(owner, team.pk, "Compare notes")
    sockets = [await open_socket(run.pk, user) for user in (owner, teammate)]
    assert all(connected for connected, _ in sockets)
    streams = [await receive_until(socket, is_type("run.finished")) for _, socket in sockets]
    for _, socket in sockets:
        await socket.disconnect()
    assert [f["seq"] for f in streams[0]] == [f["seq"] for f in streams[1]]


async def test_a_stranger_cannot_watch_a_run(owner: User, stranger: User) -> None:
    run_id = await start(owner)
    connected, _ = await open_socket(run_id, stranger)
    assert not connected
    connected, _ = await open_socket(run_id, None)
    assert not connected


async def test_a_socket_from_a_foreign_origin_is_refused(owner: User) -> None:
    run_id = await start(owner)
    connected, _ = await open_socket(run_id, owner, origin=b"https://evil.example")
    assert not connected


async def test_a_script_watches_with_a_bearer_token(owner: User) -> None:
    run_id = await start(owner, turns=2)
    _, token = await sync_to_async(ApiToken.objects.issue)(owner)
    connected, socket = await open_socket(run_id, token=token)
    assert connected
    frames = await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    assert frames[0]["seq"] == 1


async def test_a_script_with_a_bearer_token_needs_no_origin(owner: User) -> None:
    run_id = await start(owner, turns=2)
    _, token = await sync_to_async(ApiToken.objects.issue)(owner)
    connected, socket = await open_socket(run_id, origin=None, token=token)
    assert connected
    frames = await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    assert frames[-1]["data"]["status"] == "completed"


async def test_a_bearer_socket_is_the_tokens_user_whatever_its_cookie(
    owner: User, stranger: User
) -> None:
    run_id = await start(owner)
    _, strangers = await sync_to_async(ApiToken.objects.issue)(stranger)
    # The owner's session cookie does not lend the stranger's token the owner's rights.
    connected, _ = await open_socket(run_id, owner, token=strangers)
    assert not connected
    connected, _ = await open_socket(run_id, origin=None, token=strangers)
    assert not connected


async def test_a_session_socket_without_an_origin_is_refused(owner: User) -> None:
    run_id = await start(owner)
    connected, _ = await open_socket(run_id, owner, origin=None)
    assert not connected


async def test_a_bad_token_without_an_origin_is_refused_despite_a_session(owner: User) -> None:
    run_id = await start(owner)
    connected, _ = await open_socket(run_id, owner, origin=None, token="not-a-token")
    assert not connected


async def test_a_bearer_token_from_a_foreign_origin_is_refused(owner: User) -> None:
    run_id = await start(owner)
    _, token = await sync_to_async(ApiToken.objects.issue)(owner)
    connected, _ = await open_socket(run_id, origin=b"https://evil.example", token=token)
    assert not connected


async def test_a_viewer_may_watch_but_not_stop(owner: User, teammate: User) -> None:
    team = await sync_to_async(chatty_team)(owner, delay=0.2, shared_with={teammate: VIEWER})
    run = await sync_to_async(services.start_run)(owner, team.pk, "Keep going")
    connected, socket = await open_socket(run.pk, teammate)
    assert connected
    await socket.send_json_to({"type": "stop"})
    error = await receive_until(socket, is_type("error"))
    assert error[-1]["code"] == "forbidden"
    await socket.send_json_to({"type": "ping"})
    assert (await receive_until(socket, is_type("pong")))[-1] == {"type": "pong"}
    await socket.disconnect()


async def test_bad_frames_get_error_frames_and_the_socket_stays_open(owner: User) -> None:
    run_id = await start(owner, delay=0.2)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    cases = [
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        ('{"type": "dance"}', "bad_frame"),
        ('{"type": "input", "content": "hi"}', "bad_frame"),
        ('{"type": "interject", "content": 5}', "bad_frame"),
        ('{"type": "interject", "content": "' + "x" * 70_000 + '"}', "too_large"),
    ]
    for text, code in cases:
        await socket.send_to(text_data=text)
        frames = await receive_until(socket, is_type("error"))
        assert frames[-1]["code"] == code, text[:40]
    await socket.send_json_to({"type": "ping"})
    await receive_until(socket, is_type("pong"))
    await socket.disconnect()


async def test_stop_ends_a_running_run_within_a_second(owner: User) -> None:
    model = await sync_to_async(scripted_model)(owner, ["slow thoughts"] * 5, delay=30)
    agent = await sync_to_async(assistant)(owner, "ponderer", model)
    team = await sync_to_async(make_team)(owner, [agent], max_messages=3)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Think hard")
    connected, socket = await open_socket(run.pk, owner)
    assert connected
    await receive_until(socket, lambda frame: frame.get("data", {}).get("status") == "running")
    started = time.monotonic()
    await socket.send_json_to({"type": "stop"})
    frames = await receive_until(socket, is_type("run.finished"))
    assert time.monotonic() - started < 1.0
    assert frames[-1]["data"]["status"] == "cancelled"
    await socket.disconnect()
    assert (await wait_finished(run.pk)).status == Status.CANCELLED


async def test_the_human_seat_is_answered_over_the_socket(owner: User) -> None:
    model = await sync_to_async(scripted_model)(owner, ["What colour?", "Noted."])
    agents = [
        await sync_to_async(assistant)(owner, "asker", model),
        await sync_to_async(human)(owner, "person"),
    ]
    team = await sync_to_async(make_team)(owner, agents, max_messages=4)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Ask me something")
    connected, socket = await open_socket(run.pk, owner)
    assert connected
    request = (await receive_until(socket, is_type("input.requested")))[-1]
    request_id = request["data"]["request_id"]
    assert request["source"] == "person"
    assert (request["data"]["asked_by"], request["data"]["question"]) == ("asker", "What colour?")
    assert request["data"]["timeout_seconds"] == settings.RUNS_INPUT_TIMEOUT_SECONDS
    await socket.send_json_to({"type": "input", "request_id": "not-this-one", "content": "x"})
    error = (await receive_until(socket, is_type("error")))[-1]
    assert error["code"] == "conflict" and "not pending" in error["message"]
    await socket.send_json_to({"type": "input", "request_id": request_id, "content": "Blue"})
    frames = await receive_until(socket, is_type("run.finished"))
    provided = [f for f in frames if f["type"] == "input.provided"]
    assert provided[0]["data"] == {"request_id": request_id, "content": "Blue", "user": "olivia"}
    said = [f["data"]["content"] for f in frames if f["type"] == "message"]
    assert said == ["Blue", "Noted."]
    await socket.send_json_to({"type": "input", "request_id": request_id, "content": "again"})
    error = (await receive_until(socket, is_type("error")))[-1]
    assert "not waiting for input" in error["message"]
    await socket.disconnect()


async def test_an_interjection_reaches_the_team_at_the_next_turn(owner: User) -> None:
    run_id = await start(owner, turns=6, delay=0.1)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    await receive_until(socket, lambda frame: frame.get("source") == "writer")
    await socket.send_json_to({"type": "interject", "content": "Bring umbrellas"})
    frames = await receive_until(socket, is_type("run.finished"))
    await socket.disconnect()
    types = [(f["type"], f.get("source")) for f in frames]
    assert ("interjection", "olivia") in types
    assert ("message", "olivia") in types


async def test_a_socket_sends_django_to_no_thread_for_its_messages(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Channels closes old connections in a thread before every message it dispatches;
    this consumer's database calls run on the server threads, so it does not."""
    import channels.consumer

    trips: list[str] = []

    async def noted() -> None:
        trips.append("closed old connections")

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", noted)
    run_id = await start(owner, turns=2)
    connected, socket = await open_socket(run_id, owner)
    assert connected
    await socket.send_json_to({"type": "ping"})
    assert (await receive_until(socket, is_type("pong")))[-1] == {"type": "pong"}
    await socket.disconnect()
    assert trips == []
