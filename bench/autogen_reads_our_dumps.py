"""Check that AutoGen 0.7.5 loads the files Roundtable writes, and runs them as we do.

Run from the repository root::

    .venv/bin/python bench/autogen_reads_our_dumps.py

Two parts, each printed as a table:

1. Component kinds: one of each kind is dumped with ``runtime.dump_component`` and loaded
   with AutoGen's own ``ComponentLoader``.
2. The studio's "Export for AutoGen" of every gallery team is loaded with AutoGen's
   ``Team.load_component``. The scripted teams (every model scripted) then run in AutoGen
   and in the studio's runtime on the same task, the human's answer scripted on both
   sides, and the two transcripts are compared message by message (type, source and
   content).

AutoGen runs in ``bench/.autogen-venv``: the first call creates it as
``bench/runtime_vs_autogen.py`` does, and installs
``bench/requirements-autogen-fixtures.txt`` into it (AutoGen's OpenAI and Anthropic
clients, which the gallery's templates use). The exit status is 1 when anything fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
AUTOGEN_VENV = BENCH_DIR / ".autogen-venv"
AUTOGEN_PYTHON = AUTOGEN_VENV / "bin" / "python"
EXTRA_REQUIREMENTS = BENCH_DIR / "requirements-autogen-fixtures.txt"
TASK = "Write one sentence that tells a newcomer what Roundtable does."
#: What the human answers, in order, on both sides.
HUMAN_ANSWERS = ["From Lisbon, please."]

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

# Loads each team file with AutoGen, runs the named ones on the task (the human answers
# from stdin, as AutoGen's UserProxyAgent reads it), and prints what happened as JSON.
RUN_WITH_AUTOGEN = r"""
import asyncio, json, logging, pathlib, sys, warnings
warnings.simplefilter("ignore")
for name in ("autogen_core", "autogen_agentchat", "autogen_ext"):
    logging.getLogger(name).setLevel(logging.ERROR)
from autogen_agentchat.base import Team

async def main(folder, task, scripted):
    report = {}
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        entry = report[path.stem] = {}
        try:
            team = Team.load_component(json.loads(path.read_text()))
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        entry["loaded"] = type(team).__name__
        if path.stem not in scripted:
            continue
        try:
            result = await team.run(task=task)
        except Exception as exc:
            entry["run_error"] = f"{type(exc).__name__}: {exc}"[:300]
            continue
        entry["messages"] = [message.model_dump(mode="json") for message in result.messages]
        entry["stop_reason"] = result.stop_reason
    # After a marker: AutoGen's UserProxyAgent prints its prompt on stdout too.
    print("\nREPORT " + json.dumps(report))

asyncio.run(main(sys.argv[1], sys.argv[2], set(sys.argv[3].split(","))))
"""


async def lookup(key: str) -> str:
    """Look a key up."""
    return key


# --------------------------------------------------------------------------------------
# Part 1: one component of each kind
# --------------------------------------------------------------------------------------


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
        "stubbed_tool": agent("stub", tools=[tool]).dump_component(tool_stubs=True),
    }


def check_component_kinds(env: dict[str, str]) -> bool:
    from runtime import dump_component

    print("Component kinds written by runtime.dump_component, loaded by AutoGen 0.7.5")
    with tempfile.TemporaryDirectory() as folder:
        for name, component in components().items():
            document = component if isinstance(component, dict) else dump_component(component)
            (Path(folder) / f"{name}.json").write_text(json.dumps(document))
        completed = subprocess.run(
            [str(AUTOGEN_PYTHON), "-c", LOAD_WITH_AUTOGEN, folder], env=env, check=False
        )
    print()
    return completed.returncode == 0


# --------------------------------------------------------------------------------------
# Part 2: the studio's exports of the gallery teams
# --------------------------------------------------------------------------------------


def slug(name: str) -> str:
    return re.sub(r"\W+", "_", name).strip("_").lower()


def is_scripted(spec: dict[str, Any]) -> bool:
    from studio.teams.specs import iter_model_specs

    return all(model["provider"] == "scripted" for model in iter_model_specs(spec))


def normalized(message: dict[str, Any]) -> tuple[str, str, Any]:
    """What a transcript line says, the same for AutoGen's messages and ours: its type,
    source and content (tool calls and results by name, arguments, content and error)."""
    content = message.get("content")
    if isinstance(content, list):
        keys = ("name", "arguments", "content", "is_error")
        content = [
            {key: item[key] for key in keys if key in item} if isinstance(item, dict) else item
            for item in content
        ]
    return message["type"], message["source"], content


async def run_ours(spec: dict[str, Any]) -> dict[str, Any]:
    """The team as the studio builds and runs it, the human's answers scripted."""
    from runtime.testing import ScriptedInput
    from studio.teams.building import build_team

    team = build_team(spec, input_func=ScriptedInput(HUMAN_ANSWERS))
    result = await team.run(task=TASK)
    return {
        "messages": [message.dump() for message in result.messages],
        "stop_reason": result.stop_reason,
    }


def differences(ours: list[tuple[Any, ...]], theirs: list[tuple[Any, ...]]) -> str:
    """How many messages differ, and the first of them."""
    if len(ours) != len(theirs):
        return f"ours has {len(ours)} messages, AutoGen's {len(theirs)}"
    differing = [
        index for index, pair in enumerate(zip(ours, theirs, strict=True)) if pair[0] != pair[1]
    ]
    first = differing[0]
    return (
        f"{len(differing)} of {len(ours)} messages, first message {first}: "
        f"ours {ours[first]!r}, AutoGen's {theirs[first]!r}"
    )


def check_gallery_exports(env: dict[str, str]) -> bool:
    from studio.teams.autogen import write_team
    from studio.teams.gallery import gallery_specs
    from studio.teams.spec import TeamSpec

    specs = {spec["name"]: TeamSpec.model_validate(spec).model_dump() for spec in gallery_specs()}
    scripted = [name for name, spec in specs.items() if is_scripted(spec)]
    with tempfile.TemporaryDirectory() as folder:
        for name, spec in specs.items():
            (Path(folder) / f"{slug(name)}.json").write_text(json.dumps(write_team(spec)))
        completed = subprocess.run(
            [
                str(AUTOGEN_PYTHON),
                "-c",
                RUN_WITH_AUTOGEN,
                folder,
                TASK,
                ",".join(slug(name) for name in scripted),
            ],
            input="\n".join(HUMAN_ANSWERS) + "\n",
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    if completed.returncode != 0:
        print(completed.stderr[-2000:])
        return False
    theirs = json.loads(completed.stdout.rsplit("\nREPORT ", 1)[-1])
    print("The studio's 'Export for AutoGen' of every gallery team, in AutoGen 0.7.5")
    print(f"{'gallery team':<30} {'AutoGen loads it':<24} transcript (task: {TASK!r})")
    is_ok = True
    for name, spec in specs.items():
        entry = theirs.get(slug(name), {})
        loaded = entry.get("loaded") or f"FAILED {entry.get('error', 'no result')}"
        is_ok &= "loaded" in entry
        if name not in scripted:
            verdict = "not scripted: loaded only"
        elif "messages" not in entry:
            verdict = f"FAILED to run: {entry.get('run_error', 'no result')}"
            is_ok = False
        else:
            ours = asyncio.run(run_ours(spec))
            mine = [normalized(message) for message in ours["messages"]]
            other = [normalized(message) for message in entry["messages"]]
            if mine == other:
                verdict = f"same {len(mine)} messages"
            else:
                verdict = f"DIFFERENT: {differences(mine, other)}"
                is_ok = False
            if ours["stop_reason"] != entry["stop_reason"]:
                verdict += (
                    f"; stop reasons differ: ours {ours['stop_reason']!r}, "
                    f"AutoGen's {entry['stop_reason']!r}"
                )
        print(f"{name:<30} {loaded:<24} {verdict}")
    return is_ok


# --------------------------------------------------------------------------------------
# Setting up
# --------------------------------------------------------------------------------------


def ensure_autogen_with_clients() -> None:
    """The benchmark's AutoGen virtualenv, with AutoGen's OpenAI and Anthropic clients."""
    sys.path.insert(0, str(BENCH_DIR))
    from runtime_vs_autogen import ensure_autogen_venv

    python = ensure_autogen_venv()
    marker = AUTOGEN_VENV / ".fixtures-requirements-sha256"
    wanted = hashlib.sha256(EXTRA_REQUIREMENTS.read_bytes()).hexdigest()
    if marker.exists() and marker.read_text() == wanted:
        return
    sys.stderr.write(f"installing {EXTRA_REQUIREMENTS.relative_to(ROOT)} ...\n")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(EXTRA_REQUIREMENTS)], check=True)
    marker.write_text(wanted)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    ensure_autogen_with_clients()
    env = {**os.environ, "OPENAI_API_KEY": "unused", "ANTHROPIC_API_KEY": "unused"}
    kinds_ok = check_component_kinds(env)
    gallery_ok = check_gallery_exports(env)
    raise SystemExit(0 if kinds_ok and gallery_ok else 1)


if __name__ == "__main__":
    main()
