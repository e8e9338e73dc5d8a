"""Answering the human seat: the owner's answer in one statement, everyone else's through
the rights checks, and the same refusals either way."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.errors import ServiceError
from studio.runs import services
from studio.runs.models import Run, Status
from studio.teams.models import Team
from tests.studio.runs.conftest import EDITOR, VIEWER, chatty_team

pytestmark = pytest.mark.django_db


def waiting_run(owner: User, team: Team, request_id: str = "r1") -> Run:
    """A run whose human seat waits for ``request_id`` (no executor behind it)."""
    return Run.objects.create(
        team=team,
        team_version=team.versions.get(),
        task="Ask me",
        started_by=owner,
        status=Status.AWAITING_INPUT,
        pending_request_id=request_id,
        backend="embedded",
    )


def test_the_owner_answers_a_waiting_run_in_one_statement(owner: User) -> None:
    run = waiting_run(owner, chatty_team(owner))
    with CaptureQueriesContext(connection) as queries:
        services.provide_input(owner, run.pk, "r1", "Blue")
    statements = [query["sql"] for query in queries.captured_queries]
    assert [sql.split()[0] for sql in statements if sql.split()[0] in ("SELECT", "UPDATE")] == [
        "UPDATE"
    ], statements
    run.refresh_from_db()
    assert run.pending_answer == {
        "type": "input",
        "request_id": "r1",
        "content": "Blue",
        "user": owner.get_username(),
    }
    assert run.status == Status.AWAITING_INPUT


def test_an_answer_to_an_answered_request_is_refused_with_the_reason(owner: User) -> None:
    run = waiting_run(owner, chatty_team(owner))
    services.provide_input(owner, run.pk, "r1", "Blue")
    with pytest.raises(ServiceError) as refused:
        services.provide_input(owner, run.pk, "r1", "Red")
    assert refused.value.status == 409
    assert refused.value.message == "Request r1 is not pending: that request was already answered."
    with pytest.raises(ServiceError) as refused:
        services.provide_input(owner, run.pk, "r2", "Red")
    assert refused.value.message == "Request r2 is not pending: that request was already answered."
    run.refresh_from_db()
    assert run.pending_answer is not None and run.pending_answer["content"] == "Blue"


def test_an_answer_to_another_request_names_the_pending_one(owner: User) -> None:
    run = waiting_run(owner, chatty_team(owner), request_id="r7")
    with pytest.raises(ServiceError) as refused:
        services.provide_input(owner, run.pk, "r1", "Blue")
    assert (refused.value.status, refused.value.message) == (
        409,
        "Request r1 is not pending: the run waits for request r7.",
    )


def test_an_answer_to_a_run_that_is_not_waiting_says_what_it_is_doing(owner: User) -> None:
    run = waiting_run(owner, chatty_team(owner))
    Run.objects.filter(pk=run.pk).update(status=Status.RUNNING)
    with pytest.raises(ServiceError) as refused:
        services.provide_input(owner, run.pk, "r1", "Blue")
    assert refused.value.message == (
        "Request r1 is not pending: the run is not waiting for input (it is running)."
    )


def test_an_editor_answers_and_a_viewer_or_a_stranger_cannot(
    owner: User, teammate: User, stranger: User
) -> None:
    viewer = User.objects.create_user("victor")
    team = chatty_team(owner, shared_with={teammate: EDITOR, viewer: VIEWER})
    run = waiting_run(owner, team)
    with pytest.raises(ServiceError) as refused:
        services.provide_input(viewer, run.pk, "r1", "Blue")
    assert (refused.value.status, refused.value.message) == (
        403,
        "You may watch this run but not steer it.",
    )
    with pytest.raises(ServiceError) as refused:
        services.provide_input(stranger, run.pk, "r1", "Blue")
    assert (refused.value.status, refused.value.message) == (404, "Not found.")
    run.refresh_from_db()
    assert run.pending_answer is None
    services.provide_input(teammate, run.pk, "r1", "Green")
    run.refresh_from_db()
    assert run.pending_answer is not None and run.pending_answer["user"] == "tomas"


def test_an_inactive_owner_cannot_answer(owner: User) -> None:
    run = waiting_run(owner, chatty_team(owner))
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    with pytest.raises(ServiceError) as refused:
        services.provide_input(owner, run.pk, "r1", "Blue")
    assert refused.value.status == 404
    run.refresh_from_db()
    assert run.pending_answer is None
