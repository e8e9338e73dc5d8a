"""Reviews of past runs, by persona: reviewer (in a group holding runs.review_run), staff,
owner and stranger; flags and the review queue; review filters of the run list."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from studio.runs.events import searchable_text
from studio.runs.models import Run, RunEvent, RunReview, Status
from studio.teams.models import Team
from tests.studio.conftest import logged_in_client, make_user
from tests.studio.runs.conftest import chatty_team

pytestmark = pytest.mark.django_db


def make_run(owner: User, status: str = Status.COMPLETED, task: str = "Plan a picnic") -> Run:
    team = Team.objects.filter(owner=owner).first() or chatty_team(owner)
    return Run.objects.create(
        team=team, team_version=team.versions.get(), task=task, started_by=owner, status=status
    )


def add_event(run: Run, seq: int, event_type: str, source: str, data: dict[str, Any]) -> None:
    RunEvent.objects.create(
        run=run,
        seq=seq,
        type=event_type,
        source=source,
        data=data,
        text=searchable_text(event_type, data),
    )


@pytest.fixture
def reviewer(db: None) -> User:
    user = make_user("remy")
    group = Group.objects.create(name="reviewers")
    group.permissions.set(Permission.objects.filter(codename="review_run"))
    user.groups.add(group)
    return user


@pytest.fixture
def staff(db: None) -> User:
    user = make_user("stella")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def reviewer_client(reviewer: User) -> Client:
    return logged_in_client(reviewer)


@pytest.fixture
def staff_client(staff: User) -> Client:
    return logged_in_client(staff)


def post(client: Client, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json")


def test_a_reviewer_gives_a_verdict_with_a_note_and_tags_and_every_review_is_kept(
    owner: User, reviewer_client: Client, staff_client: Client
) -> None:
    run = make_run(owner)
    first = post(
        reviewer_client,
        f"/api/runs/{run.pk}/reviews",
        {"verdict": "needs_work", "note": "Too long.", "tags": ["Verbose", " verbose ", "ok"]},
    )
    second = post(staff_client, f"/api/runs/{run.pk}/reviews", {"verdict": "good"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["tags"] == ["ok", "verbose"]
    listed = reviewer_client.get(f"/api/runs/{run.pk}/reviews").json()
    assert [(item["reviewer"], item["verdict"]) for item in listed] == [
        ("stella", "good"),
        ("remy", "needs_work"),
    ]
    assert listed[1]["note"] == "Too long."


def test_the_owner_reads_the_reviews_of_their_run_but_may_not_review_it(
    owner: User, owner_client: Client, reviewer_client: Client
) -> None:
    run = make_run(owner)
    post(reviewer_client, f"/api/runs/{run.pk}/reviews", {"verdict": "bad"})
    refused = post(owner_client, f"/api/runs/{run.pk}/reviews", {"verdict": "good"})
    assert refused.status_code == 403
    assert [item["verdict"] for item in owner_client.get(f"/api/runs/{run.pk}/reviews").json()] == [
        "bad"
    ]


def test_a_stranger_gets_404_for_the_reviews_of_a_run_they_cannot_see(
    owner: User, stranger_client: Client
) -> None:
    run = make_run(owner)
    assert stranger_client.get(f"/api/runs/{run.pk}/reviews").status_code == 404
    assert post(
        stranger_client, f"/api/runs/{run.pk}/reviews", {"verdict": "good"}
    ).status_code == (404)
    assert post(stranger_client, f"/api/runs/{run.pk}/flag", {}).status_code == 404
    assert not RunReview.objects.exists()


def test_a_verdict_outside_the_three_is_refused(owner: User, reviewer_client: Client) -> None:
    run = make_run(owner)
    response = post(reviewer_client, f"/api/runs/{run.pk}/reviews", {"verdict": "meh"})
    assert response.status_code == 422
    assert not RunReview.objects.exists()


def test_reviewers_and_staff_read_every_run_while_owners_see_only_their_own(
    owner: User, reviewer_client: Client, staff_client: Client, stranger_client: Client
) -> None:
    other = make_user("otto")
    mine, theirs = make_run(owner), make_run(other)
    for client in (reviewer_client, staff_client):
        ids = {item["id"] for item in client.get("/api/runs").json()}
        assert ids == {mine.pk, theirs.pk}
        assert client.get(f"/api/runs/{theirs.pk}/events").status_code == 200
        assert client.get(f"/api/runs/{theirs.pk}").json()["can_steer"] is False
    owner_ids = {item["id"] for item in logged_in_client(owner).get("/api/runs").json()}
    assert owner_ids == {mine.pk}
    assert stranger_client.get("/api/runs").json() == []


def test_a_reviewer_may_read_a_run_but_not_steer_it(owner: User, reviewer_client: Client) -> None:
    run = make_run(owner, status=Status.RUNNING)
    assert post(reviewer_client, f"/api/runs/{run.pk}/stop", {}).status_code == 403
    assert Run.objects.get(pk=run.pk).status == Status.RUNNING


def test_an_inactive_reviewer_sees_nothing(owner: User, reviewer: User) -> None:
    make_run(owner)
    reviewer.is_active = False
    reviewer.save(update_fields=["is_active"])
    assert not Run.objects.visible_to(reviewer).exists()


def test_the_run_list_filters_by_latest_verdict_tag_and_reviewed(
    owner: User, reviewer_client: Client
) -> None:
    good, bad, untouched = make_run(owner), make_run(owner), make_run(owner)
    post(reviewer_client, f"/api/runs/{bad.pk}/reviews", {"verdict": "good", "tags": ["math"]})
    post(reviewer_client, f"/api/runs/{bad.pk}/reviews", {"verdict": "bad"})
    post(reviewer_client, f"/api/runs/{good.pk}/reviews", {"verdict": "good"})

    def ids(query: str) -> set[int]:
        response = reviewer_client.get(f"/api/runs?{query}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()}

    assert ids("verdict=good") == {good.pk}
    assert ids("verdict=bad") == {bad.pk}
    assert ids("tag=MATH") == {bad.pk}
    assert ids("reviewed=false") == {untouched.pk}
    assert ids("reviewed=true") == {good.pk, bad.pk}
    assert ids("verdict=good&reviewed=true") == {good.pk}


def test_the_review_filters_never_widen_what_an_owner_sees(
    owner: User, reviewer_client: Client
) -> None:
    other = make_user("otto")
    theirs = make_run(other)
    post(reviewer_client, f"/api/runs/{theirs.pk}/reviews", {"verdict": "good"})
    assert logged_in_client(owner).get("/api/runs?verdict=good").json() == []


def test_the_review_queue_holds_unreviewed_finished_runs_flagged_first_and_loses_a_run_once_reviewed(  # noqa: E501
    owner: User, owner_client: Client, reviewer_client: Client
) -> None:
    failed = make_run(owner, status=Status.FAILED)
    over_budget = make_run(owner, status=Status.BUDGET_EXHAUSTED)
    flagged = make_run(owner)
    make_run(owner, status=Status.RUNNING)
    plain = make_run(owner)
    assert post(owner_client, f"/api/runs/{flagged.pk}/flag", {"reason": "wrong"}).status_code == (
        201
    )

    queue = reviewer_client.get("/api/review-queue").json()
    assert [entry["run"]["id"] for entry in queue] == [
        flagged.pk,
        over_budget.pk,
        failed.pk,
        plain.pk,
    ]
    reasons = {entry["run"]["id"]: entry["reasons"] for entry in queue}
    assert reasons[failed.pk] == ["unreviewed", "failed"]
    assert reasons[over_budget.pk] == ["unreviewed", "over_budget"]
    assert reasons[flagged.pk] == ["unreviewed", "flagged"]

    post(reviewer_client, f"/api/runs/{flagged.pk}/reviews", {"verdict": "good"})
    queue = reviewer_client.get("/api/review-queue").json()
    assert flagged.pk not in [entry["run"]["id"] for entry in queue]


def test_a_flag_after_a_review_puts_the_run_back_in_the_queue(
    owner: User, owner_client: Client, reviewer_client: Client
) -> None:
    run = make_run(owner)
    post(reviewer_client, f"/api/runs/{run.pk}/reviews", {"verdict": "good"})
    assert reviewer_client.get("/api/review-queue").json() == []
    post(owner_client, f"/api/runs/{run.pk}/flag", {})
    queue = reviewer_client.get("/api/review-queue").json()
    assert [(entry["run"]["id"], entry["reasons"]) for entry in queue] == [(run.pk, ["flagged"])]


def test_only_reviewers_see_the_review_queue(
    owner: User, owner_client: Client, stranger_client: Client, staff_client: Client
) -> None:
    make_run(owner, status=Status.FAILED)
    assert owner_client.get("/api/review-queue").status_code == 403
    assert stranger_client.get("/api/review-queue").status_code == 403
    assert len(staff_client.get("/api/review-queue").json()) == 1


def test_a_reviewer_comments_on_one_message_and_readers_of_the_run_see_it(
    owner: User, owner_client: Client, reviewer_client: Client
) -> None:
    run = make_run(owner)
    add_event(run, 1, "message", "writer", {"content": "The answer is 42."})
    response = post(reviewer_client, f"/api/runs/{run.pk}/comments", {"seq": 1, "text": "Source?"})
    assert response.status_code == 201
    assert response.json()["author"] == "remy"
    listed = owner_client.get(f"/api/runs/{run.pk}/comments").json()
    assert [(item["seq"], item["text"]) for item in listed] == [(1, "Source?")]


def test_a_comment_needs_an_existing_event_and_a_reviewer(
    owner: User, owner_client: Client, reviewer_client: Client, stranger_client: Client
) -> None:
    run = make_run(owner)
    add_event(run, 1, "message", "writer", {"content": "Hi"})
    body = {"seq": 1, "text": "Hm"}
    assert (
        post(reviewer_client, f"/api/runs/{run.pk}/comments", {"seq": 9, "text": "x"}).status_code
        == 422
    )
    assert post(owner_client, f"/api/runs/{run.pk}/comments", body).status_code == 403
    assert post(stranger_client, f"/api/runs/{run.pk}/comments", body).status_code == 404
    assert stranger_client.get(f"/api/runs/{run.pk}/comments").status_code == 404
