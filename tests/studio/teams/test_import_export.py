"""Importing AutoGen files and galleries, and exports that round-trip."""

import json
from pathlib import Path

import pytest
from django.test import Client

from studio.teams.models import Agent, ModelConfig, Team

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "autogen"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def post_import(client: Client, data: object) -> dict:
    response = client.post("/api/teams/import", data, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("round_robin_team.json", "round_robin"),
        ("selector_team.json", "selector"),
        ("swarm_team.json", "swarm"),
        ("graph_flow_team.json", "graph"),
        ("nested_team.json", "round_robin"),
    ],
)
def test_autogen_team_files_import_as_valid_teams(
    owner_client: Client, fixture: str, kind: str
) -> None:
    report = post_import(owner_client, load(fixture))
    assert report["imported"] == 1, report
    team = Team.objects.get(pk=report["items"][0]["id"])
    assert team.kind == kind
    validation = owner_client.post(f"/api/teams/{team.pk}/validate").json()
    assert validation == {"is_valid": True, "problems": []}


def test_a_team_is_named_by_the_files_label(owner_client: Client) -> None:
    data = load("round_robin_team.json")
    data["label"] = "Drafting desk"
    report = post_import(owner_client, data)
    assert Team.objects.get(pk=report["items"][0]["id"]).name == "Drafting desk"


@pytest.mark.parametrize(
    ("fixture", "provider", "model"),
    [
        ("openai_client.json", "openai_compatible", "llama3.2"),
        ("anthropic_client.json", "anthropic", "claude-3-5-haiku-20241022"),
        ("replay_client.json", "scripted", "scripted"),
    ],
)
def test_each_model_provider_imports_without_its_key(
    owner_client: Client, fixture: str, provider: str, model: str
) -> None:
    report = post_import(owner_client, load(fixture))
    assert report["imported"] == 1, report
    imported = ModelConfig.objects.get(pk=report["items"][0]["id"])
    assert (imported.provider, imported.model, imported.credential) == (provider, model, None)
    assert "*****" not in json.dumps(imported.params)


def test_openai_params_and_base_url_are_kept(owner_client: Client) -> None:
    report = post_import(owner_client, load("openai_client.json"))
    imported = ModelConfig.objects.get(pk=report["items"][0]["id"])
    assert imported.base_url == "http://127.0.0.1:11434/v1"
    assert imported.params["temperature"] == 0.2
    assert imported.params["max_tokens"] == 512


def test_gallery_file_reports_every_component(owner_client: Client) -> None:
    gallery = {
        "id": "gallery_default",
        "name": "Default gallery",
        "components": {
            "teams": [load("round_robin_team.json"), load("gallery_0_4_team.json")],
            "agents": [load("assistant_agent.json"), load("user_proxy_agent.json")],
            "models": [load("openai_client.json"), load("anthropic_client.json")],
            "tools": [load("function_tool.json")],
            "terminations": [load("and_or_termination.json")],
        },
    }
    report = post_import(owner_client, gallery)
    statuses = [(item["kind"], item["status"]) for item in report["items"]]
    assert statuses == [
        ("team", "imported"),
        ("team", "imported"),
        ("agent", "failed"),
        ("agent", "imported"),
        ("model", "imported"),
        ("model", "imported"),
        ("tool", "failed"),
        ("termination", "skipped"),
    ]
    agent = report["items"][2]
    assert agent["problems"][0]["message"].startswith('tool "get_weather" carries code')
    tool = report["items"][6]
    assert "never executed" in tool["problems"][0]["message"]
    assert tool["problems"][0]["path"] == "components.tools[0]"


def test_gallery_calculator_tool_maps_onto_the_registered_one(owner_client: Client) -> None:
    report = post_import(owner_client, load("gallery_0_4_team.json"))
    team = Team.objects.get(pk=report["items"][0]["id"])
    assert team.ordered_members()[0].tools == ["calculator"]
    warnings = report["items"][0]["warnings"]
    assert warnings[0]["message"] == 'model "gpt-4o-mini" has no credential'


def test_team_with_a_code_tool_is_not_half_imported(owner_client: Client) -> None:
    data = load("round_robin_team.json")
    tools = data["config"]["participants"][0]["config"]["workbench"][0]["config"]["tools"]
    tools.append(load("function_tool.json"))
    report = post_import(owner_client, data)
    item = report["items"][0]
    assert item["status"] == "failed"
    assert (
        item["problems"][0]["path"] == "config.participants[0].config.workbench[0].config.tools[0]"
    )
    assert not Team.objects.exists()
    assert not Agent.objects.exists()
    assert not ModelConfig.objects.exists()


def test_unsupported_provider_is_reported_with_its_path(owner_client: Client) -> None:
    data = load("round_robin_team.json")
    data["config"]["participants"][1]["config"]["model_client"]["provider"] = "evil.Client"
    report = post_import(owner_client, data)
    problem = report["items"][0]["problems"][0]
    assert problem["path"] == "config.participants[1].config.model_client.provider"
    assert "evil.Client" in problem["message"]
    assert not Team.objects.exists()


def test_a_body_that_is_no_team_file_gets_422(owner_client: Client) -> None:
    response = owner_client.post(
        "/api/teams/import", {"hello": "world"}, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["message"]


@pytest.mark.parametrize("export_format", ["roundtable", "autogen"])
@pytest.mark.parametrize(
    "fixture",
    [
        "round_robin_team.json",
        "selector_team.json",
        "swarm_team.json",
        "graph_flow_team.json",
        "nested_team.json",
        "gallery_0_4_team.json",
    ],
)
def test_exports_round_trip_through_import(
    owner_client: Client, fixture: str, export_format: str
) -> None:
    first = post_import(owner_client, load(fixture))["items"][0]["id"]
    exported = owner_client.get(f"/api/teams/{first}/export?format={export_format}").json()
    second = post_import(owner_client, exported)["items"][0]["id"]
    specs = [owner_client.get(f"/api/teams/{pk}").json()["spec"] for pk in (first, second)]
    from studio.teams.specs import strip_ids

    assert strip_ids(specs[0]) == strip_ids(specs[1])


def test_export_in_an_unknown_format_is_refused(owner_client: Client, team: Team) -> None:
    response = owner_client.get(f"/api/teams/{team.pk}/export?format=yaml")
    assert response.status_code == 422


def test_import_and_export_commands_round_trip(owner, tmp_path: Path) -> None:
    from io import StringIO

    from django.core.management import call_command

    call_command(
        "import_team", str(FIXTURES / "swarm_team.json"), owner="olivia", stdout=StringIO()
    )
    team = Team.objects.get()
    output = StringIO()
    call_command("export_team", team.pk, format="autogen", stdout=output)
    exported = json.loads(output.getvalue())
    assert exported["provider"] == "autogen_agentchat.teams.Swarm"
    assert [p["config"]["name"] for p in exported["config"]["participants"]] == ["alice", "bob"]
