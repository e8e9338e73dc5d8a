"""Saving a team's state after every turn: each save reuses what the previous one built."""

from __future__ import annotations

import copy
import json
from typing import Any

from runtime import (
    AssistantAgent,
    BufferedChatCompletionContext,
    CancellationToken,
    EventSink,
    MaxMessageTermination,
    RoundRobinGroupChat,
    replace_message_content,
)
from runtime.teams.base import Seat
from runtime.testing import ScriptedModelClient
from tests.runtime.scripted_agents import ScriptedAgent


def assistants_team(turns: int = 6, *, replies: int | None = None) -> RoundRobinGroupChat:
    members = [
        AssistantAgent(
            name,
            ScriptedModelClient([f"{name} says {n}." for n in range(replies or turns)]),
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


# -- save_state(shared=True): the team's own lists, which only grow ---------------------


def long_lists(state: dict[str, Any]) -> dict[str, list[Any]]:
    """The lists a shared save hands out without copying, by where they are."""
    lists = {"thread": state["thread"], "producers": state["producers"]}
    lists.update(contexts(state))
    return lists


class SharedSavingSink(EventSink):
    """Saves after every turn with ``shared``, noting each list's length and content."""

    def __init__(self, team: RoundRobinGroupChat) -> None:
        self.team = team
        self.saves: list[tuple[dict[str, list[Any]], dict[str, Any]]] = []

    async def turn_completed(self, speaker: str) -> None:
        state = await self.team.save_state(shared=True)
        assert as_json(state) == as_json(await self.team.save_state())
        lists = long_lists(state)
        self.saves.append((lists, as_json(lists)))


def assert_unchanged(saves: list[tuple[dict[str, list[Any]], dict[str, Any]]]) -> None:
    """Every list handed out still starts with what it held when it was handed out."""
    for lists, held in saves:
        for where, items in lists.items():
            assert as_json(items[: len(held[where])]) == held[where], where


async def test_a_shared_save_hands_out_the_same_lists_again_longer() -> None:
    team = assistants_team(turns=12)
    sink = SharedSavingSink(team)
    await team.run(task="Count with me.", sink=sink)

    (first, _), (last, _) = sink.saves[0], sink.saves[-1]
    for where, items in first.items():
        assert last[where] is items, where
    assert len(last["thread"]) > len(sink.saves[0][1]["thread"])
    assert_unchanged(sink.saves)


async def test_a_plain_save_after_a_shared_one_still_gives_new_lists() -> None:
    team = assistants_team()
    await team.run(task="Count with me.")
    shared = await team.save_state(shared=True)
    plain = await team.save_state()

    assert plain == shared
    for where, items in long_lists(plain).items():
        assert items is not long_lists(shared)[where], where


async def test_a_history_that_changes_otherwise_gets_new_lists_and_the_old_ones_stay() -> None:
    team = assistants_team(turns=9, replies=30)
    sink = SharedSavingSink(team)
    await team.run(task="Count with me.", sink=sink)
    before = long_lists(await team.save_state(shared=True))

    # a message edited (a fork), loaded into the running team's place
    edited = replace_message_content(as_json(await team.save_state()), team.thread[2].id, "New.")
    await team.load_state(copy.deepcopy(edited))
    loaded = await team.save_state(shared=True)
    assert as_json(loaded) == as_json(edited)
    for where, items in long_lists(loaded).items():
        assert items is not before[where], where
    await team.run(sink=sink)
    assert long_lists(await team.save_state(shared=True))["thread"] is loaded["thread"]

    # and reset
    await team.reset()
    await team.run(task="Again.", sink=sink)
    after_reset = long_lists(await team.save_state(shared=True))
    assert after_reset["thread"] is not loaded["thread"]
    assert after_reset["thread"][0][4] == "Again."
    assert_unchanged(sink.saves)


async def test_an_entry_that_becomes_a_reference_gives_a_new_packed_list() -> None:
    ada = ScriptedAgent("ada", ["first", "second"])
    ada.context.append({"type": "UserMessage", "content": "later", "source": "bob"})
    bob = ScriptedAgent("bob", ["early", "later"])
    team = RoundRobinGroupChat([ada, bob], termination_condition=MaxMessageTermination(5))
    sink = SharedSavingSink(team)

    await team.run(task="Go.", sink=sink)

    first, last = sink.saves[0][0]["ada"], sink.saves[-1][0]["ada"]
    assert first is not last
    assert isinstance(last[0], int) and isinstance(first[0], dict)
    assert_unchanged(sink.saves)


async def test_an_assistant_shares_its_history_list_until_the_history_is_replaced() -> None:
    agent = AssistantAgent(
        "ada", ScriptedModelClient(["One.", "Two.", "Three."]), system_message=None
    )
    await agent.run(task="Count.")
    first = (await agent.save_state(shared=True))["llm_context"]["messages"]
    held = copy.deepcopy(first)
    await agent.run(task="Again.")
    grown = (await agent.save_state(shared=True))["llm_context"]["messages"]
    assert grown is first and len(grown) == len(held) + 2

    await agent.model_context.clear()  # the context itself, not through the agent
    cleared = (await agent.save_state(shared=True))["llm_context"]["messages"]
    assert cleared == [] and cleared is not first

    await agent.load_state({"llm_context": {"messages": held}})
    loaded = (await agent.save_state(shared=True))["llm_context"]["messages"]
    assert loaded == held and loaded is not cleared

    await agent.on_reset(CancellationToken())
    assert (await agent.save_state(shared=True))["llm_context"]["messages"] == []
    assert first[: len(held)] == held and loaded == held


def assert_held(value: Any, held: Any) -> None:
    """``value`` still holds what it held as ``held`` (JSON), its lists maybe grown."""
    if isinstance(value, dict):
        assert value.keys() == held.keys()
        for key, item in value.items():
            assert_held(item, held[key])
    elif isinstance(value, list):
        assert as_json(value[: len(held)]) == held
    else:
        assert value == held


async def test_an_unchanged_assistant_hands_out_its_shared_save_again() -> None:
    agent = AssistantAgent("ada", ScriptedModelClient(["One.", "Two."]), system_message=None)
    await agent.run(task="Count.")
    first = await agent.save_state(shared=True)
    held = as_json(first)

    assert await agent.save_state(shared=True) is first
    assert await agent.save_state() is not first  # a plain save is always new
    await agent.run(task="Again.")
    spoke = await agent.save_state(shared=True)
    assert spoke is not first
    assert_held(first, held)  # the earlier save was never changed, its list only grew
    await agent.on_reset(CancellationToken())
    assert await agent.save_state(shared=True) is not spoke


class EntrySavingSink(EventSink):
    """Saves shared after every turn, noting who spoke, each entry, and its content."""

    def __init__(self, team: RoundRobinGroupChat) -> None:
        self.team = team
        self.saves: list[tuple[str, dict[str, Any], dict[str, Any]]] = []

    async def turn_completed(self, speaker: str) -> None:
        entries = dict((await self.team.save_state(shared=True))["participants"])
        self.saves.append((speaker, entries, as_json(entries)))


async def test_a_shared_save_gives_a_participant_that_did_not_change_the_same_entry() -> None:
    team = assistants_team(turns=7)
    sink = EntrySavingSink(team)
    await team.run(task="Count with me.", sink=sink)

    for (_, before, _), (speaker, after, _) in zip(sink.saves, sink.saves[1:], strict=False):
        for name, entry in after.items():
            assert (entry is before[name]) == (name != speaker), (speaker, name)
    for _, entries, held in sink.saves:  # and no entry changed once handed out
        assert_held(entries, held)


def test_a_seat_whose_read_mark_moved_gets_a_new_entry_for_the_same_state() -> None:
    seat = Seat(0, AssistantAgent("ada", ScriptedModelClient(["Hi."])))
    state: dict[str, Any] = {"type": "AssistantAgentState"}
    first = seat.entry(state, shared=True)

    assert seat.entry(state, shared=True) is first
    assert seat.entry(state, shared=False) is not first  # a plain save is always new
    seat.read = 3
    moved = seat.entry(state, shared=True)
    assert moved is not first and moved == {"read": 3, "state": state}
    assert first == {"read": 0, "state": state}
    assert seat.entry(dict(state), shared=True) is not moved  # another state object


async def test_an_assistant_whose_model_client_moved_gets_a_new_entry() -> None:
    shared = ScriptedModelClient([f"Reply {n}." for n in range(6)])
    members = [AssistantAgent(name, shared, system_message=None) for name in ("ada", "bob")]
    team = RoundRobinGroupChat(members, termination_condition=MaxMessageTermination(5))
    sink = EntrySavingSink(team)
    await team.run(task="Go.", sink=sink)

    # one client for both: whoever speaks moves the other's saved client state too
    for (_, before, _), (_, after, _) in zip(sink.saves, sink.saves[1:], strict=False):
        for name, entry in after.items():
            assert entry is not before[name], name
    assert sink.saves[-1][1]["ada"]["state"]["model_client"] == shared.save_state()


def buffered_team() -> RoundRobinGroupChat:
    members = [
        AssistantAgent(
            name,
            ScriptedModelClient([f"{name} says {n}." for n in range(10)]),
            system_message="Take turns.",
            model_context=BufferedChatCompletionContext(buffer_size=2),
        )
        for name in ("ada", "bob")
    ]
    return RoundRobinGroupChat(members, termination_condition=MaxMessageTermination(13))


async def test_a_buffered_context_saves_its_whole_history_shared_or_not() -> None:
    team = buffered_team()
    sink = SharedSavingSink(team)

    await team.run(task="Count with me.", sink=sink)

    state = await team.save_state(shared=True)
    # the whole history (all but bob's last message), not the 2 messages the model sees
    assert len(contexts(state)["ada"]) == 12
    assert_unchanged(sink.saves)
    fresh = buffered_team()
    await fresh.load_state(as_json(state))
    assert as_json(await fresh.save_state()) == as_json(state)


async def test_a_nested_team_hands_out_its_own_lists_too() -> None:
    inner = RoundRobinGroupChat(
        [
            AssistantAgent("x", ScriptedModelClient([f"x says {n}." for n in range(6)])),
            AssistantAgent("y", ScriptedModelClient([f"y says {n}." for n in range(6)])),
        ],
        max_turns=2,
        name="inner",
    )
    ada = AssistantAgent("ada", ScriptedModelClient([f"ada says {n}." for n in range(6)]))
    team = RoundRobinGroupChat([ada, inner], termination_condition=MaxMessageTermination(9))
    saves: list[tuple[list[Any], Any]] = []

    class NestedSink(EventSink):
        async def turn_completed(self, speaker: str) -> None:
            state = await team.save_state(shared=True)
            assert as_json(state) == as_json(await team.save_state())
            thread = state["participants"]["inner"]["state"]["thread"]
            saves.append((thread, as_json(thread)))

    await team.run(task="Go.", sink=NestedSink())

    threads = [thread for thread, _ in saves]
    assert len(threads) > 2 and all(thread is threads[0] for thread in threads)
    assert len(threads[-1]) > len(saves[0][1])
    assert all(as_json(thread[: len(held)]) == held for thread, held in saves)


def test_whether_an_agent_saves_shared_is_read_off_its_save_state() -> None:
    from runtime.teams.checkpoint import takes_shared

    first, second = (seat.member for seat in assistants_team()._seats[:2])
    assert takes_shared(first.save_state) and takes_shared(second.save_state)
    assert not takes_shared(ScriptedAgent("plain", ["hi"]).save_state)

    async def keyword_too(*, shared: bool = False) -> dict[str, Any]:
        return {}

    async def positional(shared: bool = False) -> dict[str, Any]:
        return {}

    assert takes_shared(keyword_too)
    assert not takes_shared(positional)  # only a keyword-only ``shared`` is passed
