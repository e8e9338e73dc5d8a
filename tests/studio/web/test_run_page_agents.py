"""Who speaks in a run, as the run page hands it to the view: every agent of the spec,
nested teams' included, and which of them are human seats."""

from __future__ import annotations

from studio.web.views import human_names, speaking_agents

SPEC = {
    "participants": [
        {"name": "planner", "kind": "assistant"},
        {"name": "you", "kind": "user_proxy"},
        {
            "name": "review desk",
            "team": {
                "participants": [
                    {"name": "critic", "kind": "assistant"},
                    {"name": "editor", "kind": "user_proxy"},
                ]
            },
        },
    ]
}


def test_nested_teams_speak_through_their_agents_and_humans_are_marked() -> None:
    assert speaking_agents(SPEC) == [
        {"name": "planner", "is_human": False},
        {"name": "you", "is_human": True},
        {"name": "critic", "is_human": False},
        {"name": "editor", "is_human": True},
    ]
    assert human_names(SPEC) == ["you", "editor"]
