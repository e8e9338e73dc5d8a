"""Checkpoints written as full snapshots and deltas, and read back as full states."""

from __future__ import annotations

import json
from itertools import pairwise
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User

from runtime import (
    AssistantAgent,
    BufferedChatCompletionContext,
    EventSink,
    MaxMessageTermination,
    RoundRobinGroupChat,
    UnboundedChatCompletionContext,
)
from runtime.testing import ScriptedModelClient
from studio.runs import checkpoints, services
from studio.runs.checkpoints import (
    CheckpointChain,
    CheckpointError,
    EncodedCheckpoint,
    load_state,
    state_at,
)
from studio.runs.models import Checkpoint, CheckpointKind, Run, Status
from tests.runtime.scripted_agents import ScriptedAgent
from tests.studio.runs.conftest import chatty_team, wait_finished

pytestmark = pytest.mark.django_db(transaction=True)


def team_state(turns: int) -> dict[str, Any]:
    """A state shaped like a team's: a thread, contexts, and counters."""
    return {
        "type": "TeamState",
        "thread": [["TextMessage", f"m{i}", "writer", "t", "x" * 40] for i in range(turns)],
        "participants": {
            "writer": {"read": turns, "state": {"llm_context": {"messages": list(range(turns))}}}
        },
        "turn": turns,
    }


def write(run: Run, chain: CheckpointChain, seq: int, state: Any) -> Checkpoint:
    """Encode and save one checkpoint."""
    row = chain.encode(seq, state).to_model(run.pk)
    row.save()
    return row


@pytest.fixture
def run(owner: User) -> Run:
    team = chatty_team(owner, turns=2)
    return Run.objects.create(team=team, team_version=team.versions.get(), task="t")


def test_a_chain_writes_a_full_snapshot_then_deltas_that_rebuild_every_state(run: Run) -> None:
    chain = CheckpointChain()
    states = {seq: team_state(seq) for seq in range(10, 40)}
    rows = [write(run, chain, seq, state) for seq, state in states.items()]
    assert rows[0].kind == CheckpointKind.FULL
    assert rows[1].kind == CheckpointKind.DELTA
    assert (rows[1].base_seq, rows[1].prev_seq) == (10, 10)
    for seq, state in states.items():
        assert state_at(run.pk, seq) == (seq, state)
    assert state_at(run.pk) == (39, states[39])


def test_a_new_full_snapshot_starts_once_deltas_pass_half_of_the_last_one(run: Run) -> None:
    chain = CheckpointChain(delta_bytes=0)
    rows = [write(run, chain, seq, team_state(seq)) for seq in range(1, 200)]
    fulls = [row for row in rows if row.kind == CheckpointKind.FULL]
    assert 3 < len(fulls) < 30
    for full, following in pairwise(fulls):
        deltas = [row for row in rows if full.seq < row.seq < following.seq]
        size = sum(len(row.state_json) for row in deltas)
        assert size <= len(full.state_json) / 2
        assert all(row.base_seq == full.seq for row in deltas)


def test_deltas_of_a_small_snapshot_may_add_up_to_the_floor_before_the_next_one(
    run: Run,
) -> None:
    floor = 8 * 1024
    chain = CheckpointChain(delta_bytes=floor)
    rows = [write(run, chain, seq, team_state(seq)) for seq in range(1, 200)]
    fulls = [row for row in rows if row.kind == CheckpointKind.FULL]
    assert len(fulls) > 1
    first, second = fulls[0], fulls[1]
    deltas = [row for row in rows if first.seq < row.seq < second.seq]
    size = sum(len(row.state_json) for row in deltas)
    # far past half of the small first snapshot, yet within the floor
    assert len(first.state_json) / 2 < floor / 4 < size <= floor
    # the delta that would have passed the floor is the next full snapshot instead
    assert size + len(chain.encode(999, team_state(second.seq)).state_json) > floor
    assert state_at(run.pk, second.seq - 1) == (second.seq - 1, team_state(second.seq - 1))


def test_the_state_before_the_first_checkpoint_is_none(run: Run) -> None:
    write(run, CheckpointChain(), 5, team_state(5))
    assert state_at(run.pk, 4) is None
    assert state_at(run.pk, 6) == (5, team_state(5))


def test_a_checkpoint_written_before_deltas_existed_reads_as_a_full_state(run: Run) -> None:
    checkpoint = Checkpoint.objects.create(run=run, seq=3, state_json=json.dumps(team_state(3)))
    assert checkpoint.kind == CheckpointKind.FULL
    assert checkpoint.base_seq is None
    assert load_state(Checkpoint.objects.get(pk=checkpoint.pk)) == team_state(3)
    assert state_at(run.pk) == (3, team_state(3))


def test_the_state_property_of_a_delta_checkpoint_is_the_full_state(run: Run) -> None:
    chain = CheckpointChain()
    write(run, chain, 20, team_state(20))
    delta = write(run, chain, 21, team_state(21))
    assert delta.kind == CheckpointKind.DELTA
    assert load_state(Checkpoint.objects.get(pk=delta.pk)) == team_state(21)


def test_a_delta_whose_chain_lost_a_link_is_reported(run: Run) -> None:
    chain = CheckpointChain()
    kinds = [write(run, chain, seq, team_state(seq)).kind for seq in (20, 21, 22)]
    assert kinds == [CheckpointKind.FULL, CheckpointKind.DELTA, CheckpointKind.DELTA]
    Checkpoint.objects.filter(run=run, seq=21).delete()
    with pytest.raises(CheckpointError, match="misses the checkpoint"):
        state_at(run.pk, 22)


def test_deltas_follow_their_own_chain_when_another_writer_interleaved(run: Run) -> None:
    # An executor that lost its lease may still write a checkpoint between two of ours.
    ours, stale = CheckpointChain(), CheckpointChain()
    write(run, ours, 20, team_state(20))
    write(run, stale, 21, {"type": "TeamState", "thread": ["stale"]})
    assert write(run, ours, 22, team_state(22)).kind == CheckpointKind.DELTA
    assert state_at(run.pk, 22) == (22, team_state(22))
    assert state_at(run.pk, 21) == (21, {"type": "TeamState", "thread": ["stale"]})


def bytes_written(turns: int, delta_bytes: int = checkpoints.DELTA_BYTES) -> int:
    """What a chain writes for a conversation of ``turns`` checkpoints."""
    chain = CheckpointChain(delta_bytes=delta_bytes)
    return sum(len(chain.encode(seq, team_state(seq)).state_json) for seq in range(1, turns))


def test_the_bytes_written_grow_about_linearly_with_the_turns() -> None:
    # Snapshots every turn would write four times as much for twice the turns.
    assert bytes_written(800, delta_bytes=0) < 2.4 * bytes_written(400, delta_bytes=0)
    assert bytes_written(800) < 10 * len(json.dumps(team_state(800), separators=(",", ":")))
    # the floor spares a young conversation's snapshots: it only ever writes less
    assert bytes_written(400) < 0.7 * bytes_written(400, delta_bytes=0)


async def test_a_long_run_writes_deltas_and_continues_from_them(owner: User, settle: None) -> None:
    team = await sync_to_async(chatty_team)(owner, turns=12)
    run = await sync_to_async(services.start_run)(owner, team.pk, "Talk")
    assert (await wait_finished(run.pk)).status == Status.COMPLETED
    kinds = [row.kind async for row in Checkpoint.objects.filter(run=run).order_by("seq")]
    assert kinds[0] == CheckpointKind.FULL
    assert CheckpointKind.DELTA in kinds
    seq, state = await sync_to_async(state_at)(run.pk)
    assert len(state["thread"]) == 13
    await sync_to_async(services.continue_run)(owner, run.pk, "More, please")
    assert (await wait_finished(run.pk)).status == Status.COMPLETED
    later = await sync_to_async(checkpoints.state_at)(run.pk)
    assert later is not None and later[0] > seq
    assert later[1]["thread"][:13] == state["thread"]
    assert later[1]["thread"][13][4] == "More, please"


# -- a team's own lists, checkpointed after every turn as a run's sink does --------------


class CheckpointingSink(EventSink):
    """Encodes a checkpoint after every turn from ``save_state(shared=True)``, as a run's
    sink does, and notes the state each one must rebuild."""

    def __init__(self, team: RoundRobinGroupChat, chain: CheckpointChain) -> None:
        self.team = team
        self.chain = chain
        self.seq = 0
        self.written: list[EncodedCheckpoint] = []
        self.expected: dict[int, Any] = {}

    async def emit(self, item: Any) -> None:
        self.seq += 1

    async def turn_completed(self, speaker: str) -> None:
        await self.checkpoint()

    async def checkpoint(self, *, shared: bool = True) -> None:
        self.seq += 1  # changes between turns (reset, load) get checkpoints of their own
        state = await self.team.save_state(shared=shared)
        self.expected[self.seq] = json.loads(json.dumps(await self.team.save_state()))
        self.written.append(self.chain.encode(self.seq, state, handed_over=True))


def replying_team() -> RoundRobinGroupChat:
    members = [
        AssistantAgent(
            "ada",
            ScriptedModelClient([f"Ada says {n}." for n in range(40)]),
            system_message="Take turns.",
        ),
        AssistantAgent(
            "bob",
            ScriptedModelClient([f"Bob says {n}." for n in range(40)]),
            model_context=BufferedChatCompletionContext(buffer_size=3),
        ),
    ]
    return RoundRobinGroupChat(members, termination_condition=MaxMessageTermination(7))


@pytest.mark.parametrize(
    ("delta_share", "delta_bytes"),
    [(checkpoints.DELTA_SHARE, 0), (checkpoints.DELTA_SHARE, checkpoints.DELTA_BYTES), (1000.0, 0)],
)
async def test_checkpoints_of_a_team_handing_out_its_own_lists_rebuild_every_state(
    run: Run, delta_share: float, delta_bytes: int
) -> None:
    team = replying_team()
    ada = team.participants[0]
    assert isinstance(ada, AssistantAgent)
    chain = CheckpointChain(delta_share=delta_share, delta_bytes=delta_bytes)
    sink = CheckpointingSink(team, chain)

    await team.run(task="Start.", sink=sink)
    await team.run(task="Go on.", sink=sink)  # continued
    await ada.model_context.clear()  # a context cleared
    await sink.checkpoint()
    saved = json.loads(json.dumps(await team.save_state()))
    edited = services.edit_message_in_state(saved, team.thread[3].id, "Edited.")
    await team.load_state(edited)  # forked with an edited message
    await sink.checkpoint()
    await team.run(sink=sink)
    await team.reset()
    await sink.checkpoint()
    await team.run(task="Again.", sink=sink)
    await sink.checkpoint(shared=False)  # the final one, as a run ends

    kinds = [checkpoint.kind for checkpoint in sink.written]
    assert kinds[0] == CheckpointKind.FULL
    if delta_share > 100 or delta_bytes:  # this short conversation stays within either
        assert set(kinds[1:]) == {CheckpointKind.DELTA}
    else:
        assert kinds.count(CheckpointKind.FULL) > 1

    def check() -> None:
        Checkpoint.objects.bulk_create([item.to_model(run.pk) for item in sink.written])
        for seq, state in sink.expected.items():
            assert state_at(run.pk, seq) == (seq, state)

    await sync_to_async(check)()
    assert sink.expected[max(sink.expected)]["thread"][0][4] == "Again."


class KeepsItsSave:
    """Keeps the dict its ``save_state`` hands out and updates it in place."""

    def save_state(self) -> dict[str, Any]:
        kept: dict[str, Any] = self.__dict__.setdefault("kept", {})
        kept.update(super().save_state())  # type: ignore[misc]
        return kept


class KeptStateClient(KeepsItsSave, ScriptedModelClient):
    """A model client that keeps the dict it saves into."""


class KeptStateCondition(KeepsItsSave, MaxMessageTermination):
    """A termination condition that keeps the dict it saves into."""


class KeptStateContext(UnboundedChatCompletionContext):
    """A model context saved its own way, with a dict it keeps and updates in place."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, Any] = {}

    async def save_state(self) -> dict[str, Any]:
        self.seen["count"] = len(self._messages)
        return {**await super().save_state(), "seen": self.seen}


class KeptStateAgent(ScriptedAgent):
    """An agent (not an AssistantAgent) whose save holds a dict it keeps and updates."""

    def __init__(self, name: str, replies: list[str]) -> None:
        super().__init__(name, replies)
        self.kept: dict[str, Any] = {}

    async def save_state(self) -> dict[str, Any]:
        self.kept["turns"] = self.turns
        return {**await super().save_state(), "kept": self.kept}


async def test_dicts_a_component_keeps_and_changes_in_place_still_reach_every_checkpoint(
    run: Run,
) -> None:
    members = [
        AssistantAgent(name, KeptStateClient([f"{name} says {n}." for n in range(9)]))
        for name in ("ada", "bob")
    ]
    members.append(  # a model context saved its own way
        AssistantAgent(
            "cy",
            KeptStateClient([f"cy says {n}." for n in range(9)]),
            model_context=KeptStateContext(),
        )
    )
    members.append(KeptStateAgent("dee", [f"dee says {n}." for n in range(9)]))
    team = RoundRobinGroupChat(members, termination_condition=KeptStateCondition(8))
    sink = CheckpointingSink(team, CheckpointChain())
    await team.run(task="Start.", sink=sink)

    def check() -> None:
        Checkpoint.objects.bulk_create([item.to_model(run.pk) for item in sink.written])
        for seq, state in sink.expected.items():
            assert state_at(run.pk, seq) == (seq, state)

    await sync_to_async(check)()
    # the kept dicts changed after every turn: the checkpoints saw each change
    states = [sink.expected[seq] for seq in sorted(sink.expected)]
    ada = [state["participants"]["ada"]["state"]["model_client"] for state in states]
    assert [client["position"] for client in ada] == [1, 1, 1, 1, 2, 2, 2]
    cy = [state["participants"]["cy"]["state"] for state in states]
    assert [saved["model_client"]["position"] for saved in cy] == [0, 0, 1, 1, 1, 1, 2]
    assert [saved["llm_context"]["seen"]["count"] for saved in cy] == [0, 0, 4, 4, 4, 4, 8]
    dee = [state["participants"]["dee"]["state"]["kept"]["turns"] for state in states]
    assert dee == [0, 0, 0, 1, 1, 1, 1]
    assert [state["termination"]["count"] for state in states][:3] == [2, 3, 4]
