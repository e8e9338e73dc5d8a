"""Compare Roundtable's runtime with autogen-agentchat 0.7.5 on the same scripted workloads.

Usage (from the repository root)::

    .venv/bin/python bench/runtime_vs_autogen.py            # every workload, 5 runs each
    .venv/bin/python bench/runtime_vs_autogen.py --runs 3 --only a,b

The first call creates ``bench/.autogen-venv`` and installs ``bench/requirements-autogen.txt``
into it. Each measurement runs in a fresh subprocess, alternating between our runtime (the
project's virtualenv) and AutoGen (the bench virtualenv), so both see the same machine noise.
Model calls are scripted on both sides (AutoGen's ReplayChatCompletionClient, our
ScriptedModelClient), so the numbers are framework overhead only. The table shows medians.

Workloads:
  a   RoundRobinGroupChat, 4 AssistantAgents, 1,000 agent messages
  a+  the same with 4,000 messages (does the per-message cost stay flat?)
  b   Swarm, 3 agents, 300 handoffs through handoff tools
  c   one AssistantAgent, 200 tool round trips (async tool)
  d   after (a): save_state + json.dumps, then json.loads + load_state into a fresh team
  f   50 RoundRobin teams x 100 messages, concurrently
  g   RoundRobin, 4 agents each with BufferedChatCompletionContext(5), 4,000 messages
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import venv
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
AUTOGEN_VENV = BENCH_DIR / ".autogen-venv"
REQUIREMENTS = BENCH_DIR / "requirements-autogen.txt"
WORKLOADS = ("a", "a+", "b", "c", "d", "f", "g")

TOOL_MODEL_INFO = {
    "vision": False,
    "function_calling": True,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


# --------------------------------------------------------------------------------------
# The two frameworks behind one small surface, so every workload is written once.
# --------------------------------------------------------------------------------------


class Kit(abc.ABC):
    """What a workload needs from a framework: classes and two factories."""

    name: str
    AssistantAgent: Any
    RoundRobinGroupChat: Any
    Swarm: Any
    MaxMessageTermination: Any
    BufferedChatCompletionContext: Any

    @abc.abstractmethod
    def client(self, replies: list[Any]) -> Any:
        """A scripted model client that answers with ``replies`` in order."""

    @abc.abstractmethod
    def tool_call(self, name: str, arguments: str, call_id: str) -> Any:
        """A model reply that asks for one tool call."""


class AutogenKit(Kit):
    name = "autogen"

    def __init__(self) -> None:
        import logging

        from autogen_agentchat.agents import AssistantAgent
        from autogen_agentchat.conditions import MaxMessageTermination
        from autogen_agentchat.teams import RoundRobinGroupChat, Swarm
        from autogen_core import FunctionCall
        from autogen_core.model_context import BufferedChatCompletionContext
        from autogen_core.models import CreateResult, RequestUsage
        from autogen_ext.models.replay import ReplayChatCompletionClient

        # The replay client warns on every tool-call message; the framework's INFO events
        # are dropped anyway. Silence both as the published baseline did.
        for logger in ("autogen_core", "autogen_agentchat", "autogen_ext"):
            logging.getLogger(logger).setLevel(logging.ERROR)
        self.AssistantAgent = AssistantAgent
        self.RoundRobinGroupChat = RoundRobinGroupChat
        self.Swarm = Swarm
        self.MaxMessageTermination = MaxMessageTermination
        self.BufferedChatCompletionContext = BufferedChatCompletionContext
        self._replay = ReplayChatCompletionClient
        self._call = FunctionCall
        self._result = CreateResult
        self._usage = RequestUsage

    def client(self, replies: list[Any]) -> Any:
        return self._replay(replies, model_info=TOOL_MODEL_INFO)

    def tool_call(self, name: str, arguments: str, call_id: str) -> Any:
        return self._result(
            finish_reason="function_calls",
            content=[self._call(id=call_id, name=name, arguments=arguments)],
            usage=self._usage(prompt_tokens=0, completion_tokens=0),
            cached=False,
        )


class RuntimeKit(Kit):
    name = "runtime"

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT))
        import runtime
        from runtime.testing import ScriptedModelClient

        self.AssistantAgent = runtime.AssistantAgent
        self.RoundRobinGroupChat = runtime.RoundRobinGroupChat
        self.Swarm = getattr(runtime, "Swarm", None)
        self.MaxMessageTermination = runtime.MaxMessageTermination
        self.BufferedChatCompletionContext = runtime.BufferedChatCompletionContext
        self._scripted = ScriptedModelClient
        self._call = runtime.FunctionCall
        self._result = runtime.CreateResult

    def client(self, replies: list[Any]) -> Any:
        return self._scripted(replies, model_info=dict(TOOL_MODEL_INFO))

    def tool_call(self, name: str, arguments: str, call_id: str) -> Any:
        return self._result(
            finish_reason="function_calls",
            content=[self._call(id=call_id, name=name, arguments=arguments)],
        )


# --------------------------------------------------------------------------------------
# Workloads (run inside a child process). Each returns a dict of measurements.
# --------------------------------------------------------------------------------------


def round_robin_team(
    kit: Kit, messages: int, agents: int = 4, buffer_size: int | None = None
) -> Any:
    per_agent = messages // agents + 2
    options: dict[str, Any] = {}
    participants = []
    for i in range(agents):
        if buffer_size is not None:
            options["model_context"] = kit.BufferedChatCompletionContext(buffer_size=buffer_size)
        participants.append(
            kit.AssistantAgent(
                f"agent_{i}",
                kit.client([f"Reply {n} from agent {i}." for n in range(per_agent)]),
                system_message="You are one of several agents taking turns.",
                **options,
            )
        )
    # The task message counts as one message, as in AutoGen.
    return kit.RoundRobinGroupChat(
        participants, termination_condition=kit.MaxMessageTermination(messages + 1)
    )


async def run_round_robin(
    kit: Kit, messages: int, buffer_size: int | None = None
) -> dict[str, Any]:
    team = round_robin_team(kit, messages, buffer_size=buffer_size)
    started = time.perf_counter()
    result = await team.run(task="Start the discussion.")
    seconds = time.perf_counter() - started
    produced = sum(1 for m in result.messages if type(m).__name__ == "TextMessage") - 1
    assert produced == messages, f"expected {messages} agent messages, got {produced}"
    return {"seconds": seconds, "items": messages}


async def workload_a(kit: Kit) -> dict[str, Any]:
    return await run_round_robin(kit, 1000)


async def workload_a_plus(kit: Kit) -> dict[str, Any]:
    return await run_round_robin(kit, 4000)


async def workload_g(kit: Kit) -> dict[str, Any]:
    return await run_round_robin(kit, 4000, buffer_size=5)


async def workload_b(kit: Kit) -> dict[str, Any]:
    handoffs = 300
    names = ["alice", "bob", "carol"]
    scripts: dict[str, list[Any]] = {name: [] for name in names}
    for n in range(handoffs):
        speaker = names[n % 3]
        target = names[(n + 1) % 3]
        scripts[speaker].append(kit.tool_call(f"transfer_to_{target}", "{}", f"call_{n}"))
    agents = [
        kit.AssistantAgent(
            name,
            kit.client(scripts[name] + ["spare reply"]),
            handoffs=[other for other in names if other != name],
        )
        for name in names
    ]
    team = kit.Swarm(agents, termination_condition=kit.MaxMessageTermination(handoffs + 1))
    started = time.perf_counter()
    result = await team.run(task="Pass it around.")
    seconds = time.perf_counter() - started
    done = sum(1 for m in result.messages if type(m).__name__ == "HandoffMessage")
    assert done == handoffs, f"expected {handoffs} handoffs, got {done}"
    return {"seconds": seconds, "items": handoffs}


async def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


async def workload_c(kit: Kit) -> dict[str, Any]:
    trips = 200
    replies: list[Any] = [
        kit.tool_call("lookup", json.dumps({"key": f"k{n}"}), f"call_{n}") for n in range(trips)
    ]
    replies.append("All looked up.")
    agent = kit.AssistantAgent(
        "worker", kit.client(replies), tools=[lookup], max_tool_iterations=trips + 1
    )
    started = time.perf_counter()
    result = await agent.run(task="Look up every key.")
    seconds = time.perf_counter() - started
    executed = sum(1 for m in result.messages if type(m).__name__ == "ToolCallExecutionEvent")
    assert executed == trips, f"expected {trips} tool round trips, got {executed}"
    return {"seconds": seconds, "items": trips}


async def workload_d(kit: Kit) -> dict[str, Any]:
    messages = 1000
    team = round_robin_team(kit, messages)
    await team.run(task="Start the discussion.")
    started = time.perf_counter()
    state = await team.save_state()
    text = json.dumps(state)
    save_seconds = time.perf_counter() - started
    fresh = round_robin_team(kit, messages)
    started = time.perf_counter()
    await fresh.load_state(json.loads(text))
    load_seconds = time.perf_counter() - started
    return {
        "seconds": save_seconds + load_seconds,
        "items": 1,
        "save_ms": save_seconds * 1000,
        "load_ms": load_seconds * 1000,
        "bytes": len(text.encode()),
    }


async def workload_f(kit: Kit) -> dict[str, Any]:
    teams = [round_robin_team(kit, 100) for _ in range(50)]
    started = time.perf_counter()
    results = await asyncio.gather(*(team.run(task="Go.") for team in teams))
    seconds = time.perf_counter() - started
    for result in results:
        produced = sum(1 for m in result.messages if type(m).__name__ == "TextMessage") - 1
        assert produced == 100, f"expected 100 agent messages per team, got {produced}"
    return {"seconds": seconds, "items": 50 * 100}


WORKLOAD_FUNCTIONS: dict[str, Callable[[Kit], Coroutine[Any, Any, dict[str, Any]]]] = {
    "a": workload_a,
    "a+": workload_a_plus,
    "b": workload_b,
    "c": workload_c,
    "d": workload_d,
    "f": workload_f,
    "g": workload_g,
}


def run_child(framework: str, workload: str) -> None:
    kit: Kit = AutogenKit() if framework == "autogen" else RuntimeKit()
    measured = asyncio.run(WORKLOAD_FUNCTIONS[workload](kit))
    # ru_maxrss is in KiB on Linux.
    measured["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.write(json.dumps(measured) + "\n")


# --------------------------------------------------------------------------------------
# The parent: set up AutoGen's virtualenv, run children alternately, print the table.
# --------------------------------------------------------------------------------------


def ensure_venv(folder: Path, requirements: Path) -> Path:
    """Create a bench virtualenv and install its pinned requirements once (re-done on change)."""
    python = folder / "bin" / "python"
    marker = folder / ".requirements-sha256"
    wanted = hashlib.sha256(requirements.read_bytes()).hexdigest()
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    if not python.exists():
        sys.stderr.write(f"creating {folder.relative_to(ROOT)} ...\n")
        venv.EnvBuilder(with_pip=True).create(folder)
    sys.stderr.write(f"installing {requirements.relative_to(ROOT)} (takes a minute) ...\n")
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    marker.write_text(wanted)
    return python


def ensure_autogen_venv() -> Path:
    """bench/.autogen-venv with autogen-agentchat 0.7.5."""
    return ensure_venv(AUTOGEN_VENV, REQUIREMENTS)


def our_python() -> Path:
    candidate = ROOT / ".venv" / "bin" / "python"
    return candidate if candidate.exists() else Path(sys.executable)


def measure(python: Path, framework: str, workload: str) -> dict[str, Any]:
    completed = subprocess.run(
        [str(python), str(Path(__file__).resolve()), "--child", framework, workload],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if completed.returncode != 0:
        raise SystemExit(f"{framework} failed on workload {workload}:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


@dataclass
class Row:
    workload: str
    runtime: list[dict[str, Any]]
    autogen: list[dict[str, Any]]

    def median(self, side: str, key: str) -> float:
        return statistics.median(run[key] for run in getattr(self, side))

    def per_item_ms(self, side: str) -> float:
        return statistics.median(
            run["seconds"] * 1000 / run["items"] for run in getattr(self, side)
        )


def collect(runs: int, workloads: list[str]) -> dict[str, Row]:
    autogen_python = ensure_autogen_venv()
    ours = our_python()
    rows: dict[str, Row] = {}
    for workload in workloads:
        row = Row(workload, [], [])
        count = max(3, runs - 2) if workload in ("a+", "g") else runs
        for index in range(count):
            # Alternate which side goes first so neither always gets the warmer machine.
            order = [("runtime", ours), ("autogen", autogen_python)]
            if index % 2:
                order.reverse()
            for framework, python in order:
                getattr(row, framework).append(measure(python, framework, workload))
            sys.stderr.write(f"  {workload}: run {index + 1}/{count} done\n")
        rows[workload] = row
    return rows


LABELS = {
    "a": "(a) RoundRobin 4 agents, 1,000 msgs",
    "a+": "(a+) RoundRobin 4 agents, 4,000 msgs",
    "b": "(b) Swarm 3 agents, 300 handoffs",
    "c": "(c) 1 agent, 200 tool round trips",
    "d": "(d) save+load state after (a)",
    "f": "(f) 50 teams x 100 msgs, concurrent",
    "g": "(g) RoundRobin 4, Buffered(5), 4k msgs",
}
UNITS = {
    "a": "ms/msg",
    "a+": "ms/msg",
    "b": "ms/handoff",
    "c": "ms/trip",
    "f": "ms/msg",
    "g": "ms/msg",
}


def verdict(is_met: bool) -> str:
    return "met" if is_met else "MISSED"


def render(rows: dict[str, Row]) -> str:
    header = f"| {'workload':<38} | {'runtime':>18} | {'autogen':>18} | {'ratio':>7} | target |"
    lines = [header, "|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|"]
    for workload, row in rows.items():
        label = LABELS[workload]
        if workload == "d":
            ours_kib = row.median("runtime", "bytes") / 1024
            theirs_kib = row.median("autogen", "bytes") / 1024
            is_small = ours_kib * 3 <= theirs_kib
            lines.append(
                f"| {'(d) state size':<38} | {ours_kib:>14.0f} KiB | {theirs_kib:>14.0f} KiB "
                f"| {theirs_kib / ours_kib:>6.1f}x | <= 1/3: {verdict(is_small)} |"
            )
            for key, name in (("save_ms", "save_state + dumps"), ("load_ms", "loads + load_state")):
                ours_ms, theirs_ms = row.median("runtime", key), row.median("autogen", key)
                lines.append(
                    f"| {'(d) ' + name:<38} | {ours_ms:>15.1f} ms | {theirs_ms:>15.1f} ms "
                    f"| {theirs_ms / ours_ms:>6.1f}x |        |"
                )
            continue
        ours_ms, theirs_ms = row.per_item_ms("runtime"), row.per_item_ms("autogen")
        ratio = theirs_ms / ours_ms
        unit = UNITS[workload]
        target = f">= 10x: {verdict(ratio >= 10)}"
        if workload == "a+" and "a" in rows:
            growth = ours_ms / rows["a"].per_item_ms("runtime")
            target = f"x{growth:.2f} of (a), <= 1.3: {verdict(growth <= 1.3)}"
        lines.append(
            f"| {label:<38} | {ours_ms:>7.4f} {unit:<10} | {theirs_ms:>7.4f} {unit:<10} "
            f"| {ratio:>6.1f}x | {target} |"
        )
        if workload == "f":
            ours_rate = 1000 / ours_ms
            theirs_rate = 1000 / theirs_ms
            lines.append(
                f"| {'(f) throughput':<38} | {ours_rate:>12.0f} msg/s | {theirs_rate:>12.0f} msg/s "
                f"| {ours_rate / theirs_rate:>6.1f}x |        |"
            )
    for workload, row in rows.items():
        ours_rss, theirs_rss = row.median("runtime", "rss_mb"), row.median("autogen", "rss_mb")
        # The target is set on (a); smaller workloads mostly measure interpreter imports.
        target = f"<= half: {verdict(ours_rss * 2 <= theirs_rss)}" if workload == "a" else ""
        lines.append(
            f"| {'peak RSS ' + workload:<38} | {ours_rss:>15.1f} MB | {theirs_rss:>15.1f} MB "
            f"| {theirs_rss / ours_rss:>6.1f}x | {target} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per side and row")
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. a,b,d")
    parser.add_argument(
        "--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        run_child(*args.child)
        return
    workloads = [w.strip() for w in args.only.split(",") if w.strip()]
    unknown = sorted(set(workloads) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {', '.join(WORKLOADS)}")
    rows = collect(args.runs, workloads)
    sys.stdout.write(
        f"Roundtable runtime vs autogen-agentchat 0.7.5, medians of {args.runs} fresh processes "
        "per side (ratio = autogen / runtime, higher is better for the runtime)\n\n"
    )
    sys.stdout.write(render(rows) + "\n")


if __name__ == "__main__":
    main()
