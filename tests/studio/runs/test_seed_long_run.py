"""``manage.py seed_long_run``: a long finished run written straight to the database."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from studio.runs.events import validate_data
from studio.runs.management.commands.seed_long_run import last_message_text
from studio.runs.models import Run, Status

pytestmark = pytest.mark.django_db


def test_it_writes_a_finished_run_whose_every_event_fits_its_schema(owner: User) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_long_run", messages=25, user=owner.username, stdout=out)

    run = Run.objects.get(pk=int(out.getvalue()))
    assert (run.status, run.started_by, run.team.name) == (
        Status.COMPLETED,
        owner,
        "Writer and critic",
    )
    events = list(run.events.order_by("seq"))
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    for event in events:
        validate_data(event.type, event.data)
    messages = [event for event in events if event.type == "message"]
    assert len(messages) == 26  # the task and 25 turns
    assert {m.source for m in messages[1:]} == {"writer", "critic"}
    assert messages[-1].data["content"] == last_message_text(25)
    assert [e.type for e in events].count("tool.call") == 2
    assert events[-1].type == "run.finished"


def test_it_refuses_an_unknown_user(owner: User) -> None:
    with pytest.raises(CommandError, match="No user"):
        call_command("seed_long_run", messages=5, user="nobody", stdout=io.StringIO())
