"""The one AutoGen translator: files are read by the runtime's load_component and
mapped onto specs; specs are written through runtime objects and dump_component."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from runtime import ComponentError, OpenAIChatCompletionClient, load_component
from studio.teams.autogen import ComponentProblem, SpecReader, read_component, write_team
from studio.teams.gallery import gallery_specs, seed_gallery
from studio.teams.models import Agent, ModelConfig, Team
from studio.teams.spec import TeamSpec
from studio.teams.specs import strip_ids, team_spec
from studio.teams.tools import tool_registry

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "autogen"
#: What a model spec holds that AutoGen's files have no place for.
AUTOGEN_HAS_NO_PLACE_FOR = ("price_input_per_million", "price_output_per_million")
GALLERY = [spec["name"] for spec in gallery_specs()]


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def post_import(client: Client, data: object) -> dict[str, Any]:
    response = client.post("/api/teams/import", data, content_type="application/json")
    assert response.status_code == 200, response.content
    result: dict[str, Any] = response.json()
    return result


def comparable(spec: dict[str, Any], *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """A spec as the typed spec reads it, without ids and the named model fields."""
    typed = TeamSpec.model_validate(strip_ids(spec)).model_dump()

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            is_model = "provider" in value and "scripted_replies" in value
            return {
                key: clean(item) for key, item in value.items() if not (is_model and key in without)
            }
        if isinstance(value, list):
            return [clean(item) for item in value]
        return value

    cleaned: dict[str, Any] = clean(typed)
    return cleaned


@pytest.fixture
def gallery(db: None, settings: Any) -> dict[str, Team]:
    """The gallery, with its Ollama template's local server allowed as an operator would."""
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.1:11434"]
    seed_gallery()
    return {team.name: team for team in Team.objects.filter(is_gallery=True)}


# --- Every gallery team survives export and import ---


@pytest.mark.parametrize("name", GALLERY)
def test_a_gallery_team_exported_for_autogen_imports_as_the_same_spec(
    owner_client: Client, gallery: dict[str, Team], name: str
) -> None:
    original = gallery[name]
    exported = owner_client.get(f"/api/teams/{original.pk}/export?format=autogen").json()

    report = post_import(owner_client, exported)

    assert report["imported"] == 1, report
    imported = Team.objects.get(pk=report["items"][0]["id"])
    assert comparable(team_spec(imported), without=AUTOGEN_HAS_NO_PLACE_FOR) == comparable(
        team_spec(original), without=AUTOGEN_HAS_NO_PLACE_FOR
    )


@pytest.mark.parametrize("name", GALLERY)
def test_a_gallery_team_exported_in_our_format_imports_as_the_same_spec(
    owner_client: Client, gallery: dict[str, Team], name: str
) -> None:
    original = gallery[name]
    exported = owner_client.get(f"/api/teams/{original.pk}/export?format=roundtable").json()

    report = post_import(owner_client, exported)

    imported = Team.objects.get(pk=report["items"][0]["id"])
    assert comparable(team_spec(imported)) == comparable(team_spec(original))


def test_model_names_survive_an_autogen_file_as_their_components_labels(
    owner_client: Client, gallery: dict[str, Team]
) -> None:
    original = gallery["Writer and critic"]
    exported = owner_client.get(f"/api/teams/{original.pk}/export?format=autogen").json()

    writer = exported["config"]["participants"][0]["config"]
    assert writer["model_client"]["label"] == "Scripted writer"
    assert (exported["label"], exported["config"]["name"]) == ("Writer and critic",) * 2


def test_an_exported_scripted_handoff_keeps_its_tool_call_id(
    owner_client: Client, gallery: dict[str, Team]
) -> None:
    original = gallery["Support triage"]
    for export_format in ("autogen", "roundtable"):
        exported = owner_client.get(f"/api/teams/{original.pk}/export?format={export_format}")

        assert '"id": "call_triage_1"' in exported.content.decode()


def test_registered_tools_are_exported_as_stubs_without_their_code(
    owner_client: Client, gallery: dict[str, Team]
) -> None:
    original = gallery["Plan, code, test"]
    exported = owner_client.get(f"/api/teams/{original.pk}/export?format=autogen").json()

    tester = exported["config"]["participants"][2]["config"]
    tool = tester["workbench"][0]["config"]["tools"][0]["config"]
    assert tool["name"] == "calculator"
    assert tool["source_code"].startswith("def calculator(")
    assert "raise NotImplementedError" in tool["source_code"]
    assert "ast." not in tool["source_code"]  # the real calculator parses with ast


def test_an_export_never_carries_a_key(owner_client: Client, gallery: dict[str, Team]) -> None:
    original = gallery["OpenAI assistant (template)"]
    exported = owner_client.get(f"/api/teams/{original.pk}/export?format=autogen").json()

    client = exported["config"]["participants"][0]["config"]["model_client"]
    assert client["provider"] == "autogen_ext.models.openai.OpenAIChatCompletionClient"
    assert "api_key" not in client["config"]
    assert "unused" not in json.dumps(exported)


def test_a_team_the_runtime_cannot_build_is_refused_for_export_with_why(owner) -> None:
    spec = copy.deepcopy(gallery_specs()[0])
    spec["participants"][0]["model"] = None

    with pytest.raises(ComponentProblem, match="the runtime cannot build this team"):
        write_team(spec, tools=tool_registry())


def test_assistant_settings_of_the_spec_survive_an_autogen_file(owner) -> None:
    spec = copy.deepcopy(gallery_specs()[0])
    writer = spec["participants"][0]
    writer |= {
        "model_context": {"type": "head_and_tail", "head_size": 1, "tail_size": 4},
        "memory": ["The reader is a beginner.", "Keep it under 50 words."],
        "tool_call_summary_format": "{tool_name}: {result}",
    }
    spec["participants"][1]["model_context"] = {"type": "buffered", "buffer_size": 6}

    reader = SpecReader()
    read = reader.team(read_component(write_team(spec), "", "team"))

    assert [agent["model_context"] for agent in read["participants"]] == [
        writer["model_context"],
        {"type": "buffered", "buffer_size": 6},
    ]
    assert read["participants"][0]["memory"] == writer["memory"]
    assert read["participants"][0]["tool_call_summary_format"] == "{tool_name}: {result}"
    assert reader.warnings == []


# --- The runtime and the studio read the same providers ---


PRIVATE_ROUND_ROBIN = (
    "autogen_agentchat.teams._group_chat._round_robin_group_chat.RoundRobinGroupChat"
)
#: An Ollama client as AutoGen 0.7.5 dumps it.
OLLAMA_CLIENT = {
    "provider": "autogen_ext.models.ollama.OllamaChatCompletionClient",
    "component_type": "model",
    "version": 1,
    "component_version": 1,
    "label": "OllamaChatCompletionClient",
    "config": {
        "model": "llama3.2",
        "host": "http://10.0.0.5:11434",
        "follow_redirects": True,
        "options": {"temperature": 0.4, "num_predict": 256},
    },
}


def test_a_team_under_autogens_private_module_path_imports_as_the_runtime_loads_it(
    owner_client: Client,
) -> None:
    data = load("round_robin_team.json")
    data["provider"] = PRIVATE_ROUND_ROBIN

    report = post_import(owner_client, data)

    assert report["imported"] == 1, report
    assert Team.objects.get(pk=report["items"][0]["id"]).kind == "round_robin"
    assert type(load_component(data)).__name__ == "RoundRobinGroupChat"


def test_an_ollama_client_imports_as_the_runtime_loads_it(owner_client: Client) -> None:
    report = post_import(owner_client, OLLAMA_CLIENT)

    assert report["imported"] == 1, report
    model = ModelConfig.objects.get(pk=report["items"][0]["id"])
    loaded = load_component(OLLAMA_CLIENT)
    assert isinstance(loaded, OpenAIChatCompletionClient)
    assert (model.provider, model.model, model.base_url) == (
        "openai_compatible",
        loaded.model,
        loaded.base_url,
    )
    assert model.params == {"temperature": 0.4, "max_tokens": 256}


@pytest.mark.parametrize(
    "provider",
    [
        "autogen_ext.models.openai.AzureOpenAIChatCompletionClient",
        "autogen_ext.agents.web_surfer.MultimodalWebSurfer",
        "evil.Client",
        "autogen_ext.models.ollama.OllamaChatCompletionClient",
        "autogen_ext.models.openai._openai_client.OpenAIChatCompletionClient",
    ],
)
def test_the_studio_imports_a_model_exactly_when_the_runtime_loads_it(
    owner_client: Client, provider: str
) -> None:
    data = load("round_robin_team.json")
    model = data["config"]["participants"][1]["config"]
    model["model_client"] = {
        "provider": provider,
        "config": {"model": "llama3.2", "host": "http://llm.example.com:11434"},
    }

    try:
        load_component(data, api_key="unused")
        runtime_loads = True
    except ComponentError:
        runtime_loads = False
    item = post_import(owner_client, data)["items"][0]

    assert (item["status"] == "imported") is runtime_loads, item
    if not runtime_loads:
        assert item["problems"][0]["path"].startswith("config.participants[1].config.model_client")


def test_azure_openai_is_refused_by_name_saying_what_to_use(owner_client: Client) -> None:
    data = load("openai_client.json")
    data["provider"] = "AzureOpenAIChatCompletionClient"

    item = post_import(owner_client, data)["items"][0]

    assert item["status"] == "failed"
    assert item["problems"] == [
        {
            "path": "provider",
            "message": "AzureOpenAIChatCompletionClient is not supported: point an "
            "OpenAIChatCompletionClient at the resource's OpenAI-compatible endpoint, "
            "base_url https://<resource>.openai.azure.com/openai/v1/, with the resource's key",
        }
    ]


# --- What a studio team cannot hold ---


def vector_memory(path: str) -> dict[str, Any]:
    return {
        "provider": "roundtable.memory.SQLiteVectorMemory",
        "component_type": "memory",
        "config": {
            "path": path,
            "embedding_client": {
                "provider": "roundtable.memory.OpenAIEmbeddingClient",
                "config": {"model": "text-embedding-3-small"},
            },
        },
    }


def test_a_vector_memory_is_refused_at_its_path_before_its_file_is_opened(
    owner_client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = load("round_robin_team.json")
    data["config"]["participants"][0]["config"]["memory"] = [vector_memory("notes.db")]

    item = post_import(owner_client, data)["items"][0]

    assert item["status"] == "failed"
    assert item["problems"][0]["path"] == "config.participants[0].config.memory[0].provider"
    assert "SQLiteVectorMemory is not supported" in item["problems"][0]["message"]
    assert not (tmp_path / "notes.db").exists()
    assert not Agent.objects.exists()


def test_a_list_memory_imports_as_the_agents_facts(owner_client: Client) -> None:
    data = load("round_robin_team.json")
    data["config"]["participants"][0]["config"]["memory"] = [
        {
            "provider": "autogen_core.memory.ListMemory",
            "config": {"memory_contents": [{"content": "Use British spelling."}]},
        }
    ]

    report = post_import(owner_client, data)

    writer = Team.objects.get(pk=report["items"][0]["id"]).ordered_members()[0]
    assert writer.memory == ["Use British spelling."]


def test_settings_a_spec_cannot_keep_are_imported_with_a_warning_at_their_path(
    owner_client: Client,
) -> None:
    data = load("round_robin_team.json")
    data["config"]["participants"][0]["config"]["metadata"] = {"team": "blue"}

    item = post_import(owner_client, data)["items"][0]

    assert item["status"] == "imported"
    assert {"path": "config.participants[0].config.metadata", "message": "not kept"} in item[
        "warnings"
    ]


def test_an_agent_tool_is_refused_at_its_path(owner_client: Client) -> None:
    data = load("round_robin_team.json")
    writer = data["config"]["participants"][0]
    workbench = writer["config"]["workbench"][0]["config"]
    workbench["tools"] = [
        {
            "provider": "autogen_agentchat.tools.AgentTool",
            "config": {"agent": copy.deepcopy(data["config"]["participants"][1])},
        }
    ]

    item = post_import(owner_client, data)["items"][0]

    assert item["problems"][0]["path"] == (
        "config.participants[0].config.workbench[0].config.tools[0].provider"
    )
    assert "registered tools" in item["problems"][0]["message"]
