"""The statements written out once for the busiest paths read what the ORM would: a run
start's team, a socket's run, a team's seats with their models."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.runs import backends
from studio.runs.models import Run, Status
from studio.runs.services import (
    launch_on_commit,
    own_team_statement,
    owns_runs_team,
    run_of_own_team,
    unchanged_version,
)
from studio.sql import db_value, fetch_rows, first_row, insert_row, quoted_column, quoted_table
from studio.teams.models import Agent, ModelConfig, Team, TeamMember, TeamVersion
from tests.studio.runs.conftest import chatty_team

pytestmark = pytest.mark.django_db


def test_a_run_start_reads_its_users_team_in_one_plain_statement(
    owner: User, stranger: User
) -> None:
    team = Team.objects.create(owner=owner, name="Solo", layout={"a": {"x": 1}})
    with CaptureQueriesContext(connection) as queries:
        found = first_row(Team, own_team_statement(), [team.pk, owner.pk])
    assert found == team and found.layout == {"a": {"x": 1}} and found.owner_id == owner.pk
    assert len(queries.captured_queries) == 1
    assert first_row(Team, own_team_statement(), [team.pk, stranger.pk]) is None


def test_a_run_is_its_team_owners_and_nobody_elses(owner: User, stranger: User) -> None:
    team = chatty_team(owner)
    run = Run.objects.create(team=team, team_version=team.versions.get(), task="Go")
    assert run_of_own_team(owner, run.pk) == run
    assert run_of_own_team(owner, run.pk).task == "Go"  # type: ignore[union-attr]
    assert run_of_own_team(stranger, run.pk) is None
    assert run_of_own_team(owner, run.pk + 1) is None
    assert owns_runs_team(owner, run.pk)
    assert not owns_runs_team(stranger, run.pk) and not owns_runs_team(owner, run.pk + 1)
    owner.is_active = False
    assert run_of_own_team(owner, run.pk) is None and not owns_runs_team(owner, run.pk)


def test_a_teams_members_come_in_seat_order_with_their_models(owner: User) -> None:
    team = Team.objects.create(owner=owner, name="Trio")
    model = ModelConfig.objects.create(owner=owner, name="m", provider="openai", model="gpt")
    agents = [
        Agent.objects.create(owner=owner, name=name, model=model if name != "c" else None)
        for name in ("a", "b", "c")
    ]
    # seats written out of their order: the rows' order is not the seats'
    for agent, position in zip(agents, (2, 0, 1), strict=True):
        TeamMember.objects.create(team=team, agent=agent, position=position)
    team = Team.objects.get(pk=team.pk)
    with CaptureQueriesContext(connection) as queries:
        members = team.ordered_members()
        names = [agent.name for agent in members]
        models = [agent.model for agent in members]  # read with the seats
    assert names == ["b", "c", "a"]
    assert models == [model, None, model] and models[0] is models[2]
    assert members[0].tools == agents[1].tools  # JSON read back as data
    assert len(queries.captured_queries) == 2  # the seats, then their models
    assert Team.objects.create(owner=owner, name="Empty").ordered_members() == []


def test_a_run_start_finds_its_teams_latest_version_when_the_spec_is_unchanged(
    owner: User,
) -> None:
    team = chatty_team(owner)
    first = team.versions.get()
    latest = TeamVersion.objects.create(
        team=team, number=2, spec=first.spec, content_hash=first.content_hash
    )
    found = unchanged_version(team, first.content_hash)
    assert found == latest and found is not None and found.number == 2
    assert found.spec == first.spec  # what the statement left out is read when asked
    assert unchanged_version(team, "0" * 64) is None


def test_a_launched_runs_task_is_noted_while_it_is_still_queued(
    owner: User, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    class Queue:
        def launch(self, run_id: int) -> str:
            return f"task-{run_id}"

    monkeypatch.setattr(backends, "get_backend", Queue)
    team = chatty_team(owner)
    run = Run.objects.create(team=team, team_version=team.versions.get(), task="Go")
    with django_capture_on_commit_callbacks(execute=True):
        launch_on_commit(run.pk)
    assert Run.objects.get(pk=run.pk).task_id == f"task-{run.pk}"
    # An executor that claimed it meanwhile noted its own task: it stays.
    Run.objects.filter(pk=run.pk).update(status=Status.RUNNING, task_id="claimed")
    with django_capture_on_commit_callbacks(execute=True):
        launch_on_commit(run.pk)
    assert Run.objects.get(pk=run.pk).task_id == "claimed"


def test_rows_read_by_a_written_out_statement_are_what_the_orm_reads(owner: User) -> None:
    team = chatty_team(owner)
    run = Run.objects.create(
        team=team, team_version=team.versions.get(), task="Go", usage={"m": {"calls": 2}}
    )
    run.refresh_from_db()
    table, key = quoted_table(Run), quoted_column(Run, "id")
    task, usage = quoted_column(Run, "task"), quoted_column(Run, "usage")
    created = quoted_column(Run, "created_at")
    # Columns in another order than the model's, some left out, one that is no field.
    statement = (
        f"SELECT {usage}, {key}, {created}, {task}, 7 AS extra FROM {table} WHERE {key} = %s"
    )
    (found,) = fetch_rows(Run, statement, [run.pk])
    assert (found.pk, found.task, found.usage, found.extra) == (run.pk, "Go", run.usage, 7)
    assert found.created_at == run.created_at and found.created_at.tzinfo is not None
    assert found.get_deferred_fields() >= {"status", "team_id"}
    assert found.status == run.status  # a deferred field is read when asked for
    assert fetch_rows(Run, statement, [run.pk + 1]) == []


def test_a_row_inserted_by_a_written_out_statement_is_what_save_writes(owner: User) -> None:
    team = chatty_team(owner)
    run = Run(team=team, team_version=team.versions.get(), task="Go", budget_usd=1.5)
    insert_row(run)
    assert run.pk is not None and not run._state.adding
    stored = Run.objects.get(pk=run.pk)
    assert (stored.task, stored.budget_usd, stored.status) == ("Go", 1.5, Status.QUEUED)
    assert stored.created_at == run.created_at is not None  # set on insert, as save() does
    assert stored.usage == Run._meta.get_field("usage").get_default()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("prompt_tokens", 12),
        ("cost_usd", 0.25),
        ("stop_reason", "Done."),
        ("lease", "lease-1"),
        ("status", Status.COMPLETED),
        ("prompt_tokens", True),  # a bool is not the int the field keeps: the field decides
        ("usage", {"by_model": {}}),
        ("pending_answer", "a text answer"),  # JSON: still encoded, though it is a str
    ],
)
def test_a_value_goes_to_the_database_as_its_field_would_hand_it(name: str, value: Any) -> None:
    field = Run._meta.get_field(name)
    ours, theirs = db_value(Run, name, value), field.get_db_prep_save(value, connection)
    assert type(ours) is type(theirs)
    assert ours == theirs or str(ours) == str(theirs)  # a jsonb wrapper on PostgreSQL
