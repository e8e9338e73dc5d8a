"""Run services end to end on the embedded backend: parking, forks, budgets, failures."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from runtime import AssistantAgent, AssistantMessage, RoundRobinGroupChat
from runtime.testing import ScriptedModelClient
from studio.errors import ServiceError
from studio.runs import backends, services
from studio.runs.backends.embedded import EmbeddedBackend
from studio.runs.checkpoints import load_state as load_state_of
from studio.runs.events import validate_data
from studio.runs.models import Checkpoint, Run, Status
from studio.runs.recovery import recover_interrupted_runs, sweep_runs
from studio.teams.models import ModelConfig, Provider
from tests.fakes.llm_server import FakeLLMServer, error
from tests.studio.runs.conftest import (
    assistant,
    chatty_team,
    human,
    make_team,
    scripted_model,
    transcript,
    wait_finished,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("settle")]


def human_team(owner: User) -> object:
    # Checkpoints keep the scripted model's place, so a relaunch carries on with the script.
    model = scripted_model(owner, ["Tell me more."] * 4)
    return make_team(
        owner, [assistant(owner, "guide", model), human(owner, "traveller")], max_messages=4
    )


def is_parked(run_id: int) -> bool:
    return Run.objects.get(pk=run_id).is_parked


async def test_a_run_waiting_too_long_parks_and_the_answer_resumes_it(
    owner: User, settings: object
) -> None:
    settings.RUNS_INPUT_GRACE_SECONDS = 0
    team = await sync_to_async(human_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a trip")
    await wait_until(is_parked, run.pk)
    parked = await Run.objects.aget(pk=run.pk)
    assert parked.status == Status.AWAITING_INPUT and parked.lease == ""
    await sync_to_async(services.provide_input)(owner, run.pk, parked.pending_request_id, "Lisbon")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED
    events = await sync_to_async(transcript)(run.pk)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    resumed = [e for e in events if e.type == "run.resumed"]
    assert len(resumed) == 1
    discarded = [e.type for e in events if e.discarded]
    assert "input.requested" in discarded
    said = [e.data["content"] for e in events if e.type == "message" and not e.discarded]
    assert said == ["Plan a trip", "Tell me more.", "Lisbon", "Tell me more."]


async def test_a_parked_run_nobody_answers_times_out(owner: User, settings: object) -> None:
    settings.RUNS_INPUT_GRACE_SECONDS = 0
    settings.RUNS_INPUT_TIMEOUT_SECONDS = 1
    team = await sync_to_async(human_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a trip")
    await wait_until(is_parked, run.pk)
    await asyncio.sleep(1.1)
    await sync_to_async(sweep_runs)()
    done = await Run.objects.aget(pk=run.pk)
    assert done.status == Status.TIMED_OUT
    last = (await sync_to_async(transcript)(run.pk))[-1]
    assert last.type == "run.finished" and last.data["status"] == "timed_out"


async def test_stopping_a_parked_run_cancels_it_at_once(owner: User, settings: object) -> None:
    settings.RUNS_INPUT_GRACE_SECONDS = 0
    team = await sync_to_async(human_team)(owner)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Plan a trip")
    await wait_until(is_parked, run.pk)
    stopped = await sync_to_async(services.stop_run)(owner, run.pk)
    assert stopped.status == Status.CANCELLED
    with pytest.raises(ServiceError, match="already ended"):
        await sync_to_async(services.stop_run)(owner, run.pk)


async def test_a_fork_continues_from_an_edited_message(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=4)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Name a river")
    await wait_finished(run.pk)
    events = await sync_to_async(transcript)(run.pk)
    first_reply = next(e for e in events if e.type == "message" and e.source == "writer")
    fork = await sync_to_async(services.fork_run)(
        owner, run.pk, first_reply.seq, edited_content="The Danube, obviously."
    )
    done = await wait_finished(fork.pk)
    assert done.status == Status.COMPLETED and done.parent_id == run.pk
    forked = await sync_to_async(transcript)(fork.pk)
    assert [e.seq for e in forked] == list(range(1, len(forked) + 1))
    copied = next(e for e in forked if e.type == "message" and e.source == "writer")
    assert copied.data["content"] == "The Danube, obviously." and copied.data["edited"]
    checkpoint = await Checkpoint.objects.filter(run_id=fork.pk).order_by("seq").afirst()
    assert "The Danube, obviously." in checkpoint.state_json
    assert first_reply.data["content"] not in checkpoint.state_json
    assert any(e.type == "message" and e.seq > copied.seq for e in forked)


async def test_a_fork_edits_only_the_chosen_one_of_two_equal_messages(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=4)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Name a river")
    await wait_finished(run.pk)
    events = await sync_to_async(transcript)(run.pk)
    first, second = [e for e in events if e.type == "message" and e.source == "writer"]
    assert first.data["content"] == second.data["content"]
    fork = await sync_to_async(services.fork_run)(
        owner, run.pk, second.seq, edited_content="The Danube, obviously."
    )
    await wait_finished(fork.pk)
    checkpoint = await Checkpoint.objects.filter(run_id=fork.pk).order_by("seq").afirst()
    writer = AssistantAgent("writer", ScriptedModelClient(["unused"] * 10))
    critic = AssistantAgent("critic", ScriptedModelClient(["unused"] * 10))
    await RoundRobinGroupChat([writer, critic]).load_state(
        await sync_to_async(load_state_of)(checkpoint)
    )
    history = await writer.model_context.get_messages()
    said = [m.content for m in history if isinstance(m, AssistantMessage)]
    assert said == [first.data["content"], "The Danube, obviously."]


async def test_forking_from_something_that_is_not_a_message_is_refused(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Name a river")
    await wait_finished(run.pk)
    with pytest.raises(ServiceError, match="not a message"):
        await sync_to_async(services.fork_run)(owner, run.pk, 9999)


async def test_a_finished_run_continues_with_a_new_task(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=2)
    run = await sync_to_async(services.start_run)(owner, team.pk, "First question")
    await wait_finished(run.pk)
    await sync_to_async(services.continue_run)(owner, run.pk, "Second question")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED
    events = await sync_to_async(transcript)(run.pk)
    assert not any(e.discarded for e in events)
    tasks = [e.data["content"] for e in events if e.type == "message" and e.source == "user"]
    assert tasks == ["First question", "Second question"]
    assert [e.type for e in events].count("run.finished") == 2


async def test_a_run_stops_before_the_call_that_would_overrun_its_budget(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=6)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Talk a lot", budget_tokens=40)
    done = await wait_finished(run.pk)
    assert done.status == Status.BUDGET_EXHAUSTED
    assert done.total_tokens <= 40
    assert "Token budget of 40" in done.stop_reason
    events = await sync_to_async(transcript)(run.pk)
    assert any(e.type == "error" and e.data["code"] == "budget_exhausted" for e in events)
    with pytest.raises(ServiceError, match="Raise it to continue"):
        await sync_to_async(services.continue_run)(owner, run.pk)
    await sync_to_async(services.continue_run)(owner, run.pk, budget_tokens=10_000)
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED


@pytest.mark.parametrize("budget", [19, 20, 21])
async def test_the_expected_answer_counts_against_the_budget_too(owner: User, budget: int) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=6)
    run = await sync_to_async(services.start_run)(
        owner, team.pk, "Talk a lot", budget_tokens=budget
    )
    done = await wait_finished(run.pk)
    assert done.status == Status.BUDGET_EXHAUSTED
    assert 0 < done.total_tokens <= budget


async def test_usage_and_cost_are_accounted_per_agent_and_per_model(owner: User) -> None:
    def build() -> object:
        cheap = scripted_model(owner, ["one two three"] * 4, price_input=1.0, price_output=2.0)
        dear = scripted_model(
            owner, ["four five"] * 4, price_input=10.0, price_output=20.0, name="dear"
        )
        return make_team(
            owner,
            [assistant(owner, "thrifty", cheap), assistant(owner, "lavish", dear)],
            max_messages=5,
        )

    team = await sync_to_async(build)()
    run = await sync_to_async(services.start_run)(owner, team.pk, "Spend")
    done = await wait_finished(run.pk)
    by_model, by_agent = done.usage["by_model"], done.usage["by_agent"]
    assert set(by_model) == {"scripted", "dear"} and set(by_agent) == {"thrifty", "lavish"}
    assert by_model["scripted"]["calls"] == 2 and by_model["dear"]["calls"] == 2
    assert done.completion_tokens == 2 * 3 + 2 * 2
    assert done.cost_usd == pytest.approx(
        sum(row["cost_usd"] for row in by_model.values()), rel=1e-9
    )
    assert by_agent["lavish"]["cost_usd"] > by_agent["thrifty"]["cost_usd"] > 0
    usage = [e for e in await sync_to_async(transcript)(run.pk) if e.type == "usage"]
    assert len(usage) == 4
    for event in usage:
        validate_data(event.type, event.data)


async def test_a_provider_error_fails_the_run_with_the_providers_message(
    owner: User, llm_server: FakeLLMServer, settings: object
) -> None:
    settings.MODEL_PRIVATE_HOSTS = ["127.0.0.1"]  # the fake provider listens on loopback
    llm_server.script([error(500, "The engine is overheating")])

    def build() -> object:
        model = ModelConfig.objects.create(
            owner=owner,
            name="remote",
            provider=Provider.OPENAI_COMPATIBLE,
            model="gpt-test",
            base_url=llm_server.openai_url,
            params={"max_retries": 0},
        )
        return make_team(owner, [assistant(owner, "remote_agent", model)], max_messages=3)

    team = await sync_to_async(build)()
    run = await sync_to_async(services.start_run)(owner, team.pk, "Say hi")
    done = await wait_finished(run.pk)
    assert done.status == Status.FAILED
    assert "The engine is overheating" in done.stop_reason
    events = await sync_to_async(transcript)(run.pk)
    failure = next(e for e in events if e.type == "error")
    assert failure.data["code"] == "model_error"
    assert "The engine is overheating" in failure.data["message"]


async def test_an_embedded_server_restart_resumes_interrupted_runs(owner: User) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=8, delay=0.05)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Long story")
    backend = backends.get_backend()
    assert isinstance(backend, EmbeddedBackend)

    def has_messages(count: int) -> bool:
        return sum(e.type == "message" for e in transcript(run.pk)) >= count

    await wait_until(has_messages, 4)
    backend.terminate(run.pk, "")  # the server dies mid-run
    await asyncio.sleep(0.05)
    interrupted = await Run.objects.aget(pk=run.pk)
    assert interrupted.status == Status.RUNNING
    backends.get_backend.cache_clear()  # a new server process
    await sync_to_async(recover_interrupted_runs)(backends.get_backend())
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED and done.attempts == 2
    events = await sync_to_async(transcript)(run.pk)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    kept = [e for e in events if e.type == "message" and not e.discarded]
    assert len(kept) == 9
    assert len({e.data["id"] for e in kept}) == 9
    resumed = next(e for e in events if e.type == "run.resumed")
    assert json.dumps(resumed.data)


async def test_a_continued_run_picks_up_its_scripted_model_where_it_stopped(owner: User) -> None:
    model = await sync_to_async(scripted_model)(owner, ["one", "two", "three", "four"])
    writer = await sync_to_async(assistant)(owner, "writer", model)
    team = await sync_to_async(make_team)(owner, [writer], max_messages=3)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Count")
    await wait_finished(run.pk)
    await sync_to_async(services.continue_run)(owner, run.pk, "Go on")
    done = await wait_finished(run.pk)
    assert done.status == Status.COMPLETED
    events = await sync_to_async(transcript)(run.pk)
    said = [e.data["content"] for e in events if e.type == "message" and e.source == "writer"]
    assert said == ["one", "two", "three", "four"]
