"""Model contexts: what of its history an agent shows the model, and what it keeps."""

from __future__ import annotations

import json

import pytest

from runtime import (
    AssistantAgent,
    AssistantMessage,
    BufferedChatCompletionContext,
    ChatCompletionContext,
    ConfigurationError,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    HeadAndTailChatCompletionContext,
    MaxMessageTermination,
    RoundRobinGroupChat,
    SystemMessage,
    TokenLimitedChatCompletionContext,
    UnboundedChatCompletionContext,
    UserMessage,
    dump_component,
    load_component,
)
from runtime.llm import LLMMessage
from runtime.testing import ScriptedModelClient


def said(n: int) -> list[LLMMessage]:
    return [UserMessage(f"message {i}", "user") for i in range(n)]


CALL = AssistantMessage(content=[FunctionCall("c1", "{}", "look")], source="a")
RESULT = FunctionExecutionResultMessage(
    [FunctionExecutionResult(content="found", name="look", call_id="c1")]
)


async def fill(context: ChatCompletionContext, messages: list[LLMMessage]) -> None:
    for message in messages:
        await context.add_message(message)


async def test_the_unbounded_context_shows_everything_and_clear_drops_the_initial_messages() -> (
    None
):
    context = UnboundedChatCompletionContext(initial_messages=[SystemMessage("hello")])
    await fill(context, said(2))

    assert [m.content for m in await context.get_messages()] == [
        "hello",
        "message 0",
        "message 1",
    ]
    await context.clear()
    assert await context.get_messages() == []


async def test_the_buffered_context_shows_the_last_messages_without_orphan_tool_results() -> None:
    context = BufferedChatCompletionContext(buffer_size=3)
    await fill(context, [*said(3), CALL, RESULT, UserMessage("after", "b")])

    shown = await context.get_messages()

    assert shown == [CALL, RESULT, UserMessage("after", "b")]
    await context.add_message(UserMessage("later", "b"))
    assert await context.get_messages() == [UserMessage("after", "b"), UserMessage("later", "b")]
    assert len((await context.save_state())["messages"]) == 7


async def test_the_head_and_tail_context_notes_how_many_messages_it_skipped() -> None:
    context = HeadAndTailChatCompletionContext(head_size=2, tail_size=2)
    await fill(context, [UserMessage("task", "user"), CALL, RESULT, *said(4)])

    shown = await context.get_messages()

    assert shown == [
        UserMessage("task", "user"),
        UserMessage("Skipped 3 messages.", "System"),
        UserMessage("message 2", "user"),
        UserMessage("message 3", "user"),
    ]


async def test_the_head_and_tail_context_shows_a_short_history_whole() -> None:
    context = HeadAndTailChatCompletionContext(head_size=2, tail_size=2)
    await fill(context, said(4))

    assert await context.get_messages() == said(4)


async def test_the_token_limited_context_drops_messages_from_the_middle() -> None:
    client = ScriptedModelClient([])
    context = TokenLimitedChatCompletionContext(client, token_limit=12)
    messages = [UserMessage("x" * 16, f"s{i}") for i in range(5)]  # 5 tokens each
    await fill(context, messages)

    shown = await context.get_messages()

    assert shown == [messages[0], messages[4]]
    assert client.count_tokens(shown) <= 12


def test_contexts_refuse_sizes_that_cannot_work() -> None:
    with pytest.raises(ConfigurationError, match="buffer_size"):
        BufferedChatCompletionContext(0)
    with pytest.raises(ConfigurationError, match="tail_size"):
        HeadAndTailChatCompletionContext(1, -1)
    with pytest.raises(ConfigurationError, match="needs a token_limit"):
        TokenLimitedChatCompletionContext(ScriptedModelClient([]))
    with pytest.raises(ConfigurationError, match="must be a ChatCompletionContext"):
        AssistantAgent("a", ScriptedModelClient([]), model_context=[])  # type: ignore[arg-type]


async def test_an_agent_with_a_buffered_context_shows_the_model_only_the_latest_messages() -> None:
    client = ScriptedModelClient(["one", "two", "three"])
    agent = AssistantAgent("a", client, model_context=BufferedChatCompletionContext(buffer_size=2))

    for task in ("first", "second", "third"):
        await agent.run(task=task)

    # system message + the last two of: first, one, second, two, third
    assert [call.messages for call in client.calls] == [2, 3, 3]
    state = await agent.save_state()
    assert len(state["llm_context"]["messages"]) == 6
    assert agent.model_context is not None


async def test_a_context_s_whole_history_survives_agent_state_and_the_view_still_applies() -> None:
    agent = AssistantAgent(
        "a", ScriptedModelClient(["one", "two"]), model_context=BufferedChatCompletionContext(1)
    )
    await agent.run(task="first")
    await agent.run(task="second")
    state = json.loads(json.dumps(await agent.save_state()))

    copy = AssistantAgent(
        "a", ScriptedModelClient(["one", "two"]), model_context=BufferedChatCompletionContext(1)
    )
    await copy.load_state(state)

    assert [m.content for m in await copy.model_context.get_messages()] == ["two"]
    assert len((await copy.model_context.save_state())["messages"]) == 4


class OnlyUserMessages(ChatCompletionContext):
    """A custom context written the AutoGen way, keeping only what users said."""

    async def add_message(self, message: LLMMessage) -> None:
        if isinstance(message, UserMessage):
            await super().add_message(message)

    async def get_messages(self) -> list[LLMMessage]:
        return list(self._messages)


async def test_an_agent_uses_a_custom_context_s_own_add_message() -> None:
    client = ScriptedModelClient(["one", "two"])
    agent = AssistantAgent("a", client, system_message=None, model_context=OnlyUserMessages())

    await agent.run(task="first")
    await agent.run(task="second")

    assert [m.content for m in await agent.model_context.get_messages()] == ["first", "second"]
    assert [call.messages for call in client.calls] == [1, 2]


async def test_a_team_of_agents_with_buffered_contexts_round_trips_its_state() -> None:
    def team() -> RoundRobinGroupChat:
        agents = [
            AssistantAgent(
                f"agent_{i}",
                ScriptedModelClient([f"reply {n}" for n in range(10)]),
                model_context=BufferedChatCompletionContext(3),
            )
            for i in range(2)
        ]
        return RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(7))

    first = team()
    await first.run(task="go")
    state = json.loads(json.dumps(await first.save_state()))
    second = team()
    await second.load_state(state)

    for ours, theirs in zip(first.participants, second.participants, strict=True):
        assert isinstance(ours, AssistantAgent) and isinstance(theirs, AssistantAgent)
        assert await ours.model_context.save_state() == await theirs.model_context.save_state()
        assert len(await theirs.model_context.get_messages()) == 3


@pytest.mark.parametrize(
    "context",
    [
        UnboundedChatCompletionContext(initial_messages=[SystemMessage("Be brief.")]),
        BufferedChatCompletionContext(5),
        HeadAndTailChatCompletionContext(2, 3),
        TokenLimitedChatCompletionContext(
            ScriptedModelClient([]),
            token_limit=100,
            tool_schema=[{"name": "look", "description": "Look.", "parameters": {}}],
        ),
    ],
    ids=lambda c: type(c).__name__,
)
def test_every_context_is_written_and_read_as_an_autogen_component(
    context: ChatCompletionContext,
) -> None:
    document = dump_component(context)

    loaded = load_component(json.loads(json.dumps(document)), expected="context")

    assert document["provider"] == f"autogen_core.model_context.{type(context).__name__}"
    assert document["component_type"] == "chat_completion_context"
    assert type(loaded) is type(context)
    assert dump_component(loaded) == document
