"""`/runs/stats/`: reviewers see charts of runs, cost, failures and durations with the
numbers beside them; names are escaped in the SVG; everyone else gets 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from studio.runs.models import Run, Status
from studio.teams.models import Team
from tests.studio.conftest import logged_in_client, make_user
from tests.studio.runs.test_reviews import make_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db: None) -> Client:
    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    return logged_in_client(staff)


def test_the_dashboard_shows_runs_cost_failures_and_durations(
    owner: User, staff_client: Client
) -> None:
    now = timezone.now()
    done, broken = make_run(owner), make_run(owner, status=Status.FAILED)
    Team.objects.filter(pk=done.team_id).update(name="Crew <script>x()</script>")
    Run.objects.filter(pk=done.pk).update(
        cost_usd=0.25,
        usage={"by_model": {"gpt-4o": {"cost_usd": 0.25}}},
        started_at=now - timedelta(seconds=30),
        finished_at=now,
    )
    Run.objects.filter(pk=broken.pk).update(started_at=now - timedelta(seconds=90), finished_at=now)
    response = staff_client.get("/runs/stats/")
    assert response.status_code == 200
    page = response.content.decode()
    for title in ("Runs per day by status", "Cost per team per week", "Cost per model per week"):
        assert title in page
    assert "Failure rate per week" in page and "50.0%" in page
    assert "$0.2500" in page and "gpt-4o" in page
    assert "<svg" in page and "<script>x()" not in page
    assert "Crew &lt;script&gt;" in page
    assert "90.0 s" in page  # p95 duration


def test_the_dashboard_is_not_there_for_owners_and_strangers(
    owner: User, owner_client: Client, stranger_client: Client
) -> None:
    make_run(owner)
    assert owner_client.get("/runs/stats/").status_code == 404
    assert stranger_client.get("/runs/stats/").status_code == 404
    assert Client().get("/runs/stats/").status_code == 302


def test_the_admin_index_links_to_the_statistics(db: None) -> None:
    from django.test import Client

    from tests.studio.conftest import make_user

    staff = make_user("stella")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(staff)
    assert b'href="/runs/stats/"' in client.get("/admin/").content
