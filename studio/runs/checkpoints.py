"""Writing a run's checkpoints as full snapshots or deltas, and reading them back.

A checkpoint after every turn would write the whole, growing team state each time:
O(n²) bytes over a run. :class:`CheckpointChain` writes a full snapshot first and then
deltas against the previous checkpoint (:mod:`studio.runs.deltas`), and starts over with
a full snapshot once the deltas since the last one add up to more than ``DELTA_SHARE``
of its size, or ``DELTA_BYTES`` while the snapshot is small; the bytes written stay about
linear in the run's length, and rebuilding a state reads one snapshot and a bounded run
of deltas.

The run's sink hands over the team's own lists (``save_state(shared=True)``), which only
grow: a delta then costs what the turn changed, not the conversation's length, and a full
snapshot reuses the JSON text of the list items the previous one wrote.

Every executor starts its own chain, so the first checkpoint after a launch (a new run,
a resume, a continue, a relaunch after parking) is full; a fork's first checkpoint is
written full by the service that forks. :func:`state_at` and :func:`load_state` are the
one way to read a checkpoint's state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from studio.runs.deltas import DeltaError, Operation, advance, apply_delta, dumps, freeze
from studio.runs.models import Checkpoint, CheckpointKind

#: deltas since the last full snapshot may add up to this share of its size, or to
#: ``DELTA_BYTES`` when that is more: a young conversation's snapshot is small, and half
#: of it allowed a few deltas only, so that a 100-message run wrote 17 snapshots (about
#: 10 us of encoding per turn); with the floor it writes two, and a state is still
#: rebuilt from a few dozen kilobytes at most
DELTA_SHARE = 0.5
DELTA_BYTES = 32 * 1024


class CheckpointError(Exception):
    """A checkpoint's state cannot be rebuilt (a delta's chain is broken)."""


@dataclass(slots=True)
class EncodedCheckpoint:
    """One checkpoint row's content, ready to be written."""

    seq: int
    kind: CheckpointKind
    base_seq: int
    prev_seq: int | None
    state_json: str

    def to_model(self, run_id: int) -> Checkpoint:
        """The unsaved row."""
        return Checkpoint(
            run_id=run_id,
            seq=self.seq,
            kind=self.kind,
            base_seq=self.base_seq,
            prev_seq=self.prev_seq,
            state_json=self.state_json,
        )


class CheckpointChain:
    """Encodes one executor's checkpoints, in seq order, each against the one before."""

    def __init__(self, *, delta_share: float = DELTA_SHARE, delta_bytes: int = DELTA_BYTES) -> None:
        self._delta_share = delta_share
        self._delta_bytes = delta_bytes
        self._previous: Any = None
        #: the state handed over last, whose dicts stay as they were
        self._source: Any = None
        self._previous_seq: int | None = None
        self._base_seq = 0
        self._base_size = 0
        self._delta_size = 0

    def encode(self, seq: int, state: Any, *, handed_over: bool = False) -> EncodedCheckpoint:
        """The checkpoint covering ``seq`` with ``state``: a delta when it is worth it.

        Must be called in the order the checkpoints are written; keeps a copy of the
        containers of ``state`` (not of list items) as the base of the next delta. With
        ``handed_over`` the lists are kept as they are, not copied, with their lengths:
        the caller promises that nobody changes them any more, except by appending (a
        ``save_state()`` result's lists are new; ``save_state(shared=True)`` hands out
        the team's own lists, which only grow). The next state may then hold the same
        lists, longer, and its delta costs what they gained, not their length. Its dicts
        the caller promises never to change at all: a dict of the next state that is the
        same object as in this one is unchanged, with what it holds, and is not walked
        (a shared save gives an unchanged participant's entry again).
        """
        lists = not handed_over
        if self._previous_seq is None:
            encoded, self._previous = None, freeze(state, lists=lists)
        else:
            operations, self._previous = advance(
                self._previous, state, lists=lists, source=self._source
            )
            encoded = self._encode_delta(seq, operations)
        self._source = state if handed_over else None
        if encoded is None:
            text = dumps(self._previous)
            encoded = EncodedCheckpoint(seq, CheckpointKind.FULL, seq, None, text)
            self._base_seq, self._base_size, self._delta_size = seq, len(text), 0
        self._previous_seq = seq
        return encoded

    def _encode_delta(self, seq: int, operations: list[Operation]) -> EncodedCheckpoint | None:
        text = dumps(operations)
        allowed = max(self._base_size * self._delta_share, self._delta_bytes)
        if self._delta_size + len(text) > allowed:
            return None
        self._delta_size += len(text)
        return EncodedCheckpoint(
            seq, CheckpointKind.DELTA, self._base_seq, self._previous_seq, text
        )


def state_at(run_id: int, seq: int | None = None) -> tuple[int, Any] | None:
    """The latest checkpoint of a run at or before ``seq`` (any, when None) as (seq, state).

    None when there is no such checkpoint.
    """
    rows = Checkpoint.objects.filter(run_id=run_id)
    if seq is not None:
        rows = rows.filter(seq__lte=seq)
    checkpoint = rows.order_by("-seq").first()
    if checkpoint is None:
        return None
    return checkpoint.seq, load_state(checkpoint)


def load_state(checkpoint: Checkpoint) -> Any:
    """The full team state a checkpoint stands for: its snapshot, plus deltas for a delta."""
    if checkpoint.kind != CheckpointKind.DELTA:
        return json.loads(checkpoint.state_json)
    chain = _chain_to(checkpoint)
    state = json.loads(chain[0].state_json)
    for link in chain[1:]:
        try:
            state = apply_delta(state, json.loads(link.state_json))
        except DeltaError as exc:
            raise CheckpointError(f"{link} cannot be applied: {exc}") from exc
    return state


def _chain_to(checkpoint: Checkpoint) -> list[Checkpoint]:
    """The full checkpoint a delta builds on, then every delta up to and including it."""
    base_seq = checkpoint.base_seq
    if base_seq is None:
        raise CheckpointError(f"{checkpoint} is a delta without a base")
    rows = Checkpoint.objects.filter(
        run_id=checkpoint.run_id, seq__gte=base_seq, seq__lt=checkpoint.seq
    )
    by_seq = {row.seq: row for row in rows}
    chain = [checkpoint]
    while chain[-1].kind == CheckpointKind.DELTA:
        link = chain[-1]
        previous = by_seq.get(link.prev_seq) if link.prev_seq is not None else None
        if previous is None or previous.seq >= link.seq:
            raise CheckpointError(f"{checkpoint} misses the checkpoint its chain needs")
        chain.append(previous)
    if chain[-1].seq != base_seq:
        raise CheckpointError(f"{checkpoint} does not lead back to its full checkpoint")
    chain.reverse()
    return chain
