"""Saving a whole team spec at once: all or nothing, one version per save, stale saves
refused with who and when, drafts that keep any work, a read-only gallery, and the
catalog the builder reads."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connections
from django.test import Client

from studio.teams.building import CONDITION_CLASSES as RUNTIME_CONDITIONS
from studio.teams.gallery import seed_gallery
from studio.teams.models import Agent, Team, TeamDraft
from studio.teams.specs import team_spec
from tests.studio.conftest import logged_in_client


def put(client: Client, url: str, data: Any) -> Any:
    return client.put(url, data, content_type="application/json")


def save(client: Client, team: Team, spec: dict, base: int | None = None) -> Any:
    return put(client, f"/api/teams/{team.pk}/spec", {"spec": spec, "base_version": base})


def current(team: Team) -> dict:
    return team_spec(Team.objects.get(pk=team.pk))


def test_the_team_comes_with_its_spec_and_version_in_one_request(
    owner_client: Client, team: Team
) -> None:
    body = owner_client.get(f"/api/teams/{team.pk}").json()
    assert body["spec"]["participants"][0]["name"] == "writer"
    assert body["version"] == 1 and body["draft"] is None


def test_a_whole_spec_saves_as_one_new_version(owner_client: Client, team: Team) -> None:
    spec = current(team)
    spec["participants"][0]["system_message"] = "Write briefly."
    spec["participants"][1]["name"] = "editor"
    spec["layout"] = {"writer": {"x": 10, "y": 20}}
    response = save(owner_client, team, spec, base=1)
    assert response.status_code == 200, response.content
    assert response.json()["version"] == 2
    assert [a.name for a in Team.objects.get(pk=team.pk).ordered_members()] == ["writer", "editor"]
    assert Agent.objects.get(name="writer").system_message == "Write briefly."
    assert Team.objects.get(pk=team.pk).layout == {"writer": {"x": 10, "y": 20}}


def test_a_refused_save_changes_nothing(owner_client: Client, team: Team) -> None:
    before = current(team)
    spec = copy.deepcopy(before)
    spec["participants"][1]["name"] = "writer"  # the other agent's name
    spec["participants"][0]["system_message"] = "Changed."
    response = save(owner_client, team, spec, base=1)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "participants[1].name", "message": '"writer" is already taken in this team'}
    ]
    assert current(team) == before
    assert sorted(Agent.objects.values_list("name", flat=True)) == ["critic", "writer"]
    assert team.versions.count() == 1


def test_every_problem_of_a_refused_save_is_reported_with_its_path(
    owner_client: Client, team: Team
) -> None:
    spec = current(team)
    spec["participants"][0]["name"] = "bad name"
    spec["participants"][1]["tools"] = ["shell"]
    spec["termination"] = {"type": "max_messages", "max_messages": 0}
    errors = save(owner_client, team, spec, base=1).json()["errors"]
    assert [error["path"] for error in errors] == [
        "participants[0].name",
        "participants[1].tools[0]",
        "termination.max_messages",
    ]


def test_a_save_from_a_stale_version_is_refused_with_who_and_when(
    owner_client: Client, teammate_client: Client, team: Team
) -> None:
    spec = current(team)
    spec["description"] = "first tab"
    assert save(teammate_client, team, spec, base=1).status_code == 200
    spec["description"] = "second tab"
    response = save(owner_client, team, spec, base=1)
    assert response.status_code == 409
    assert "tomas saved version 2" in response.json()["message"]
    assert Team.objects.get(pk=team.pk).description == "first tab"


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_saves_leave_exactly_one_new_version(
    owner: User, teammate: User, team: Team
) -> None:
    spec = current(team)
    answers: list[int] = []
    start = threading.Barrier(2)

    def attempt(user: User, description: str) -> None:
        client = logged_in_client(user)
        changed = {**spec, "description": description}
        start.wait()
        answers.append(save(client, team, changed, base=1).status_code)
        connections.close_all()

    threads = [
        threading.Thread(target=attempt, args=(owner, "one")),
        threading.Thread(target=attempt, args=(teammate, "two")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]
    assert team.versions.count() == 2


def test_a_whole_spec_creates_a_team(owner_client: Client, team: Team) -> None:
    spec = current(team)
    spec.pop("id")
    spec["name"] = "Second team"
    response = owner_client.post("/api/teams", {"spec": spec}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 1
    spec["termination"] = None
    spec["name"] = "Never stops"
    refused = owner_client.post("/api/teams", {"spec": spec}, content_type="application/json")
    assert refused.status_code == 422
    assert not Team.objects.filter(name="Never stops").exists()


def test_a_draft_keeps_invalid_work_until_the_save(owner_client: Client, team: Team) -> None:
    work = {"name": "half done", "participants": [{"kind": "assistant", "name": "bad name"}]}
    kept = put(owner_client, f"/api/teams/{team.pk}/draft", {"spec": work, "base_version": 1})
    assert kept.status_code == 200
    loaded = owner_client.get(f"/api/teams/{team.pk}").json()
    assert loaded["draft"]["spec"] == work and loaded["draft"]["base_version"] == 1
    assert save(owner_client, team, work, base=1).status_code == 422
    assert TeamDraft.objects.filter(team=team).exists()
    assert save(owner_client, team, current(team), base=1).status_code == 200
    assert owner_client.get(f"/api/teams/{team.pk}/draft").status_code == 204


def test_drafts_are_per_user(owner_client: Client, teammate_client: Client, team: Team) -> None:
    put(owner_client, f"/api/teams/{team.pk}/draft", {"spec": {"name": "mine"}})
    assert teammate_client.get(f"/api/teams/{team.pk}").json()["draft"] is None


@pytest.fixture
def gallery_team(db: Any) -> Team:
    seed_gallery()
    return Team.objects.filter(is_gallery=True).first()


def test_the_gallery_refuses_writes_even_from_staff(gallery_team: Team) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.test", None))
    for response in (
        save(admin, gallery_team, team_spec(gallery_team)),
        put(admin, f"/api/teams/{gallery_team.pk}", {"name": "Mine now"}),
        admin.delete(f"/api/teams/{gallery_team.pk}"),
        put(admin, f"/api/teams/{gallery_team.pk}/draft", {"spec": {}}),
    ):
        assert response.status_code == 403
        assert "make an editable copy" in response.json()["message"]
    agent = gallery_team.ordered_members()[0]
    assert put(admin, f"/api/agents/{agent.pk}", {"name": "x"}).status_code == 403
    copy_response = admin.post(f"/api/teams/{gallery_team.pk}/duplicate")
    assert copy_response.status_code == 201
    assert copy_response.json()["is_gallery"] is False


def test_the_catalog_lists_every_condition_the_runtime_has(owner_client: Client) -> None:
    catalog = owner_client.get("/api/teams/catalog").json()
    types = {condition["type"] for condition in catalog["conditions"]}
    assert types == set(RUNTIME_CONDITIONS) | {"or", "and"}
    assert {kind["value"] for kind in catalog["agent_kinds"]} == {"assistant", "user_proxy", "team"}
    assert {kind["value"] for kind in catalog["team_kinds"]} == {
        "round_robin",
        "selector",
        "swarm",
        "graph",
    }
    assert "calculator" in {tool["name"] for tool in catalog["tools"]}
    mention = next(c for c in catalog["conditions"] if c["type"] == "text_mention")
    assert mention["help"] and mention["fields"][0]["name"] == "text"
    schema = catalog["spec_schema"]
    assert "participants" in schema["$defs"]["TeamSpec"]["properties"]


def test_an_assistant_can_see_only_part_of_the_history_and_recall_facts(
    owner_client: Client, team: Team
) -> None:
    from runtime import BufferedChatCompletionContext, ListMemory
    from studio.teams.building import build_team

    spec = current(team)
    spec["participants"][0]["model_context"] = {"type": "buffered", "buffer_size": 3}
    spec["participants"][0]["memory"] = ["The client prefers short answers."]
    spec["participants"][0]["tool_call_summary_format"] = "{tool_name}: {result}"
    assert save(owner_client, team, spec, base=1).status_code == 200
    saved = current(team)
    assert saved["participants"][0]["model_context"] == {"type": "buffered", "buffer_size": 3}
    writer = build_team(saved).participants[0]
    assert isinstance(writer.model_context, BufferedChatCompletionContext)
    assert writer.model_context.buffer_size == 3
    assert isinstance(writer.memory[0], ListMemory)
    spec = current(team)
    spec["participants"][0]["model_context"] = {"type": "buffered", "buffer_size": 0}
    refused = save(owner_client, team, spec, base=2)
    assert refused.json()["errors"][0]["path"] == "participants[0].model_context.buffer_size"


def test_the_catalog_offers_the_assistants_context_choices(owner_client: Client) -> None:
    catalog = owner_client.get("/api/teams/catalog").json()
    assistant = next(kind for kind in catalog["agent_kinds"] if kind["value"] == "assistant")
    names = [field["name"] for field in assistant["fields"]]
    assert {"model_context", "memory", "tool_call_summary_format"} <= set(names)


def test_the_admin_shows_gallery_teams_read_only(gallery_team: Team) -> None:
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.test", None))
    url = f"/admin/teams/team/{gallery_team.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert admin.post(url, {"name": "Changed"}).status_code == 403
    assert admin.get(f"/admin/teams/team/{gallery_team.pk}/delete/").status_code == 403
    assert Team.objects.get(pk=gallery_team.pk).name == gallery_team.name


def test_a_spec_may_not_name_a_credential_its_author_cannot_use(
    owner_client: Client, stranger: User, team: Team
) -> None:
    from studio.teams import services

    theirs = services.save_credential(
        stranger, {"name": "theirs", "provider": "openai", "api_key": "sk-theirs"}
    )
    spec = current(team)
    spec["participants"][0]["model"] = {
        "name": "gpt",
        "provider": "openai",
        "model": "gpt-4o",
        "credential": theirs.pk,
    }
    response = save(owner_client, team, spec, base=1)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "path": "participants[0].model.credential",
            "message": f"no credential with id {theirs.pk} that you can use",
        }
    ]


def test_a_save_must_say_which_version_it_starts_from(owner_client: Client, team: Team) -> None:
    response = save(owner_client, team, current(team))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "base_version"
    assert team.versions.count() == 1


def test_a_nested_team_naming_the_outer_team_becomes_a_team_of_its_own(
    owner: User, team: Team
) -> None:
    from studio.teams.writing import apply_team_spec

    spec = current(team)
    inner = copy.deepcopy(spec)
    inner["name"] = "Inner"
    spec["participants"].append({"kind": "team", "name": "panel", "team": inner})
    apply_team_spec(owner, spec, team=team, reuse_ids=True)
    panel = Team.objects.get(pk=team.pk).ordered_members()[-1]
    assert panel.inner_team_id is not None and panel.inner_team_id != team.pk
    assert Team.objects.get(pk=team.pk).name == "Drafting"
