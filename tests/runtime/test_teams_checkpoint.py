"""Editing a message inside a saved team state, as forking a conversation does."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from runtime import (
    AssistantAgent,
    AssistantMessage,
    BaseChatMessage,
    CreateResult,
    HandoffMessage,
    MaxMessageTermination,
    RoundRobinGroupChat,
    StateError,
    TextMessage,
    UserMessage,
    replace_message_content,
)
from runtime.llm import RequestUsage
from runtime.teams.checkpoint import decode_message, encode_message
from runtime.testing import ScriptedModelClient


def duo(writer_says: list[str | CreateResult], critic_says: list[str]) -> RoundRobinGroupChat:
    writer = AssistantAgent("writer", ScriptedModelClient(writer_says), system_message=None)
    critic = AssistantAgent("critic", ScriptedModelClient(critic_says), system_message=None)
    return RoundRobinGroupChat([writer, critic], termination_condition=MaxMessageTermination(5))


async def saved_after_run(
    writer_says: list[str | CreateResult], critic_says: list[str]
) -> tuple[RoundRobinGroupChat, dict[str, Any]]:
    team = duo(writer_says, critic_says)
    await team.run(task="Name a river")
    state: dict[str, Any] = json.loads(json.dumps(await team.save_state()))
    return team, state


async def loaded(
    state: dict[str, Any], writer_says: list[str | CreateResult], critic_says: list[str]
) -> tuple[RoundRobinGroupChat, AssistantAgent, AssistantAgent]:
    team = duo(writer_says, critic_says)
    await team.load_state(json.loads(json.dumps(state)))
    writer, critic = team.participants
    assert isinstance(writer, AssistantAgent) and isinstance(critic, AssistantAgent)
    return team, writer, critic


async def texts(agent: AssistantAgent, kind: type[Any], source: str) -> list[str]:
    return [
        m.content
        for m in (await agent.model_context.get_messages())
        if isinstance(m, kind) and m.source == source and isinstance(m.content, str)
    ]


async def test_an_edited_message_changes_in_the_thread_and_in_every_context_holding_it() -> None:
    script: tuple[list[str | CreateResult], list[str]] = (["The Rhine.", "More."], ["Why?", "Ok."])
    team, state = await saved_after_run(*script)
    first_reply = team.thread[1]

    edited = replace_message_content(state, first_reply.id, "The Danube.")

    assert "The Rhine." not in json.dumps(edited)
    restored, writer, critic = await loaded(edited, *script)
    assert restored.thread[1].content == "The Danube." and restored.thread[1].id == first_reply.id
    assert [m.content for m in restored.thread[2:]] == ["Why?", "More.", "Ok."]
    assert await texts(writer, AssistantMessage, "writer") == ["The Danube.", "More."]
    assert await texts(critic, UserMessage, "writer") == ["The Danube.", "More."]


async def test_the_given_state_is_left_as_it_was() -> None:
    team, state = await saved_after_run(["a", "b"], ["c", "d"])
    before = copy.deepcopy(state)

    replace_message_content(state, team.thread[3].id, "changed")

    assert state == before


@pytest.mark.parametrize("which", [0, 1])
async def test_of_two_equal_messages_only_the_edited_one_changes(which: int) -> None:
    script: tuple[list[str | CreateResult], list[str]] = (["Same.", "Same."], ["Hm.", "Hm."])
    team, state = await saved_after_run(*script)
    said_twice = [m for m in team.thread if m.source == "writer"]

    edited = replace_message_content(state, said_twice[which].id, "Different.")

    restored, writer, critic = await loaded(edited, *script)
    expected = ["Same.", "Same."]
    expected[which] = "Different."
    assert [m.content for m in restored.thread if m.source == "writer"] == expected
    assert await texts(writer, AssistantMessage, "writer") == expected
    assert await texts(critic, UserMessage, "writer") == expected


async def test_a_context_entry_stored_in_full_is_edited_and_keeps_its_other_fields() -> None:
    thinking = CreateResult(content="The Rhine.", thought="rivers of Europe")
    script: tuple[list[str | CreateResult], list[str]] = ([thinking, "More."], ["Why?", "Ok."])
    team, state = await saved_after_run(*script)

    edited = replace_message_content(state, team.thread[1].id, "The Danube.")

    _, writer, _ = await loaded(edited, *script)
    first = (await writer.model_context.get_messages())[1]
    assert isinstance(first, AssistantMessage)
    assert (first.content, first.thought) == ("The Danube.", "rivers of Europe")


async def test_a_message_inside_a_nested_team_is_edited_there_too() -> None:
    def build() -> RoundRobinGroupChat:
        inner = RoundRobinGroupChat(
            [AssistantAgent("drafter", ScriptedModelClient(["Draft.", "Draft 2."]))],
            name="inner",
            max_turns=1,
        )
        reader = AssistantAgent("reader", ScriptedModelClient(["Read.", "Read 2."]))
        return RoundRobinGroupChat([inner, reader], termination_condition=MaxMessageTermination(3))

    team = build()
    await team.run(task="Write")
    state = json.loads(json.dumps(await team.save_state()))
    task = team.thread[0]

    edited = replace_message_content(state, task.id, "Write a poem")

    assert edited["participants"]["inner"]["state"]["thread"][0][4] == "Write a poem"
    assert "Write" not in json.dumps(edited).replace("Write a poem", "")
    restored = build()
    await restored.load_state(edited)
    assert restored.thread[0].content == "Write a poem"


async def test_a_queued_interjection_is_edited() -> None:
    team, _ = await saved_after_run(["a", "b"], ["c", "d"])
    note = TextMessage(content="Be brief.", source="user")
    team.interject(note)
    state = await team.save_state()

    edited = replace_message_content(state, note.id, "Be thorough.")

    assert edited["interjections"][0]["content"] == "Be thorough."


async def test_an_unknown_message_id_is_refused() -> None:
    _, state = await saved_after_run(["a", "b"], ["c", "d"])

    with pytest.raises(StateError, match="no chat message with id 'nope'"):
        replace_message_content(state, "nope", "x")


async def test_a_state_that_is_no_team_state_is_refused() -> None:
    agent_state = await AssistantAgent("a", ScriptedModelClient([])).save_state()

    with pytest.raises(StateError, match="not a saved team state"):
        replace_message_content(agent_state, "any", "x")


@pytest.mark.parametrize(
    "message",
    [
        TextMessage(source="writer", content="Plain"),
        TextMessage(source="writer", content="Counted", models_usage=RequestUsage(12, 3)),
        TextMessage(source="writer", content="Tagged", metadata={"model": "m"}),
        TextMessage(
            source="writer", content="Both", models_usage=RequestUsage(1, 2), metadata={"k": "v"}
        ),
        HandoffMessage(source="writer", content="Over to you", target="critic"),
    ],
)
def test_a_thread_row_holds_what_the_messages_dump_holds(message: BaseChatMessage) -> None:
    row = encode_message(message)
    dump = message.dump()
    assert row[:5] == [dump[key] for key in ("type", "id", "source", "created_at", "content")]
    assert row[5:] == [] or row[-1] is not None  # no trailing empty slots
    assert decode_message(json.loads(json.dumps(row))) == message
