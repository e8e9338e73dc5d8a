"""Where a provider key may travel: environment keys only from variables the operator
allowed and only to their URL; stored keys only where their owner pointed them; and no
model URL may reach the server's own network unless the operator allowed that host."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from runtime import ConfigurationError
from studio.teams import services
from studio.teams.building import build_team
from studio.teams.models import Credential, ModelConfig, Role
from studio.teams.specs import model_spec

EVIL = "https://collector.example/v1"


def spec_using(model: ModelConfig) -> dict:
    agent = {"kind": "assistant", "name": "helper", "model": model_spec(model)}
    return {"kind": "round_robin", "participants": [agent], "max_turns": 1}


def put(client: Client, url: str, data: dict) -> object:
    return client.put(url, data, content_type="application/json")


def post(client: Client, url: str, data: dict) -> object:
    return client.post(url, data, content_type="application/json")


# --- Keys from the server's environment (an allow-list, each key pinned to a URL) ---


def test_an_allowed_environment_key_goes_only_to_the_providers_own_url(
    owner_client: Client, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CREDENTIAL_KEY_ENV_VARS = {"OPENAI_API_KEY": ""}
    monkeypatch.setenv("OPENAI_API_KEY", "sk-operator")
    refused = post(
        owner_client,
        "/api/credentials",
        {"name": "Env", "provider": "openai", "key_env_var": "OPENAI_API_KEY", "base_url": EVIL},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "base_url"
    credential = post(
        owner_client,
        "/api/credentials",
        {"name": "Env", "provider": "openai", "key_env_var": "OPENAI_API_KEY"},
    ).json()
    model = post(
        owner_client,
        "/api/models",
        {
            "name": "m",
            "provider": "openai",
            "model": "gpt-4o",
            "credential": credential["id"],
            "base_url": EVIL,
        },
    )
    assert model.status_code == 422
    assert "lent by the server" in model.json()["errors"][0]["message"]


def test_a_stored_row_pointing_an_environment_key_elsewhere_does_not_build(
    owner: User, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CREDENTIAL_KEY_ENV_VARS = {"LOCAL_KEY": "https://models.example/v1"}
    monkeypatch.setenv("LOCAL_KEY", "sk-operator")
    credential = Credential.objects.create(
        owner=owner, name="env", provider="openai", key_env_var="LOCAL_KEY"
    )
    model = ModelConfig.objects.create(
        owner=owner, name="m", provider="openai", model="gpt-4o", credential=credential
    )
    with pytest.raises(ConfigurationError, match=r"goes only to https://models\.example/v1"):
        build_team(spec_using(model))
    model.base_url = "https://models.example/v1/"
    model.save()
    client = build_team(spec_using(model)).participants[0].model_client
    assert client.api_key == "sk-operator"


def test_a_model_without_a_key_never_falls_back_to_the_servers_environment(
    owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-operator")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-operator")
    for provider, name in (("openai", "gpt-4o"), ("anthropic", "claude-opus-4")):
        model = ModelConfig.objects.create(
            owner=owner, name=provider, provider=provider, model=name, base_url=EVIL
        )
        client = build_team(spec_using(model)).participants[0].model_client
        assert client.api_key not in {"sk-operator", "sk-ant-operator"}
        assert client.api_key == "not-needed"


# --- Stored keys follow only their owner's choice of URL ---


@pytest.fixture
def shared_credential(owner: User, teammate: User) -> Credential:
    credential = services.save_credential(
        owner,
        {
            "name": "team key",
            "provider": "openai",
            "api_key": "sk-stored",
            "base_url": "https://api.openai.com/v1",
        },
    )
    credential.share_with(user=teammate, role=Role.EDITOR)
    return credential


@pytest.fixture
def shared_model(owner: User, teammate: User, shared_credential: Credential) -> ModelConfig:
    model = services.save_model(
        owner,
        {
            "name": "gpt",
            "provider": "openai",
            "model": "gpt-4o",
            "credential": shared_credential.pk,
        },
    )
    model.share_with(user=teammate, role=Role.EDITOR)
    return model


def test_a_model_editor_cannot_point_the_owners_key_at_their_server(
    teammate_client: Client, shared_model: ModelConfig
) -> None:
    response = put(teammate_client, f"/api/models/{shared_model.pk}", {"base_url": EVIL})
    assert response.status_code == 403
    assert response.json()["errors"][0]["path"] == "base_url"
    shared_model.refresh_from_db()
    assert shared_model.base_url == ""
    renamed = put(teammate_client, f"/api/models/{shared_model.pk}", {"name": "renamed"})
    assert renamed.status_code == 200


def test_a_model_editor_cannot_attach_a_shared_key_to_a_url_they_chose(
    teammate: User, teammate_client: Client, shared_credential: Credential
) -> None:
    own = post(
        teammate_client,
        "/api/models",
        {"name": "mine", "provider": "openai", "model": "gpt-4o", "base_url": EVIL},
    ).json()
    response = put(
        teammate_client, f"/api/models/{own['id']}", {"credential": shared_credential.pk}
    )
    assert response.status_code == 403
    assert ModelConfig.objects.get(pk=own["id"]).credential is None


def test_a_credential_editor_cannot_redirect_the_stored_key(
    teammate_client: Client, shared_credential: Credential
) -> None:
    url = f"/api/credentials/{shared_credential.pk}"
    response = put(teammate_client, url, {"base_url": EVIL})
    assert response.status_code == 403
    shared_credential.refresh_from_db()
    assert shared_credential.base_url == "https://api.openai.com/v1"
    with_own_key = put(teammate_client, url, {"base_url": EVIL, "api_key": "sk-their-own"})
    assert with_own_key.status_code == 200


def test_the_owner_may_point_their_own_key_anywhere_public(
    owner_client: Client, shared_model: ModelConfig
) -> None:
    response = put(owner_client, f"/api/models/{shared_model.pk}", {"base_url": EVIL})
    assert response.status_code == 200
    client = build_team(spec_using(ModelConfig.objects.get(pk=shared_model.pk)))
    assert client.participants[0].model_client.base_url == EVIL


# --- Provider URLs may not reach the server's own network ---

INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data",
    "http://127.0.0.1:6391/v1",
    "http://[::1]:5432/v1",
    "http://localhost:11434/v1",
    "http://10.0.0.7/v1",
]


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_model_urls_are_refused_with_how_to_allow_a_local_server(
    owner_client: Client, settings, url: str
) -> None:
    settings.MODEL_PRIVATE_HOSTS = []
    response = post(
        owner_client,
        "/api/models",
        {"name": "m", "provider": "openai_compatible", "model": "llama3", "base_url": url},
    )
    assert response.status_code == 422
    problem = response.json()["errors"][0]
    assert problem["path"] == "base_url"
    assert "MODEL_PRIVATE_HOSTS" in problem["message"]
    assert ModelConfig.objects.count() == 0


@pytest.mark.parametrize("url", INTERNAL_URLS[1:3])
def test_internal_credential_urls_are_refused(owner_client: Client, settings, url: str) -> None:
    settings.MODEL_PRIVATE_HOSTS = []
    response = post(
        owner_client,
        "/api/credentials",
        {"name": "c", "provider": "openai_compatible", "api_key": "k", "base_url": url},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "base_url"


def test_an_operator_can_allow_a_local_model_server(owner_client: Client, settings) -> None:
    settings.MODEL_PRIVATE_HOSTS = ["localhost:11434"]
    allowed = post(
        owner_client,
        "/api/models",
        {
            "name": "ollama",
            "provider": "openai_compatible",
            "model": "llama3",
            "base_url": "http://localhost:11434/v1",
        },
    )
    assert allowed.status_code == 201
    other_port = post(
        owner_client,
        "/api/models",
        {
            "name": "redis",
            "provider": "openai_compatible",
            "model": "x",
            "base_url": "http://localhost:6379/v1",
        },
    )
    assert other_port.status_code == 422


def test_a_spec_cannot_borrow_the_owners_model_id_to_redirect_a_shared_key(
    owner: User, teammate: User, teammate_client: Client, shared_credential: Credential
) -> None:
    from studio.teams.models import Team

    hidden = services.save_model(
        owner,
        {
            "name": "private",
            "provider": "openai",
            "model": "gpt-4o",
            "credential": shared_credential.pk,
        },
    )
    mine = post(teammate_client, "/api/agents", {"name": "helper"}).json()
    spec = {
        "name": "Redirect",
        "participants": [
            {
                "kind": "assistant",
                "id": mine["id"],
                "name": "helper",
                "model": {
                    "id": hidden.pk,
                    "name": "private",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "credential": shared_credential.pk,
                    "base_url": EVIL,
                },
            }
        ],
        "termination": {"type": "max_messages", "max_messages": 2},
    }
    response = post(teammate_client, "/api/teams", {"spec": spec})
    assert response.status_code == 422
    assert "only the credential's owner" in response.json()["errors"][0]["message"]
    assert not Team.objects.filter(name="Redirect").exists()
    assert ModelConfig.objects.get(pk=hidden.pk).base_url == ""


def test_copies_and_imports_never_carry_a_url_override_with_a_credential(
    owner: User, shared_credential: Credential
) -> None:
    from studio.teams.writing import apply_team_spec

    spec = {
        "name": "Carried",
        "kind": "round_robin",
        "participants": [
            {
                "kind": "assistant",
                "name": "helper",
                "model": {
                    "name": "m",
                    "provider": "openai",
                    "model": "gpt-4o",
                    "credential": shared_credential.pk,
                    "base_url": EVIL,
                },
            }
        ],
        "termination": {"type": "max_messages", "max_messages": 2},
    }
    team = apply_team_spec(owner, spec, reuse_ids=False)
    model = team.ordered_members()[0].model
    assert model.credential_id == shared_credential.pk and model.base_url == ""


def test_a_pinned_url_the_owner_took_back_is_refused_at_build(
    owner: User, shared_model: ModelConfig
) -> None:
    spec = spec_using(shared_model)
    spec["participants"][0]["model"]["base_url"] = EVIL  # as an old version recorded it
    with pytest.raises(ConfigurationError, match="only the credential's owner"):
        build_team(spec)


def test_a_credential_of_another_provider_is_refused(
    owner: User, shared_credential: Credential
) -> None:
    from studio.teams.validation import validate_spec

    model = ModelConfig.objects.create(
        owner=owner, name="claude", provider="anthropic", model="claude-opus-4"
    )
    spec = spec_using(model)
    spec["participants"][0]["model"]["credential"] = shared_credential.pk
    problems = validate_spec(spec)
    assert [p.message for p in problems] == [
        'model "claude": the credential is for another provider'
    ]
