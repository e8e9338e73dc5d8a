"""Runs on the embedded backend: the events a team produces, in order, persisted."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import services
from studio.runs.events import validate_data
from studio.runs.models import Checkpoint, Status
from tests.studio.runs.conftest import chatty_team, transcript, wait_finished

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


async def test_a_run_completes_with_a_gap_free_persisted_transcript(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=4)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Write a haiku")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED
    events = await sync_to_async(transcript)(run.pk)
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    messages = [event for event in events if event.type == "message"]
    assert [m.source for m in messages] == ["user", "writer", "critic", "writer", "critic"]
    assert events[-1].type == "run.finished"
    for event in events:
        validate_data(event.type, event.data)
    assert await Checkpoint.objects.filter(run_id=run.pk).acount() >= 4
