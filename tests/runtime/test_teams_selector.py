"""SelectorGroupChat: model selection with feedback, selector and candidate functions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from runtime import (
    AssistantAgent,
    BaseChatMessage,
    BufferedChatCompletionContext,
    CancellationToken,
    ConfigurationError,
    CreateResult,
    MaxMessageTermination,
    ModelClientStreamingChunkEvent,
    ModelInfo,
    RoundRobinGroupChat,
    SelectorEvent,
    SelectorGroupChat,
    SelectSpeakerEvent,
    SystemMessage,
    TaskResult,
    UserMessage,
    dump_component,
    load_component,
    load_message,
)
from runtime.llm import LLMMessage
from runtime.model_clients.base import ToolChoice
from runtime.testing import ScriptedModelClient
from tests.runtime.scripted_agents import ScriptedAgent


class PromptRecordingClient(ScriptedModelClient):
    """A scripted model that also keeps every prompt it was sent."""

    def __init__(self, replies: Sequence[str], *, model_info: ModelInfo | None = None) -> None:
        super().__init__(replies, model_info=model_info)
        self.prompts: list[list[LLMMessage]] = []

    async def create(
        self,
        messages: Sequence[LLMMessage],
        *,
        tools: Sequence[Any] = (),
        tool_choice: ToolChoice = "auto",
        json_output: bool | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        self.prompts.append(list(messages))
        return await super().create(messages, cancellation_token=cancellation_token)


def speakers(result: TaskResult) -> list[str]:
    return [m.source for m in result.messages if isinstance(m, BaseChatMessage)]


def crew() -> list[ScriptedAgent]:
    return [
        ScriptedAgent("planner", description="Breaks the task into steps."),
        ScriptedAgent("code_writer", description="Writes   the\ncode."),
        ScriptedAgent("reviewer", description="Reviews the code."),
    ]


async def test_the_model_picks_each_speaker_by_name() -> None:
    client = PromptRecordingClient(["planner", "I pick code_writer.", "reviewer please"])
    team = SelectorGroupChat(crew(), client, max_turns=3)
    result = await team.run(task="build it")
    assert speakers(result) == ["user", "planner", "code_writer", "reviewer"]
    assert result.stop_reason == "Maximum number of turns 3 reached."
    prompt = client.prompts[1][0]
    assert isinstance(prompt, UserMessage)
    assert "code_writer: Writes the code." in prompt.content
    assert "user: build it\n\nplanner: planner 1" in prompt.content
    assert "['code_writer', 'reviewer']" in prompt.content


async def test_openai_family_models_get_the_prompt_as_a_system_message() -> None:
    client = PromptRecordingClient(["planner"], model_info=ModelInfo(family="gpt-4o"))
    team = SelectorGroupChat(crew(), client, max_turns=1)
    await team.run(task="go")
    assert isinstance(client.prompts[0][0], SystemMessage)


async def test_a_name_written_with_spaces_counts_as_a_mention() -> None:
    client = ScriptedModelClient(["the code writer should go"])
    team = SelectorGroupChat(crew(), client, max_turns=1)
    assert speakers(await team.run(task="go"))[-1] == "code_writer"


async def test_unusable_answers_get_feedback_and_the_model_tries_again() -> None:
    client = PromptRecordingClient(["nobody", "planner or reviewer", "reviewer"])
    team = SelectorGroupChat(crew(), client, max_turns=1)
    result = await team.run(task="go")
    assert speakers(result) == ["user", "reviewer"]
    third = client.prompts[2]
    assert len(third) == 5
    assert third[1].content == "nobody"
    assert third[2].content == (
        "No valid name was given. Please choose one of: planner, code_writer, reviewer."
    )
    assert third[4].content == (
        "Name exactly one participant. Please choose only one of: planner, code_writer, reviewer."
    )


async def test_the_previous_speaker_is_not_a_valid_pick_unless_repeats_are_allowed() -> None:
    client = PromptRecordingClient(["planner", "planner", "planner again"])
    team = SelectorGroupChat(crew(), client, max_turns=2, max_selector_attempts=2)
    result = await team.run(task="go")
    assert speakers(result) == ["user", "planner", "code_writer"]
    assert client.prompts[2][2].content == (
        "planner just spoke and may not speak twice in a row. "
        "Please choose one of: code_writer, reviewer."
    )
    assert team.previous_speaker == "code_writer"


async def test_repeats_are_fine_when_allowed() -> None:
    client = ScriptedModelClient(["planner", "planner"])
    team = SelectorGroupChat(crew(), client, max_turns=2, allow_repeated_speaker=True)
    assert speakers(await team.run(task="go")) == ["user", "planner", "planner"]


async def test_with_two_participants_the_other_one_speaks_without_a_model_call() -> None:
    client = ScriptedModelClient(["a"])
    team = SelectorGroupChat([ScriptedAgent("a"), ScriptedAgent("b")], client, max_turns=3)
    assert speakers(await team.run(task="go")) == ["user", "a", "b", "a"]
    assert client.remaining == 0 and len(client.calls) == 1


async def test_selector_func_decides_first_and_updates_the_previous_speaker() -> None:
    def pick(thread: Sequence[BaseChatMessage]) -> str | None:
        return "planner" if len(thread) == 1 else None

    client = ScriptedModelClient(["planner", "reviewer"])
    team = SelectorGroupChat(crew(), client, max_turns=2, selector_func=pick)
    result = await team.run(task="go")
    assert speakers(result) == ["user", "planner", "reviewer"]
    assert team.selector_func is pick


async def test_async_selector_and_candidate_functions_are_awaited() -> None:
    async def pick(thread: Sequence[BaseChatMessage]) -> str | None:
        return None

    async def only_reviewer(thread: Sequence[BaseChatMessage]) -> list[str]:
        return ["reviewer"]

    client = ScriptedModelClient([])
    team = SelectorGroupChat(
        crew(), client, max_turns=2, selector_func=pick, candidate_func=only_reviewer
    )
    assert speakers(await team.run(task="go")) == ["user", "reviewer", "reviewer"]
    assert team.candidate_func is only_reviewer


async def test_candidate_func_limits_who_the_model_may_choose() -> None:
    client = PromptRecordingClient(["planner", "reviewer"])
    team = SelectorGroupChat(
        crew(), client, max_turns=1, candidate_func=lambda thread: ["code_writer", "reviewer"]
    )
    assert speakers(await team.run(task="go")) == ["user", "reviewer"]
    assert "['code_writer', 'reviewer']" in client.prompts[0][0].content


async def test_after_every_attempt_fails_the_first_candidate_speaks() -> None:
    client = ScriptedModelClient(["hmm", "well"])
    team = SelectorGroupChat(crew(), client, max_turns=1, max_selector_attempts=2)
    assert speakers(await team.run(task="go")) == ["user", "planner"]


@pytest.mark.parametrize(
    "options",
    [
        {"selector_func": lambda thread: "stranger"},
        {"candidate_func": lambda thread: []},
        {"candidate_func": lambda thread: ["planner", "ghost"]},
    ],
)
async def test_functions_that_name_non_participants_are_configuration_errors(
    options: dict[str, Any],
) -> None:
    team = SelectorGroupChat(crew(), ScriptedModelClient([]), max_turns=1, **options)
    with pytest.raises(ConfigurationError):
        await team.run(task="go")


async def test_team_events_show_the_selection_and_streamed_selector_output() -> None:
    client = ScriptedModelClient(["the planner"])
    team = SelectorGroupChat(
        crew(), client, max_turns=1, emit_team_events=True, model_client_streaming=True
    )
    items = [item async for item in team.run_stream(task="go")]
    chunks = [i for i in items if isinstance(i, ModelClientStreamingChunkEvent)]
    assert "".join(c.content for c in chunks) == "the planner"
    selected = [i for i in items if isinstance(i, SelectSpeakerEvent)]
    assert [list(s.content) for s in selected] == [["planner"]]
    answers = [i for i in items if isinstance(i, SelectorEvent)]
    assert [a.content for a in answers] == ["the planner"]
    assert items.index(answers[0]) == items.index(chunks[-1]) + 1
    assert load_message(answers[0].dump()) == answers[0]
    result = items[-1]
    assert isinstance(result, TaskResult)
    assert not any(isinstance(m, ModelClientStreamingChunkEvent) for m in result.messages)


async def test_a_nested_team_can_be_selected() -> None:
    inner = RoundRobinGroupChat([ScriptedAgent("x"), ScriptedAgent("y")], max_turns=2, name="pair")
    client = ScriptedModelClient(["pair"])
    team = SelectorGroupChat([ScriptedAgent("solo"), inner], client, max_turns=2)
    result = await team.run(task="go")
    assert speakers(result) == ["user", "x", "y", "solo"]


async def test_previous_speaker_survives_saved_state_and_reset_clears_it() -> None:
    team = SelectorGroupChat(crew(), ScriptedModelClient(["reviewer"]), max_turns=1)
    await team.run(task="go")
    state = json.loads(json.dumps(await team.save_state()))
    restored = SelectorGroupChat(crew(), PromptRecordingClient(["planner"]), max_turns=1)
    await restored.load_state(state)
    assert restored.previous_speaker == "reviewer"
    await restored.reset()
    assert restored.previous_speaker is None


async def test_selector_configuration_is_checked_and_readable() -> None:
    client = ScriptedModelClient([])
    team = SelectorGroupChat(
        crew(),
        client,
        selector_prompt="Pick from {participants}. {roles} {history}",
        allow_repeated_speaker=True,
        max_selector_attempts=5,
        termination_condition=MaxMessageTermination(3),
    )
    assert team.model_client is client
    assert team.selector_prompt.startswith("Pick from")
    assert team.allow_repeated_speaker and team.max_selector_attempts == 5
    assert not team.model_client_streaming
    with pytest.raises(ConfigurationError, match="two participants"):
        SelectorGroupChat([ScriptedAgent("alone")], client)
    with pytest.raises(ConfigurationError, match="max_selector_attempts"):
        SelectorGroupChat(crew(), client, max_selector_attempts=0)


async def test_a_selector_model_context_limits_the_history_in_the_prompt() -> None:
    client = PromptRecordingClient(["reviewer", "planner"])
    team = SelectorGroupChat(
        crew(),
        client,
        max_turns=2,
        model_context=BufferedChatCompletionContext(buffer_size=1),
        selector_prompt="{history}",
    )

    await team.run(task="go")

    first, second = (prompt[0].content for prompt in client.prompts)
    assert first == "user: go"
    assert second.startswith("reviewer: ") and "user: go" not in second
    assert team.model_context is not None


def test_a_selector_model_context_is_written_and_read_in_its_file() -> None:
    agents = [AssistantAgent(n, ScriptedModelClient([])) for n in ("a", "b")]
    team = SelectorGroupChat(
        agents, ScriptedModelClient([]), model_context=BufferedChatCompletionContext(3)
    )

    document = dump_component(team)
    loaded = load_component(document)

    assert document["config"]["model_context"]["config"] == {"buffer_size": 3}
    assert isinstance(loaded.model_context, BufferedChatCompletionContext)
