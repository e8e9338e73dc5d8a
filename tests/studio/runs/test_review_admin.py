"""The admin's run review console: read-only, the transcript inert, the review the one
thing that changes; the list's verdict filter and export actions."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib.auth.models import User
from django.test import Client

from studio.runs.models import Run, RunReview
from studio.teams.models import Team
from tests.studio.conftest import logged_in_client, make_user
from tests.studio.runs.test_reviews import add_event, make_run

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def staff_client(db: None) -> Client:
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    return logged_in_client(staff)


def hostile_run(owner: User) -> Run:
    run = make_run(owner, task=f"Task {SCRIPT}")
    Team.objects.filter(pk=run.team_id).update(name=f"Crew {SCRIPT}")
    add_event(run, 1, "message", "writer", {"content": f"Berlin {SCRIPT}"})
    add_event(run, 2, "tool.result", "writer", {"content": f"result {SCRIPT}", "is_error": True})
    Run.objects.filter(pk=run.pk).update(
        cost_usd=0.00519300000000000014,
        usage={"by_model": {"gpt": {"calls": 2, "prompt_tokens": 10, "cost_usd": 0.005193}}},
    )
    return run


def test_the_review_page_renders_script_in_messages_tool_results_and_team_names_inert(
    owner: User, staff_client: Client
) -> None:
    run = hostile_run(owner)
    response = staff_client.get(f"/admin/runs/run/{run.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert" not in page
    assert "<style" not in page, "the content security policy refuses inline styles"
    assert page.count("&lt;script&gt;alert(") == 4  # task, team name, message, tool result
    assert "Berlin &lt;script&gt;" in page and "result &lt;script&gt;" in page


def test_the_review_page_formats_cost_and_links_to_the_live_view(
    owner: User, staff_client: Client
) -> None:
    run = hostile_run(owner)
    page = staff_client.get(f"/admin/runs/run/{run.pk}/change/").content.decode()
    assert "$0.0052" in page
    assert "0.00519300000000000014" not in page
    assert f'href="/runs/{run.pk}/"' in page


def test_the_review_page_has_no_editable_run_fields_and_no_delete(
    owner: User, staff_client: Client
) -> None:
    run = hostile_run(owner)
    page = staff_client.get(f"/admin/runs/run/{run.pk}/change/").content.decode()
    assert 'name="task"' not in page and 'name="status"' not in page
    assert "/delete/" not in page
    assert staff_client.post(f"/admin/runs/run/{run.pk}/delete/", {"post": "yes"}).status_code in (
        302,
        403,
    )
    assert Run.objects.filter(pk=run.pk).exists()
    assert staff_client.get("/admin/runs/run/add/").status_code == 403


def test_a_review_posted_on_the_page_is_kept_with_who_gave_it(
    owner: User, staff_client: Client
) -> None:
    run = hostile_run(owner)
    response = staff_client.post(
        f"/admin/runs/run/{run.pk}/change/",
        {"verdict": "bad", "note": "Hallucinated", "tags": "facts, tone"},
    )
    assert response.status_code == 302
    review = RunReview.objects.get(run=run)
    assert (review.verdict, review.reviewer.username) == ("bad", "stella")
    assert sorted(review.tags.values_list("name", flat=True)) == ["facts", "tone"]
    page = staff_client.get(f"/admin/runs/run/{run.pk}/change/").content.decode()
    assert "Hallucinated" in page


def test_the_run_list_filters_by_verdict(owner: User, staff_client: Client) -> None:
    good, plain = make_run(owner), make_run(owner)
    staff_client.post(f"/admin/runs/run/{good.pk}/change/", {"verdict": "good"})
    page = staff_client.get("/admin/runs/run/?verdict=good").content.decode()
    assert f"/admin/runs/run/{good.pk}/change/" in page
    assert f"/admin/runs/run/{plain.pk}/change/" not in page
    unreviewed = staff_client.get("/admin/runs/run/?verdict=none").content.decode()
    assert f"/admin/runs/run/{plain.pk}/change/" in unreviewed


def test_the_export_actions_download_an_archive_and_a_csv_of_the_selected_runs(
    owner: User, staff_client: Client
) -> None:
    first, second = hostile_run(owner), make_run(owner)
    archive = staff_client.post(
        "/admin/runs/run/",
        {"action": "export_jsonl_archive", "_selected_action": [first.pk, second.pk]},
    )
    assert archive["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(archive.content)).namelist()
    assert sorted(names) == sorted([f"run-{first.pk}.jsonl", f"run-{second.pk}.jsonl"])
    table = staff_client.post(
        "/admin/runs/run/", {"action": "export_csv_summary", "_selected_action": [first.pk]}
    )
    rows = table.content.decode().splitlines()
    assert len(rows) == 2 and rows[1].startswith(f"{first.pk},")


def test_a_non_staff_reviewer_and_an_owner_are_kept_out_of_the_admin(
    owner: User, owner_client: Client
) -> None:
    run = make_run(owner)
    response = owner_client.get(f"/admin/runs/run/{run.pk}/change/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_comment_posted_on_the_page_shows_under_its_event_inert(
    owner: User, staff_client: Client
) -> None:
    run = hostile_run(owner)
    response = staff_client.post(
        f"/admin/runs/run/{run.pk}/change/", {"seq": 1, "text": f"Look {SCRIPT}"}
    )
    assert response.status_code == 302
    assert not RunReview.objects.exists()
    page = staff_client.get(f"/admin/runs/run/{run.pk}/change/").content.decode()
    event = page[page.index('id="event-1"') : page.index('id="event-2"')]
    assert "Look &lt;script&gt;" in event
    assert "<script>alert" not in page


def test_the_run_list_shows_the_review_queue(owner: User, staff_client: Client) -> None:
    waiting, done = make_run(owner), make_run(owner)
    staff_client.post(f"/admin/runs/run/{done.pk}/change/", {"verdict": "good"})
    page = staff_client.get("/admin/runs/run/?queue=waiting").content.decode()
    assert f"/admin/runs/run/{waiting.pk}/change/" in page
    assert f"/admin/runs/run/{done.pk}/change/" not in page


def test_a_bulk_action_reviews_every_selected_run(owner: User, staff_client: Client) -> None:
    first, second, other = make_run(owner), make_run(owner), make_run(owner)
    response = staff_client.post(
        "/admin/runs/run/", {"action": "mark_needs_work", "_selected_action": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    reviewed = RunReview.objects.values_list("run_id", "verdict", "reviewer__username")
    assert sorted(reviewed) == sorted(
        [(first.pk, "needs_work", "stella"), (second.pk, "needs_work", "stella")]
    )
    assert not RunReview.objects.filter(run=other).exists()


def test_the_run_list_filters_by_forking_and_asking_the_human(
    owner: User, staff_client: Client
) -> None:
    plain, fork = make_run(owner), make_run(owner)
    Run.objects.filter(pk=fork.pk).update(parent=plain, parent_seq=1)
    add_event(plain, 1, "input.requested", "person", {"request_id": "r", "prompt": "ok?"})
    forked = staff_client.get("/admin/runs/run/?forked=yes").content.decode()
    assert f"/admin/runs/run/{fork.pk}/change/" in forked
    assert f"/admin/runs/run/{plain.pk}/change/" not in forked
    asked = staff_client.get("/admin/runs/run/?asked_human=yes").content.decode()
    assert f"/admin/runs/run/{plain.pk}/change/" in asked
    assert f"/admin/runs/run/{fork.pk}/change/" not in asked


def test_the_run_view_links_staff_reviewers_to_the_review_console(db: None) -> None:
    from tests.studio.runs.conftest import chatty_team

    owner = make_user("owen")
    team = chatty_team(owner)
    run = Run.objects.create(
        team=team, team_version=team.latest_version(), task="t", started_by=owner
    )
    staff = make_user("sally")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    review = f"/admin/runs/run/{run.pk}/change/"
    as_staff = Client()
    as_staff.force_login(staff)
    assert review.encode() in as_staff.get(f"/runs/{run.pk}/").content
    as_owner = Client()
    as_owner.force_login(owner)
    assert review.encode() not in as_owner.get(f"/runs/{run.pk}/").content
