"""Replaying persisted events: the rows read as plain values make the same envelopes the
events themselves make, as data or as the frames a socket sends, awkward text and
discarded events included."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from studio.runs.models import Run, RunEvent
from studio.runs.streaming import persisted_after, persisted_frames
from tests.studio.runs.conftest import chatty_team

pytestmark = pytest.mark.django_db

AWKWARD = "nul\x00 escape\ue000 escaped-looking\ue0000 \\u0000 surrogate\ud800 end"


def run_with_events(owner: User) -> Run:
    team = chatty_team(owner)
    run = Run.objects.create(
        team=team, team_version=team.versions.get(), task="Go", started_by=owner
    )
    datas = [
        {"status": "running"},
        {"id": "m1", "kind": "TextMessage", "content": AWKWARD, "metadata": {"k\x00": "\ue000"}},
        {"id": "m2", "kind": "TextMessage", "content": "plain", "models_usage": None},
        {"checkpoint_seq": 1, "discarded_from": 2, "discarded_to": 2, "reason": "resumed"},
        {"nested": [{"deep": ["\x00", 1, 2.5, True, None]}], "unicode": "é中🙂"},
    ]
    types = ["run.status", "message", "message", "run.resumed", "message"]
    RunEvent.objects.bulk_create(
        RunEvent(
            run=run,
            seq=seq,
            type=event_type,
            source="writer" if event_type == "message" else "",
            data=data,
            discarded=seq == 2,
        )
        for seq, (event_type, data) in enumerate(zip(types, datas, strict=True), start=1)
    )
    return run


def test_replayed_envelopes_are_those_of_the_stored_events(owner: User) -> None:
    run = run_with_events(owner)
    expected = [event.envelope() for event in RunEvent.objects.filter(run=run).order_by("seq")]
    replayed = persisted_after(run.pk, 0)
    assert replayed == expected
    assert replayed[1]["discarded"] is True and "discarded" not in replayed[2]
    assert replayed[1]["data"]["content"] == AWKWARD
    assert replayed[1]["data"]["metadata"] == {"k\x00": "\ue000"}


def test_replayed_frames_carry_the_stored_events(owner: User) -> None:
    run = run_with_events(owner)
    expected = [event.envelope() for event in RunEvent.objects.filter(run=run).order_by("seq")]
    frames = persisted_frames(run.pk, 0)
    assert [frame.envelope() for frame in frames] == expected
    assert [frame.position for frame in frames] == [(seq, 0) for seq in range(1, 6)]
    assert [frame.seq for frame in persisted_frames(run.pk, 2, limit=2)] == [3, 4]
    # A frame is JSON text as sent: no NUL character, whatever the data held.
    assert all("\x00" not in frame.text for frame in frames)


def test_a_replay_starts_after_the_given_seq_and_stops_at_the_limit(owner: User) -> None:
    run = run_with_events(owner)
    assert [envelope["seq"] for envelope in persisted_after(run.pk, 2, limit=2)] == [3, 4]
    assert persisted_after(run.pk, 5) == []
    other = run_with_events(owner)
    assert {envelope["run"] for envelope in persisted_after(other.pk, 0)} == {other.pk}
