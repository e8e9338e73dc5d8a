"""The server side of the pages: login, scoping, and the URLs handed to JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from studio.runs.models import Run
from studio.teams import services
from studio.teams.gallery import seed_gallery
from studio.teams.models import Team


@pytest.fixture
def team(owner) -> Team:
    """A team the owner made, with one saved version."""
    return services.save_team(owner, {"name": "Research desk", "kind": "round_robin"})


@pytest.fixture
def run(owner, team: Team) -> Run:
    """A queued run of the owner's team."""
    return Run.objects.create(
        team=team, team_version=team.latest_version(), task="Summarise", started_by=owner
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["web-team-list", "web-run-list", "web-model-list"])
def test_pages_send_anonymous_visitors_to_the_login_page(anonymous_client: Client, name) -> None:
    response = anonymous_client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_builder_and_run_pages_need_a_login(anonymous_client: Client, team, run) -> None:
    for url in [
        reverse("web-team-builder", args=[team.pk]),
        reverse("web-run-detail", args=[run.pk]),
    ]:
        response = anonymous_client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_team_list_shows_own_teams_and_the_gallery(owner_client: Client, team) -> None:
    seed_gallery()
    page = owner_client.get(reverse("web-team-list")).content.decode()
    assert "Research desk" in page
    assert "Writer and critic" in page
    assert page.index("Research desk") < page.index("Gallery")


def test_team_list_hides_teams_of_others(stranger_client: Client, team) -> None:
    page = stranger_client.get(reverse("web-team-list")).content.decode()
    assert "Research desk" not in page


def test_strangers_get_404_for_builder_and_run_pages(stranger_client: Client, team, run) -> None:
    assert stranger_client.get(reverse("web-team-builder", args=[team.pk])).status_code == 404
    assert stranger_client.get(reverse("web-run-detail", args=[run.pk])).status_code == 404


def test_builder_hands_the_api_urls_to_javascript(owner_client: Client, team) -> None:
    page = owner_client.get(reverse("web-team-builder", args=[team.pk])).content.decode()
    assert f'data-team-url="/api/teams/{team.pk}"' in page
    assert f'data-validate-url="/api/teams/{team.pk}/validate"' in page
    assert 'data-agents-url="/api/agents"' in page
    assert 'data-runs-url="/api/runs"' in page
    assert "dist/builder.js" in page


def test_run_page_tells_a_viewer_that_they_cannot_steer(
    owner_client: Client, teammate_client: Client, teammate, team, run
) -> None:
    team.share_with(user=teammate, role="viewer")
    url = reverse("web-run-detail", args=[run.pk])
    assert 'data-can-steer="true"' in owner_client.get(url).content.decode()
    page = teammate_client.get(url).content.decode()
    assert 'data-can-steer="false"' in page
    assert f'data-socket-path="/ws/runs/{run.pk}/"' in page


def test_run_page_escapes_the_task(owner_client: Client, owner, team) -> None:
    run = Run.objects.create(
        team=team,
        team_version=team.latest_version(),
        task='"><script>alert(1)</script>',
        started_by=owner,
    )
    page = owner_client.get(reverse("web-run-detail", args=[run.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_run_history_keeps_the_filters_of_the_query_string(owner_client: Client, team) -> None:
    url = reverse("web-run-list") + f"?team={team.pk}&status=completed&q=zebra"
    page = owner_client.get(url).content.decode()
    assert f'<option value="{team.pk}" selected>' in page
    assert '<option value="completed" selected>' in page
    assert 'value="zebra"' in page


@pytest.mark.django_db
def test_static_files_are_served_without_a_login(anonymous_client: Client) -> None:
    response = anonymous_client.get("/static/css/roundtable.css")
    assert response.status_code == 200
    assert b"--accent" in b"".join(response.streaming_content)


def test_models_page_hands_the_api_urls_to_javascript(owner_client: Client) -> None:
    page = owner_client.get(reverse("web-model-list")).content.decode()
    assert 'data-models-url="/api/models"' in page
    assert 'data-credentials-url="/api/credentials"' in page
    assert 'aria-current="page">Models<' in page


def test_compare_shows_what_changed_between_the_team_versions(
    owner_client: Client, owner, team, run
) -> None:
    services.save_team(owner, {"max_turns": 7}, team)
    later = Run.objects.create(
        team=team, team_version=team.latest_version(), task="Again", started_by=owner
    )
    url = reverse("web-run-compare") + f"?a={run.pk}&b={later.pk}"
    page = owner_client.get(url).content.decode()
    assert "<code>max_turns</code>" in page
    assert f'"events_url": "/api/runs/{later.pk}/events"' in page


def test_compare_needs_two_runs_the_user_may_see(
    owner_client: Client, stranger_client: Client, run
) -> None:
    url = reverse("web-run-compare")
    for query in [f"?a={run.pk}", f"?a={run.pk}&b=x"]:
        response = owner_client.get(url + query, follow=True)
        assert response.redirect_chain == [(reverse("web-run-list"), 302)]
        assert "Tick two runs" in response.content.decode()
    assert stranger_client.get(url + f"?a={run.pk}&b={run.pk}").status_code == 404
    assert owner_client.get(url + f"?a={run.pk}&b={run.pk}").status_code == 200
