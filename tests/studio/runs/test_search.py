"""Full-text search over message text (FTS5 on SQLite, a GIN-indexed tsvector on
PostgreSQL): the right runs, best first, with highlighted snippets, scoped by persona."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from studio.runs.models import Run, RunEvent
from tests.studio.conftest import logged_in_client, make_user
from tests.studio.runs.test_reviews import add_event, make_run

pytestmark = pytest.mark.django_db


def search(client: Client, query: str) -> list[dict[str, Any]]:
    response = client.get("/api/runs", {"q": query})
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def runs(owner: User) -> dict[str, Run]:
    travel = make_run(owner, task="Plan a trip")
    add_event(travel, 1, "message", "user", {"content": "Plan a trip"})
    add_event(travel, 2, "message", "planner", {"content": "Start in Berlin, then go to Prague."})
    capitals = make_run(owner, task="Name capitals")
    add_event(capitals, 1, "message", "user", {"content": "Name capitals"})
    add_event(
        capitals,
        2,
        "message",
        "writer",
        {"content": "Berlin is the capital of Germany. Berlin has 3.7 million people."},
    )
    cooking = make_run(owner, task="Bake bread")
    add_event(cooking, 1, "message", "baker", {"content": "Knead the dough <b>well</b>."})
    return {"travel": travel, "capitals": capitals, "cooking": cooking}


def test_search_finds_the_runs_whose_messages_hold_the_word_best_first(
    owner_client: Client, runs: dict[str, Run]
) -> None:
    found = search(owner_client, "berlin")
    assert [item["id"] for item in found] == [runs["capitals"].pk, runs["travel"].pk]
    assert found[0]["match_seq"] == 2
    assert "<mark>Berlin</mark>" in found[0]["snippet"]


def test_search_matches_words_by_their_stem(owner_client: Client, runs: dict[str, Run]) -> None:
    assert [item["id"] for item in search(owner_client, "kneading")] == [runs["cooking"].pk]


def test_every_word_of_a_search_must_match(owner_client: Client, runs: dict[str, Run]) -> None:
    assert [item["id"] for item in search(owner_client, "berlin prague")] == [runs["travel"].pk]
    assert search(owner_client, "berlin dough") == []


def test_snippets_escape_the_message_text(owner_client: Client, runs: dict[str, Run]) -> None:
    snippet = search(owner_client, "dough")[0]["snippet"]
    assert "<b>" not in snippet  # SQLite keeps the tag as escaped text, PostgreSQL drops it
    if connection.vendor == "sqlite":
        assert "&lt;b&gt;" in snippet
    assert "<mark>dough</mark>" in snippet


def test_search_syntax_characters_are_taken_as_plain_text(
    owner_client: Client, runs: dict[str, Run]
) -> None:
    for query in ['"berlin', "berlin OR", "NEAR(berlin", "berlin*", "-berlin", "^", "'"]:
        found = search(owner_client, query)
        assert {item["id"] for item in found} <= {runs["capitals"].pk, runs["travel"].pk}


def test_search_still_finds_runs_by_their_task(owner_client: Client, runs: dict[str, Run]) -> None:
    assert [item["id"] for item in search(owner_client, "Bake")] == [runs["cooking"].pk]


def test_search_leaves_out_discarded_events(owner_client: Client, runs: dict[str, Run]) -> None:
    RunEvent.objects.filter(run=runs["travel"], seq=2).update(discarded=True)
    assert [item["id"] for item in search(owner_client, "prague")] == []


def test_search_follows_edits_and_deletions_of_events(
    owner_client: Client, runs: dict[str, Run]
) -> None:
    RunEvent.objects.filter(run=runs["cooking"]).update(text="Fold the croissants")
    assert search(owner_client, "dough") == []
    assert [item["id"] for item in search(owner_client, "croissant")] == [runs["cooking"].pk]
    runs["cooking"].delete()
    assert search(owner_client, "croissant") == []


def test_search_shows_a_stranger_nothing_and_a_reviewer_everything(
    owner: User, stranger_client: Client, runs: dict[str, Run]
) -> None:
    assert search(stranger_client, "berlin") == []
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    found = search(logged_in_client(staff), "berlin")
    assert len(found) == 2


def test_the_admin_search_box_finds_runs_by_message_text(
    runs: dict[str, Run],
) -> None:
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    page = logged_in_client(staff).get("/admin/runs/run/", {"q": "prague"}).content.decode()
    assert f"/admin/runs/run/{runs['travel'].pk}/change/" in page
    assert f"/admin/runs/run/{runs['capitals'].pk}/change/" not in page


def test_search_runs_on_the_database_own_engine() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'runs_runevent_fts'")
        else:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE indexname = 'runevent_search_vector'"
            )
        assert cursor.fetchone() is not None


def test_search_pages_run_ranked_matches_then_task_matches_without_repeats(
    owner: User, owner_client: Client, runs: dict[str, Run]
) -> None:
    by_task = make_run(owner, task="Berlin by night")
    pages = [
        owner_client.get("/api/runs", {"q": "berlin", "limit": 1, "offset": offset}).json()
        for offset in range(4)
    ]
    assert [[item["id"] for item in page] for page in pages] == [
        [runs["capitals"].pk],
        [runs["travel"].pk],
        [by_task.pk],
        [],
    ]
    assert pages[2][0]["snippet"] is None


def test_a_search_of_only_common_words_still_finds_the_phrase(
    owner_client: Client, runs: dict[str, Run]
) -> None:
    found = search(owner_client, "is the")
    assert [item["id"] for item in found] == [runs["capitals"].pk]
