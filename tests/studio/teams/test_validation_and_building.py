"""Validation reports every problem with its path; valid specs build and run."""

import copy

from runtime.testing import ScriptedInput
from studio.teams.building import build_team
from studio.teams.gallery import gallery_specs
from studio.teams.validation import validate_spec


def demo(name: str) -> dict:
    spec = next(spec for spec in gallery_specs() if spec["name"] == name)
    for model in _models(spec):
        model["params"] = {}
    return spec


def _models(spec: dict) -> list[dict]:
    from studio.teams.specs import iter_model_specs

    return iter_model_specs(spec)


def messages(problems: list) -> list[tuple[str, str]]:
    return [(problem.path, problem.message) for problem in problems]


def test_every_problem_is_reported_with_its_path(db) -> None:
    spec = copy.deepcopy(demo("Plan, code, test"))
    spec["participants"][0]["name"] = "coder"
    spec["participants"][1]["model"] = {
        "name": "gpt-4o",
        "provider": "openai",
        "model": "gpt-4o",
        "credential": None,
    }
    spec["participants"][2]["tools"] = ["calculator", "shell"]
    spec["participants"][2]["handoffs"] = ["nobody"]
    spec["selector"]["model"] = None
    spec["termination"]["conditions"][1]["max_messages"] = 0
    spec["termination"]["conditions"].append({"type": "sometimes"})
    problems = messages(validate_spec(spec))
    assert problems == [
        ("participants[1].name", '"coder" is already taken in this team'),
        ("participants[1].model", 'model "gpt-4o" has no credential'),
        ("participants[2].tools[1]", 'unknown tool "shell"'),
        (
            "participants[2].handoffs[0]",
            'hands off to "nobody", who is not in the team '
            "(add a handoff termination for that target to end the run there)",
        ),
        ("termination.conditions[1].max_messages", "must be positive"),
        ("termination.conditions[2].type", 'unknown condition "sometimes"'),
        ("selector.model", "a selector team needs a model to pick speakers"),
    ]


def test_graph_edges_must_name_participants(db) -> None:
    spec = copy.deepcopy(demo("Writer and critic"))
    spec["kind"] = "graph"
    spec["graph"] = {"edges": [{"source": "writer", "target": "editor", "condition": None}]}
    assert messages(validate_spec(spec)) == [("graph.edges[0].target", 'no participant "editor"')]


def test_a_team_that_never_stops_is_refused(db) -> None:
    spec = copy.deepcopy(demo("Writer and critic"))
    spec["termination"] = None
    assert messages(validate_spec(spec)) == [
        ("termination", "the team never stops: add a termination condition or max turns")
    ]


def test_every_demo_team_validates(db, settings) -> None:
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.1:11434"]  # as `make run` allows local Ollama
    for spec in gallery_specs():
        problems = validate_spec(spec)
        if spec["name"].startswith(("OpenAI", "Anthropic")):
            assert [p.message for p in problems] == [
                f'model "{spec["participants"][0]["model"]["name"]}" has no credential'
            ]
        else:
            assert problems == [], spec["name"]


def test_the_ollama_template_says_how_to_allow_a_local_model_server(db, settings) -> None:
    settings.MODEL_PRIVATE_HOSTS = []
    ollama = next(spec for spec in gallery_specs() if spec["name"].startswith("Ollama"))
    problems = validate_spec(ollama)
    assert [p.path for p in problems] == ["participants[0].model.base_url"]
    assert "MODEL_PRIVATE_HOSTS=localhost:11434" in problems[0].message


async def test_built_teams_run_with_the_runs_input_and_client_wrapper(db) -> None:
    wrapped: list[str] = []

    def wrap(client, model_spec):
        wrapped.append(model_spec["name"])
        return client

    from asgiref.sync import sync_to_async

    team = await sync_to_async(build_team)(
        demo("Ask the human"), input_func=ScriptedInput(["From Lyon."]), wrap_model_client=wrap
    )
    result = await team.run(task="Book me a flight to Oslo.")
    assert wrapped == ["Scripted helper"]
    sources = [message.source for message in result.messages]
    assert sources[:2] == ["user", "helper"]
    assert "you" in sources
    assert sources[-1] == "helper"
    assert "TERMINATE" in result.messages[-1].content


async def test_swarm_demo_hands_off_to_billing(db) -> None:
    from studio.teams.building import abuild_team

    team = await abuild_team(demo("Support triage"))
    result = await team.run(task="I was charged twice.")
    assert result.messages[-1].source == "billing"


async def test_selector_demo_reports_each_pick_as_a_speaker_event(db) -> None:
    from studio.teams.building import abuild_team

    team = await abuild_team(demo("Plan, code, test"))
    result = await team.run(task="Add a health check endpoint.")
    picks = [item for item in result.messages if item.type == "SelectSpeakerEvent"]
    spoken = [
        item.source
        for item in result.messages
        if item.type == "TextMessage" and item.source != "user"
    ]
    assert picks and spoken
    assert [pick.content[0] for pick in picks][: len(spoken)] == spoken
