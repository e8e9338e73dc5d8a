"""Reading rows without an ORDER BY where it costs more than it gives: the one row a unique
key picks out, the seats of a team."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.lookups import unique_row
from studio.teams.models import Agent, Team, TeamMember

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


def test_a_teams_members_come_in_seat_order_from_one_unordered_query(owner: User) -> None:
    team = Team.objects.create(owner=owner, name="Trio")
    agents = [Agent.objects.create(owner=owner, name=name) for name in ("a", "b", "c")]
    # seats written out of their order: the rows' order is not the seats'
    for agent, position in zip(agents, (2, 0, 1), strict=True):
        TeamMember.objects.create(team=team, agent=agent, position=position)
    with CaptureQueriesContext(connection) as queries:
        members = Team.objects.get(pk=team.pk).ordered_members()
        names = [agent.name for agent in members]
        models = [agent.model for agent in members]  # read with the seats
    assert names == ["b", "c", "a"]
    assert models == [None, None, None]
    assert len(queries.captured_queries) == 2  # the team, then its seats
    assert "ORDER BY" not in queries.captured_queries[1]["sql"].upper()
