"""API access: bearer tokens, session CSRF, and the request size limit."""

import os
import stat
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from studio.accounts.auth import LAST_USED_RESOLUTION, user_from_bearer
from studio.accounts.models import ApiToken


def create_token(username: str) -> str:
    output = StringIO()
    call_command("create_api_token", username, stdout=output)
    return output.getvalue().strip()


def test_a_bearer_token_authenticates_scripts(owner, anonymous_client: Client) -> None:
    token = create_token("olivia")
    assert token.startswith("rt_")
    assert token not in ApiToken.objects.values_list("digest", flat=True).get()
    response = anonymous_client.get("/api/teams", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    response = anonymous_client.post(
        "/api/agents",
        {"name": "scripted_agent"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201


def test_a_wrong_or_deactivated_token_is_refused(owner, anonymous_client: Client) -> None:
    token = create_token("olivia")
    bad = anonymous_client.get("/api/teams", HTTP_AUTHORIZATION="Bearer rt_nope")
    assert bad.status_code == 401
    owner.is_active = False
    owner.save()
    assert user_from_bearer(token) is None


def test_session_requests_need_a_csrf_token_for_unsafe_methods(owner) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/api/teams").status_code == 200
    response = client.post("/api/agents", {"name": "a"}, content_type="application/json")
    assert response.status_code == 403
    client.get("/admin/login/")
    csrf = client.cookies["csrftoken"].value
    response = client.post(
        "/api/agents", {"name": "a"}, content_type="application/json", HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 201


def test_oversized_bodies_get_413(owner_client: Client, settings) -> None:
    settings.MAX_REQUEST_BYTES = 2048
    response = owner_client.post(
        "/api/teams/import", {"blob": "x" * 5000}, content_type="application/json"
    )
    assert response.status_code == 413
    assert "2048 byte limit" in response.json()["message"]


def _without_declared_length(body: bytes):
    from django.test import RequestFactory

    request = RequestFactory().generic("POST", "/api/teams/import", body, "application/json")
    del request.META["CONTENT_LENGTH"]
    return request


def test_a_body_sent_without_a_length_is_measured_and_refused_when_too_large(settings) -> None:
    from django.http import HttpResponse

    from studio.middleware import RequestSizeLimitMiddleware

    settings.MAX_REQUEST_BYTES = 2048
    seen: list[bytes] = []

    def view(request):
        seen.append(request.body)
        return HttpResponse("ok")

    limited = RequestSizeLimitMiddleware(view)
    assert limited(_without_declared_length(b"x" * 5000)).status_code == 413
    assert seen == []
    assert limited(_without_declared_length(b'{"a": 1}')).status_code == 200
    assert seen == [b'{"a": 1}']


def test_ensure_admin_prints_the_password_once_and_stores_it_privately(
    db, settings, tmp_path
) -> None:
    settings.DATA_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("ensure_admin", stdout=first)
    call_command("ensure_admin", stdout=second)
    password_file = tmp_path / "admin_password"
    password = password_file.read_text().split()[1]
    assert password in first.getvalue()
    assert password not in second.getvalue()
    assert stat.S_IMODE(os.stat(password_file).st_mode) == 0o600
    assert Client().login(username="admin", password=password)


def test_login_and_logout_pages_work(owner, anonymous_client: Client) -> None:
    owner.set_password("correct horse")
    owner.save()
    response = anonymous_client.post(
        "/accounts/login/", {"username": "olivia", "password": "correct horse"}
    )
    assert response.status_code == 302
    assert anonymous_client.get("/api/teams").status_code == 200
    assert anonymous_client.post("/accounts/logout/").status_code == 302
    assert anonymous_client.get("/api/teams").status_code == 401


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("", "studio.sqlite"),
        ("postgresql://me:p%40ss@db.example:5433/rt", "django.db.backends.postgresql"),
    ],
)
def test_database_url_is_parsed(url: str, engine: str, tmp_path) -> None:
    from studio.settings import database_from_url

    config = database_from_url(url, tmp_path)
    assert config["ENGINE"] == engine
    if url:
        assert (config["PASSWORD"], config["PORT"], config["NAME"]) == ("p@ss", "5433", "rt")


def test_a_bad_database_url_is_a_configuration_error(tmp_path) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from studio.settings import database_from_url

    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        database_from_url("mysql://x/y", tmp_path)


def test_the_api_docs_and_schema_need_a_login_or_a_token(owner, anonymous_client: Client) -> None:
    assert anonymous_client.get("/api/openapi.json").status_code == 401
    docs = anonymous_client.get("/api/docs")
    assert docs.status_code == 302 and docs["Location"].startswith("/accounts/login/")
    token = create_token("olivia")
    schema = anonymous_client.get("/api/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert schema.status_code == 200 and "/api/runs" in schema.json()["paths"]
    anonymous_client.force_login(owner)
    assert anonymous_client.get("/api/docs").status_code == 200


def test_a_tokens_user_is_read_with_its_last_use_noted_now_and_then(owner: User) -> None:
    token, plain = ApiToken.objects.issue(owner, "script")
    found = user_from_bearer(plain)
    assert found == owner and found.username == owner.username
    first_use = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first_use is not None  # never used before: noted
    user_from_bearer(plain)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first_use  # just now: not again
    long_ago = timezone.now() - 2 * LAST_USED_RESOLUTION
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=long_ago)
    user_from_bearer(plain)
    assert ApiToken.objects.get(pk=token.pk).last_used_at > long_ago + timedelta(seconds=1)
    assert user_from_bearer(plain + "x") is None
    owner.is_active = False
    owner.save()
    assert user_from_bearer(plain) is None
