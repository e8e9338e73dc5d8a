"""What the settings and models pages rely on: exports named after their team, deleting
models and credentials refused with the reason while in use, and labels that tell the
entries of a model or credential picker apart."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from studio.teams import services
from studio.teams.models import Credential, ModelConfig, Role, Team


@pytest.mark.parametrize("export_format", ["roundtable", "autogen"])
def test_an_export_downloads_as_a_file_named_after_the_team(
    owner_client: Client, team: Team, export_format: str
) -> None:
    response = owner_client.get(f"/api/teams/{team.pk}/export?format={export_format}")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="Drafting.{export_format}.json"'
    )
    assert response.json()


def test_an_export_name_drops_what_file_systems_refuse_and_keeps_other_letters(
    owner_client: Client, team: Team
) -> None:
    team.name = 'Équipe: "a/b"'
    team.save(update_fields=["name"])

    response = owner_client.get(f"/api/teams/{team.pk}/export")

    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%89quipe%20a%20b.roundtable.json"
    )


def test_a_credential_a_model_uses_is_not_deleted_and_the_answer_names_the_model(
    owner: User, owner_client: Client
) -> None:
    credential = services.save_credential(
        owner, {"name": "Work key", "provider": "openai", "api_key": "sk-work"}
    )
    model = services.save_model(
        owner, {"name": "Mini", "provider": "openai", "credential": credential.pk}
    )

    response = owner_client.delete(f"/api/credentials/{credential.pk}")

    assert response.status_code == 409
    message = response.json()["message"]
    assert "Mini" in message and "first" in message
    assert Credential.objects.filter(pk=credential.pk).exists()

    services.save_model(owner, {"credential": None}, model)
    assert owner_client.delete(f"/api/credentials/{credential.pk}").status_code == 204


def test_a_model_an_agent_uses_is_not_deleted_and_the_answer_says_where(
    owner_client: Client, scripted_model: ModelConfig, team: Team
) -> None:
    response = owner_client.delete(f"/api/models/{scripted_model.pk}")

    assert response.status_code == 409
    assert "writer" in response.json()["message"]
    assert ModelConfig.objects.filter(pk=scripted_model.pk).exists()


def test_models_that_read_alike_get_labels_that_tell_them_apart(
    owner: User, teammate: User, teammate_client: Client, team: Team
) -> None:
    preset = {"name": "Scripted replies", "provider": "scripted", "model": "scripted"}
    spare = services.save_model(teammate, preset)
    unused = services.save_model(teammate, preset)
    shared = services.save_model(owner, preset)
    shared.share_with(user=teammate, role=Role.VIEWER)

    labels = {item["id"]: item["label"] for item in teammate_client.get("/api/models").json()}

    assert labels[shared.pk] == "Scripted replies (Scripted, shared by olivia)"
    assert labels[spare.pk] == f"Scripted replies (Scripted) · unused · #{spare.pk}"
    assert labels[unused.pk] == f"Scripted replies (Scripted) · unused · #{unused.pk}"
    assert len(set(labels.values())) == len(labels)


def test_a_clashing_model_label_names_the_teams_that_use_it(
    owner: User, owner_client: Client, scripted_model: ModelConfig, team: Team
) -> None:
    twin = services.save_model(owner, {"name": "Scripted", "provider": "scripted"})

    labels = {item["id"]: item["label"] for item in owner_client.get("/api/models").json()}

    assert labels[scripted_model.pk] == "Scripted (Scripted) · in Drafting"
    assert labels[twin.pk] == "Scripted (Scripted) · unused"


def test_a_credential_label_says_provider_and_owner(
    owner: User, teammate_client: Client, teammate: User
) -> None:
    credential = services.save_credential(
        owner,
        {"name": "Lab", "provider": "openai_compatible", "base_url": "https://llm.example.org/v1"},
    )
    credential.share_with(user=teammate, role=Role.VIEWER)

    (listed,) = teammate_client.get("/api/credentials").json()

    assert listed["label"] == "Lab (OpenAI-compatible, shared by olivia)"


def test_a_credential_owner_can_delete_it_while_only_others_models_use_it(
    owner: User, owner_client: Client, teammate: User
) -> None:
    credential = services.save_credential(
        owner, {"name": "Lent key", "provider": "openai", "api_key": "sk-lent"}
    )
    credential.share_with(user=teammate, role=Role.VIEWER)
    borrowed = services.save_model(
        teammate, {"name": "Borrowed", "provider": "openai", "credential": credential.pk}
    )

    # The owner cannot repoint the teammate's model, so only their own models block a delete.
    assert owner_client.delete(f"/api/credentials/{credential.pk}").status_code == 204

    borrowed.refresh_from_db()
    assert borrowed.credential is None
    assert not Credential.objects.filter(pk=credential.pk).exists()
