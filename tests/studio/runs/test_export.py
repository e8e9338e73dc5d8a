"""Exporting a run: every persisted event the API lists, in seq order, with the run's
summary and team spec, in JSON Lines, JSON and Markdown; by persona."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from studio.runs.export import csv_summary
from studio.runs.models import Run, Status
from tests.studio.conftest import logged_in_client, make_user
from tests.studio.runs.test_reviews import add_event, make_run

pytestmark = pytest.mark.django_db


def core(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What an event is, whatever optional fields a serializer adds."""
    keys = ("run", "seq", "type", "source", "at", "data")
    return [(*(event[key] for key in keys), bool(event.get("discarded"))) for event in events]


def run_with_events(owner: User) -> Run:
    run = make_run(owner, task="Find the capital of Germany")
    add_event(run, 1, "message", "user", {"content": "Find the capital of Germany"})
    add_event(run, 2, "tool.call", "writer", {"name": "lookup", "arguments": {"q": "Berlin"}})
    add_event(run, 3, "message", "writer", {"content": "```\nBerlin <script>x()</script>"})
    add_event(run, 4, "run.finished", "", {"status": "completed"})
    return run


def test_a_jsonl_export_holds_exactly_the_events_the_api_lists(
    owner: User, owner_client: Client
) -> None:
    run = run_with_events(owner)
    listed = owner_client.get(f"/api/runs/{run.pk}/events").json()
    response = owner_client.get(f"/api/runs/{run.pk}/export?format=jsonl")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.pk}.jsonl"'
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert lines[0]["kind"] == "run"
    assert lines[0]["run"]["task"] == "Find the capital of Germany"
    assert lines[0]["team_spec"] == run.team_version.spec
    exported = [line["event"] for line in lines[1:]]
    assert core(exported) == core(listed)
    assert [event["seq"] for event in exported] == [1, 2, 3, 4]


def test_a_json_export_is_one_document_with_summary_spec_and_events(
    owner: User, owner_client: Client
) -> None:
    run = run_with_events(owner)
    document = owner_client.get(f"/api/runs/{run.pk}/export?format=json").json()
    assert document["run"]["id"] == run.pk
    assert document["run"]["status"] == Status.COMPLETED
    assert document["team_spec"] == run.team_version.spec
    listed = owner_client.get(f"/api/runs/{run.pk}/events").json()
    assert core(document["events"]) == core(listed)


def test_a_markdown_export_fences_message_text_so_nothing_in_it_renders(
    owner: User, owner_client: Client
) -> None:
    run = run_with_events(owner)
    response = owner_client.get(f"/api/runs/{run.pk}/export?format=markdown")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/markdown")
    assert "### #3 message — writer\n\n````\n```\nBerlin <script>x()</script>\n````" in text
    assert text.index("#1 message") < text.index("#2 tool.call") < text.index("#4 run.finished")


def test_an_unknown_export_format_is_refused(owner: User, owner_client: Client) -> None:
    run = run_with_events(owner)
    assert owner_client.get(f"/api/runs/{run.pk}/export?format=xml").status_code == 422


def test_a_stranger_cannot_export_a_run_and_a_reviewer_can(
    owner: User, stranger_client: Client
) -> None:
    run = run_with_events(owner)
    assert stranger_client.get(f"/api/runs/{run.pk}/export").status_code == 404
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    assert logged_in_client(staff).get(f"/api/runs/{run.pk}/export").status_code == 200


def test_a_csv_summary_defuses_cells_that_look_like_formulas(owner: User) -> None:
    run = make_run(owner, task='=HYPERLINK("http://example.test")')
    rows = csv_summary(Run.objects.filter(pk=run.pk).select_related("team", "team_version"))
    assert rows.splitlines()[0].startswith("id,team,team_version,status")
    assert "'=HYPERLINK" in rows
