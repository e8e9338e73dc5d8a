"""Reading the rows the busiest paths read cheaply: the one row a unique key picks out
(no ORDER BY), the seats of a team with their models (statements written out once)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.lookups import unique_row
from studio.teams.models import Agent, ModelConfig, Team, TeamMember

pytestmark = pytest.mark.django_db


def test_the_row_a_unique_key_names_is_read_without_ordering(owner: User) -> None:
    team = Team.objects.create(owner=owner, name="Solo")
    with CaptureQueriesContext(connection) as queries:
        found = unique_row(Team.objects.filter(pk=team.pk, owner_id=owner.pk))
    assert found == team
    assert len(queries.captured_queries) == 1
    assert "ORDER BY" not in queries.captured_queries[0]["sql"].upper()


def test_no_row_is_none(owner: User, stranger: User) -> None:
    team = Team.objects.create(owner=owner, name="Solo")
    assert unique_row(Team.objects.filter(pk=team.pk, owner_id=stranger.pk)) is None


def test_a_teams_members_come_in_seat_order_with_their_models(owner: User) -> None:
    team = Team.objects.create(owner=owner, name="Trio")
    model = ModelConfig.objects.create(owner=owner, name="m", provider="openai", model="gpt")
    agents = [
        Agent.objects.create(owner=owner, name=name, model=model if name != "c" else None)
        for name in ("a", "b", "c")
    ]
    # seats written out of their order: the rows' order is not the seats'
    for agent, position in zip(agents, (2, 0, 1), strict=True):
        TeamMember.objects.create(team=team, agent=agent, position=position)
    team = Team.objects.get(pk=team.pk)
    with CaptureQueriesContext(connection) as queries:
        members = team.ordered_members()
        names = [agent.name for agent in members]
        models = [agent.model for agent in members]  # read with the seats
    assert names == ["b", "c", "a"]
    assert models == [model, None, model] and models[0] is models[2]
    assert members[0].tools == agents[1].tools  # JSON read back as data
    assert len(queries.captured_queries) == 2  # the seats, then their models
    assert Team.objects.create(owner=owner, name="Empty").ordered_members() == []
