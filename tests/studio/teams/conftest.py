"""Fixtures for team tests: a scripted model, two agents and a team shared with the
teammate as editor."""

import pytest
from django.contrib.auth.models import User

from studio.teams import services
from studio.teams.models import Agent, ModelConfig, Role, Team


@pytest.fixture
def scripted_model(owner: User) -> ModelConfig:
    """A scripted model owned by the owner."""
    return services.save_model(
        owner,
        {
            "name": "Scripted",
            "provider": "scripted",
            "model": "scripted",
            "scripted_replies": ["A draft.", "Looks good. APPROVE"],
            "price_input_per_million": 1.0,
            "price_output_per_million": 2.0,
        },
    )


@pytest.fixture
def writer(owner: User, scripted_model: ModelConfig) -> Agent:
    """An assistant that writes."""
    return services.save_agent(
        owner,
        {"name": "writer", "system_message": "Write.", "model": scripted_model.pk},
    )


@pytest.fixture
def critic(owner: User, scripted_model: ModelConfig) -> Agent:
    """An assistant that reviews, with the calculator."""
    return services.save_agent(
        owner,
        {
            "name": "critic",
            "system_message": "Review.",
            "model": scripted_model.pk,
            "tools": ["calculator"],
        },
    )


@pytest.fixture
def team(owner: User, teammate: User, writer: Agent, critic: Agent) -> Team:
    """A round robin team, shared with the teammate as editor."""
    created = services.save_team(
        owner,
        {
            "name": "Drafting",
            "kind": "round_robin",
            "participants": [writer.pk, critic.pk],
            "termination": {
                "type": "or",
                "conditions": [
                    {"type": "text_mention", "text": "APPROVE"},
                    {"type": "max_messages", "max_messages": 6},
                ],
            },
        },
    )
    created.share_with(user=teammate, role=Role.EDITOR)
    return created
