"""What the builder needs from the API beyond saving: unsaved work checked as a save would
check it (nothing stored), graph edges that keep the runtime's activation settings, and
nested teams that keep their own canvas layout."""

from __future__ import annotations

import copy
from typing import Any

from django.test import Client

from studio.teams.autogen import SpecReader, read_component, write_team
from studio.teams.building import build_team
from studio.teams.models import Team, TeamVersion
from studio.teams.specs import team_spec
from studio.teams.writing import apply_team_spec


def check(client: Client, spec: dict[str, Any]) -> Any:
    return client.post("/api/teams/validate", {"spec": spec}, content_type="application/json")


def current(team: Team) -> dict[str, Any]:
    return team_spec(Team.objects.get(pk=team.pk))


def test_checking_unsaved_work_reports_every_problem_by_path_and_stores_nothing(
    owner_client: Client, team: Team
) -> None:
    spec = current(team)
    spec["participants"][1]["name"] = "writer"
    spec["participants"][0]["model"] = None
    versions = TeamVersion.objects.count()

    answer = check(owner_client, spec)

    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["is_valid"] is False
    paths = {problem["path"] for problem in body["problems"]}
    assert {"participants[0].model", "participants[1].name"} <= paths
    assert TeamVersion.objects.count() == versions
    assert [agent["name"] for agent in current(team)["participants"]] == ["writer", "critic"]


def test_checking_a_sound_spec_finds_nothing(owner_client: Client, team: Team) -> None:
    body = check(owner_client, current(team)).json()
    assert body == {"is_valid": True, "problems": []}


def test_checking_refuses_a_credential_the_user_cannot_use(
    owner_client: Client, team: Team
) -> None:
    spec = current(team)
    spec["participants"][0]["model"] = {
        "name": "Borrowed",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "credential": 999_999,
    }
    problems = check(owner_client, spec).json()["problems"]
    assert any(problem["path"].startswith("participants[0].model") for problem in problems)


def graph_spec(team: Team) -> dict[str, Any]:
    spec = current(team)
    spec["kind"] = "graph"
    spec["graph"] = {
        "edges": [
            {
                "source": "writer",
                "target": "critic",
                "condition": None,
                "activation_group": "review",
                "activation_condition": "any",
            }
        ]
    }
    return spec


def test_a_graph_edge_keeps_its_activation_through_save_build_and_export(
    owner_client: Client, team: Team
) -> None:
    spec = graph_spec(team)
    saved = owner_client.put(
        f"/api/teams/{team.pk}/spec",
        {"spec": spec, "base_version": 1},
        content_type="application/json",
    )
    assert saved.status_code == 200, saved.content
    edge = current(team)["graph"]["edges"][0]
    assert (edge["activation_group"], edge["activation_condition"]) == ("review", "any")

    built = build_team(current(team))
    runtime_edge = built.graph.nodes["writer"].edges[0]
    assert (runtime_edge.activation_group, runtime_edge.activation_condition) == (
        "review",
        "any",
    )
    read_back = SpecReader().team(read_component(write_team(current(team)), "", "team"))
    edge = read_back["graph"]["edges"][0]
    assert (edge["activation_group"], edge["activation_condition"]) == ("review", "any")


def test_an_edge_in_its_targets_own_group_reads_back_without_a_group(team: Team) -> None:
    spec = graph_spec(team)
    spec["graph"]["edges"][0].update(activation_group=None, activation_condition="all")
    read_back = SpecReader().team(read_component(write_team(spec), "", "team"))
    edge = read_back["graph"]["edges"][0]
    assert (edge["activation_group"], edge["activation_condition"]) == (None, "all")


def test_a_nested_team_keeps_its_own_layout(owner, team: Team) -> None:
    outer = copy.deepcopy(current(team))
    inner = copy.deepcopy(current(team))
    inner.update(id=None, name="Inner", layout={"positions": {"writer": {"x": 5, "y": 7}}})
    for agent in inner["participants"]:
        agent["id"] = None
    outer["participants"].append({"kind": "team", "name": "inner", "team": inner})

    written = apply_team_spec(owner, outer, team=team, reuse_ids=True)

    nested = team_spec(written)["participants"][2]["team"]
    assert nested["layout"] == {"positions": {"writer": {"x": 5, "y": 7}}}
