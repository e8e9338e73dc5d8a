"""The run list's history filters: started by, date and cost ranges, model, tool errors,
asked the human, forked or continued; combined with what the user may see."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from studio.runs.models import Run
from studio.teams.models import Role
from tests.studio.conftest import logged_in_client, make_user
from tests.studio.runs.test_reviews import add_event, make_run

pytestmark = pytest.mark.django_db


def ids(client: Client, query: dict[str, str]) -> set[int]:
    response = client.get("/api/runs", query)
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()}


@pytest.fixture
def history(owner: User) -> dict[str, Run]:
    cheap = make_run(owner)
    costly = make_run(owner)
    Run.objects.filter(pk=costly.pk).update(
        cost_usd=1.5,
        usage={"by_model": {"gpt-4o": {"calls": 1, "cost_usd": 1.5}}, "by_agent": {}},
        created_at=timezone.now() - timedelta(days=10),
    )
    add_event(cheap, 1, "tool.result", "coder", {"id": "t", "results": [{"is_error": True}]})
    add_event(costly, 1, "tool.result", "coder", {"id": "t", "results": [{"is_error": False}]})
    add_event(costly, 2, "input.requested", "person", {"request_id": "r", "prompt": "ok?"})
    fork = make_run(owner)
    Run.objects.filter(pk=fork.pk).update(parent=costly, parent_seq=1)
    return {"cheap": cheap, "costly": costly, "fork": fork}


def test_the_run_list_filters_by_cost_range_and_model(
    owner_client: Client, history: dict[str, Run]
) -> None:
    assert ids(owner_client, {"min_cost": "1"}) == {history["costly"].pk}
    assert ids(owner_client, {"max_cost": "0.5"}) == {history["cheap"].pk, history["fork"].pk}
    assert ids(owner_client, {"model": "gpt-4o"}) == {history["costly"].pk}
    assert ids(owner_client, {"model": "claude"}) == set()


def test_the_run_list_filters_by_date_range(owner_client: Client, history: dict[str, Run]) -> None:
    week_ago = (timezone.now() - timedelta(days=7)).isoformat()
    assert ids(owner_client, {"created_before": week_ago}) == {history["costly"].pk}
    assert history["costly"].pk not in ids(owner_client, {"created_after": week_ago})


def test_the_run_list_filters_by_tool_errors_asking_the_human_and_forking(
    owner_client: Client, history: dict[str, Run]
) -> None:
    assert ids(owner_client, {"tool_errors": "true"}) == {history["cheap"].pk}
    assert history["cheap"].pk not in ids(owner_client, {"tool_errors": "false"})
    assert ids(owner_client, {"asked_human": "true"}) == {history["costly"].pk}
    assert ids(owner_client, {"forked": "true"}) == {history["fork"].pk}
    assert ids(owner_client, {"forked": "false"}) == {history["cheap"].pk, history["costly"].pk}


def test_the_run_list_filters_by_who_started_a_run_within_what_the_user_sees(
    owner: User, history: dict[str, Run]
) -> None:
    teammate = make_user("tomas")
    history["cheap"].team.share_with(user=teammate, role=Role.EDITOR)
    theirs = make_run(teammate)
    assert ids(logged_in_client(owner), {"started_by": "tomas"}) == set()
    assert ids(logged_in_client(teammate), {"started_by": "tomas"}) == {theirs.pk}
    assert len(ids(logged_in_client(teammate), {"started_by": "olivia"})) == 3


def test_a_negative_cost_bound_is_refused(owner_client: Client) -> None:
    assert owner_client.get("/api/runs", {"min_cost": "-1"}).status_code == 422


@pytest.mark.parametrize(
    ("value", "status"),
    [("0707-07-14T19:27:44.58+23:00", 200), ("0001-01-01T00:00:00+23:00", 422)],
)
def test_dates_with_any_offset_are_read_as_utc_or_refused(
    owner_client: Client, value: str, status: int
) -> None:
    response = owner_client.get("/api/runs", {"created_after": value})
    assert response.status_code == status
