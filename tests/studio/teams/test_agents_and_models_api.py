"""Agents, models and tools endpoints, for the three personas."""

from django.test import Client

from studio.teams.models import Agent, ModelConfig, Role


def test_owner_creates_and_updates_an_agent(owner_client: Client, scripted_model) -> None:
    response = owner_client.post(
        "/api/agents",
        {"name": "helper", "model": scripted_model.pk, "tools": ["current_time"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    agent_id = response.json()["id"]
    response = owner_client.put(
        f"/api/agents/{agent_id}", {"system_message": "Be brief."}, content_type="application/json"
    )
    assert response.json()["system_message"] == "Be brief."
    assert response.json()["tools"] == ["current_time"]


def test_agent_names_must_be_identifiers_and_tools_registered(owner_client: Client) -> None:
    response = owner_client.post(
        "/api/agents", {"name": "two words"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "name"
    response = owner_client.post(
        "/api/agents", {"name": "ok", "tools": ["rm_rf"]}, content_type="application/json"
    )
    assert response.json()["errors"] == [{"path": "tools[0]", "message": 'unknown tool "rm_rf"'}]


def test_personas_on_agent_and_model_endpoints(
    teammate, teammate_client: Client, stranger_client: Client, writer: Agent
) -> None:
    model = writer.model
    writer.share_with(user=teammate, role=Role.VIEWER)
    model.share_with(user=teammate, role=Role.EDITOR)
    assert teammate_client.get(f"/api/agents/{writer.pk}").status_code == 200
    assert (
        teammate_client.put(
            f"/api/agents/{writer.pk}", {"name": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    response = teammate_client.put(
        f"/api/models/{model.pk}", {"price_input_per_million": 3.0}, content_type="application/json"
    )
    assert response.status_code == 200
    assert ModelConfig.objects.get(pk=model.pk).price_input_per_million == 3.0
    for url in (f"/api/agents/{writer.pk}", f"/api/models/{model.pk}"):
        for method in ("get", "put", "delete"):
            response = getattr(stranger_client, method)(url, {}, content_type="application/json")
            assert response.status_code == 404, (method, url)
        assert stranger_client.get(f"{url}/shares").status_code == 404
    assert stranger_client.get("/api/agents").json() == []
    assert stranger_client.get("/api/models").json() == []


def test_tools_endpoint_lists_built_ins_with_schemas(stranger_client: Client) -> None:
    tools = {tool["name"]: tool for tool in stranger_client.get("/api/tools").json()}
    assert {"calculator", "current_time", "fetch_url"} <= set(tools)
    assert tools["calculator"]["parameters"]["properties"]["expression"]["type"] == "string"


def test_gallery_teams_are_visible_to_everyone_but_editable_by_nobody(
    stranger_client: Client,
) -> None:
    from studio.teams.gallery import seed_gallery
    from studio.teams.models import Team

    seed_gallery()
    seed_gallery()
    assert Team.objects.filter(is_gallery=True).count() == 7
    listed = stranger_client.get("/api/teams").json()
    demo = next(team for team in listed if team["name"] == "Writer and critic")
    assert demo["role"] == "viewer"
    response = stranger_client.put(
        f"/api/teams/{demo['id']}", {"name": "Mine"}, content_type="application/json"
    )
    assert response.status_code == 403
