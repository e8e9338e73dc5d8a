"""Component files: AutoGen-written JSON loads, our dumps round trip, bad files fail clearly."""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from runtime import (
    AndTerminationCondition,
    AnthropicChatCompletionClient,
    AssistantAgent,
    BufferedChatCompletionContext,
    ComponentError,
    ComponentKind,
    ComponentRegistry,
    CostTermination,
    CreateResult,
    DiGraphBuilder,
    ExternalTermination,
    FunctionalTermination,
    FunctionCall,
    FunctionCallTermination,
    FunctionTool,
    GraphFlow,
    Handoff,
    HandoffMessage,
    HandoffTermination,
    ListMemory,
    MaxMessageTermination,
    OpenAIChatCompletionClient,
    OrTerminationCondition,
    RoundRobinGroupChat,
    SelectorGroupChat,
    SocietyOfMindAgent,
    SourceMatchTermination,
    StopMessageTermination,
    Swarm,
    TextMentionTermination,
    TextMessage,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
    ToolRegistry,
    UnsupportedProviderError,
    UserProxyAgent,
    dump_component,
    load_component,
)
from runtime.testing import ScriptedInput, ScriptedModelClient

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "autogen"
TOOL_MODEL = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


def autogen_file(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


async def get_weather(city: str, unit: str = "C") -> str:
    """Tell the weather in a city."""
    return f"Sunny in {city}, 21 {unit}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def calculator(a: float, b: float, operator: str) -> str:
    """Do arithmetic."""
    return str(a + b) if operator == "+" else "unsupported"


@pytest.fixture
def tools() -> ToolRegistry:
    return ToolRegistry([get_weather, add, calculator])


@pytest.fixture(autouse=True)
def provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    # AutoGen masks keys in its dumps, so loaded clients fall back to the environment.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-environment")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-environment")


def scripted(*replies: str | CreateResult) -> ScriptedModelClient:
    return ScriptedModelClient(list(replies), model_info=dict(TOOL_MODEL))  # type: ignore[arg-type]


def call(name: str, arguments: str = "{}", call_id: str = "call_1") -> CreateResult:
    return CreateResult(
        content=[FunctionCall(id=call_id, arguments=arguments, name=name)],
        finish_reason="function_calls",
    )


# --------------------------------------------------------------------------------------
# Files AutoGen wrote
# --------------------------------------------------------------------------------------


def test_an_autogen_openai_client_loads_with_its_settings_and_without_the_masked_key() -> None:
    client = load_component(autogen_file("openai_client"), expected="model")

    assert isinstance(client, OpenAIChatCompletionClient)
    assert client.model == "llama3.2"
    assert client.base_url == "http://127.0.0.1:11434/v1"
    assert client.temperature == 0.2
    assert client.max_tokens == 512
    assert client.timeout == 30.0
    assert client.max_retries == 2
    assert client.model_info["function_calling"] is True
    assert "api_key" not in dump_component(client)["config"]


def test_an_autogen_anthropic_client_loads_with_its_settings() -> None:
    client = load_component(autogen_file("anthropic_client"))

    assert isinstance(client, AnthropicChatCompletionClient)
    assert client.model == "claude-3-5-haiku-20241022"
    assert client.max_tokens == 1024
    assert client.temperature == 0.5


async def test_an_autogen_replay_client_becomes_a_scripted_client_that_replays_the_script() -> None:
    client = load_component(autogen_file("replay_client"))

    assert isinstance(client, ScriptedModelClient)
    assert client.model_info["function_calling"] is True
    first = await client.create([])
    second = await client.create([])
    assert first.content == "hello"
    assert second.content == [FunctionCall(id="call_1", arguments='{"a": 1, "b": 2}', name="add")]


def test_a_replay_client_without_model_info_offers_no_function_calling_as_in_autogen() -> None:
    data = autogen_file("replay_client")
    del data["config"]["model_info"]

    client = load_component(data)

    assert client.model_info["function_calling"] is False


def test_an_autogen_function_tool_resolves_to_the_registered_tool(tools: ToolRegistry) -> None:
    tool = load_component(autogen_file("function_tool"), tools=tools, expected="tool")

    assert tool is tools.get("get_weather")


@pytest.mark.parametrize("name", ["static_workbench", "static_stream_workbench"])
def test_an_autogen_workbench_loads_as_its_registered_tools(name: str, tools: ToolRegistry) -> None:
    loaded = load_component(autogen_file(name), tools=tools, expected="workbench")

    expected = ["get_weather", "add"] if name == "static_workbench" else ["add"]
    assert [tool.name for tool in loaded] == expected
    assert all(tool is tools.get(tool.name) for tool in loaded)


def test_workbench_tool_overrides_rename_and_redescribe_a_tool(tools: ToolRegistry) -> None:
    data = autogen_file("static_workbench")
    data["config"]["tool_overrides"] = {"add": {"name": "plus", "description": "Sum."}}

    loaded = load_component(data, tools=tools)

    assert [(t.name, t.description) for t in loaded][1] == ("plus", "Sum.")
    assert loaded[1].func is add


@pytest.mark.parametrize(
    ("name", "cls", "attributes"),
    [
        ("max_message_termination", MaxMessageTermination, {"max_messages": 5}),
        ("text_mention_termination", TextMentionTermination, {"text": "DONE"}),
        ("stop_message_termination", StopMessageTermination, {}),
        (
            "token_usage_termination",
            TokenUsageTermination,
            {"max_total_token": 1000, "max_prompt_token": 800, "max_completion_token": 300},
        ),
        ("handoff_termination", HandoffTermination, {"target": "user"}),
        ("timeout_termination", TimeoutTermination, {"timeout_seconds": 30.5}),
        ("external_termination", ExternalTermination, {}),
        ("source_match_termination", SourceMatchTermination, {"sources": ("critic", "writer")}),
        ("text_message_termination", TextMessageTermination, {"source": "writer"}),
        ("function_call_termination", FunctionCallTermination, {"function_name": "add"}),
    ],
)
def test_every_autogen_termination_condition_loads_with_its_settings(
    name: str, cls: type, attributes: dict[str, Any]
) -> None:
    condition = load_component(autogen_file(name), expected="termination")

    assert isinstance(condition, cls)
    for attribute, value in attributes.items():
        assert getattr(condition, attribute) == value


def test_every_autogen_termination_condition_dumps_back_to_the_same_document() -> None:
    names = [
        "max_message_termination",
        "text_mention_termination",
        "stop_message_termination",
        "token_usage_termination",
        "handoff_termination",
        "timeout_termination",
        "external_termination",
        "source_match_termination",
        "text_message_termination",
        "function_call_termination",
        "and_or_termination",
    ]
    for name in names:
        original = autogen_file(name)
        dumped = dump_component(load_component(original))
        assert strip_descriptions(dumped) == strip_descriptions(original), name


def strip_descriptions(document: Any) -> Any:
    """A component document without the free-text descriptions AutoGen takes from docstrings."""
    if isinstance(document, dict):
        return {
            key: strip_descriptions(value)
            for key, value in document.items()
            if not (key == "description" and "provider" in document)
        }
    if isinstance(document, list):
        return [strip_descriptions(item) for item in document]
    return document


def test_nested_and_or_conditions_from_autogen_keep_their_tree() -> None:
    condition = load_component(autogen_file("and_or_termination"))

    assert isinstance(condition, OrTerminationCondition)
    inner, stop = condition.conditions
    assert isinstance(inner, AndTerminationCondition)
    assert isinstance(stop, StopMessageTermination)
    assert [type(c) for c in inner.conditions] == [MaxMessageTermination, TextMentionTermination]


def test_an_autogen_assistant_agent_loads_every_setting(tools: ToolRegistry) -> None:
    agent = load_component(autogen_file("assistant_agent"), tools=tools, expected="agent")

    assert isinstance(agent, AssistantAgent)
    assert agent.name == "forecaster"
    assert isinstance(agent.model_client, ScriptedModelClient)
    assert [tool.name for tool in agent.tools] == ["get_weather", "add"]
    assert [(h.target, h.name, h.description) for h in agent.handoffs] == [
        ("critic", "transfer_to_critic", "Ask the critic.")
    ]
    assert agent.reflect_on_tool_use is True
    assert agent.max_tool_iterations == 2
    assert agent.tool_call_summary_format == "{tool_name}: {result}"
    assert agent.model_client_stream is True
    assert agent.metadata == {"team": "weather"}
    assert agent.system_message is not None
    assert agent.system_message.startswith("You are a helpful AI assistant.")


async def test_an_autogen_assistant_agent_runs_its_scripted_tool_call_offline(
    tools: ToolRegistry,
) -> None:
    agent = load_component(autogen_file("assistant_agent"), tools=tools)

    result = await agent.run(task="Weather in Paris?")

    assert result.messages[-1].content == "It is sunny in Paris."
    assert "Sunny in Paris, 21 C" in [r.content for m in result.messages for r in results_of(m)]


def results_of(message: Any) -> list[Any]:
    return list(message.content) if type(message).__name__ == "ToolCallExecutionEvent" else []


def test_an_autogen_user_proxy_gets_the_input_function_the_caller_supplies() -> None:
    answers = ScriptedInput(["yes"])

    agent = load_component(autogen_file("user_proxy_agent"), input_func=answers)

    assert isinstance(agent, UserProxyAgent)
    assert agent.name == "human"
    assert agent.description == "The person at the keyboard."
    assert agent.input_func is answers


async def test_an_autogen_round_robin_team_loads_and_runs_offline() -> None:
    team = load_component(autogen_file("round_robin_team"), expected="team")

    assert isinstance(team, RoundRobinGroupChat)
    assert (team.name, team.max_turns) == ("drafting", 6)
    result = await team.run(task="Write a haiku.")
    assert [m.content for m in result.messages] == [
        "Write a haiku.",
        "A first draft.",
        "Make it better.",
        "A better draft. TERMINATE",
    ]
    assert result.stop_reason is not None and "TERMINATE" in result.stop_reason


async def test_an_autogen_swarm_loads_and_hands_off_offline() -> None:
    team = load_component(autogen_file("swarm_team"))

    assert isinstance(team, Swarm)
    result = await team.run(task="Start.")
    chat = [m for m in result.messages if isinstance(m, HandoffMessage | TextMessage)]
    assert [(m.source, type(m).__name__) for m in chat] == [
        ("user", "TextMessage"),
        ("alice", "HandoffMessage"),
        ("bob", "HandoffMessage"),
        ("alice", "TextMessage"),
    ]


async def test_an_autogen_selector_team_loads_and_lets_its_model_pick_offline() -> None:
    team = load_component(autogen_file("selector_team"))

    assert isinstance(team, SelectorGroupChat)
    assert team.selector_prompt.startswith("Pick who speaks next")
    assert team.allow_repeated_speaker is True
    assert team.max_selector_attempts == 2
    result = await team.run(task="Do it.")
    assert [m.source for m in result.messages if isinstance(m, TextMessage)] == [
        "user",
        "planner",
        "doer",
    ]


async def test_an_autogen_graph_flow_loads_and_follows_its_text_conditions_offline() -> None:
    team = load_component(autogen_file("graph_flow_team"))

    assert isinstance(team, GraphFlow)
    result = await team.run(task="Go.")
    assert [m.source for m in result.messages if isinstance(m, TextMessage)] == [
        "user",
        "first",
        "yes_path",
    ]


async def test_an_autogen_society_of_mind_agent_loads_with_its_inner_team() -> None:
    agent = load_component(autogen_file("society_of_mind_agent"))

    assert isinstance(agent, SocietyOfMindAgent)
    assert isinstance(agent.team, RoundRobinGroupChat)
    assert [p.name for p in agent.team.participants] == ["inner_writer", "inner_editor"]
    assert agent.instruction == "Summarise the discussion."
    assert agent.response_prompt == "Answer now."
    result = await agent.run(task="Draft something.")
    assert result.messages[-1].content == "The summary."


def test_an_autogen_team_with_a_nested_agent_and_a_human_loads() -> None:
    team = load_component(autogen_file("nested_team"), input_func=ScriptedInput([]))

    assert [type(p) for p in team.participants] == [SocietyOfMindAgent, UserProxyAgent]


async def test_an_autogen_studio_0_4_gallery_team_loads_with_registered_tools(
    tools: ToolRegistry,
) -> None:
    team = load_component(autogen_file("gallery_0_4_team"), tools=tools)

    assistant, human = team.participants
    assert isinstance(assistant, AssistantAgent)
    assert [tool.name for tool in assistant.tools] == ["calculator"]
    assert assistant.tools[0] is tools.get("calculator")
    assert assistant.model_client.model == "gpt-4o-mini"
    assert assistant.model_client.model_info["function_calling"] is True
    assert isinstance(human, UserProxyAgent)


# --------------------------------------------------------------------------------------
# Our dumps
# --------------------------------------------------------------------------------------


WEATHER = FunctionTool(get_weather)


def writer_agent() -> AssistantAgent:
    return AssistantAgent(
        "writer",
        scripted("draft"),
        tools=[WEATHER],
        handoffs=[Handoff("critic", description="Ask the critic.")],
        system_message=None,
        reflect_on_tool_use=True,
        max_tool_iterations=3,
        tool_call_summary_format="{tool_name} said {result}",
        model_client_stream=True,
        metadata={"k": "v"},
    )


def critic_agent() -> AssistantAgent:
    return AssistantAgent("critic", scripted("fine"), handoffs=["writer"])


def inner_team() -> RoundRobinGroupChat:
    return RoundRobinGroupChat(
        [AssistantAgent("inner", scripted("x"))], termination_condition=MaxMessageTermination(2)
    )


def graph_flow() -> GraphFlow:
    writer, critic = writer_agent(), critic_agent()
    builder = DiGraphBuilder()
    builder.add_node(writer).add_node(critic)
    builder.add_edge(writer, critic, condition="draft")
    return GraphFlow(
        builder.get_participants(), builder.build(), termination_condition=ExternalTermination()
    )


COMPONENTS: dict[str, Any] = {
    "openai": lambda: OpenAIChatCompletionClient(
        "gpt-4o-mini",
        api_key="sk-secret",
        base_url="http://127.0.0.1:9/v1",
        temperature=0.1,
        max_tokens=100,
        seed=7,
    ),
    "anthropic": lambda: AnthropicChatCompletionClient(
        "claude-3-5-haiku-20241022", api_key="sk-ant-secret", max_tokens=200, top_k=5
    ),
    "scripted": lambda: ScriptedModelClient(
        ["a", call("add", '{"a": 1, "b": 2}')], model="replayed", delay=0.01
    ),
    "tool": lambda: WEATHER,
    "handoff": lambda: Handoff("critic", message="Over to you."),
    "conditions": lambda: (
        MaxMessageTermination(3, include_agent_event=True)
        | TextMentionTermination("STOP", sources=["critic"])
        | StopMessageTermination()
        | (TokenUsageTermination(max_total_token=9) & HandoffTermination("user"))
        | TimeoutTermination(5)
        | ExternalTermination()
        | SourceMatchTermination(["critic"])
        | TextMessageTermination()
        | FunctionCallTermination("add")
        | CostTermination(0.5, {"gpt-4o": (2.5, 10.0)}, default_price=(1.0, 2.0))
    ),
    "assistant": writer_agent,
    "user_proxy": lambda: UserProxyAgent("human", description="Me."),
    "society": lambda: SocietyOfMindAgent(
        "society", inner_team(), scripted("sum"), instruction="Sum up."
    ),
    "society_without_model": lambda: SocietyOfMindAgent("society", inner_team()),
    "round_robin": lambda: RoundRobinGroupChat(
        [writer_agent(), critic_agent(), inner_team()],
        termination_condition=MaxMessageTermination(4),
        max_turns=3,
        name="trio",
        description="Three seats.",
    ),
    "selector": lambda: SelectorGroupChat(
        [writer_agent(), critic_agent()],
        scripted("writer"),
        selector_prompt="Choose from {participants}.",
        allow_repeated_speaker=True,
        max_selector_attempts=4,
    ),
    "swarm": lambda: Swarm(
        [critic_agent(), writer_agent()], termination_condition=HandoffTermination("user")
    ),
    "graph_flow": graph_flow,
}


@pytest.mark.parametrize("name", list(COMPONENTS))
def test_every_component_type_round_trips_through_json(name: str) -> None:
    component = COMPONENTS[name]()

    document = json.loads(json.dumps(dump_component(component)))
    loaded = load_component(document, tools=ToolRegistry([WEATHER]))

    assert type(loaded) is type(component)
    assert dump_component(loaded) == document


def test_dumps_use_autogen_provider_strings_and_version_numbers() -> None:
    team = dump_component(COMPONENTS["round_robin"]())
    agent = team["config"]["participants"][0]
    assert (team["provider"], team["component_type"], team["version"]) == (
        "autogen_agentchat.teams.RoundRobinGroupChat",
        "team",
        1,
    )
    assert (agent["provider"], agent["version"], agent["component_version"]) == (
        "autogen_agentchat.agents.AssistantAgent",
        2,
        2,
    )
    workbench = agent["config"]["workbench"][0]
    assert workbench["provider"] == "autogen_core.tools.StaticStreamWorkbench"
    assert workbench["config"]["tools"][0]["provider"] == "autogen_core.tools.FunctionTool"
    assert "async def get_weather" in workbench["config"]["tools"][0]["config"]["source_code"]
    scripted_client = dump_component(COMPONENTS["scripted"]())
    assert scripted_client["provider"] == "autogen_ext.models.replay.ReplayChatCompletionClient"
    assert scripted_client["component_type"] == "replay_chat_completion_client"
    assert dump_component(COMPONENTS["openai"]())["provider"] == (
        "autogen_ext.models.openai.OpenAIChatCompletionClient"
    )


def test_a_dumped_agent_keeps_a_null_system_message_null() -> None:
    document = dump_component(writer_agent())

    assert "system_message" not in document["config"]
    assert load_component(document, tools=ToolRegistry([WEATHER])).system_message is None


def test_api_keys_are_left_out_of_dumps_by_default() -> None:
    for client in (COMPONENTS["openai"](), COMPONENTS["anthropic"]()):
        assert "api_key" not in dump_component(client)["config"]
        assert "secret" not in json.dumps(dump_component(client))


@pytest.mark.xfail(
    not hasattr(OpenAIChatCompletionClient, "api_key")
    or not hasattr(AnthropicChatCompletionClient, "api_key"),
    reason="the model clients do not expose the api_key they were given",
    strict=True,
)
def test_api_keys_are_dumped_when_asked_for() -> None:
    openai_client, anthropic_client = COMPONENTS["openai"](), COMPONENTS["anthropic"]()

    assert dump_component(openai_client, include_secrets=True)["config"]["api_key"] == "sk-secret"
    with_key = dump_component(anthropic_client, include_secrets=True)
    assert with_key["config"]["api_key"] == "sk-ant-secret"


def test_tool_source_can_be_left_out_of_a_dump() -> None:
    document = dump_component(FunctionTool(add), include_source=False)

    assert document["config"]["source_code"] == ""
    assert document["config"]["name"] == "add"


def test_openai_request_arguments_survive_a_round_trip() -> None:
    client = COMPONENTS["openai"]()

    loaded = load_component(dump_component(client))

    assert loaded.create_args == {"seed": 7}
    assert loaded.base_url == "http://127.0.0.1:9/v1"


def test_an_openai_client_that_sends_no_names_keeps_that_setting() -> None:
    client = OpenAIChatCompletionClient(
        "gpt-4o-mini", base_url="http://127.0.0.1:9/v1", include_name_in_message=False
    )

    document = dump_component(client)
    loaded = load_component(document)

    assert document["config"]["include_name_in_message"] is False
    assert isinstance(loaded, OpenAIChatCompletionClient)
    assert loaded.include_name_in_message is False


def test_text_mention_sources_are_kept_unlike_in_autogen() -> None:
    condition = TextMentionTermination("STOP", sources=["critic"])

    loaded = load_component(dump_component(condition))

    assert loaded.sources == ("critic",)


def test_a_function_condition_cannot_be_dumped() -> None:
    condition = MaxMessageTermination(3) | FunctionalTermination(lambda delta: False)

    with pytest.raises(ComponentError, match="FunctionalTermination"):
        dump_component(condition)


def test_a_selector_with_a_selector_function_cannot_be_dumped_without_losing_it() -> None:
    team = SelectorGroupChat(
        [AssistantAgent("a", scripted()), AssistantAgent("b", scripted())],
        scripted(),
        selector_func=lambda thread: "a",
    )

    with pytest.raises(ComponentError, match="selector_func"):
        dump_component(team)


def test_a_graph_edge_with_a_function_condition_cannot_be_dumped() -> None:
    first, second = AssistantAgent("a", scripted()), AssistantAgent("b", scripted())
    builder = DiGraphBuilder().add_node(first).add_node(second)
    builder.add_edge(first, second, condition=lambda message: True)

    with pytest.raises(ComponentError, match="a -> b"):
        dump_component(GraphFlow(builder.get_participants(), builder.build()))


def test_an_object_that_is_no_component_cannot_be_dumped() -> None:
    with pytest.raises(ComponentError, match="not a known component"):
        dump_component(object())


# --------------------------------------------------------------------------------------
# Bad files
# --------------------------------------------------------------------------------------


def test_an_unknown_provider_is_an_error_naming_the_component_and_its_path() -> None:
    data = autogen_file("round_robin_team")
    data["config"]["participants"][1] = {
        "provider": "my_company.agents.MagicAgent",
        "component_type": "agent",
        "label": "Magic",
        "config": {},
    }

    with pytest.raises(ComponentError) as caught:
        load_component(data)

    assert caught.value.path == "config.participants[1]"
    assert "Magic" in str(caught.value)
    assert "my_company.agents.MagicAgent" in str(caught.value)


def test_a_provider_is_never_imported() -> None:
    assert "this" not in sys.modules  # the stdlib module that prints on import

    with pytest.raises(ComponentError, match="unknown provider"):
        load_component({"provider": "this.Zen", "config": {}})

    assert "this" not in sys.modules


def test_a_tool_with_source_code_that_is_not_registered_is_refused_and_never_run() -> None:
    data = autogen_file("assistant_agent")
    tool = data["config"]["workbench"][0]["config"]["tools"][0]
    tool["config"]["source_code"] = (
        "import builtins\nbuiltins.roundtable_was_hacked = True\n"
        "def get_weather(city: str) -> str:\n    return city\n"
    )

    with pytest.raises(ComponentError) as caught:
        load_component(data, tools=ToolRegistry([add]))

    assert caught.value.path == "config.workbench[0].config.tools[0]"
    assert "get_weather" in str(caught.value)
    assert "source code" in str(caught.value)
    assert not hasattr(builtins, "roundtable_was_hacked")


def test_a_gallery_tool_without_a_registry_names_its_path_in_the_file() -> None:
    with pytest.raises(ComponentError) as caught:
        load_component(autogen_file("gallery_0_4_team"))

    assert caught.value.path == "config.participants[0].config.tools[0]"
    assert "calculator" in str(caught.value)
    assert "FunctionTool" in str(caught.value)


def test_a_tool_without_source_that_is_not_registered_is_an_error() -> None:
    data = {"provider": "autogen_core.tools.FunctionTool", "config": {"name": "search"}}

    with pytest.raises(ComponentError, match="no tool named 'search'"):
        load_component(data, tools=ToolRegistry())


def test_a_field_of_the_wrong_type_names_the_field_path() -> None:
    data = autogen_file("round_robin_team")
    data["config"]["termination_condition"]["config"]["conditions"][1]["config"]["max_messages"] = (
        "ten"
    )

    with pytest.raises(ComponentError) as caught:
        load_component(data)

    assert caught.value.path == (
        "config.termination_condition.config.conditions[1].config.max_messages"
    )
    assert "integer" in str(caught.value)


def test_a_missing_required_field_names_its_path() -> None:
    data = {"provider": "autogen_agentchat.conditions.HandoffTermination", "config": {}}

    with pytest.raises(ComponentError) as caught:
        load_component(data)

    assert caught.value.path == "config.target"


def test_a_value_our_class_rejects_becomes_a_component_error_at_that_component() -> None:
    data = autogen_file("assistant_agent")
    data["config"]["max_tool_iterations"] = 0

    with pytest.raises(ComponentError) as caught:
        load_component(data, tools=ToolRegistry([get_weather, add]))

    assert caught.value.path == ""
    assert "max_tool_iterations" in str(caught.value)


def test_the_expected_kind_is_checked() -> None:
    with pytest.raises(ComponentError, match="expected a team component, got a termination"):
        load_component(autogen_file("stop_message_termination"), expected="team")


def test_a_component_in_the_wrong_place_is_an_error() -> None:
    data = autogen_file("round_robin_team")
    data["config"]["termination_condition"] = autogen_file("replay_client")

    with pytest.raises(ComponentError) as caught:
        load_component(data)

    assert caught.value.path == "config.termination_condition"
    assert "expected a termination component, got a model" in str(caught.value)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "expected a component object"),
        ({"config": {}}, "has no 'provider'"),
        (
            {"provider": "autogen_agentchat.conditions.StopMessageTermination", "config": []},
            "'config'",
        ),
    ],
)
def test_malformed_documents_are_component_errors(document: Any, message: str) -> None:
    with pytest.raises(ComponentError, match=message):
        load_component(document)


def test_json_text_loads_and_broken_json_is_a_component_error() -> None:
    text = (FIXTURES / "max_message_termination.json").read_text()

    assert isinstance(load_component(text), MaxMessageTermination)
    with pytest.raises(ComponentError, match="not valid JSON"):
        load_component(text[:-5])


def test_agent_features_we_do_not_have_are_refused_rather_than_dropped() -> None:
    data = autogen_file("assistant_agent")
    data["config"]["tool_call_summary_formatter"] = "lambda call, result: result"

    with pytest.raises(ComponentError) as caught:
        load_component(data, tools=ToolRegistry([get_weather, add]))

    assert caught.value.path == "config.tool_call_summary_formatter"


def test_a_list_memory_in_an_autogen_file_loads_with_its_entries() -> None:
    data = autogen_file("assistant_agent")
    data["config"]["memory"] = [
        {
            "provider": "autogen_core.memory.ListMemory",
            "component_type": "memory",
            "config": {
                "name": "prefs",
                "memory_contents": [{"content": "Use metric units.", "mime_type": "text/plain"}],
            },
        }
    ]

    agent = load_component(data, tools=ToolRegistry([get_weather, add]))

    (memory,) = agent.memory
    assert isinstance(memory, ListMemory)
    assert [item.content for item in memory.content] == ["Use metric units."]
    assert dump_component(agent)["config"]["memory"][0]["config"] == {
        "name": "prefs",
        "memory_contents": [{"content": "Use metric units.", "mime_type": "text/plain"}],
    }


def test_a_buffered_model_context_in_an_autogen_file_loads_and_is_written_back() -> None:
    agent = autogen_file("assistant_agent")
    agent["config"]["model_context"] = {
        "provider": "autogen_core.model_context.BufferedChatCompletionContext",
        "config": {"buffer_size": 5},
    }

    loaded = load_component(agent, tools=ToolRegistry([get_weather, add]))

    assert isinstance(loaded.model_context, BufferedChatCompletionContext)
    assert loaded.model_context.buffer_size == 5
    dumped = dump_component(loaded)["config"]["model_context"]
    assert dumped["provider"] == "autogen_core.model_context.BufferedChatCompletionContext"
    assert dumped["component_type"] == "chat_completion_context"
    assert dumped["config"] == {"buffer_size": 5}


def test_a_model_context_with_a_bad_size_is_an_error_at_its_path() -> None:
    agent = autogen_file("assistant_agent")
    agent["config"]["model_context"] = {
        "provider": "autogen_core.model_context.BufferedChatCompletionContext",
        "config": {"buffer_size": 0},
    }

    with pytest.raises(ComponentError, match="buffer_size must be a positive") as caught:
        load_component(agent, tools=ToolRegistry([get_weather, add]))

    assert caught.value.path == "config.model_context"


# --------------------------------------------------------------------------------------
# Providers, aliases and the registry
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "provider",
    [
        "OpenAIChatCompletionClient",
        "openai_chat_completion_client",
        "autogen_ext.models.openai._openai_client.OpenAIChatCompletionClient",
    ],
)
def test_autogen_aliases_and_private_module_paths_resolve(provider: str) -> None:
    data = autogen_file("openai_client")
    data["provider"] = provider

    assert isinstance(load_component(data), OpenAIChatCompletionClient)


def test_a_known_class_name_outside_autogen_packages_is_not_trusted() -> None:
    data = autogen_file("openai_client")
    data["provider"] = "evil_package.OpenAIChatCompletionClient"

    with pytest.raises(ComponentError, match="unknown provider"):
        load_component(data)


def test_older_model_capabilities_become_model_info() -> None:
    data = autogen_file("openai_client")
    del data["config"]["model_info"]
    data["config"]["model_capabilities"] = {
        "vision": True,
        "function_calling": False,
        "json_output": True,
    }

    client = load_component(data)

    assert client.model_info["vision"] is True
    assert client.model_info["function_calling"] is False


def test_handoffs_may_be_plain_target_names() -> None:
    data = autogen_file("swarm_team")
    data["config"]["participants"][0]["config"]["handoffs"] = ["bob"]

    team = load_component(data)

    assert [h.name for h in team.participants[0].handoffs] == ["transfer_to_bob"]


def test_a_registry_can_be_extended_with_an_own_kind() -> None:
    registry = ComponentRegistry.default()
    registry.register(
        ComponentKind(
            "my_app.conditions.NeverStop",
            ExternalTermination,
            "termination",
            lambda reader: ExternalTermination(),
            lambda obj, writer: {},
            aliases=("NeverStop",),
        )
    )

    loaded = load_component({"provider": "NeverStop", "config": {}}, registry=registry)

    assert isinstance(loaded, ExternalTermination)
    assert "my_app.conditions.NeverStop" in registry.providers()
    with pytest.raises(ComponentError, match="unknown provider"):
        load_component({"provider": "NeverStop", "config": {}})


def test_a_provider_cannot_be_registered_twice() -> None:
    registry = ComponentRegistry.default()
    kind = next(iter(registry))

    with pytest.raises(ComponentError, match="already registered"):
        registry.register(kind)


def test_loading_does_not_change_the_document() -> None:
    data = autogen_file("round_robin_team")
    before = copy.deepcopy(data)

    load_component(data)

    assert data == before


def keep(func: Any) -> Any:
    return func


@keep
def shout(text: str) -> str:
    """Say it loudly."""
    return text.upper()


def test_a_dumped_tool_carries_its_source_without_decorators() -> None:
    source = dump_component(FunctionTool(shout))["config"]["source_code"]

    assert source.startswith("def shout(text: str) -> str:")


def test_a_tool_whose_source_cannot_be_read_dumps_an_empty_source() -> None:
    tool = FunctionTool(functools.partial(add, 1), name="add_one", description="Add one.")

    assert dump_component(tool)["config"]["source_code"] == ""


def test_a_single_workbench_object_as_some_autogen_releases_wrote_it_loads() -> None:
    data = autogen_file("assistant_agent")
    data["config"]["workbench"] = data["config"]["workbench"][0]

    agent = load_component(data, tools=ToolRegistry([get_weather, add]))

    assert [tool.name for tool in agent.tools] == ["get_weather", "add"]


def test_a_handoff_may_be_written_as_a_component() -> None:
    handoff = dump_component(Handoff("bob", message="Bob, over to you."))
    data = autogen_file("swarm_team")
    data["config"]["participants"][0]["config"]["handoffs"] = [handoff]

    team = load_component(data)

    assert team.participants[0].handoffs[0].message == "Bob, over to you."


def test_retry_settings_survive_a_round_trip() -> None:
    for client in (
        OpenAIChatCompletionClient("m", api_key="k", retry_backoff=2.0),
        AnthropicChatCompletionClient("m", api_key="k", retry_backoff=2.0),
    ):
        assert load_component(dump_component(client)).retry_backoff == 2.0


def swarm_with(change: Any) -> dict[str, Any]:
    data = autogen_file("swarm_team")
    change(data["config"]["participants"][0]["config"])
    return data


def graph_with(change: Any) -> dict[str, Any]:
    data = autogen_file("graph_flow_team")
    change(data["config"]["graph"])
    return data


def set_key(key: str, value: Any) -> Any:
    return lambda config: config.__setitem__(key, value)


def set_edge(value: Any) -> Any:
    return lambda graph: graph["nodes"]["first"].__setitem__("edges", [value])


@pytest.mark.parametrize(
    ("document", "path", "message"),
    [
        (
            {"provider": "autogen_agentchat.base.OrTerminationCondition", "config": {}},
            "config.conditions",
            "at least one condition",
        ),
        (
            {
                "provider": "roundtable.conditions.CostTermination",
                "config": {"max_cost_usd": 1, "prices": {"gpt": [1]}},
            },
            "config.prices.gpt",
            "a price is",
        ),
        (
            {"provider": "ReplayChatCompletionClient", "config": {"chat_completions": [5]}},
            "config.chat_completions[0]",
            "string or a CreateResult",
        ),
        (
            {"provider": "MaxMessageTermination", "config": {"max_messages": True}},
            "config.max_messages",
            "must be an integer, got True",
        ),
        (
            {"provider": "SourceMatchTermination", "config": {"sources": ["a", 1]}},
            "config.sources",
            "list of strings",
        ),
        (
            {"provider": "AssistantAgent", "config": {"name": "a"}},
            "config.model_client",
            "'model_client' is required",
        ),
        (
            {"provider": "autogen_agentchat.conditions.FunctionalTermination", "config": {}},
            "",
            "cannot come from a file",
        ),
        (
            swarm_with(set_key("handoffs", [5])),
            "config.participants[0].config.handoffs[0]",
            "handoff",
        ),
        (
            swarm_with(
                set_key(
                    "model_context",
                    {
                        "provider": "autogen_core.model_context.UnboundedChatCompletionContext",
                        "config": {"initial_messages": [{"type": "UserMessage"}]},
                    },
                )
            ),
            "config.participants[0].config.model_context.config.initial_messages[0]",
            "content",
        ),
        (graph_with(set_edge(5)), "config.graph.nodes.first.edges[0]", "'target'"),
        (
            graph_with(set_edge({"target": "yes_path", "condition": {"code": "x"}})),
            "config.graph.nodes.first.edges[0]",
            "must be text",
        ),
        (graph_with(set_key("nodes", {})), "config.graph.nodes", "non-empty"),
        (
            graph_with(lambda graph: graph["nodes"].__setitem__("no_path", [])),
            "config.graph.nodes.no_path",
            "must be an object",
        ),
    ],
)
def test_broken_configs_are_errors_at_their_path(
    document: dict[str, Any], path: str, message: str
) -> None:
    with pytest.raises(ComponentError) as caught:
        load_component(document)

    assert caught.value.path == path
    assert message in str(caught.value)


# --------------------------------------------------------------------------------------
# Every provider AutoGen 0.7 and AutoGen Studio 0.4 write, under every path
# --------------------------------------------------------------------------------------


#: Every ``component_provider_override`` in autogen-agentchat, -core and -ext 0.7.5, and
#: the providers of AutoGen Studio 0.4's default gallery: each loads or is refused by name.
AUTOGEN_PROVIDERS = [
    "autogen_agentchat.agents.AssistantAgent",
    "autogen_agentchat.agents.CodeExecutorAgent",
    "autogen_agentchat.agents.MessageFilterAgent",
    "autogen_agentchat.agents.SocietyOfMindAgent",
    "autogen_agentchat.agents.UserProxyAgent",
    "autogen_agentchat.base.AndTerminationCondition",
    "autogen_agentchat.base.OrTerminationCondition",
    "autogen_agentchat.conditions.ExternalTermination",
    "autogen_agentchat.conditions.FunctionCallTermination",
    "autogen_agentchat.conditions.HandoffTermination",
    "autogen_agentchat.conditions.MaxMessageTermination",
    "autogen_agentchat.conditions.SourceMatchTermination",
    "autogen_agentchat.conditions.StopMessageTermination",
    "autogen_agentchat.conditions.TextMentionTermination",
    "autogen_agentchat.conditions.TextMessageTermination",
    "autogen_agentchat.conditions.TimeoutTermination",
    "autogen_agentchat.conditions.TokenUsageTermination",
    "autogen_agentchat.messages.StructuredMessageFactory",
    "autogen_agentchat.teams.GraphFlow",
    "autogen_agentchat.teams.MagenticOneGroupChat",
    "autogen_agentchat.teams.RoundRobinGroupChat",
    "autogen_agentchat.teams.SelectorGroupChat",
    "autogen_agentchat.teams.Swarm",
    "autogen_agentchat.tools.AgentTool",
    "autogen_agentchat.tools.TeamTool",
    "autogen_core.InMemoryStore",
    "autogen_core.memory.ListMemory",
    "autogen_core.model_context.BufferedChatCompletionContext",
    "autogen_core.model_context.HeadAndTailChatCompletionContext",
    "autogen_core.model_context.TokenLimitedChatCompletionContext",
    "autogen_core.model_context.UnboundedChatCompletionContext",
    "autogen_core.tools.FunctionTool",
    "autogen_core.tools.StaticStreamWorkbench",
    "autogen_core.tools.StaticWorkbench",
    "autogen_ext.agents.file_surfer.FileSurfer",
    "autogen_ext.agents.magentic_one.MagenticOneCoderAgent",
    "autogen_ext.agents.openai.OpenAIAgent",
    "autogen_ext.agents.web_surfer.MultimodalWebSurfer",
    "autogen_ext.auth.azure.AzureTokenProvider",
    "autogen_ext.cache_store.diskcache.DiskCacheStore",
    "autogen_ext.cache_store.redis.RedisStore",
    "autogen_ext.code_executors.docker.DockerCommandLineCodeExecutor",
    "autogen_ext.code_executors.docker_jupyter.DockerJupyterCodeExecutor",
    "autogen_ext.code_executors.jupyter.JupyterCodeExecutor",
    "autogen_ext.code_executors.local.LocalCommandLineCodeExecutor",
    "autogen_ext.memory.chromadb.ChromaDBVectorMemory",
    "autogen_ext.memory.mem0.Mem0Memory",
    "autogen_ext.memory.redis_memory.RedisMemory",
    "autogen_ext.models.anthropic.AnthropicBedrockChatCompletionClient",
    "autogen_ext.models.anthropic.AnthropicChatCompletionClient",
    "autogen_ext.models.cache.ChatCompletionCache",
    "autogen_ext.models.ollama.OllamaChatCompletionClient",
    "autogen_ext.models.openai.AzureOpenAIChatCompletionClient",
    "autogen_ext.models.openai.OpenAIChatCompletionClient",
    "autogen_ext.models.replay.ReplayChatCompletionClient",
    "autogen_ext.tools.azure.AzureAISearchTool",
    "autogen_ext.tools.azure.BaseAzureAISearchTool",
    "autogen_ext.tools.code_execution.PythonCodeExecutionTool",
    "autogen_ext.tools.http.HttpTool",
    "autogen_ext.tools.mcp.McpSessionActor",
    "autogen_ext.tools.mcp.McpWorkbench",
    "autogen_ext.tools.mcp.SseMcpToolAdapter",
    "autogen_ext.tools.mcp.StdioMcpToolAdapter",
    "autogen_ext.tools.mcp.StreamableHttpMcpToolAdapter",
]
#: autogen_core's WELL_KNOWN_PROVIDERS: short names its loader accepts.
AUTOGEN_SHORT_NAMES = {
    "azure_openai_chat_completion_client": "AzureOpenAIChatCompletionClient",
    "AzureOpenAIChatCompletionClient": "AzureOpenAIChatCompletionClient",
    "openai_chat_completion_client": "OpenAIChatCompletionClient",
    "OpenAIChatCompletionClient": "OpenAIChatCompletionClient",
    "OllamaChatCompletionClient": "OllamaChatCompletionClient",
}


def private_path(provider: str) -> str:
    """The path AutoGen writes for a class without a provider override."""
    module, name = provider.rsplit(".", 1)
    return f"{module}._{name.lower()}.{name}"


@pytest.mark.parametrize("provider", AUTOGEN_PROVIDERS)
def test_every_provider_autogen_writes_is_known_by_its_full_short_and_private_path(
    provider: str,
) -> None:
    registry = ComponentRegistry.default()
    kind = registry.find(provider)

    assert kind is not None
    assert registry.find(provider.rsplit(".", 1)[-1]) is kind
    assert registry.find(private_path(provider)) is kind


@pytest.mark.parametrize(("short", "label"), AUTOGEN_SHORT_NAMES.items())
def test_autogens_well_known_short_names_are_known(short: str, label: str) -> None:
    kind = ComponentRegistry.default().find(short)

    assert kind is not None
    assert kind.label == label


async def test_a_team_written_under_autogens_private_module_path_loads_and_runs() -> None:
    data = autogen_file("round_robin_team")
    data["provider"] = (
        "autogen_agentchat.teams._group_chat._round_robin_group_chat.RoundRobinGroupChat"
    )

    team = load_component(data)

    assert isinstance(team, RoundRobinGroupChat)
    assert (await team.run(task="Write.")).stop_reason


#: An Ollama client as AutoGen 0.7.5 dumps it.
OLLAMA_CLIENT = {
    "provider": "autogen_ext.models.ollama.OllamaChatCompletionClient",
    "component_type": "model",
    "version": 1,
    "component_version": 1,
    "description": "Chat completion client for Ollama hosted models.",
    "label": "OllamaChatCompletionClient",
    "config": {
        "model": "llama3.2",
        "host": "http://10.0.0.5:11434",
        "follow_redirects": True,
        "options": {"temperature": 0.4, "num_predict": 256, "top_p": 0.9},
    },
}


def test_an_ollama_file_loads_as_a_client_of_ollamas_openai_compatible_api() -> None:
    client = load_component(OLLAMA_CLIENT, expected="model")

    assert isinstance(client, OpenAIChatCompletionClient)
    assert (client.model, client.base_url) == ("llama3.2", "http://10.0.0.5:11434/v1")
    assert (client.temperature, client.max_tokens) == (0.4, 256)
    assert client.create_args == {"top_p": 0.9}


def test_an_ollama_client_never_sends_the_environments_openai_key() -> None:
    client = load_component(OLLAMA_CLIENT)

    assert client.api_key == "ollama"
    assert "sk-from-environment" not in json.dumps(dump_component(client, include_secrets=True))


def test_an_ollama_host_without_a_scheme_or_at_all_is_ollamas_default_form() -> None:
    bare = copy.deepcopy(OLLAMA_CLIENT)
    bare["config"]["host"] = "gpu-box:11434"
    unset = copy.deepcopy(OLLAMA_CLIENT)
    del unset["config"]["host"]

    assert load_component(bare).base_url == "http://gpu-box:11434/v1"
    assert load_component(unset).base_url == "http://127.0.0.1:11434/v1"


#: Azure OpenAI as AutoGen Studio 0.4's default gallery lists it.
AZURE_CLIENT = {
    "provider": "autogen_ext.models.openai.AzureOpenAIChatCompletionClient",
    "component_type": "model",
    "version": 1,
    "component_version": 1,
    "description": "Chat completion client for Azure OpenAI hosted models.",
    "label": "AzureOpenAI GPT-4o-mini",
    "config": {
        "model": "gpt-4o-mini",
        "api_key": "**********",
        "azure_endpoint": "https://contoso.openai.azure.com/",
        "azure_deployment": "gpt-4o-mini",
        "api_version": "2024-06-01",
    },
}


@pytest.mark.parametrize(
    "provider",
    [
        "autogen_ext.models.openai.AzureOpenAIChatCompletionClient",
        "autogen_ext.models.openai._openai_client.AzureOpenAIChatCompletionClient",
        "AzureOpenAIChatCompletionClient",
        "azure_openai_chat_completion_client",
    ],
)
def test_azure_openai_is_refused_saying_what_to_use_instead(provider: str) -> None:
    data = autogen_file("round_robin_team")
    data["config"]["participants"][0]["config"]["model_client"] = AZURE_CLIENT | {
        "provider": provider
    }

    with pytest.raises(UnsupportedProviderError) as caught:
        load_component(data)

    error = caught.value
    assert error.path == "config.participants[0].config.model_client"
    assert error.provider == provider
    assert error.reason.startswith("AzureOpenAIChatCompletionClient is not supported")
    assert "OpenAIChatCompletionClient" in error.reason
    assert "openai.azure.com/openai/v1/" in error.reason


def test_a_web_surfer_in_a_team_is_refused_at_its_path_saying_why() -> None:
    data = autogen_file("round_robin_team")
    data["config"]["participants"][1] = {
        "provider": "autogen_ext.agents.web_surfer.MultimodalWebSurfer",
        "component_type": "agent",
        "label": "Web Surfer Agent",
        "config": {"name": "websurfer_agent", "headless": True},
    }

    with pytest.raises(UnsupportedProviderError, match="drives a web browser") as caught:
        load_component(data)

    assert caught.value.path == "config.participants[1]"


def test_an_unknown_provider_is_an_unsupported_provider_error_naming_it() -> None:
    with pytest.raises(UnsupportedProviderError) as caught:
        load_component({"provider": "my_company.Agent", "config": {}})

    assert caught.value.provider == "my_company.Agent"
    assert caught.value.reason.startswith('unknown provider "my_company.Agent"')


def test_a_refusing_registry_refuses_the_kinds_it_names_and_still_dumps_them() -> None:
    registry = ComponentRegistry.default().refusing(
        lambda kind: "no memories here" if kind.role == "memory" else None
    )
    memory = ListMemory()

    with pytest.raises(UnsupportedProviderError, match="ListMemory is not supported: no memories"):
        load_component(dump_component(memory), registry=registry)
    assert dump_component(memory, registry=registry) == dump_component(memory)
    assert isinstance(
        load_component(autogen_file("stop_message_termination"), registry=registry),
        StopMessageTermination,
    )


def test_the_callers_api_key_replaces_the_files_for_every_client() -> None:
    data = autogen_file("openai_client")
    data["config"]["api_key"] = "sk-from-the-file"

    client = load_component(data, api_key="sk-from-the-caller")

    assert client.api_key == "sk-from-the-caller"


def test_a_tool_stub_keeps_the_signature_and_description_but_none_of_the_code() -> None:
    document = dump_component(FunctionTool(get_weather), tool_stubs=True)
    source = document["config"]["source_code"]
    function = ast.parse(source).body[0]

    assert isinstance(function, ast.FunctionDef)
    assert function.name == "get_weather"
    assert [(a.arg, ast.unparse(a.annotation)) for a in function.args.args] == [
        ("city", "str"),
        ("unit", "str"),
    ]
    assert [ast.literal_eval(d) for d in function.args.defaults] == ["C"]
    assert ast.get_docstring(function) == "Tell the weather in a city."
    assert "Sunny" not in source
    assert "raise NotImplementedError" in source
    assert document["config"]["has_cancellation_support"] is False


def test_a_tool_stub_of_a_name_python_does_not_allow_is_still_a_function() -> None:
    tool = FunctionTool(add, name="2-add")

    source = dump_component(tool, tool_stubs=True)["config"]["source_code"]

    assert source.startswith("def _2_add(a: int, b: int) -> str:")
    assert dump_component(tool, tool_stubs=True)["config"]["name"] == "2-add"
