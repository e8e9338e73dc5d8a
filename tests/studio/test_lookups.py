"""Reading the one row a unique key picks out."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from studio.lookups import unique_row
from studio.teams.models import Team

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
