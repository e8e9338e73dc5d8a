"""Password and token guessing is throttled: per username and per address for logins,
per address for wrong bearer tokens, in a cache every server process shares."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from studio import database_cache
from studio.accounts.models import ApiToken
from studio.accounts.throttling import RateLimited, check_run_start

ROOT = Path(__file__).resolve().parents[3]
LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"


@pytest.fixture(autouse=True)
def fresh_counters(db) -> Iterator[None]:
    """Each test starts with no failures on record."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limits(settings) -> None:
    """Small limits so the tests stay short."""
    settings.LOGIN_MAX_FAILURES_PER_USERNAME = 3
    settings.LOGIN_MAX_FAILURES_PER_IP = 5
    settings.API_MAX_BAD_TOKENS_PER_IP = 4
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 600


@pytest.fixture
def olivia_password(owner: User) -> str:
    owner.set_password("correct horse")
    owner.save()
    return "correct horse"


def log_in(username: str, password: str, *, address: str = "10.0.0.1", url: str = LOGIN) -> object:
    return Client().post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_default_limits_stop_fifty_guesses_long_before_the_fiftieth(
    owner: User, olivia_password: str, settings
) -> None:
    answers = [log_in("olivia", f"guess {number}").status_code for number in range(50)]
    allowed = settings.LOGIN_MAX_FAILURES_PER_USERNAME
    assert 1 <= allowed < 50
    assert answers[:allowed] == [200] * allowed
    assert set(answers[allowed:]) == {429}


def test_a_username_is_locked_after_too_many_wrong_passwords(
    owner: User, olivia_password: str, limits: None
) -> None:
    for _ in range(3):
        assert log_in("olivia", "wrong").status_code == 200
    refused = log_in("olivia", "wrong")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    assert b"Too many failed log-in attempts" in refused.content
    assert b'role="alert"' in refused.content
    # The right password does not get through a locked username either, from anywhere.
    right = log_in("olivia", olivia_password, address="10.9.9.9")
    assert right.status_code == 429
    assert "_auth_user_id" not in right.wsgi_request.session


def test_usernames_are_locked_whatever_their_case(
    owner: User, olivia_password: str, limits: None
) -> None:
    for name in ["olivia", "Olivia", "OLIVIA"]:
        log_in(name, "wrong")
    assert log_in("oLiViA", "wrong").status_code == 429


def test_one_address_guessing_many_usernames_is_locked(limits: None, db) -> None:
    for number in range(5):
        assert log_in(f"user{number}", "wrong", address="10.0.0.7").status_code == 200
    assert log_in("someone-else", "wrong", address="10.0.0.7").status_code == 429
    assert log_in("someone-else", "wrong", address="10.0.0.8").status_code == 200


def test_a_successful_login_forgets_the_usernames_earlier_failures(
    owner: User, olivia_password: str, limits: None
) -> None:
    log_in("olivia", "wrong")
    log_in("olivia", "wrong")
    assert log_in("olivia", olivia_password).status_code == 302
    log_in("olivia", "wrong")
    log_in("olivia", "wrong")
    assert log_in("olivia", olivia_password).status_code == 302


def test_the_admin_login_counts_and_honours_the_same_lock(
    owner: User, olivia_password: str, limits: None
) -> None:
    owner.is_staff = True
    owner.save()
    for _ in range(3):
        log_in("olivia", "wrong", url=ADMIN_LOGIN)
    refused = log_in("olivia", olivia_password, url=LOGIN)
    assert refused.status_code == 429
    admin_page = log_in("olivia", olivia_password, url=ADMIN_LOGIN)
    assert b"Too many failed log-in attempts" in admin_page.content
    assert "_auth_user_id" not in admin_page.wsgi_request.session


def test_the_lock_lifts_when_its_window_ends(
    owner: User, olivia_password: str, limits: None, settings
) -> None:
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 2
    # Start at the beginning of a window so all three failures land in the same one.
    time.sleep(2 - time.time() % 2)
    for _ in range(3):
        log_in("olivia", "wrong")
    assert log_in("olivia", olivia_password).status_code == 429
    time.sleep(2 - time.time() % 2 + 0.05)
    assert log_in("olivia", olivia_password).status_code == 302


# --- bearer tokens ---


def api_get(token: str, address: str = "10.0.0.1", path: str = "/api/teams") -> object:
    return Client().get(path, HTTP_AUTHORIZATION=f"Bearer {token}", REMOTE_ADDR=address)


def test_wrong_bearer_tokens_from_one_address_get_429_with_retry_after(
    owner: User, limits: None
) -> None:
    _, good = ApiToken.objects.issue(owner)
    for number in range(4):
        assert api_get(f"rt_guess{number}").status_code == 401
    refused = api_get("rt_guess_again")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    assert "API_MAX_BAD_TOKENS_PER_IP" in refused.json()["message"]
    # Nothing tells a guesser from that address that a token is right...
    assert api_get(good).status_code == 429
    # ...while the same token works from elsewhere.
    assert api_get(good, address="10.0.0.2").status_code == 200


def test_right_tokens_do_not_count_against_an_address(owner: User, limits: None) -> None:
    _, good = ApiToken.objects.issue(owner)
    for _ in range(10):
        assert api_get(good).status_code == 200


def test_the_api_schema_counts_wrong_tokens_too(owner: User, limits: None) -> None:
    for number in range(4):
        assert api_get(f"rt_guess{number}", path="/api/openapi.json").status_code == 401
    refused = api_get("rt_more", path="/api/openapi.json")
    assert refused.status_code == 429
    assert "Retry-After" in refused


async def test_wrong_tokens_on_the_websocket_count_too(
    transactional_db, owner: User, limits: None
) -> None:
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.db import connections

    from studio.asgi import application

    run_id = await sync_to_async(queued_run)(owner)
    _, good = await sync_to_async(ApiToken.objects.issue)(owner)

    async def connects(token: str, address: str) -> bool:
        headers = [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())]
        socket = WebsocketCommunicator(application, f"/ws/runs/{run_id}/", headers)
        socket.scope["client"] = [address, 50000]
        connected, _ = await socket.connect(timeout=5)
        await socket.disconnect()
        return connected

    for number in range(4):
        assert not await connects(f"rt_guess{number}", "10.0.0.3")
    assert not await connects(good, "10.0.0.3")  # the address is throttled now
    assert await connects(good, "10.0.0.4")
    await sync_to_async(cache.clear)()
    await sync_to_async(connections.close_all)()


def queued_run(owner: User) -> int:
    from studio.runs.models import Run
    from tests.studio.runs.conftest import chatty_team

    team = chatty_team(owner)
    run = Run.objects.create(
        team=team, team_version=team.versions.get(), task="Go", started_by=owner
    )
    return run.pk


async def test_wrong_tokens_on_the_run_websocket_lock_the_address(
    transactional_db, owner: User, limits: None
) -> None:
    from asgiref.sync import sync_to_async
    from django.db import connections

    from tests.studio.runs.conftest import open_socket

    run_id = await sync_to_async(queued_run)(owner)
    _, good = await sync_to_async(ApiToken.objects.issue)(owner)
    for number in range(4):
        connected, _ = await open_socket(run_id, token=f"rt_guess{number}", origin=None)
        assert not connected
    connected, _ = await open_socket(run_id, token=good, origin=None)
    assert not connected
    await sync_to_async(cache.clear)()
    connected, socket = await open_socket(run_id, token=good, origin=None)
    assert connected
    await socket.disconnect()
    await sync_to_async(cache.clear)()
    await sync_to_async(connections.close_all)()


# --- across processes ---

RECORD = """
from studio.accounts.throttling import record_login_failure
for _ in range(3):
    record_login_failure("mallory", "10.0.0.9")
"""
CHECK = """
from studio.accounts.throttling import login_retry_after
print("RETRY", login_retry_after("mallory", "10.0.0.9"))
"""


def manage(data_dir: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(
        DATA_DIR=str(data_dir),
        DATABASE_URL="",
        SECRET_KEY="throttle-test-key",
        LOGIN_MAX_FAILURES_PER_USERNAME="3",
        # Counts are kept per window: one that ended between the processes (every 15
        # minutes by default) would start the count again. This one ends in 2033.
        LOGIN_THROTTLE_WINDOW_SECONDS="1000000000",
        DJANGO_SETTINGS_MODULE="studio.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_failures_counted_in_one_process_lock_the_username_in_another(tmp_path: Path) -> None:
    manage(tmp_path, "migrate", "--noinput")  # what `make run` does: it creates the cache too
    assert "RETRY 0" in manage(tmp_path, "shell", "-c", CHECK)
    manage(tmp_path, "shell", "-c", RECORD)
    retry = int(manage(tmp_path, "shell", "-c", CHECK).split("RETRY ")[1])
    assert retry > 0


def test_a_run_start_is_counted_with_few_statements(
    settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the database cache, inside the start's transaction: a start increments its
    counter in one statement, or, when there is none yet (the first of a window), looks
    once more and adds it."""
    settings.RUNS_STARTS_PER_MINUTE = 2
    table = settings.CACHES["default"].get("LOCATION", "")
    if settings.CACHES["default"]["BACKEND"] != "studio.database_cache.DatabaseCache":
        pytest.skip("the cache is not the database here")
    monkeypatch.setattr(database_cache, "_next_sweep", float("inf"))  # no sweep meanwhile

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            check_run_start(7)
        return sum(table in query["sql"] for query in queries.captured_queries)

    assert counted() == 3  # an increment that finds nothing, a look, an add
    assert counted() == 1  # an increment
    with pytest.raises(RateLimited):
        check_run_start(7)
    check_run_start(8)  # each user has a counter of their own
