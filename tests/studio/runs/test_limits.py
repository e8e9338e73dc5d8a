"""Server-side limits on runs: how often and how many a user starts, and how far one goes."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from studio.accounts import throttling
from studio.errors import ServiceError
from studio.runs import services
from studio.runs.models import Run, Status
from studio.teams.models import Team
from tests.studio.runs.conftest import (
    assistant,
    chatty_team,
    make_team,
    scripted_model,
    transcript,
    wait_finished,
)


@pytest.fixture(autouse=True)
def fresh_counters(db) -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def start_over_api(client: Client, team: Team) -> object:
    return client.post(
        "/api/runs", {"team": team.pk, "task": "Go"}, content_type="application/json"
    )


# --- starting runs (launches never happen here: these tests do not commit) ---


@pytest.mark.django_db
def test_starting_runs_too_fast_gets_429_naming_the_setting(
    owner: User, owner_client: Client, settings
) -> None:
    settings.RUNS_STARTS_PER_MINUTE = 3
    settings.RUNS_MAX_ACTIVE_PER_USER = 0
    team = chatty_team(owner)
    answers = [start_over_api(owner_client, team).status_code for _ in range(3)]
    assert answers == [201, 201, 201]
    refused = start_over_api(owner_client, team)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    message = refused.json()["message"]
    assert "3 runs a minute" in message and "RUNS_STARTS_PER_MINUTE" in message
    assert Run.objects.filter(started_by=owner).count() == 3


@pytest.mark.django_db
def test_the_default_start_rate_refuses_a_burst_of_120(
    owner: User, owner_client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.RUNS_MAX_ACTIVE_PER_USER = 0
    # One instant for the whole burst: a slow machine must not carry it into a new window.
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    team = chatty_team(owner)
    answers = [start_over_api(owner_client, team).status_code for _ in range(120)]
    allowed = settings.RUNS_STARTS_PER_MINUTE
    assert 1 <= allowed < 120
    assert answers[:allowed] == [201] * allowed and set(answers[allowed:]) == {429}


@pytest.mark.django_db
def test_each_user_has_their_own_start_rate(
    owner: User, stranger: User, owner_client: Client, stranger_client: Client, settings
) -> None:
    settings.RUNS_STARTS_PER_MINUTE = 1
    assert start_over_api(owner_client, chatty_team(owner)).status_code == 201
    assert start_over_api(owner_client, chatty_team(owner)).status_code == 429
    assert start_over_api(stranger_client, chatty_team(stranger)).status_code == 201


@pytest.mark.django_db
def test_a_user_with_the_most_active_runs_gets_409_naming_the_setting(
    owner: User, stranger: User, settings
) -> None:
    settings.RUNS_MAX_ACTIVE_PER_USER = 2
    team = chatty_team(owner)
    services.start_run(owner, team.pk, "one")
    services.start_run(owner, team.pk, "two")
    with pytest.raises(ServiceError) as refused:
        services.start_run(owner, team.pk, "three")
    assert refused.value.status == 409
    assert "2 active runs" in refused.value.message
    assert "RUNS_MAX_ACTIVE_PER_USER" in refused.value.message
    # Someone else's runs are theirs to count.
    services.start_run(stranger, chatty_team(stranger).pk, "mine")


@pytest.mark.django_db
def test_finished_and_parked_runs_do_not_count_as_active(owner: User, settings) -> None:
    settings.RUNS_MAX_ACTIVE_PER_USER = 2
    team = chatty_team(owner)
    first = services.start_run(owner, team.pk, "one")
    second = services.start_run(owner, team.pk, "two")
    Run.objects.filter(pk=first.pk).update(status=Status.COMPLETED, finished_at=timezone.now())
    Run.objects.filter(pk=second.pk).update(status=Status.AWAITING_INPUT, parked_at=timezone.now())
    services.start_run(owner, team.pk, "three")
    services.start_run(owner, team.pk, "four")
    with pytest.raises(ServiceError, match="RUNS_MAX_ACTIVE_PER_USER"):
        services.start_run(owner, team.pk, "five")


@pytest.mark.django_db
def test_continuing_a_run_counts_as_a_start(owner: User, settings) -> None:
    settings.RUNS_MAX_ACTIVE_PER_USER = 1
    team = chatty_team(owner)
    done = services.start_run(owner, team.pk, "one")
    Run.objects.filter(pk=done.pk).update(status=Status.COMPLETED, finished_at=timezone.now())
    services.start_run(owner, team.pk, "two")
    with pytest.raises(ServiceError, match="RUNS_MAX_ACTIVE_PER_USER") as refused:
        services.continue_run(owner, done.pk, "more")
    assert refused.value.status == 409
    assert Run.objects.get(pk=done.pk).status == Status.COMPLETED


@pytest.mark.django_db
def test_the_limits_are_settings_with_working_defaults(settings) -> None:
    for name in (
        "RUNS_STARTS_PER_MINUTE",
        "RUNS_MAX_ACTIVE_PER_USER",
        "RUNS_MAX_TURNS",
        "RUNS_MAX_MODEL_CALLS",
    ):
        assert isinstance(getattr(settings, name), int) and getattr(settings, name) > 0, name


# --- how far one run goes ---


def endless_team(owner: User, **options: object) -> Team:
    """Two assistants whose stop condition never matches."""
    model = scripted_model(owner, ["Still going."] * 80)
    agents = [assistant(owner, "writer", model), assistant(owner, "critic", model)]
    termination = {"type": "text_mention", "text": "NEVER-SAID"}
    return make_team(owner, agents, termination=termination, **options)


def agent_messages(run_id: int) -> list[str]:
    return [e.source for e in transcript(run_id) if e.type == "message" and e.source != "user"]


def error_codes(run_id: int) -> list[str]:
    return [e.data["code"] for e in transcript(run_id) if e.type == "error"]


@pytest.mark.usefixtures("settle")
@pytest.mark.django_db(transaction=True)
async def test_a_team_that_never_stops_ends_at_the_model_call_ceiling(
    owner: User, settings
) -> None:
    settings.RUNS_MAX_MODEL_CALLS = 5
    settings.RUNS_MAX_TURNS = 100
    team = await sync_to_async(endless_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Talk forever")
    done = await wait_finished(run.pk)
    assert done.status == Status.BUDGET_EXHAUSTED
    assert "5 model calls" in done.stop_reason and "RUNS_MAX_MODEL_CALLS" in done.stop_reason
    assert len(await sync_to_async(agent_messages)(run.pk)) == 5
    assert sum(row["calls"] for row in done.usage["by_model"].values()) == 5
    assert await sync_to_async(error_codes)(run.pk) == ["model_call_limit"]


@pytest.mark.usefixtures("settle")
@pytest.mark.django_db(transaction=True)
async def test_a_run_stopped_at_the_call_ceiling_continues_for_as_many_calls_again(
    owner: User, settings
) -> None:
    settings.RUNS_MAX_MODEL_CALLS = 3
    team = await sync_to_async(endless_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Talk forever")
    await wait_finished(run.pk)
    await sync_to_async(services.continue_run)(owner, run.pk, "Go on")
    done = await wait_finished(run.pk)
    assert done.status == Status.BUDGET_EXHAUSTED
    assert sum(row["calls"] for row in done.usage["by_model"].values()) == 6
    assert await sync_to_async(error_codes)(run.pk) == ["model_call_limit"] * 2


@pytest.mark.usefixtures("settle")
@pytest.mark.django_db(transaction=True)
async def test_a_team_that_never_stops_ends_at_the_turn_ceiling(owner: User, settings) -> None:
    settings.RUNS_MAX_TURNS = 4
    settings.RUNS_MAX_MODEL_CALLS = 100
    team = await sync_to_async(endless_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Talk forever")
    done = await wait_finished(run.pk)
    assert done.status == Status.BUDGET_EXHAUSTED
    assert "4 turns" in done.stop_reason and "RUNS_MAX_TURNS" in done.stop_reason
    assert await sync_to_async(agent_messages)(run.pk) == ["writer", "critic"] * 2
    assert await sync_to_async(error_codes)(run.pk) == ["turn_limit"]


@pytest.mark.usefixtures("settle")
@pytest.mark.django_db(transaction=True)
async def test_a_teams_own_lower_turn_limit_still_completes_the_run(owner: User, settings) -> None:
    settings.RUNS_MAX_TURNS = 10
    team = await sync_to_async(endless_team)(owner, max_turns=3)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Talk a while")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED
    assert done.stop_reason == "Maximum number of turns 3 reached."
    assert len(await sync_to_async(agent_messages)(run.pk)) == 3


@pytest.mark.usefixtures("settle")
@pytest.mark.django_db(transaction=True)
async def test_forking_and_continuing_respect_the_start_rate(owner: User, settings) -> None:
    settings.RUNS_STARTS_PER_MINUTE = 1
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say hello")
    await wait_finished(run.pk)
    events = await sync_to_async(transcript)(run.pk)
    message = next(e for e in events if e.type == "message" and e.source == "writer")
    with pytest.raises(ServiceError, match="RUNS_STARTS_PER_MINUTE") as refused:
        await sync_to_async(services.fork_run)(owner, run.pk, message.seq)
    assert refused.value.status == 429
    with pytest.raises(ServiceError, match="RUNS_STARTS_PER_MINUTE"):
        await sync_to_async(services.continue_run)(owner, run.pk, "More")
    assert (await Run.objects.aget(pk=run.pk)).status == Status.COMPLETED


def test_the_active_count_reads_only_the_users_active_runs(owner: User, settings) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's query plan")
    settings.RUNS_MAX_ACTIVE_PER_USER = 5
    settings.RUNS_STARTS_PER_MINUTE = 0
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        services.check_start_limits(owner)
    (count,) = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {count}")
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "run_started_by_status" in plan
