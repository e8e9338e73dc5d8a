"""Malformed input to the teams API gets a clear 4xx in the API's error shape, never a 500.

Nulls where a value is needed, numbers no database column holds, NUL characters that
PostgreSQL cannot store, JSON nested past any real configuration, and import files of
every shape (examples, then random JSON from Hypothesis).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.teams.models import Agent, ModelConfig, Team

HUGE = 10**21
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "autogen"
SELECTOR = "autogen_agentchat.teams.SelectorGroupChat"


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    """A JSON request; the response must not be a server error."""
    if body is None:
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, content_type="application/json")
    assert response.status_code < 500, (method, url, response.content[:500])
    return response


def assert_refused(response: Any, status: int, path: str | None = None) -> dict[str, Any]:
    """The API's error shape, with a problem at ``path`` when given."""
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert all(set(error) == {"path", "message"} for error in body["errors"])
    if path is not None:
        assert path in [error["path"] for error in body["errors"]], body
    return body


# --- nulls ---


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("base_url", None),
        ("params", None),
        ("price_input_per_million", None),
        ("price_output_per_million", None),
        ("provider", None),
        ("name", None),
        ("scripted_replies", None),
    ],
)
def test_a_model_patch_with_null_for_a_required_field_is_a_422(
    owner_client: Client, scripted_model: ModelConfig, field: str, value: Any
) -> None:
    response = send(owner_client, "put", f"/api/models/{scripted_model.pk}", {field: value})
    assert_refused(response, 422, field)
    scripted_model.refresh_from_db()
    assert scripted_model.provider == "scripted"


@pytest.mark.parametrize(
    "field", ["name", "handoffs", "tools", "description", "kind", "max_tool_iterations"]
)
def test_an_agent_patch_with_null_for_a_required_field_is_a_422(
    owner_client: Client, writer: Agent, field: str
) -> None:
    response = send(owner_client, "put", f"/api/agents/{writer.pk}", {field: None})
    assert_refused(response, 422, field)


@pytest.mark.parametrize(
    "field",
    ["selector_prompt", "participants", "description", "layout", "graph_edges", "kind", "name"],
)
def test_a_team_patch_with_null_for_a_required_field_is_a_422(
    owner_client: Client, team: Team, field: str
) -> None:
    response = send(owner_client, "put", f"/api/teams/{team.pk}", {field: None})
    assert_refused(response, 422, field)
    assert team.members.count() == 2


@pytest.mark.parametrize("field", ["base_url", "key_env_var", "name", "provider"])
def test_a_credential_patch_with_null_for_a_required_field_is_a_422(
    owner_client: Client, field: str
) -> None:
    created = send(
        owner_client, "post", "/api/credentials", {"name": "Key", "provider": "anthropic"}
    )
    response = send(owner_client, "put", f"/api/credentials/{created.json()['id']}", {field: None})
    assert_refused(response, 422, field)


def test_null_still_clears_the_fields_where_it_means_none(
    owner_client: Client, team: Team, writer: Agent
) -> None:
    response = send(owner_client, "put", f"/api/teams/{team.pk}", {"max_turns": None})
    assert response.status_code == 200 and response.json()["max_turns"] is None
    response = send(owner_client, "put", f"/api/agents/{writer.pk}", {"model": None})
    assert response.status_code == 200 and response.json()["model"] is None


# --- numbers no column holds ---


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/teams/{huge}"),
        ("put", "/api/teams/{huge}"),
        ("delete", "/api/agents/{huge}"),
        ("get", "/api/models/{huge}"),
        ("get", "/api/credentials/{huge}"),
        ("get", "/api/teams/{team}/versions/{huge}"),
        ("get", "/api/teams/{team}/versions/1/diff?against={huge}"),
        ("delete", "/api/teams/{team}/shares/{huge}"),
    ],
)
def test_an_id_too_large_for_any_row_is_a_422_not_an_overflow(
    owner_client: Client, team: Team, method: str, url: str
) -> None:
    response = send(owner_client, method, url.format(huge=HUGE, team=team.pk), {})
    assert response.status_code in (404, 422)
    assert_refused(response, response.status_code)


@pytest.mark.parametrize(
    ("url", "body", "path"),
    [
        ("/api/teams", {"name": "T", "max_turns": HUGE}, "max_turns"),
        ("/api/teams", {"name": "T", "participants": [HUGE]}, "participants[0]"),
        ("/api/teams", {"name": "T", "selector_model": HUGE}, "selector_model"),
        ("/api/agents", {"name": "a", "model": HUGE}, "model"),
        ("/api/agents", {"name": "a", "kind": "team", "team": HUGE}, "team"),
        ("/api/models", {"name": "m", "provider": "openai", "credential": HUGE}, "credential"),
    ],
)
def test_a_number_too_large_for_its_column_is_a_422(
    owner_client: Client, url: str, body: dict[str, Any], path: str
) -> None:
    assert_refused(send(owner_client, "post", url, body), 422, path)


def test_a_price_that_is_not_a_finite_number_is_a_422(owner_client: Client) -> None:
    body = '{"name": "m", "provider": "scripted", "price_input_per_million": Infinity}'
    response = owner_client.post("/api/models", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert not ModelConfig.objects.exists()


def test_text_longer_than_its_column_is_a_422(owner_client: Client) -> None:
    body = {"name": "m", "provider": "openai", "model": "x" * 201}
    assert_refused(send(owner_client, "post", "/api/models", body), 422, "model")


def test_a_team_with_the_longest_name_can_be_duplicated(owner_client: Client, team: Team) -> None:
    send(owner_client, "put", f"/api/teams/{team.pk}", {"name": "n" * 200})
    response = send(owner_client, "post", f"/api/teams/{team.pk}/duplicate")
    assert response.status_code == 201
    assert len(response.json()["name"]) <= 200


# --- NUL characters ---


@pytest.mark.parametrize(
    ("url", "body", "path"),
    [
        ("/api/teams", {"name": "Bad\x00name"}, "name"),
        ("/api/teams", {"name": "T", "description": "a\x00b"}, "description"),
        ("/api/teams", {"name": "T", "layout": {"nodes": {"a\x00": 1}}}, "layout"),
        (
            "/api/teams",
            {"name": "T", "termination": {"type": "text_mention", "text": "\x00"}},
            None,
        ),
        ("/api/agents", {"name": "a", "system_message": "\x00"}, "system_message"),
        ("/api/agents", {"name": "a", "handoffs": ["b\x00"]}, "handoffs[0]"),
        ("/api/models", {"name": "m", "provider": "scripted", "params": {"x": "\x00"}}, "params"),
        ("/api/credentials", {"name": "c\x00", "provider": "openai"}, "name"),
    ],
)
def test_text_with_a_nul_character_is_a_422_on_every_database(
    owner_client: Client, url: str, body: dict[str, Any], path: str | None
) -> None:
    assert_refused(send(owner_client, "post", url, body), 422, path)


def test_sharing_with_a_name_holding_a_nul_character_is_a_422(
    owner_client: Client, team: Team
) -> None:
    response = send(owner_client, "post", f"/api/teams/{team.pk}/shares", {"user": "t\x00"})
    assert_refused(response, 422, "user")


# --- deep JSON and deep termination trees ---


def nested_condition(depth: int) -> dict[str, Any]:
    """An "or" tree ``depth`` combinators deep around one max_messages condition."""
    condition: dict[str, Any] = {"type": "max_messages", "max_messages": 3}
    for _ in range(depth):
        condition = {"type": "or", "conditions": [condition]}
    return condition


def test_a_termination_tree_500_deep_is_a_422(owner_client: Client, writer: Agent) -> None:
    # Written as text: json.dumps itself refuses to encode 1000 levels.
    tree = '{"type": "or", "conditions": [' * 500 + '{"type": "external"}' + "]}" * 500
    body = f'{{"name": "Deep", "participants": [{writer.pk}], "termination": {tree}}}'
    response = owner_client.post("/api/teams", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert_refused(response, response.status_code)
    assert not Team.objects.filter(name="Deep").exists()


def test_a_termination_tree_deeper_than_json_allows_is_a_422_naming_it(
    owner_client: Client, writer: Agent
) -> None:
    body = {"name": "Deep", "participants": [writer.pk], "termination": nested_condition(60)}
    body = assert_refused(send(owner_client, "post", "/api/teams", body), 422, "termination")
    assert "deeper than 100 levels" in body["errors"][0]["message"]


def test_a_termination_tree_past_the_depth_limit_is_reported_by_validation(
    owner_client: Client, writer: Agent
) -> None:
    body = {"name": "Deep", "participants": [writer.pk], "termination": nested_condition(40)}
    created = send(owner_client, "post", "/api/teams", body)
    assert created.status_code == 201
    validation = send(owner_client, "post", f"/api/teams/{created.json()['id']}/validate").json()
    assert validation["is_valid"] is False
    assert any("nest at most 32" in problem["message"] for problem in validation["problems"])


def test_a_termination_tree_within_the_limit_is_valid(owner_client: Client, writer: Agent) -> None:
    body = {"name": "Deep", "participants": [writer.pk], "termination": nested_condition(20)}
    created = send(owner_client, "post", "/api/teams", body)
    validation = send(owner_client, "post", f"/api/teams/{created.json()['id']}/validate").json()
    assert validation == {"is_valid": True, "problems": []}


def test_a_termination_that_hands_off_to_a_list_is_reported_not_crashed_on(
    owner_client: Client, writer: Agent
) -> None:
    termination = {"type": "handoff", "target": ["x"]}
    body = {"name": "T", "participants": [writer.pk], "termination": termination}
    created = send(owner_client, "post", "/api/teams", body)
    validation = send(owner_client, "post", f"/api/teams/{created.json()['id']}/validate").json()
    assert "termination.target" in [problem["path"] for problem in validation["problems"]]


# --- import files ---


def post_raw_import(client: Client, body: str | bytes) -> Any:
    response = client.post("/api/teams/import", body, content_type="application/json")
    assert response.status_code < 500, response.content[:500]
    return response


def test_an_import_of_200000_open_brackets_is_a_422(owner_client: Client) -> None:
    body = assert_refused(post_raw_import(owner_client, "[" * 200_000), 422)
    assert "deeper than" in json.dumps(body) or body["message"] == "The body is not JSON."


def test_an_import_nested_past_the_limit_is_a_422_naming_where(owner_client: Client) -> None:
    document: Any = {"component_type": "team", "provider": "x", "config": {}}
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    document["config"]["participants"] = deep
    body = assert_refused(post_raw_import(owner_client, json.dumps(document)), 422)
    assert body["errors"][0]["path"].startswith("config.participants[0]")
    assert "deeper than 100 levels" in body["errors"][0]["message"]


def test_an_import_holding_a_nul_character_is_a_422_naming_where(owner_client: Client) -> None:
    document = {"component_type": "team", "label": "a\x00b", "provider": "x", "config": {}}
    body = assert_refused(post_raw_import(owner_client, json.dumps(document)), 422, "label")
    assert "NUL" in body["errors"][0]["message"]


def test_an_import_with_nan_is_not_json(owner_client: Client) -> None:
    body = '{"component_type": "model", "provider": "x", "config": {"temperature": NaN}}'
    assert_refused(post_raw_import(owner_client, body), 422)


def test_an_import_of_too_many_components_is_refused_whole(owner_client: Client) -> None:
    model = {
        "provider": "autogen_ext.models.replay.ReplayChatCompletionClient",
        "component_type": "replay_chat_completion_client",
        "config": {"chat_completions": ["hi"]},
    }
    body = assert_refused(post_raw_import(owner_client, json.dumps([model] * 501)), 422)
    assert "at most 500" in body["errors"][0]["message"]
    assert not ModelConfig.objects.exists()


def test_a_file_with_one_part_that_is_no_component_imports_nothing(
    owner_client: Client,
) -> None:
    model = {
        "provider": "autogen_ext.models.replay.ReplayChatCompletionClient",
        "component_type": "replay_chat_completion_client",
        "config": {"chat_completions": ["hi"]},
    }
    body = assert_refused(post_raw_import(owner_client, json.dumps([model, 7])), 422, "[1]")
    assert body["message"]
    assert not ModelConfig.objects.exists()


@pytest.mark.parametrize(
    "document",
    [
        {"component_type": ["team"], "provider": "x"},
        {"components": {"teams": "not a list"}},
        {"components": {"teams": [{"provider": "x", "config": []}]}},
        {
            "component_type": "team",
            "provider": SELECTOR,
            "config": {"participants": {"a": 1}, "model_client": []},
        },
        {"component_type": "team", "provider": SELECTOR, "label": ["x"], "config": {"name": {}}},
        {"format": "roundtable/team@1", "team": {"kind": "selector", "selector": [1]}},
        {
            "format": "roundtable/team@1",
            "team": {
                "kind": "graph",
                "graph": {"edges": [{"source": {}, "target": []}]},
                "participants": [],
            },
        },
        {
            "format": "roundtable/team@1",
            "team": {
                "kind": "round_robin",
                "max_turns": HUGE,
                "participants": [{"name": "a", "kind": "user_proxy"}],
            },
        },
        {
            "format": "roundtable/team@1",
            "layout": ["not", "an", "object"],
            "team": {
                "kind": "round_robin",
                "max_turns": 2,
                "name": "x" * 300,
                "participants": [
                    {
                        "name": "a",
                        "kind": "user_proxy",
                        "tools": {"x": 1},
                        "handoffs": [{"target": "b"}],
                        "description": 5,
                    }
                ],
            },
        },
        {
            "format": "roundtable/team@1",
            "team": {
                "kind": "round_robin",
                "max_turns": 2,
                "participants": [
                    {
                        "name": "a",
                        "kind": "assistant",
                        "model": {
                            "provider": "scripted",
                            "scripted_replies": "hi",
                            "params": [1],
                            "name": "n" * 300,
                            "price_input_per_million": "free",
                        },
                    }
                ],
            },
        },
    ],
)
def test_import_files_of_odd_shapes_are_refused_or_reported_never_crashed_on(
    owner_client: Client, document: dict[str, Any]
) -> None:
    response = post_raw_import(owner_client, json.dumps(document))
    if response.status_code == 200:
        assert response.json()["imported"] == 0, response.json()
    else:
        assert_refused(response, 422)
    for path in ("/api/teams", "/api/agents", "/api/models"):
        assert send(owner_client, "get", path).status_code == 200


# --- random import files ---

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "team",
            "agent",
            "model",
            "tool",
            "termination",
            "roundtable/team@1",
            "autogen_agentchat.teams.RoundRobinGroupChat",
            "autogen_agentchat.teams.SelectorGroupChat",
            "autogen_agentchat.teams.GraphFlow",
            "autogen_agentchat.agents.AssistantAgent",
            "autogen_agentchat.agents.SocietyOfMindAgent",
            "autogen_agentchat.base.OrTerminationCondition",
            "autogen_agentchat.conditions.MaxMessageTermination",
            "autogen_agentchat.conditions.HandoffTermination",
            "autogen_ext.models.openai.OpenAIChatCompletionClient",
            "autogen_ext.models.replay.ReplayChatCompletionClient",
            "autogen_core.tools.FunctionTool",
            "calculator",
            "assistant",
            "user_proxy",
            "round_robin",
            "selector",
            "graph",
            "swarm",
        ]
    )
)
KEYS = st.sampled_from(
    [
        "provider",
        "component_type",
        "config",
        "label",
        "name",
        "participants",
        "termination_condition",
        "conditions",
        "model_client",
        "team",
        "tools",
        "workbench",
        "handoffs",
        "target",
        "graph",
        "nodes",
        "edges",
        "format",
        "components",
        "teams",
        "models",
        "agents",
        "kind",
        "model",
        "selector",
        "max_turns",
        "max_messages",
        "layout",
        "chat_completions",
        "scripted_replies",
        "params",
        "type",
    ]
) | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=40,
)
COMPONENT_LIKE = st.fixed_dictionaries(
    {"provider": JSON_LEAVES, "component_type": JSON_LEAVES, "config": JSON_VALUES},
    optional={"label": JSON_LEAVES},
)
ROUNDTABLE_LIKE = st.fixed_dictionaries(
    {"format": st.just("roundtable/team@1"), "team": st.dictionaries(KEYS, JSON_VALUES)},
    optional={"layout": JSON_VALUES},
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=JSON_VALUES | COMPONENT_LIKE | ROUNDTABLE_LIKE | st.lists(COMPONENT_LIKE))
def test_random_import_files_never_crash_the_importer(owner_client: Client, document: Any) -> None:
    response = post_raw_import(owner_client, json.dumps(document))
    if response.status_code != 200:
        assert_refused(response, response.status_code)
    else:
        assert_imports_are_usable(owner_client, response.json())


def assert_imports_are_usable(client: Client, report: dict[str, Any]) -> None:
    """Whatever an import saved can be listed, read, validated, exported and copied."""
    if not report["imported"]:
        return
    for path in ("/api/teams", "/api/agents", "/api/models"):
        assert send(client, "get", path).status_code == 200
    for item in report["items"]:
        if item["kind"] == "team" and item["status"] == "imported":
            base = f"/api/teams/{item['id']}"
            assert send(client, "get", base).status_code == 200
            assert send(client, "post", f"{base}/validate").status_code == 200
            assert send(client, "get", f"{base}/export?format=autogen").status_code == 200
            assert send(client, "post", f"{base}/duplicate").status_code == 201


ROUNDTABLE_EXPORT = {
    "format": "roundtable/team@1",
    "layout": {"nodes": {"writer": {"x": 1, "y": 2}}},
    "team": {
        "name": "Desk",
        "description": "",
        "kind": "selector",
        "participants": [
            {
                "name": "writer",
                "kind": "assistant",
                "description": "",
                "system_message": "Write.",
                "model": {
                    "name": "Scripted",
                    "provider": "scripted",
                    "model": "scripted",
                    "base_url": "",
                    "params": {},
                    "model_info": {},
                    "price_input_per_million": 1.0,
                    "price_output_per_million": 2.0,
                    "scripted_replies": ["Draft. APPROVE"],
                },
                "tools": ["calculator"],
                "handoffs": [],
                "reflect_on_tool_use": False,
                "max_tool_iterations": 1,
                "model_client_stream": False,
                "team": None,
                "instruction": "",
                "response_prompt": "",
            },
            {"name": "person", "kind": "user_proxy", "description": "A person."},
        ],
        "termination": {
            "type": "or",
            "conditions": [
                {"type": "text_mention", "text": "APPROVE"},
                {"type": "max_messages", "max_messages": 5},
            ],
        },
        "max_turns": 4,
        "selector": {
            "model": {"name": "Picker", "provider": "scripted", "scripted_replies": ["writer"]},
            "prompt": "Pick.",
            "allow_repeated_speaker": True,
        },
        "graph": None,
    },
}
VALID_FILES = [
    ROUNDTABLE_EXPORT,
    *(
        json.loads((FIXTURES / name).read_text())
        for name in (
            "selector_team.json",
            "nested_team.json",
            "graph_flow_team.json",
            "swarm_team.json",
            "gallery_0_4_team.json",
        )
    ),
]


def paths_of(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON tree, as a path of keys and indexes."""
    yield prefix
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield from paths_of(child, (*prefix, key))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``path``."""
    changed = copy.deepcopy(document)
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return changed


MUTATED_FILES = st.sampled_from(VALID_FILES).flatmap(
    lambda document: st.builds(
        replaced,
        st.just(document),
        st.sampled_from(list(paths_of(document))[1:]),
        JSON_VALUES,
    )
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=MUTATED_FILES)
def test_valid_files_with_one_value_replaced_import_or_report_never_crash(
    owner_client: Client, document: Any
) -> None:
    response = post_raw_import(owner_client, json.dumps(document))
    if response.status_code != 200:
        assert_refused(response, response.status_code)
    else:
        assert_imports_are_usable(owner_client, response.json())
