"""Your API tokens through the API: issued from a browser session with the secret shown
once, listed without it, and revoked for good."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from studio.accounts.api import MAX_TOKENS_PER_USER
from studio.accounts.models import ApiToken


def issue(client: Client, name: str = "deploy script") -> dict:
    response = client.post("/api/tokens", {"name": name}, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_token_is_shown_once_then_listed_without_its_secret(
    owner_client: Client, anonymous_client: Client
) -> None:
    issued = issue(owner_client)

    assert issued["token"].startswith(issued["prefix"])
    listed = owner_client.get("/api/tokens").json()
    assert [item["name"] for item in listed] == ["deploy script"]
    assert "token" not in listed[0] and issued["token"] not in str(listed)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued['token']}"}
    assert anonymous_client.get("/api/teams", **bearer).status_code == 200
    assert owner_client.get("/api/tokens").json()[0]["last_used_at"] is not None


def test_a_revoked_token_lets_nobody_in(owner_client: Client, anonymous_client: Client) -> None:
    issued = issue(owner_client)

    assert owner_client.delete(f"/api/tokens/{issued['id']}").status_code == 204

    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issued['token']}"}
    assert anonymous_client.get("/api/teams", **bearer).status_code == 401
    assert owner_client.get("/api/tokens").json() == []


def test_nobody_sees_or_revokes_anothers_token(
    owner_client: Client, stranger_client: Client
) -> None:
    issued = issue(owner_client)

    assert stranger_client.get("/api/tokens").json() == []
    assert stranger_client.delete(f"/api/tokens/{issued['id']}").status_code == 404
    assert ApiToken.objects.filter(pk=issued["id"]).exists()


def test_a_token_cannot_issue_another_token(owner_client: Client, anonymous_client: Client) -> None:
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {issue(owner_client)['token']}"}

    response = anonymous_client.post(
        "/api/tokens", {"name": "copy"}, content_type="application/json", **bearer
    )

    assert response.status_code == 401
    assert ApiToken.objects.count() == 1


def test_issuing_needs_the_csrf_token_in_a_browser(owner: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    response = client.post("/api/tokens", {"name": "x"}, content_type="application/json")

    assert response.status_code in (401, 403)
    assert not ApiToken.objects.exists()


def test_past_the_limit_a_new_token_is_refused_with_what_to_do(
    owner: User, owner_client: Client
) -> None:
    for number in range(MAX_TOKENS_PER_USER):
        ApiToken.objects.issue(owner, name=f"t{number}")

    response = owner_client.post("/api/tokens", {}, content_type="application/json")

    assert response.status_code == 409
    assert "Revoke one" in response.json()["message"]
