"""AutoGen's method API on every component class: obj.dump_component() and
Class.load_component(config), through the same registry as the free functions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from runtime import (
    AnthropicChatCompletionClient,
    AssistantAgent,
    BaseChatAgent,
    BaseGroupChat,
    BufferedChatCompletionContext,
    ChatCompletionClient,
    ChatCompletionContext,
    Component,
    ComponentError,
    ComponentModel,
    FunctionTool,
    HeadAndTailChatCompletionContext,
    ListMemory,
    MaxMessageTermination,
    Memory,
    MemoryContent,
    OpenAIChatCompletionClient,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
    TerminationCondition,
    TextMentionTermination,
    ToolRegistry,
    UserProxyAgent,
    dump_component,
    load_component,
)
from runtime.testing import ScriptedModelClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "autogen"


def autogen_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def lookup(key: str) -> str:
    """Look a key up."""
    return key


LOOKUP = FunctionTool(lookup)


def team() -> RoundRobinGroupChat:
    return RoundRobinGroupChat(
        [AssistantAgent("writer", ScriptedModelClient(["draft"]), tools=[LOOKUP])],
        termination_condition=MaxMessageTermination(3),
    )


#: name -> (a component, the class to load its document with)
COMPONENTS: dict[str, tuple[Callable[[], Any], type[Any]]] = {
    "team": (team, RoundRobinGroupChat),
    "agent": (lambda: AssistantAgent("writer", ScriptedModelClient(["x"])), AssistantAgent),
    "human": (lambda: UserProxyAgent("human"), UserProxyAgent),
    "condition": (
        lambda: MaxMessageTermination(5) | TextMentionTermination("DONE"),
        TerminationCondition,
    ),
    "openai": (
        lambda: OpenAIChatCompletionClient("gpt-4o-mini", api_key="k", temperature=0.2),
        OpenAIChatCompletionClient,
    ),
    "anthropic": (
        lambda: AnthropicChatCompletionClient("claude-3-5-haiku-latest", api_key="k"),
        AnthropicChatCompletionClient,
    ),
    "scripted": (lambda: ScriptedModelClient(["hello"]), ScriptedModelClient),
    "tool": (lambda: LOOKUP, FunctionTool),
    "context": (lambda: BufferedChatCompletionContext(4), BufferedChatCompletionContext),
    "memory": (lambda: ListMemory(memory_contents=[MemoryContent(content="x")]), ListMemory),
}


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_every_component_dumps_itself_as_the_free_function_does(name: str) -> None:
    component = COMPONENTS[name][0]()

    document = component.dump_component()

    assert isinstance(document, ComponentModel)
    assert document == dump_component(component)


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_every_component_class_loads_its_own_document(name: str) -> None:
    make, cls = COMPONENTS[name]
    document = json.loads(json.dumps(make().dump_component()))

    loaded = cls.load_component(document, tools=ToolRegistry([LOOKUP]), api_key="k")

    assert isinstance(loaded, cls)
    assert loaded.dump_component() == document


@pytest.mark.parametrize(
    ("base", "fixture"),
    [
        (BaseGroupChat, "swarm_team"),
        (BaseChatAgent, "user_proxy_agent"),
        (TerminationCondition, "and_or_termination"),
        (ChatCompletionClient, "replay_client"),
    ],
)
def test_a_base_class_loads_any_document_of_its_family(base: type[Component], fixture: str) -> None:
    assert isinstance(base.load_component(autogen_file(fixture)), base)


def test_a_base_class_refuses_a_document_of_another_family() -> None:
    with pytest.raises(ComponentError) as caught:
        ChatCompletionContext.load_component(autogen_file("static_workbench"))

    assert "expected a ChatCompletionContext document, got a StaticWorkbench" in str(caught.value)


def test_a_document_of_another_kind_is_refused_before_anything_is_built() -> None:
    agents = [AssistantAgent(name, ScriptedModelClient(["x"])) for name in ("a", "b")]
    selector = SelectorGroupChat(agents, ScriptedModelClient(["a"]))

    with pytest.raises(ComponentError) as caught:
        RoundRobinGroupChat.load_component(selector.dump_component())

    message = str(caught.value)
    assert "expected a RoundRobinGroupChat document, got a SelectorGroupChat" in message
    assert "autogen_agentchat.teams.SelectorGroupChat" in message


def test_a_model_client_document_is_refused_by_an_agent_class() -> None:
    with pytest.raises(ComponentError, match="expected a AssistantAgent document, got a"):
        AssistantAgent.load_component(autogen_file("openai_client"), api_key="k")


def test_a_condition_class_refuses_a_sibling_condition() -> None:
    with pytest.raises(ComponentError, match="got a TextMentionTermination"):
        MaxMessageTermination.load_component(TextMentionTermination("x").dump_component())


def test_autogen_style_code_saves_and_loads_a_team_as_json_text() -> None:
    original = team()

    text = original.dump_component().model_dump_json(indent=2)
    loaded = RoundRobinGroupChat.load_component(text, tools=ToolRegistry([LOOKUP]))

    assert isinstance(loaded, RoundRobinGroupChat)
    assert [agent.name for agent in loaded.participants] == ["writer"]
    assert loaded.dump_component().model_dump() == json.loads(text)


def test_a_dumped_document_reads_like_autogens_component_model() -> None:
    document = team().dump_component()

    assert document.provider == "autogen_agentchat.teams.RoundRobinGroupChat"
    assert document.component_type == "team"
    assert document.label == "RoundRobinGroupChat"
    assert document.config["termination_condition"]["config"] == {
        "max_messages": 3,
        "include_agent_event": False,
    }
    copied = document.model_dump()
    copied["config"]["max_turns"] = 9
    assert "max_turns" not in document.config


def test_a_label_and_description_the_file_gives_are_kept_and_written_back() -> None:
    data = autogen_file("round_robin_team")
    data["label"] = "Drafting desk"
    data["description"] = "Where drafts are argued over."
    model = data["config"]["participants"][0]["config"]["model_client"]
    model["label"] = "Cheap drafts"

    loaded = RoundRobinGroupChat.load_component(data)
    dumped = loaded.dump_component()

    assert (loaded.component_label, loaded.component_description) == (
        "Drafting desk",
        "Where drafts are argued over.",
    )
    assert (dumped.label, dumped.description) == ("Drafting desk", "Where drafts are argued over.")
    assert dumped.config["participants"][0]["config"]["model_client"]["label"] == "Cheap drafts"


def test_a_kinds_own_label_is_not_taken_for_a_chosen_one() -> None:
    loaded = load_component(autogen_file("swarm_team"))

    assert isinstance(loaded, Swarm)
    assert loaded.component_label is None
    assert loaded.participants[0].model_client.component_label is None


def test_a_label_set_in_code_is_written() -> None:
    context = HeadAndTailChatCompletionContext(1, 2)
    context.component_label = "First and last"

    assert context.dump_component().label == "First and last"


def test_a_registered_tool_keeps_its_own_label_when_a_file_names_it_otherwise() -> None:
    document = LOOKUP.dump_component()
    document["label"] = "Renamed"

    loaded = FunctionTool.load_component(document, tools=ToolRegistry([LOOKUP]))

    assert loaded is LOOKUP
    assert LOOKUP.component_label is None


def test_memory_is_a_component_too() -> None:
    memory = ListMemory(memory_contents=[MemoryContent(content="The user likes tea.")])

    loaded = Memory.load_component(memory.dump_component())

    assert isinstance(loaded, ListMemory)
    assert [entry.content for entry in loaded.content] == ["The user likes tea."]
