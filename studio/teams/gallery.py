"""The demo gallery: teams that run offline on scripted models, and provider templates.

`seed_gallery` stores them once under a `gallery` account, marked visible to everyone;
running it again changes nothing (teams are matched by name).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction

from studio.teams.models import Agent, ModelConfig, Team
from studio.teams.services import snapshot_team
from studio.teams.writing import apply_team_spec

GALLERY_USERNAME = "gallery"


def scripted(name: str, replies: list[Any]) -> dict[str, Any]:
    """A scripted model spec."""
    return {
        "name": name,
        "provider": "scripted",
        "model": "scripted",
        "base_url": "",
        "params": {"delay": 0.2},
        "model_info": {},
        "price_input_per_million": 0.5,
        "price_output_per_million": 1.5,
        "scripted_replies": replies,
    }


def handoff_call(target: str, call_id: str) -> dict[str, Any]:
    """A scripted reply that calls the handoff tool to `target`."""
    return {
        "content": [{"id": call_id, "arguments": "{}", "name": f"transfer_to_{target}"}],
        "finish_reason": "function_calls",
        "usage": {"prompt_tokens": 40, "completion_tokens": 8},
        "cached": False,
    }


def assistant(
    name: str, description: str, system_message: str, model: Any, **extra: Any
) -> dict[str, Any]:
    """An assistant agent spec."""
    return {
        "name": name,
        "kind": "assistant",
        "description": description,
        "system_message": system_message,
        "model": model,
        "tools": extra.get("tools", []),
        "handoffs": extra.get("handoffs", []),
        "reflect_on_tool_use": False,
        "max_tool_iterations": 1,
        "model_client_stream": extra.get("stream", True),
        "team": None,
        "instruction": "",
        "response_prompt": "",
    }


def team(
    name: str, description: str, kind: str, participants: list[Any], **extra: Any
) -> dict[str, Any]:
    """A team spec."""
    return {
        "name": name,
        "description": description,
        "kind": kind,
        "participants": participants,
        "termination": extra.get("termination"),
        "max_turns": extra.get("max_turns"),
        "selector": extra.get("selector"),
        "graph": None,
    }


def stop_on(text: str, max_messages: int) -> dict[str, Any]:
    """Stop when `text` is said or after `max_messages`."""
    return {
        "type": "or",
        "conditions": [
            {"type": "text_mention", "text": text},
            {"type": "max_messages", "max_messages": max_messages},
        ],
    }


def writer_and_critic() -> dict[str, Any]:
    """A writer drafts, a critic reviews, until the critic approves."""
    writer = scripted(
        "Scripted writer",
        [
            "Draft: Roundtable lets a team of agents work on your task while you watch.",
            "Draft 2: Build a team, give it a task, and watch every message arrive live.",
        ],
    )
    critic = scripted(
        "Scripted critic",
        ["Too vague: say what the reader can do, in one sentence.", "Clear and short. APPROVE"],
    )
    return team(
        "Writer and critic",
        "A writer drafts and a critic reviews until it approves.",
        "round_robin",
        [
            assistant("writer", "Writes drafts.", "You write short, concrete drafts.", writer),
            assistant(
                "critic", "Reviews drafts.", "Review the draft. Say APPROVE when good.", critic
            ),
        ],
        termination=stop_on("APPROVE", 10),
    )


def support_triage() -> dict[str, Any]:
    """A swarm: triage hands the customer to billing, which solves it."""
    triage = scripted("Scripted triage", [handoff_call("billing", "call_triage_1")])
    billing = scripted(
        "Scripted billing",
        ["I found the double charge and refunded it; it shows in 3-5 days. TERMINATE"],
    )
    technical = scripted("Scripted technical", ["Please restart the app. TERMINATE"])
    return team(
        "Support triage",
        "A triage agent hands the customer to billing or technical support.",
        "swarm",
        [
            assistant(
                "triage",
                "Routes customers.",
                "Decide who should handle the request and hand off.",
                triage,
                handoffs=["billing", "technical"],
            ),
            assistant(
                "billing",
                "Handles payments.",
                "Solve billing problems.",
                billing,
                handoffs=["triage"],
            ),
            assistant(
                "technical",
                "Handles bugs.",
                "Solve technical problems.",
                technical,
                handoffs=["triage"],
            ),
        ],
        termination={
            "type": "or",
            "conditions": [
                {"type": "text_mention", "text": "TERMINATE"},
                {"type": "max_messages", "max_messages": 12},
            ],
        },
    )


def plan_code_test() -> dict[str, Any]:
    """A selector team: a model picks planner, coder, then tester."""
    return team(
        "Plan, code, test",
        "A selector picks who speaks next: planner, coder, tester.",
        "selector",
        [
            assistant(
                "planner",
                "Breaks the task into steps.",
                "Plan the work in short numbered steps.",
                scripted("Scripted planner", ["1. Write add(a, b). 2. Test it with 2 + 3."]),
            ),
            assistant(
                "coder",
                "Writes Python.",
                "Write the code for the plan.",
                scripted("Scripted coder", ["```python\ndef add(a, b):\n    return a + b\n```"]),
            ),
            assistant(
                "tester",
                "Checks the result.",
                "Check the code; use the calculator for expected values.",
                scripted("Scripted tester", ["add(2, 3) returns 5 as expected. TERMINATE"]),
                tools=["calculator"],
            ),
        ],
        termination=stop_on("TERMINATE", 10),
        selector={
            "model": scripted("Scripted selector", ["planner", "coder", "tester"]),
            "prompt": "",
            "allow_repeated_speaker": False,
        },
    )


def human_seat() -> dict[str, Any]:
    """An assistant that asks the human before answering."""
    helper = scripted(
        "Scripted helper",
        [
            "Before I book it: which city are you flying from?",
            "Thanks! I will look for flights from there. TERMINATE",
        ],
    )
    human = assistant("you", "The person running the team.", "", None)
    human |= {"kind": "user_proxy", "model": None, "model_client_stream": False}
    return team(
        "Ask the human",
        "An assistant that asks you a question and waits for your answer.",
        "round_robin",
        [assistant("helper", "Plans trips.", "Ask before you assume.", helper), human],
        termination=stop_on("TERMINATE", 6),
    )


def template(name: str, provider: str, model: str, base_url: str = "") -> dict[str, Any]:
    """A one-assistant team for a real provider; attach a credential to run it."""
    spec = {
        "name": f"{name} model",
        "provider": provider,
        "model": model,
        "base_url": base_url,
        "params": {"temperature": 0.3},
        "model_info": {},
        "price_input_per_million": 0.0,
        "price_output_per_million": 0.0,
        "scripted_replies": [],
    }
    return team(
        f"{name} assistant (template)",
        f"A single assistant on {name}. Attach a credential to its model, then run it.",
        "round_robin",
        [
            assistant(
                "assistant",
                "A helpful assistant.",
                "You are a helpful assistant. Say TERMINATE when the task is done.",
                spec,
            )
        ],
        termination=stop_on("TERMINATE", 4),
    )


def gallery_specs() -> list[dict[str, Any]]:
    """Every gallery team, demos first."""
    return [
        writer_and_critic(),
        support_triage(),
        plan_code_test(),
        human_seat(),
        template("OpenAI", "openai", "gpt-4o-mini"),
        template("Anthropic", "anthropic", "claude-3-5-haiku-latest"),
        template("Ollama", "openai_compatible", "llama3.2", "http://127.0.0.1:11434/v1"),
    ]


def gallery_owner() -> User:
    """The account that owns gallery objects (it cannot log in)."""
    user, created = get_user_model().objects.get_or_create(
        username=GALLERY_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_gallery() -> list[tuple[str, bool]]:
    """Create the gallery teams that do not exist yet; return (name, created) pairs."""
    owner = gallery_owner()
    results = []
    for spec in gallery_specs():
        if Team.objects.filter(owner=owner, name=spec["name"]).exists():
            results.append((spec["name"], False))
            continue
        created = apply_team_spec(owner, spec, reuse_ids=False)
        mark_gallery(created)
        snapshot_team(created, owner, note="Gallery")
        results.append((spec["name"], True))
    return results


def mark_gallery(created: Team) -> None:
    """Make a team, its agents and their models visible to everyone."""
    Team.objects.filter(pk=created.pk).update(is_gallery=True)
    for agent in created.ordered_members():
        Agent.objects.filter(pk=agent.pk).update(is_gallery=True)
        if agent.model_id:
            ModelConfig.objects.filter(pk=agent.model_id).update(is_gallery=True)
    if created.selector_model_id:
        ModelConfig.objects.filter(pk=created.selector_model_id).update(is_gallery=True)
