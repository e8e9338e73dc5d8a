"""Starting a run over the API: the answer is the run as created, or as failed when it
could not be queued."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from studio.errors import ServiceError
from studio.runs.models import Run, Status
from studio.runs.services import snapshot_checked_team
from studio.teams.models import Team
from tests.studio.runs.conftest import EDITOR, chatty_team

pytestmark = pytest.mark.django_db(transaction=True)


def wait_finished(run_id: int, limit: float = 10.0) -> None:
    """Let the run end before the test does (its database is emptied next)."""
    deadline = time.monotonic() + limit
    while Run.objects.get(pk=run_id).status != Status.COMPLETED:
        assert time.monotonic() < deadline, f"run {run_id} did not finish within {limit} s"
        time.sleep(0.02)


def test_a_started_run_is_answered_as_created_without_reading_it_again(
    owner: User, owner_client: Client
) -> None:
    team = chatty_team(owner, turns=2)
    with CaptureQueriesContext(connection) as queries:
        response = owner_client.post(
            "/api/runs", {"team": team.pk, "task": "Plan a picnic"}, content_type="application/json"
        )
    assert response.status_code == 201, response.content
    body = response.json()
    run = Run.objects.select_related("team_version").get(pk=body["id"])
    assert body["status"] == "queued" and body["can_steer"] is True
    assert (body["team"], body["team_version"]) == (team.pk, run.team_version_id)
    assert body["version_number"] == run.team_version.number
    assert (body["task"], body["started_by"]) == ("Plan a picnic", "olivia")
    assert body["created_at"].startswith(run.created_at.isoformat()[:19])
    inserted = next(i for i, q in enumerate(queries.captured_queries) if "INSERT" in q["sql"])
    later_reads = [
        query["sql"]
        for query in queries.captured_queries[inserted:]
        if query["sql"].startswith("SELECT") and '"runs_run"' in query["sql"]
    ]
    assert later_reads == []
    wait_finished(run.pk)


def test_a_teammate_who_starts_a_run_may_steer_it(
    owner: User, teammate: User, teammate_client: Client
) -> None:
    team = chatty_team(owner, turns=2, shared_with={teammate: EDITOR})
    response = teammate_client.post(
        "/api/runs", {"team": team.pk, "task": "Plan a picnic"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["can_steer"] is True and body["started_by"] == "tomas"
    detail = teammate_client.get(f"/api/runs/{body['id']}").json()
    assert detail["can_steer"] is True
    wait_finished(body["id"])


@pytest.mark.usefixtures("unreachable_broker")
def test_a_run_that_cannot_be_queued_is_answered_as_failed(
    owner: User, owner_client: Client
) -> None:
    team = chatty_team(owner)
    response = owner_client.post(
        "/api/runs", {"team": team.pk, "task": "Plan a picnic"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "failed"
    assert body["stop_reason"].startswith("The run could not be queued")
    assert body["finished_at"] is not None


def test_a_team_changed_or_gone_since_it_was_read_is_checked_again_in_the_transaction(
    owner: User,
) -> None:
    team = chatty_team(owner, turns=2)
    stale = Team.objects.get(pk=team.pk)
    Team.objects.filter(pk=team.pk).update(name="Renamed since")
    version = snapshot_checked_team(stale, owner)
    assert version.spec["name"] == "Renamed since"

    Team.objects.filter(pk=team.pk).delete()
    with pytest.raises(ServiceError) as raised:
        snapshot_checked_team(stale, owner)
    assert raised.value.status == 404
