"""Check that AutoGen 0.7.5 loads the component files Roundtable writes.

Run from the repository root after the benchmark has created ``bench/.autogen-venv``::

    .venv/bin/python bench/autogen_reads_our_dumps.py

It dumps one of each component kind with our runtime, then loads every file with
AutoGen's own ``ComponentLoader`` in the bench virtualenv and prints one line per file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
AUTOGEN_PYTHON = ROOT / "bench" / ".autogen-venv" / "bin" / "python"

LOAD_WITH_AUTOGEN = """
import json, pathlib, sys, warnings
warnings.simplefilter("ignore")
from autogen_core import ComponentLoader
failed = 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    try:
        loaded = ComponentLoader.load_component(json.loads(path.read_text()))
        print(f"ok      {path.stem:<12} -> {type(loaded).__name__}")
    except Exception as exc:
        failed += 1
        print(f"FAILED  {path.stem:<12} {type(exc).__name__}: {str(exc)[:300]}")
sys.exit(1 if failed else 0)
"""


async def lookup(key: str) -> str:
    """Look a key up."""
    return key


def components() -> dict[str, Any]:
    import pydantic

    from runtime import (
        AgentTool,
        AnthropicChatCompletionClient,
        AssistantAgent,
        BufferedChatCompletionContext,
        DiGraphBuilder,
        FunctionTool,
        GraphFlow,
        HandoffTermination,
        HeadAndTailChatCompletionContext,
        ListMemory,
        MaxMessageTermination,
        MemoryContent,
        MessageFilterAgent,
        MessageFilterConfig,
        OpenAIChatCompletionClient,
        PerSourceFilter,
        RoundRobinGroupChat,
        SelectorGroupChat,
        SocietyOfMindAgent,
        Swarm,
        TeamTool,
        TextMentionTermination,
        TokenLimitedChatCompletionContext,
        TokenUsageTermination,
        UserProxyAgent,
    )
    from runtime.testing import ScriptedModelClient

    def agent(name: str, **options: Any) -> AssistantAgent:
        return AssistantAgent(name, ScriptedModelClient(["ok"]), **options)

    first, second = agent("first"), agent("second")
    builder = DiGraphBuilder().add_node(first).add_node(second)
    builder.add_edge(first, second, condition="next")
    tool = FunctionTool(lookup)

    class Verdict(pydantic.BaseModel):
        approved: bool
        reasons: list[str]

    scripted = ScriptedModelClient(["ok"])
    return {
        "openai": OpenAIChatCompletionClient("gpt-4o-mini", api_key="unused", temperature=0.3),
        "anthropic": AnthropicChatCompletionClient("claude-3-5-haiku-20241022", api_key="unused"),
        "scripted": ScriptedModelClient(["hello"]),
        "tool": tool,
        "conditions": MaxMessageTermination(5)
        | (TextMentionTermination("DONE") & TokenUsageTermination(max_total_token=99)),
        "assistant": agent("helper", tools=[tool], handoffs=["other"], max_tool_iterations=2),
        "user_proxy": UserProxyAgent("human"),
        "society": SocietyOfMindAgent(
            "society", RoundRobinGroupChat([agent("inner")]), ScriptedModelClient(["sum"])
        ),
        "round_robin": RoundRobinGroupChat(
            [agent("a"), agent("b")], termination_condition=MaxMessageTermination(3)
        ),
        "selector": SelectorGroupChat([agent("a"), agent("b")], ScriptedModelClient(["a"])),
        "swarm": Swarm(
            [agent("a", handoffs=["b"]), agent("b")], termination_condition=HandoffTermination("x")
        ),
        "graph_flow": GraphFlow(builder.get_participants(), builder.build()),
        "buffered": BufferedChatCompletionContext(5),
        "head_tail": HeadAndTailChatCompletionContext(2, 3),
        "token_limit": TokenLimitedChatCompletionContext(scripted, token_limit=500),
        "contextual": agent("ctx", model_context=BufferedChatCompletionContext(4)),
        "structured": agent(
            "judge", output_content_type=Verdict, output_content_type_format="{approved}"
        ),
        "memory": agent("mem", memory=[ListMemory(memory_contents=[MemoryContent(content="x")])]),
        "filtered": MessageFilterAgent(
            "f",
            agent("f"),
            MessageFilterConfig(
                per_source=[PerSourceFilter(source="user", position="last", count=1)]
            ),
        ),
        "agent_tool": agent("lead", tools=[AgentTool(agent("writer"))]),
        "team_tool": agent(
            "boss", tools=[TeamTool(RoundRobinGroupChat([agent("x")]), "desk", "A desk.")]
        ),
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from runtime import dump_component

    if not AUTOGEN_PYTHON.exists():
        raise SystemExit("run bench/runtime_vs_autogen.py once first: it creates the AutoGen venv")
    with tempfile.TemporaryDirectory() as folder:
        for name, component in components().items():
            document = dump_component(component)
            (Path(folder) / f"{name}.json").write_text(json.dumps(document))
        env = {**os.environ, "OPENAI_API_KEY": "unused", "ANTHROPIC_API_KEY": "unused"}
        completed = subprocess.run(
            [str(AUTOGEN_PYTHON), "-c", LOAD_WITH_AUTOGEN, folder], env=env, check=False
        )
    raise SystemExit(completed.returncode)


if __name__ == "__main__":
    main()
