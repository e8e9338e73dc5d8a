"""Stopping runs on the embedded backend: the escalation for a run that ignores a stop."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from studio.runs import backends, services
from studio.runs.models import Run, Status
from tests.studio.runs.conftest import (
    assistant,
    make_team,
    scripted_model,
    transcript,
    wait_finished,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


def slow_team(owner: User, delay: float) -> Any:
    model = scripted_model(owner, ["Still thinking."] * 10, delay=delay)
    return make_team(owner, [assistant(owner, "ponderer", model)], max_messages=3)


def is_running(run_id: int) -> bool:
    return Run.objects.get(pk=run_id).status == Status.RUNNING


async def test_a_run_that_ignores_its_stop_is_ended_after_the_grace(owner: User) -> None:
    team = await sync_to_async(slow_team)(owner, 30)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Think forever")
    await wait_until(is_running, run.pk)
    # The escalation alone, without the stop message: the run never hears it was asked.
    backends.get_backend().check_stop_later(run.pk, 0.3)
    done = await wait_finished(run.pk, limit=5)
    assert done.status == Status.CANCELLED
    assert done.stop_reason.startswith("Stopped forcibly")
    events = await sync_to_async(transcript)(run.pk)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert [e.type for e in events[-2:]] == ["error", "run.finished"]
    assert events[-2].data["code"] == "terminated"


async def test_the_escalation_of_an_obeyed_stop_ends_with_its_run(
    owner: User, settings: Any
) -> None:
    settings.RUNS_STOP_GRACE_SECONDS = 1
    team = await sync_to_async(slow_team)(owner, 0.6)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Think")
    await wait_until(is_running, run.pk)
    await sync_to_async(services.stop_run)(owner, run.pk)
    assert (await wait_finished(run.pk, limit=2)).status == Status.CANCELLED
    # The same run goes on; the first stop's grace runs out while it works.
    await sync_to_async(services.continue_run)(owner, run.pk, "Think again")
    await wait_until(is_running, run.pk)
    await asyncio.sleep(settings.RUNS_STOP_GRACE_SECONDS)
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED, done.stop_reason
