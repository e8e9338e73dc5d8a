"""What a checkpoint after every turn costs, early and late in a long run.

    .venv/bin/python bench/checkpoints.py                     # 1,000 and 4,000 messages
    .venv/bin/python bench/checkpoints.py --messages 1000 --buffer 5
    .venv/bin/python bench/checkpoints.py --messages 100 --agents 5

Runs a RoundRobinGroupChat of scripted AssistantAgents (two unless ``--agents``)
in-process with a sink that, after every completed turn, does what a run's sink does:
``team.save_state(shared=True)`` and ``CheckpointChain.encode`` (a full snapshot or a
delta against the previous checkpoint). Prints the checkpoint cost per turn in windows of
the run (turns 1-100, 51-150, the last 100), the total, the bytes written and how many
checkpoints were full.
At the end the last checkpoint is rebuilt from its full snapshot and deltas and compared
with the team's state, so a fast but wrong encoding does not pass unnoticed.
Target: the cost per turn of the last 100 turns within 1.5x of turns 51-150.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WINDOW = 100


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, action="append", help="Agent messages per run.")
    parser.add_argument("--buffer", type=int, help="BufferedChatCompletionContext size.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs per size; medians shown.")
    parser.add_argument("--agents", type=int, default=2, help="Agents taking turns.")
    return parser.parse_args()


def set_up_django(folder: str) -> None:
    """Settings good enough to import the checkpoint code; no database is touched."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    os.environ["DATA_DIR"] = folder
    os.environ["DATABASE_URL"] = f"sqlite:///{Path(folder) / 'unused.sqlite3'}"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    import django

    django.setup()


def build_team(messages: int, buffer: int | None, size: int) -> Any:
    import runtime
    from runtime.testing import ScriptedModelClient

    agents = []
    for index in range(size):
        replies = [f"Reply {n} from agent {index}, with a few words." for n in range(messages)]
        options: dict[str, Any] = {}
        if buffer is not None:
            options["model_context"] = runtime.BufferedChatCompletionContext(buffer_size=buffer)
        agents.append(
            runtime.AssistantAgent(
                f"agent_{index}",
                ScriptedModelClient(replies),
                system_message="You take turns with another agent.",
                **options,
            )
        )
    # The task counts as one message.
    condition = runtime.MaxMessageTermination(messages + 1)
    return runtime.RoundRobinGroupChat(agents, termination_condition=condition)


def make_sink(team: Any) -> Any:
    from runtime import EventSink
    from studio.runs.checkpoints import CheckpointChain

    # Before save_state(shared=True) the sink saved with fresh lists: measure older
    # commits the way their sink worked.
    shares = "shared" in inspect.signature(team.save_state).parameters

    class CheckpointingSink(EventSink):
        """Counts seqs and checkpoints after every turn, as studio's RunSink does."""

        def __init__(self) -> None:
            self.seq = 0
            self.chain = CheckpointChain()
            self.costs: list[float] = []
            self.save_costs: list[float] = []
            self.written: list[Any] = []
            self.state: Any = None

        async def emit(self, item: Any) -> None:
            self.seq += 1

        async def turn_completed(self, speaker: str) -> None:
            started = time.perf_counter()
            state = await (team.save_state(shared=True) if shares else team.save_state())
            self.save_costs.append(time.perf_counter() - started)
            encoded = self.chain.encode(self.seq, state, handed_over=True)
            self.costs.append(time.perf_counter() - started)
            self.written.append(encoded)
            self.state = state

    return CheckpointingSink()


def rebuild_last(written: list[Any]) -> Any:
    """The last checkpoint's state, from its full snapshot and the deltas after it."""
    from studio.runs.deltas import apply_delta
    from studio.runs.models import CheckpointKind

    start = max(i for i, item in enumerate(written) if item.kind == CheckpointKind.FULL)
    state = json.loads(written[start].state_json)
    for item in written[start + 1 :]:
        state = apply_delta(state, json.loads(item.state_json))
    return state


def mean_us(costs: list[float], start: int, end: int) -> float:
    window = costs[max(start, 0) : end]
    return sum(window) / len(window) * 1e6


async def measure(messages: int, buffer: int | None, size: int) -> dict[str, Any]:
    from studio.runs.models import CheckpointKind

    team = build_team(messages, buffer, size)
    sink = make_sink(team)
    started = time.perf_counter()
    await team.run(task="Start the discussion.", sink=sink)
    run_seconds = time.perf_counter() - started
    costs = sink.costs
    assert len(costs) == messages, f"expected {messages} checkpoints, got {len(costs)}"
    rebuilt = rebuild_last(sink.written)
    expected = json.loads(json.dumps(sink.state))
    assert rebuilt == expected, "the last checkpoint does not rebuild the team's state"
    return {
        "first": mean_us(costs, 0, WINDOW),
        "at_100": mean_us(costs, WINDOW // 2, WINDOW + WINDOW // 2),
        "last": mean_us(costs, len(costs) - WINDOW, len(costs)),
        "last_save": mean_us(sink.save_costs, len(costs) - WINDOW, len(costs)),
        "total_ms": sum(costs) * 1000,
        "run_ms": run_seconds * 1000,
        "bytes": sum(len(item.state_json) for item in sink.written),
        "full": sum(1 for item in sink.written if item.kind == CheckpointKind.FULL),
        "state_bytes": len(json.dumps(sink.state, separators=(",", ":"))),
    }


def main() -> None:
    args = parse_args()
    sizes = args.messages or [1000, 4000]
    with tempfile.TemporaryDirectory(prefix="roundtable-checkpoints-") as folder:
        set_up_django(folder)
        context = f"BufferedChatCompletionContext({args.buffer})" if args.buffer else "unbounded"
        load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
        print(
            f"{args.agents} scripted assistants, round robin, {context} contexts, "
            f"medians of {args.repeat}"
        )
        print(f"load average before: {load} (wall-clock timings: measure on a quiet machine)")
        print()
        columns = [
            "messages",
            "µs/turn 1-100",
            "µs/turn 51-150",
            "µs/turn last 100",
            "last / 51-150",
            "save_state µs, last 100",
            "checkpoints ms",
            "run ms",
            "bytes written",
            "full",
            "last state bytes",
        ]
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for messages in sizes:
            runs = [
                asyncio.run(measure(messages, args.buffer, args.agents)) for _ in range(args.repeat)
            ]

            def median(key: str, runs: list[dict[str, Any]] = runs) -> float:
                return statistics.median(run[key] for run in runs)

            print(
                f"| {messages:,} | {median('first'):.1f} | {median('at_100'):.1f} "
                f"| {median('last'):.1f} | {median('last') / median('at_100'):.2f}x "
                f"| {median('last_save'):.1f} | {median('total_ms'):.1f} | {median('run_ms'):.1f} "
                f"| {int(median('bytes')):,} | {int(median('full'))} "
                f"| {int(median('state_bytes')):,} |"
            )


if __name__ == "__main__":
    main()
