"""Credentials: encrypted at rest, never returned, exported or logged."""

import json
import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from studio.teams import services
from studio.teams.models import Credential, ModelConfig, Role

RAW_KEY = "sk-test-RAW-KEY-0123456789abcdef"


@pytest.fixture
def credential(owner, teammate) -> Credential:
    created = services.save_credential(
        owner, {"name": "OpenAI", "provider": "openai", "api_key": RAW_KEY}
    )
    created.share_with(user=teammate, role=Role.VIEWER)
    return created


def test_the_key_is_stored_encrypted_and_decrypts(credential: Credential) -> None:
    stored = Credential.objects.values_list("encrypted_key", flat=True).get()
    assert RAW_KEY not in stored
    assert Credential.objects.get().get_key() == RAW_KEY


def test_the_raw_key_never_appears_in_api_responses_dumps_exports_or_logs(
    owner, owner_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = owner_client.post(
        "/api/credentials",
        {"name": "Key", "provider": "openai", "api_key": RAW_KEY},
        content_type="application/json",
    )
    assert created.status_code == 201
    credential_id = created.json()["id"]
    model = owner_client.post(
        "/api/models",
        {"name": "GPT", "provider": "openai", "model": "gpt-4o", "credential": credential_id},
        content_type="application/json",
    ).json()
    agent = owner_client.post(
        "/api/agents", {"name": "a", "model": model["id"]}, content_type="application/json"
    ).json()
    team = owner_client.post(
        "/api/teams",
        {"name": "T", "participants": [agent["id"]], "termination": {"type": "stop_message"}},
        content_type="application/json",
    ).json()
    bodies = [
        created.content,
        owner_client.get("/api/credentials").content,
        owner_client.get(f"/api/credentials/{credential_id}").content,
        owner_client.get(f"/api/teams/{team['id']}").content,
        owner_client.get(f"/api/teams/{team['id']}/export?format=autogen").content,
        owner_client.get(f"/api/teams/{team['id']}/export?format=roundtable").content,
        owner_client.get(f"/api/teams/{team['id']}/versions/1").content,
        owner_client.post(f"/api/teams/{team['id']}/validate").content,
    ]
    for body in bodies:
        assert RAW_KEY.encode() not in body
    assert json.loads(created.content)["has_key"] is True
    dump = StringIO()
    call_command("dumpdata", "teams", stdout=dump)
    assert RAW_KEY not in dump.getvalue()
    assert RAW_KEY not in caplog.text
    assert RAW_KEY not in repr(Credential.objects.get()) + str(Credential.objects.get())


def test_updating_without_a_key_keeps_the_stored_one(
    owner_client: Client, credential: Credential
) -> None:
    response = owner_client.put(
        f"/api/credentials/{credential.pk}", {"name": "Renamed"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert Credential.objects.get().get_key() == RAW_KEY


def test_a_credential_can_name_an_environment_variable_the_operator_allowed(
    owner, monkeypatch: pytest.MonkeyPatch, settings
) -> None:
    settings.CREDENTIAL_KEY_ENV_VARS = {"ROUNDTABLE_TEST_KEY": ""}
    credential = services.save_credential(
        owner, {"name": "Env", "provider": "anthropic", "key_env_var": "ROUNDTABLE_TEST_KEY"}
    )
    assert credential.key_problem() == (
        'environment variable "ROUNDTABLE_TEST_KEY" is not set on the server'
    )
    monkeypatch.setenv("ROUNDTABLE_TEST_KEY", "from-env")
    assert credential.get_key() == "from-env"
    assert credential.key_problem() is None


def test_a_changed_secret_makes_the_key_unreadable_not_wrong(
    credential: Credential, settings
) -> None:
    settings.CREDENTIALS_SECRET = "another secret"
    assert "cannot be decrypted" in credential.key_problem()


def test_personas_on_credential_endpoints(
    teammate_client: Client, stranger_client: Client, credential: Credential
) -> None:
    url = f"/api/credentials/{credential.pk}"
    assert teammate_client.get(url).status_code == 200
    assert (
        teammate_client.put(url, {"name": "x"}, content_type="application/json").status_code == 403
    )
    assert teammate_client.delete(url).status_code == 403
    for method in ("get", "put", "delete"):
        response = getattr(stranger_client, method)(url, {}, content_type="application/json")
        assert response.status_code == 404
    assert stranger_client.get("/api/credentials").json() == []


def test_a_model_cannot_use_a_credential_its_author_cannot_see(
    stranger_client: Client, credential: Credential
) -> None:
    response = stranger_client.post(
        "/api/models",
        {"name": "Stolen", "provider": "openai", "model": "gpt-4o", "credential": credential.pk},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "credential"


def test_a_bad_credential_field_is_a_422_with_its_path(owner_client: Client) -> None:
    response = owner_client.post(
        "/api/credentials",
        {"name": "Env", "provider": "openai", "key_env_var": "not a name"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == ["key_env_var"]


@pytest.mark.parametrize(
    "name", ["GITHUB_TOKEN", "AWS_ACCESS_KEY_ID", "HOME", "SECRET_KEY", "OPENAI_API_KEY"]
)
def test_a_credential_can_name_no_variable_the_operator_did_not_allow(
    owner, owner_client: Client, monkeypatch: pytest.MonkeyPatch, settings, name: str
) -> None:
    settings.CREDENTIAL_KEY_ENV_VARS = {"ROUNDTABLE_TEST_KEY": ""}
    monkeypatch.setenv(name, "the server's secret")
    response = owner_client.post(
        "/api/credentials",
        {"name": "Env", "provider": "openai_compatible", "key_env_var": name},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "key_env_var"
    assert "CREDENTIAL_KEY_ENV_VARS" in response.json()["errors"][0]["message"]
    sneaked = Credential.objects.create(owner=owner, name="x", provider="openai", key_env_var=name)
    assert sneaked.get_key() == ""
    assert "CREDENTIAL_KEY_ENV_VARS" in sneaked.key_problem()


def _team_spec_using(model: ModelConfig) -> dict:
    from studio.teams.specs import model_spec

    agent = {"kind": "assistant", "name": "helper", "model": model_spec(model)}
    return {"kind": "round_robin", "participants": [agent], "max_turns": 1}


def test_a_shared_key_never_travels_to_a_url_its_borrower_chose(owner, teammate) -> None:
    from runtime import ConfigurationError
    from studio.teams.building import build_team

    credential = Credential.objects.create(
        owner=owner, name="team key", provider="openai", base_url="https://llm.internal/v1"
    )
    credential.set_key("sk-shared-secret")
    credential.save()
    credential.share_with(user=teammate)
    borrowed = ModelConfig.objects.create(
        owner=teammate,
        name="mine",
        provider="openai",
        model="gpt-4o",
        credential=credential,
        base_url="https://collector.example/v1",
    )
    with pytest.raises(ConfigurationError, match="only the credential's owner"):
        build_team(_team_spec_using(borrowed))

    borrowed.base_url = ""
    borrowed.save()
    team = build_team(_team_spec_using(borrowed))
    assert team.participants[0].model_client.base_url == "https://llm.internal/v1"

    own = ModelConfig.objects.create(
        owner=owner,
        name="owner's",
        provider="openai",
        model="gpt-4o",
        credential=credential,
        base_url="https://elsewhere.example/v1",
    )
    team = build_team(_team_spec_using(own))
    assert team.participants[0].model_client.base_url == "https://elsewhere.example/v1"
