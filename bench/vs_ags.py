"""Roundtable beside AutoGen Studio 0.4.2.2, on the same AutoGen team files, interleaved.

    .venv/bin/python bench/vs_ags.py                          # embedded mode, 10 rounds
    .venv/bin/python bench/vs_ags.py --mode both --rounds 5   # also the distributed mode
    .venv/bin/python bench/vs_ags.py --messages 200           # a quicker pass

The first call creates ``bench/.ags-venv`` (git-ignored) and installs
``bench/requirements-ags.txt`` into it; the team files are written by the AutoGen that
AutoGen Studio ships with (two ``AssistantAgent`` s on ``ReplayChatCompletionClient`` in a
``RoundRobinGroupChat``; for the human rows a ``UserProxyAgent`` and one assistant), then
imported into both stacks: ``POST /api/teams/import`` here, ``POST /api/teams/`` there.

One websocket client (this process) drives both servers the way their own pages do, and
every measurement alternates A B A B. Each row prints both medians, the ratio and the
target:

- first message: from the request that creates the run to the first agent message at
  the watching socket;
- ``POST /api/runs``: the request that creates a run (AutoGen Studio's needs a session,
  made beforehand, as its page does);
- human round trip: an input request at the client to the client seeing its answer
  echoed back;
- throughput: agent messages per second at the client, one run and ten concurrent runs.
"""

from __future__ import annotations

import abc
import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from runtime_vs_autogen import ensure_venv  # noqa: E402
from stream import (  # noqa: E402
    Socket,
    Stack,
    call_api,
    children,
    cpu_seconds,
    free_port,
    fresh_postgres,
    postgres_available,
)

AGS_VENV = BENCH_DIR / ".ags-venv"
AGS_REQUIREMENTS = BENCH_DIR / "requirements-ags.txt"
AGS_USER = "guestuser@gmail.com"
#: the pause before each measurement (see :func:`interleave`)
SETTLE_SECONDS = 1.0
REPLY = "A short reply of a few words."
HUMAN_ANSWER = "Carry on."

#: writes the team files with AutoGen Studio's own AutoGen: argv = kind, size
TEAM_WRITER = """
import json, sys
from autogen_agentchat.agents import AssistantAgent, UserProxyAgent
from autogen_agentchat.conditions import MaxMessageTermination
from autogen_agentchat.teams import RoundRobinGroupChat
from autogen_ext.models.replay import ReplayChatCompletionClient

kind, size = sys.argv[1], int(sys.argv[2])
def assistant(name):
    replies = [REPLY] * (size + 2)
    return AssistantAgent(name, model_client=ReplayChatCompletionClient(replies))
if kind == "talk":
    agents = [assistant("writer"), assistant("critic")]
else:
    agents = [UserProxyAgent("human"), assistant("writer")]
team = RoundRobinGroupChat(agents, termination_condition=MaxMessageTermination(size + 1))
print(team.dump_component().model_dump_json())
""".replace("REPLY", repr(REPLY))

#: target per row: (how the ratio is read, the target)
TARGETS = {
    "first message ms": "<= 30 ms",
    "POST /api/runs ms": "<= 15 ms",
    "human round trip ms": "<= 5 ms",
    "1 run msgs/s": ">= 20x",
    "10 runs msgs/s": ">= 20x",
}


def team_file(python: Path, kind: str, size: int) -> dict[str, Any]:
    """A team component written by AutoGen itself."""
    out = subprocess.run(
        [str(python), "-c", TEAM_WRITER, kind, str(size)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


class Client(Socket):
    """The benchmark's websocket client: the stream bench's, able to send text frames."""

    def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        head = bytes([0x81])
        if len(payload) < 126:
            head += bytes([0x80 | len(payload)])
        elif len(payload) < 2**16:
            head += bytes([0x80 | 126]) + len(payload).to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + len(payload).to_bytes(8, "big")
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.writer.write(head + mask + masked)

    async def frames(self) -> Any:
        """Decoded frames until the server closes."""
        while True:
            text = await self.receive()
            if text is None:
                return
            yield json.loads(text)


# --------------------------------------------------------------------------------------
# The two stacks behind one surface
# --------------------------------------------------------------------------------------


class Side(abc.ABC):
    """A server that imports team files, creates runs and streams them to a client."""

    name = ""

    @abc.abstractmethod
    def start(self, files: dict[str, dict[str, Any]]) -> None:
        """Start the server and import the team files."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the server."""

    @abc.abstractmethod
    async def create_run(self, team: str) -> Any:
        """Create a run of a team; what :meth:`stream` needs to follow it."""

    @abc.abstractmethod
    async def open(self, run: Any) -> Client:
        """The run's socket, the run started if the server waits for that."""

    @abc.abstractmethod
    def translate(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        """A server frame as ``{"kind": input|message|echo|end, ...}``, or None to skip."""

    @abc.abstractmethod
    def answer(self, client: Client, request_id: str) -> None:
        """Answer an input request on the run's socket."""

    async def stream(self, run: Any, on_frame: Callable[[Client, dict[str, Any]], bool]) -> None:
        """Feed the run's frames to ``on_frame`` until it says to stop."""
        client = await self.open(run)
        try:
            async for frame in client.frames():
                translated = self.translate(frame)
                if translated is not None and on_frame(client, translated):
                    return
        finally:
            client.close()


class Ours(Side):
    """Roundtable: daphne (plus Redis and a Celery worker in the distributed mode)."""

    def __init__(self, mode: str, work: Path, postgres_url: str = "") -> None:
        self.name = f"roundtable {mode}"
        # Each mode on a database of its own: PostgreSQL at postgres_url, else SQLite.
        database = "postgres" if postgres_url else "sqlite"
        # The distributed mode as make run-distributed starts it: a worker per core.
        workers = (os.cpu_count() or 1) if mode == "distributed" else 1
        self.stack = Stack(mode, database, postgres_url, work, workers=workers)
        self.teams: dict[str, int] = {}

    def start(self, files: dict[str, dict[str, Any]]) -> None:
        self.stack.work.mkdir(parents=True, exist_ok=True)
        if self.stack.postgres_url:
            fresh_postgres(self.stack.postgres_url)
        self.stack.start([])
        for key, component in files.items():
            report = self.stack.api("POST", "/api/teams/import", component)
            imported = [
                item
                for item in report["items"]
                if item["kind"] == "team" and item["status"] == "imported"
            ]
            if not imported:
                raise RuntimeError(f"importing {key} failed: {report}")
            self.teams[key] = int(imported[-1]["id"])

    def stop(self) -> None:
        self.stack.stop()

    def cpu(self) -> dict[str, float]:
        """CPU seconds each of the stack's processes used so far: the server, its run
        host processes (embedded mode) and the workers with their children (distributed)."""
        used: dict[str, float] = {}
        processes = self.stack.processes
        server = processes["server"].pid
        used["server"] = cpu_seconds(server)
        hosts = children(server)
        if hosts:
            used["run host"] = sum(cpu_seconds(pid) for pid in hosts)
        workers = [process.pid for name, process in processes.items() if name.startswith("worker")]
        if workers:
            pids = [pid for worker in workers for pid in [worker, *children(worker)]]
            used["worker"] = sum(cpu_seconds(pid) for pid in pids)
        return used

    async def create_run(self, team: str) -> Any:
        body = {"team": self.teams[team], "task": "Go"}
        run = await asyncio.to_thread(self.stack.api, "POST", "/api/runs", body)
        return int(run["id"])

    async def open(self, run: Any) -> Client:
        return await Client.open(self.stack.port, f"/ws/runs/{run}/?after=0", self.stack.token)

    def translate(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        kind, data = frame.get("type"), frame.get("data") or {}
        if frame.get("seq") is None:
            return None
        if kind == "input.requested":
            return {"kind": "input", "request_id": data["request_id"]}
        if kind == "message" and frame.get("source") not in ("", "user"):
            return {"kind": "message", "content": data["content"]}
        if kind == "input.provided":
            return {"kind": "echo", "content": data["content"]}
        if kind == "run.finished":
            return {"kind": "end"}
        return None

    def answer(self, client: Client, request_id: str) -> None:
        client.send_text(
            json.dumps({"type": "input", "request_id": request_id, "content": HUMAN_ANSWER})
        )


class Studio(Side):
    """AutoGen Studio 0.4.2.2 (``autogenstudio ui``) in its own virtualenv and folder."""

    name = "autogen studio"

    def __init__(self, python: Path, work: Path) -> None:
        self.python, self.work = python, work
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.components: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, int] = {}

    def start(self, files: dict[str, dict[str, Any]]) -> None:
        log = (self.work / "ags.log").open("wb")
        command = [
            str(self.python.parent / "autogenstudio"),
            "ui",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--appdir",
            str(self.work / "ags"),
        ]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.api("GET", f"/api/teams/?user_id={AGS_USER}")
                break
            except OSError as exc:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = self.work / "ags.log"
                    raise RuntimeError(f"AutoGen Studio did not start; see {log}") from exc
                time.sleep(0.3)
        for key, component in files.items():
            team = self.api("POST", "/api/teams/", {"user_id": AGS_USER, "component": component})
            team_id = team["data"]["id"]
            session = self.api(
                "POST",
                "/api/sessions/",
                {"user_id": AGS_USER, "team_id": team_id, "name": key},
            )
            self.sessions[key] = session["data"]["id"]
            self.components[key] = component

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """One request to AutoGen Studio's API (no login: it runs without auth)."""
        return call_api(f"http://127.0.0.1:{self.port}", "", method, path, body)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    async def create_run(self, team: str) -> Any:
        body = {"session_id": self.sessions[team], "user_id": AGS_USER}
        run = await asyncio.to_thread(self.api, "POST", "/api/runs/", body)
        return (team, int(run["data"]["run_id"]))

    async def open(self, run: Any) -> Client:
        team, run_id = run
        client = await Client.open(self.port, f"/api/ws/runs/{run_id}", "")
        start = {"type": "start", "task": "Go", "team_config": self.components[team]}
        client.send_text(json.dumps(start))
        return client

    def translate(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        kind, data = frame.get("type"), frame.get("data") or {}
        if kind == "input_request":
            return {"kind": "input", "request_id": ""}
        if kind == "message" and data.get("source") not in (None, "user"):
            said = "echo" if data.get("source") == "human" else "message"
            return {"kind": said, "content": data.get("content")}
        if kind in ("result", "completion", "error"):
            if kind == "error" or frame.get("status") == "error":
                raise RuntimeError(f"AutoGen Studio run failed: {frame}")
            return {"kind": "end"}
        return None

    def answer(self, client: Client, request_id: str) -> None:
        client.send_text(json.dumps({"type": "input_response", "response": HUMAN_ANSWER}))


# --------------------------------------------------------------------------------------
# Measurements: each returns one number for one side
# --------------------------------------------------------------------------------------


async def first_message_ms(side: Side) -> float:
    started = time.perf_counter()
    run = await side.create_run("talk")
    first: list[float] = []

    def on_frame(client: Client, frame: dict[str, Any]) -> bool:
        if frame["kind"] == "message" and not first:
            first.append(time.perf_counter())
        return frame["kind"] == "end"

    await side.stream(run, on_frame)
    return (first[0] - started) * 1000


async def create_run_ms(side: Side) -> float:
    started = time.perf_counter()
    run = await side.create_run("short")
    elapsed = (time.perf_counter() - started) * 1000
    await side.stream(run, lambda client, frame: frame["kind"] == "end")
    return elapsed


async def human_round_trip_ms(side: Side) -> float:
    run = await side.create_run("human")
    asked: list[float] = []
    trips: list[float] = []

    def on_frame(client: Client, frame: dict[str, Any]) -> bool:
        if frame["kind"] == "input":
            asked.append(time.perf_counter())
            side.answer(client, frame["request_id"])
        elif frame["kind"] == "echo" and len(trips) < len(asked):
            trips.append((time.perf_counter() - asked[len(trips)]) * 1000)
        return frame["kind"] == "end"

    await side.stream(run, on_frame)
    if not trips:
        raise RuntimeError(f"{side.name}: no answer came back")
    return statistics.median(trips)


async def throughput(
    side: Side, team: str, runs: int, cpu: list[dict[str, float]] | None = None
) -> float:
    """Agent messages per second at the client; with ``cpu``, also appends the CPU time
    per message (µs) each of our processes used meanwhile."""
    watched = side if cpu is not None and isinstance(side, Ours) else None
    before = watched.cpu() if watched is not None else {}
    started = time.perf_counter()
    created = await asyncio.gather(*(side.create_run(team) for _ in range(runs)))
    counts = [0] * runs
    ends = [0.0] * runs

    def counter(index: int) -> Callable[[Client, dict[str, Any]], bool]:
        def on_frame(client: Client, frame: dict[str, Any]) -> bool:
            if frame["kind"] == "message":
                counts[index] += 1
                ends[index] = time.perf_counter()
            return frame["kind"] == "end"

        return on_frame

    await asyncio.gather(*(side.stream(run, counter(i)) for i, run in enumerate(created)))
    if watched is not None and cpu is not None:
        after = watched.cpu()
        cpu.append(
            {name: (after[name] - used) * 1e6 / sum(counts) for name, used in before.items()}
        )
    return sum(counts) / (max(ends) - started)


# --------------------------------------------------------------------------------------


def interleave(
    sides: list[Side],
    rounds: int,
    measure: Callable[[Side], Awaitable[float]],
    settle: float = SETTLE_SECONDS,
) -> dict[str, float]:
    """Medians per side, measuring the sides in turn, one round after another.

    Each measurement starts ``settle`` seconds after the last one ended: a server still
    finishing the run it just streamed (saving it, collecting its garbage) would
    otherwise slow whichever side comes next on a 2-core machine.
    """
    values: dict[str, list[float]] = {side.name: [] for side in sides}

    async def all_rounds() -> None:
        for _ in range(rounds):
            for side in sides:
                await asyncio.sleep(settle)
                values[side.name].append(await measure(side))

    asyncio.run(all_rounds())
    return {name: statistics.median(found) for name, found in values.items()}


#: the short names ``--rows`` takes
ROW_KEYS = {
    "first": "first message ms",
    "post": "POST /api/runs ms",
    "human": "human round trip ms",
    "one": "1 run msgs/s",
    "ten": "10 runs msgs/s",
}


def ratio(row: str, ours: float, theirs: float) -> str:
    """How many times better we are (higher is better for us)."""
    better = ours / theirs if row.endswith("msgs/s") else theirs / ours
    return f"{better:.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "distributed", "both"], default="embedded")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--messages", type=int, default=1000, help="messages of the long run")
    parser.add_argument(
        "--ten-messages",
        type=int,
        default=0,
        help="messages of each of the ten concurrent runs (default: a tenth of --messages)",
    )
    parser.add_argument("--keep", action="store_true", help="keep logs and databases")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="also print the CPU time per message of our processes in the throughput rows",
    )
    parser.add_argument(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="our side's database (AutoGen Studio keeps its own SQLite)",
    )
    parser.add_argument(
        "--postgres-url",
        default="postgresql://postgres@127.0.0.1:5432/roundtable_vs_ags",
        help="a scratch database per mode is made beside this one (_embedded, _distributed)",
    )
    parser.add_argument(
        "--rows",
        default=",".join(ROW_KEYS),
        help=f"comma-separated rows to measure, of {', '.join(ROW_KEYS)}",
    )
    args = parser.parse_args()
    unknown = set(args.rows.split(",")) - set(ROW_KEYS)
    if unknown:
        parser.error(f"unknown rows: {', '.join(sorted(unknown))}")
    if args.database == "postgres" and not postgres_available(args.postgres_url):
        parser.error("PostgreSQL is not reachable at --postgres-url.")

    python = ensure_venv(AGS_VENV, AGS_REQUIREMENTS)
    files = {
        "talk": team_file(python, "talk", args.messages),
        "ten": team_file(python, "talk", args.ten_messages or max(args.messages // 10, 10)),
        "short": team_file(python, "talk", 2),
        "human": team_file(python, "human", 20),
    }
    work = Path(tempfile.mkdtemp(prefix="rt-vs-ags-"))
    modes = ["embedded", "distributed"] if args.mode == "both" else [args.mode]
    urls = {
        mode: f"{args.postgres_url}_{mode}" if args.database == "postgres" else "" for mode in modes
    }
    ours = [Ours(mode, work / mode, urls[mode]) for mode in modes]
    studio = Studio(python, work)
    sides: list[Side] = [*ours, studio]
    try:
        for side in sides:
            print(f"… starting {side.name} (logs in {work})", file=sys.stderr)
            side.start(files)
        #: row -> side -> CPU per message of each process, one dict per round
        cpu: dict[str, dict[str, list[dict[str, float]]]] = {
            row: {side.name: [] for side in ours} for row in ("1 run msgs/s", "10 runs msgs/s")
        }

        def cpu_log(row: str, side: Side) -> list[dict[str, float]] | None:
            return cpu[row].get(side.name) if args.cpu else None

        rows = {
            "first message ms": first_message_ms,
            "POST /api/runs ms": create_run_ms,
            "human round trip ms": human_round_trip_ms,
            "1 run msgs/s": lambda side: throughput(side, "talk", 1, cpu_log("1 run msgs/s", side)),
            "10 runs msgs/s": lambda side: throughput(
                side, "ten", 10, cpu_log("10 runs msgs/s", side)
            ),
        }
        chosen = {ROW_KEYS[key] for key in args.rows.split(",")}
        results = {}
        for row, measure in rows.items():
            if row not in chosen:
                continue
            print(f"… {row}", file=sys.stderr)
            results[row] = interleave(sides, args.rounds, measure)
    finally:
        for side in sides:
            side.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    header = ["row", *(side.name for side in sides), *(f"ratio {o.name}" for o in ours)]
    header.append("target")
    table = [header]
    for row, medians in results.items():
        line = [row, *(f"{medians[side.name]:,.1f}" for side in sides)]
        line += [ratio(row, medians[o.name], medians[studio.name]) for o in ours]
        line.append(TARGETS[row])
        table.append(line)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print(
        f"medians of {args.rounds} interleaved rounds, ours on {args.database}; "
        "ratio = how many times better"
    )
    for index, line in enumerate(table):
        print(" | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
        if index == 0:
            print("-|-".join("-" * width for width in widths))
    if args.cpu:
        print_cpu(cpu)


def print_cpu(cpu: dict[str, dict[str, list[dict[str, float]]]]) -> None:
    """Medians over the rounds of each process's CPU time per agent message."""
    print("\nCPU time per agent message, µs (medians of the rounds; from /proc):")
    for row, by_side in cpu.items():
        for name, rounds in by_side.items():
            if rounds:
                each = " ".join(
                    f"{process} {statistics.median(one[process] for one in rounds):,.0f}"
                    for process in rounds[0]
                )
                print(f"  {row}, {name}: {each}")


if __name__ == "__main__":
    main()
