"""Saving a team's state after every turn: each save reuses what the previous one built."""

from __future__ import annotations

import copy
import json
from typing import Any

from runtime import (
    AssistantAgent,
    EventSink,
    MaxMessageTermination,
    RoundRobinGroupChat,
    replace_message_content,
)
from runtime.testing import ScriptedModelClient
from tests.runtime.scripted_agents import ScriptedAgent


def assistants_team(turns: int = 6) -> RoundRobinGroupChat:
    members = [
        AssistantAgent(
            name,
            ScriptedModelClient([f"{name} says {n}." for n in range(turns)]),
            system_message="Take turns.",
        )
        for name in ("ada", "bob", "cy")
    ]
    return RoundRobinGroupChat(members, termination_condition=MaxMessageTermination(turns + 1))


class SavingSink(EventSink):
    """Saves the team after every completed turn, as the studio does."""

    def __init__(self, team: RoundRobinGroupChat) -> None:
        self.team = team
        self.states: list[dict[str, Any]] = []

    async def turn_completed(self, speaker: str) -> None:
        self.states.append(await self.team.save_state())


def contexts(state: dict[str, Any]) -> dict[str, list[Any]]:
    return {
        name: entry["state"]["llm_context"]["messages"]
        for name, entry in state["participants"].items()
    }


def as_json(state: dict[str, Any]) -> Any:
    return json.loads(json.dumps(state))


async def assert_saved_faithfully(team: RoundRobinGroupChat, state: dict[str, Any]) -> None:
    """A fresh team loaded from ``state`` holds what ``team`` holds and saves ``state``."""
    fresh = RoundRobinGroupChat(
        [
            AssistantAgent(
                m.name, ScriptedModelClient(["spare"] * 20), system_message="Take turns."
            )
            for m in team.participants
        ],
        termination_condition=MaxMessageTermination(100),
    )
    await fresh.load_state(as_json(state))

    assert [m.id for m in fresh.thread] == [m.id for m in team.thread]
    for ours, theirs in zip(team.participants, fresh.participants, strict=True):
        assert isinstance(ours, AssistantAgent) and isinstance(theirs, AssistantAgent)
        assert (await theirs.model_context.get_messages()) == (
            await ours.model_context.get_messages()
        )
    assert as_json(await fresh.save_state()) == as_json(state)


async def test_saving_twice_without_a_turn_between_gives_equal_states_sharing_rows() -> None:
    team = assistants_team()
    await team.run(task="Count with me.")

    first = await team.save_state()
    second = await team.save_state()

    assert second == first
    assert second["thread"] is not first["thread"]
    assert all(new is old for new, old in zip(second["thread"], first["thread"], strict=True))
    for name, entries in contexts(second).items():
        assert entries is not contexts(first)[name]
        assert all(new is old for new, old in zip(entries, contexts(first)[name], strict=True))


async def test_a_save_after_more_turns_reuses_every_row_and_entry_saved_before() -> None:
    team = assistants_team(turns=12)
    sink = SavingSink(team)
    await team.run(task="Count with me.", sink=sink)

    for before, after in zip(sink.states, sink.states[1:], strict=False):
        assert len(after["thread"]) > len(before["thread"])
        assert all(new is old for new, old in zip(after["thread"], before["thread"], strict=False))
        for name, entries in contexts(before).items():
            longer = contexts(after)[name]
            assert len(longer) >= len(entries)
            assert all(new is old for new, old in zip(longer, entries, strict=False))
    await assert_saved_faithfully(team, sink.states[-1])


async def test_changing_the_lists_of_a_saved_state_leaves_the_next_save_whole() -> None:
    team = assistants_team()
    await team.run(task="Count with me.")
    state = await team.save_state()
    expected = copy.deepcopy(state)

    state["thread"].clear()
    state["producers"].append(99)
    state["interjections"].append({"type": "TextMessage"})
    for entries in contexts(state).values():
        entries.reverse()
        entries.append("junk")
    state["participants"].clear()

    assert await team.save_state() == expected


async def test_an_entry_saved_in_full_becomes_a_reference_once_its_message_is_said() -> None:
    # ada's context copies bob's "later" before bob says it, so the first saves keep the
    # entry in full and a later save must turn it into a reference, as a cold save would.
    ada = ScriptedAgent("ada", ["first", "second"])
    ada.context.append({"type": "UserMessage", "content": "later", "source": "bob"})
    bob = ScriptedAgent("bob", ["early", "later"])
    team = RoundRobinGroupChat([ada, bob], termination_condition=MaxMessageTermination(5))
    sink = SavingSink(team)

    await team.run(task="Go.", sink=sink)

    assert contexts(sink.states[0])["ada"][0] == ada.context[0]
    later = next(i for i, row in enumerate(sink.states[-1]["thread"]) if row[4] == "later")
    assert contexts(sink.states[-1])["ada"][0] == later
    fresh = RoundRobinGroupChat(
        [ScriptedAgent("ada"), ScriptedAgent("bob")],
        termination_condition=MaxMessageTermination(100),
    )
    await fresh.load_state(as_json(sink.states[-1]))
    assert as_json(await fresh.save_state()) == as_json(sink.states[-1])


async def test_after_a_reset_the_state_holds_only_the_new_conversation() -> None:
    team = assistants_team(turns=12)
    await team.run(task="Count with me.")
    earlier = {row[1] for row in (await team.save_state())["thread"]}
    await team.reset()

    await team.run(task="Again.")
    state = await team.save_state()

    assert state["thread"][0][4] == "Again."
    assert not earlier & {row[1] for row in state["thread"]}
    await assert_saved_faithfully(team, state)


async def test_after_loading_an_edited_state_the_next_save_carries_the_edit() -> None:
    team = assistants_team()
    sink = SavingSink(team)
    await team.run(task="Count with me.", sink=sink)
    said = team.thread[2]
    edited = replace_message_content(as_json(sink.states[-1]), said.id, "Edited words.")

    await team.load_state(copy.deepcopy(edited))
    state = await team.save_state()

    assert state["thread"][2][4] == "Edited words."
    assert as_json(state) == as_json(edited)
    await assert_saved_faithfully(team, state)


async def test_an_assistant_hands_out_its_history_entries_again_in_a_new_list() -> None:
    agent = AssistantAgent("ada", ScriptedModelClient(["One.", "Two."]), system_message=None)
    await agent.run(task="Count.")
    first = await agent.save_state()
    entries = first["llm_context"]["messages"]
    expected = copy.deepcopy(entries)
    entries.append({"type": "UserMessage", "content": "junk", "source": "x"})

    second = await agent.save_state()
    await agent.run(task="Again.")
    third = await agent.save_state()

    assert second["llm_context"]["messages"] == expected
    kept = second["llm_context"]["messages"]
    grown = third["llm_context"]["messages"]
    assert len(grown) == len(kept) + 2
    assert all(new is old for new, old in zip(grown, kept, strict=False))
