"""Write AutoGen-produced component files into tests/fixtures/autogen/.

The component tests load these files to prove that what AutoGen AgentChat 0.7.5 writes,
Roundtable reads. Run it with the benchmark's AutoGen virtualenv after installing
``bench/requirements-autogen-fixtures.txt`` into it::

    bench/.autogen-venv/bin/pip install -r bench/requirements-autogen-fixtures.txt
    bench/.autogen-venv/bin/python bench/make_autogen_fixtures.py

Every file is AutoGen's own ``dump_component()`` output, except ``gallery_0_4_team.json``,
which is written by hand in the older shape AutoGen Studio 0.4.x exported (AutoGen 0.7.5
can no longer produce it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

from autogen_agentchat.agents import AssistantAgent, SocietyOfMindAgent, UserProxyAgent
from autogen_agentchat.base import Handoff
from autogen_agentchat.conditions import (
    ExternalTermination,
    FunctionCallTermination,
    HandoffTermination,
    MaxMessageTermination,
    SourceMatchTermination,
    StopMessageTermination,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
)
from autogen_agentchat.teams import (
    DiGraphBuilder,
    GraphFlow,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
)
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, ModelInfo, RequestUsage
from autogen_core.tools import FunctionTool, StaticStreamWorkbench, StaticWorkbench
from autogen_ext.models.anthropic import AnthropicChatCompletionClient
from autogen_ext.models.openai import OpenAIChatCompletionClient
from autogen_ext.models.replay import ReplayChatCompletionClient

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "autogen"

TOOL_MODEL: ModelInfo = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


async def get_weather(city: Annotated[str, "The city to look up"], unit: str = "C") -> str:
    """Tell the weather in a city."""
    return f"Sunny, 21 {unit} in {city}"


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def replay(replies: list[str | CreateResult]) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(replies, model_info=TOOL_MODEL)


def tool_call(name: str, arguments: str, call_id: str = "call_1") -> CreateResult:
    return CreateResult(
        finish_reason="function_calls",
        content=[FunctionCall(id=call_id, name=name, arguments=arguments)],
        usage=RequestUsage(prompt_tokens=0, completion_tokens=0),
        cached=False,
    )


def openai_client() -> OpenAIChatCompletionClient:
    return OpenAIChatCompletionClient(
        model="llama3.2",
        base_url="http://127.0.0.1:11434/v1",
        api_key="sk-test-not-a-secret",
        model_info=TOOL_MODEL,
        temperature=0.2,
        max_tokens=512,
        timeout=30.0,
        max_retries=2,
    )


def anthropic_client() -> AnthropicChatCompletionClient:
    return AnthropicChatCompletionClient(
        model="claude-3-5-haiku-20241022",
        api_key="sk-ant-test-not-a-secret",
        max_tokens=1024,
        temperature=0.5,
    )


def components() -> dict[str, Any]:
    weather = FunctionTool(get_weather, description="Tell the weather in a city.")
    adder = FunctionTool(add, description="Add two integers.", name="add")
    writer = AssistantAgent(
        "writer",
        replay(["A first draft.", "A better draft. TERMINATE"]),
        system_message="You write short drafts.",
        description="Writes drafts.",
    )
    critic = AssistantAgent(
        "critic",
        replay(["Make it better."]),
        system_message="You criticise drafts.",
        description="Criticises drafts.",
    )
    tool_agent = AssistantAgent(
        "forecaster",
        replay([tool_call("get_weather", '{"city": "Paris"}'), "It is sunny in Paris."]),
        tools=[weather, adder],
        handoffs=[Handoff(target="critic", description="Ask the critic.")],
        reflect_on_tool_use=True,
        max_tool_iterations=2,
        tool_call_summary_format="{tool_name}: {result}",
        model_client_stream=True,
        metadata={"team": "weather"},
    )
    round_robin = RoundRobinGroupChat(
        [writer, critic],
        termination_condition=TextMentionTermination("TERMINATE") | MaxMessageTermination(10),
        max_turns=6,
        name="drafting",
        description="A writer and a critic take turns.",
    )
    swarm_alice = AssistantAgent(
        "alice",
        replay([tool_call("transfer_to_bob", "{}"), "Alice again. TERMINATE"]),
        handoffs=["bob"],
    )
    swarm_bob = AssistantAgent(
        "bob", replay([tool_call("transfer_to_alice", "{}")]), handoffs=["alice", "user"]
    )
    swarm = Swarm(
        [swarm_alice, swarm_bob],
        termination_condition=HandoffTermination(target="user")
        | TextMentionTermination("TERMINATE"),
    )
    selector = SelectorGroupChat(
        [
            AssistantAgent("planner", replay(["Plan: look it up."]), description="Plans."),
            AssistantAgent("doer", replay(["Done. TERMINATE"]), description="Does."),
        ],
        model_client=replay(["planner", "doer"]),
        termination_condition=TextMentionTermination("TERMINATE"),
        selector_prompt="Pick who speaks next from {participants}.\n{roles}\n{history}",
        allow_repeated_speaker=True,
        max_selector_attempts=2,
        max_turns=5,
    )
    first = AssistantAgent("first", replay(["first says yes"]))
    yes = AssistantAgent("yes_path", replay(["took the yes path"]))
    no = AssistantAgent("no_path", replay(["took the no path"]))
    builder = DiGraphBuilder()
    builder.add_node(first).add_node(yes).add_node(no)
    builder.add_edge(first, yes, condition="yes")
    builder.add_edge(first, no, condition="no")
    graph_flow = GraphFlow(
        builder.get_participants(),
        graph=builder.build(),
        termination_condition=MaxMessageTermination(5),
    )
    inner = RoundRobinGroupChat(
        [
            AssistantAgent("inner_writer", replay(["Inner draft."])),
            AssistantAgent("inner_editor", replay(["Inner edit. APPROVE"])),
        ],
        termination_condition=TextMentionTermination("APPROVE"),
    )
    society = SocietyOfMindAgent(
        "society",
        team=inner,
        model_client=replay(["The summary."]),
        description="A team inside one seat.",
        instruction="Summarise the discussion.",
        response_prompt="Answer now.",
    )
    user = UserProxyAgent("human", description="The person at the keyboard.")
    nested_team = RoundRobinGroupChat(
        [society, user], termination_condition=MaxMessageTermination(3)
    )
    return {
        "openai_client": openai_client(),
        "anthropic_client": anthropic_client(),
        "replay_client": replay(["hello", tool_call("add", '{"a": 1, "b": 2}')]),
        "function_tool": weather,
        "static_workbench": StaticWorkbench([weather, adder]),
        "static_stream_workbench": StaticStreamWorkbench([adder]),
        "max_message_termination": MaxMessageTermination(5, include_agent_event=True),
        "text_mention_termination": TextMentionTermination("DONE"),
        "stop_message_termination": StopMessageTermination(),
        "token_usage_termination": TokenUsageTermination(
            max_total_token=1000, max_prompt_token=800, max_completion_token=300
        ),
        "handoff_termination": HandoffTermination(target="user"),
        "timeout_termination": TimeoutTermination(30.5),
        "external_termination": ExternalTermination(),
        "source_match_termination": SourceMatchTermination(["critic", "writer"]),
        "text_message_termination": TextMessageTermination(source="writer"),
        "function_call_termination": FunctionCallTermination("add"),
        "and_or_termination": (MaxMessageTermination(3) & TextMentionTermination("A"))
        | StopMessageTermination(),
        "assistant_agent": tool_agent,
        "user_proxy_agent": user,
        "society_of_mind_agent": society,
        "round_robin_team": round_robin,
        "selector_team": selector,
        "swarm_team": swarm,
        "graph_flow_team": graph_flow,
        "nested_team": nested_team,
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, component in components().items():
        data = component.dump_component().model_dump(mode="json", exclude_none=True)
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
        sys.stdout.write(f"wrote {path.relative_to(OUT.parent.parent.parent)}\n")


if __name__ == "__main__":
    main()
