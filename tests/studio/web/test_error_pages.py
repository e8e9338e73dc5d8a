"""The studio's own 403, 404 and 500 pages (JSON under /api/), and the settings page."""

from __future__ import annotations

from django.test import Client, RequestFactory
from django.urls import reverse

from studio.teams import services
from studio.web import errors


def test_an_unknown_page_is_the_styled_404_with_ways_back(owner_client: Client) -> None:
    response = owner_client.get("/no/such/page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "There is nothing here" in page
    assert 'href="/runs/"' in page and 'href="/"' in page
    assert "/static/css/roundtable.css" in page


def test_a_team_someone_did_not_share_reads_like_any_missing_page(
    stranger_client: Client, owner
) -> None:
    team = services.save_team(owner, {"name": "Private desk"})

    response = stranger_client.get(reverse("web-team-builder", args=[team.pk]))

    assert response.status_code == 404
    assert "There is nothing here" in response.content.decode()
    assert "Private desk" not in response.content.decode()


def test_a_visitor_who_is_not_logged_in_is_offered_the_login(anonymous_client: Client) -> None:
    page = anonymous_client.get("/no/such/page/").content.decode()

    assert "/accounts/login/?next=/no/such/page/" in page


def test_api_errors_stay_json(owner_client: Client) -> None:
    response = owner_client.get("/api/teams/999999")

    assert response.status_code == 404
    assert response.json()["message"]
    request = RequestFactory().get("/api/teams")
    assert errors.page_not_found(request)["Content-Type"] == "application/json"
    assert errors.server_error(request).status_code == 500


def test_the_500_page_renders_without_a_request_context() -> None:
    response = errors.server_error(RequestFactory().get("/teams/1/"))

    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'href="/"' in page


def test_the_403_page_says_whom_to_ask(owner_client: Client) -> None:
    request = RequestFactory().get("/teams/1/")
    request.user = owner_client.get("/").wsgi_request.user

    response = errors.permission_denied(request)

    assert response.status_code == 403
    assert "Ask the owner" in response.content.decode()


def test_the_settings_page_hands_the_token_and_list_urls_to_the_island(
    owner_client: Client,
) -> None:
    page = owner_client.get(reverse("web-settings")).content.decode()

    assert 'data-tokens-url="/api/tokens"' in page
    assert 'data-teams-url="/api/teams"' in page
    assert 'aria-current="page">Settings' in page


def test_a_stale_form_gets_a_page_that_says_to_reload(owner) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post(reverse("logout"))

    assert response.status_code == 403
    assert "reload the page" in response.content.decode()
