"""Latency and scale of the run path, each target printed beside what was measured.

    .venv/bin/python bench/scale.py                                # both backends, SQLite
    .venv/bin/python bench/scale.py --backend distributed --database postgres
    .venv/bin/python bench/scale.py --rows first,close,capacity    # some rows only
    .venv/bin/python bench/scale.py --quick                        # smaller workloads

Starts a real daphne (and for the distributed backend a redis-server and a Celery worker
started with the documented command, `celery -A studio worker`, nothing added) on a
scratch database, with scripted teams, and measures:

  post       POST /api/runs latency, alone and while ten runs stream
  first      POST sent -> the run's first message at a watching websocket
  lag        the server's responsiveness (websocket ping -> pong) while a busy run executes
  human      an answer sent over the websocket -> its input.provided event back
  throughput messages per second of one 1,000-message run, and of 10 at once
  fanout     200 websockets watching one run: latency p95 and events missed
  close      a client's close frame -> the server's close frame
  capacity   500 runs at 1 s model latency in one worker process: time against the ideal,
             database connections and memory per run (distributed only)
  memory     the embedded server's RSS (with its run host processes) over 100,000 messages
             served (embedded only)

Every row is a function of a :class:`Target` (a server's base URL and an API token) and
team ids, so other scripts can point them at any server; only ``capacity`` and ``memory``
need the :class:`~stream.Stack` itself, to watch its processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stream import (
    WORKER_APP,
    Socket,
    Stack,
    call_api,
    children,
    cpu_seconds,
    fresh_postgres,
    postgres_available,
    rss_mib,
)

# --- a server under test ---


@dataclass
class Target:
    """A Roundtable server: its base URL and an API token of a user who owns the teams."""

    base_url: str
    token: str

    @property
    def port(self) -> int:
        return int(urlsplit(self.base_url).port or 80)

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return call_api(self.base_url, self.token, method, path, body)

    async def start_run(self, team_id: int, task: str = "Go") -> int:
        run = await asyncio.to_thread(
            self.api, "POST", "/api/runs", {"team": team_id, "task": task}
        )
        return int(run["id"])

    async def socket(self, run_id: int, after: int = 0) -> Socket:
        return await Socket.open(self.port, f"/ws/runs/{run_id}/?after={after}", self.token)


def at_seconds(event: dict[str, Any]) -> float:
    """An event's creation time as a Unix timestamp."""
    return datetime.fromisoformat(event["at"].replace("Z", "+00:00")).timestamp()


async def frames(socket_: Socket) -> Any:
    """Decoded frames until the server closes the socket."""
    while True:
        text = await socket_.receive()
        if text is None:
            return
        yield json.loads(text)


async def watch_to_end(target: Target, run_id: int) -> tuple[int, float]:
    """Follow a run to its end: (message events seen, time.monotonic() of the end)."""
    socket_ = await target.socket(run_id)
    messages = 0
    try:
        async for frame in frames(socket_):
            if frame.get("type") == "message":
                messages += 1
            elif frame.get("type") == "run.finished":
                if frame["data"]["status"] != "completed":
                    raise RuntimeError(f"run {run_id} ended {frame['data']}")
                return messages, time.monotonic()
    finally:
        socket_.close()
    raise RuntimeError(f"run {run_id}: the socket closed before the run finished")


# --- the rows ---


async def post_latency(target: Target, team_id: int, samples: int = 30) -> list[float]:
    """Milliseconds each POST /api/runs takes (runs of a short team, one after another)."""
    took = []
    for _ in range(samples):
        started = time.perf_counter()
        await target.start_run(team_id)
        took.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.05)
    return took


async def post_latency_beside_runs(
    target: Target, busy_team_id: int, team_id: int, samples: int = 30
) -> list[float]:
    """Milliseconds each POST /api/runs takes while ten runs of the busy team stream.

    Every run's batches take SQLite's one write lock too, so a start waits for the lock
    as well as for the machine. Rounds of ten busy runs go on until ``samples`` POSTs
    were timed, one every 20 ms.
    """
    took: list[float] = []
    while len(took) < samples:
        busy_ids = await asyncio.gather(*(target.start_run(busy_team_id) for _ in range(10)))
        watching = asyncio.gather(*(watch_to_end(target, run_id) for run_id in busy_ids))
        while not watching.done() and len(took) < samples:
            started = time.perf_counter()
            await target.start_run(team_id)
            took.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.02)
        await watching
    return took


async def first_message(target: Target, team_id: int, samples: int = 20) -> list[float]:
    """Milliseconds from sending POST /api/runs to the first message at a websocket."""
    took = []
    for _ in range(samples):
        started = time.perf_counter()
        run_id = await target.start_run(team_id)
        socket_ = await target.socket(run_id)
        try:
            async for frame in frames(socket_):
                if frame.get("type") == "message":
                    took.append((time.perf_counter() - started) * 1000)
                    break
        finally:
            await socket_.close_handshake()
        await asyncio.sleep(0.1)
    return took


async def ping_round_trips(socket_: Socket, until: asyncio.Event, every: float) -> list[float]:
    """Milliseconds from each ping frame to its pong, until ``until`` is set."""
    took = []
    while not until.is_set():
        started = time.perf_counter()
        socket_.send_text('{"type":"ping"}')
        async for frame in frames(socket_):
            if frame.get("type") == "pong":
                break
        took.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(every)
    return took


async def loop_lag(
    target: Target, busy_team_id: int, quiet_run_id: int, every: float = 0.02
) -> tuple[list[float], list[float]]:
    """Ping -> pong milliseconds on a quiet run's socket: (idle, while a busy run executes).

    The busy run is watched by its own socket, as in the browser; the pings go to another
    run's socket, so they wait only for the server's loop, not behind the busy events.
    """
    probe = await target.socket(quiet_run_id)
    try:
        idle_done = asyncio.Event()
        asyncio.get_running_loop().call_later(1.0, idle_done.set)
        idle = await ping_round_trips(probe, idle_done, every)
        run_id = await target.start_run(busy_team_id)
        busy_done = asyncio.Event()
        watching = asyncio.create_task(watch_to_end(target, run_id))
        watching.add_done_callback(lambda _: busy_done.set())
        busy = await ping_round_trips(probe, busy_done, every)
        await watching
    finally:
        await probe.close_handshake()
    return idle, busy


async def human_round_trip(target: Target, human_team_id: int) -> list[float]:
    """Milliseconds from an answer frame to its ``input.provided`` event, per question."""
    run_id = await target.start_run(human_team_id)
    socket_ = await target.socket(run_id)
    took: list[float] = []
    sent: dict[str, float] = {}
    try:
        async for frame in frames(socket_):
            kind = frame.get("type")
            if kind == "input.requested":
                request_id = frame["data"]["request_id"]
                if request_id in sent:
                    continue
                sent[request_id] = time.perf_counter()
                answer = {"type": "input", "request_id": request_id, "content": "Yes."}
                socket_.send_text(json.dumps(answer))
            elif kind == "input.provided" and frame["data"]["request_id"] in sent:
                took.append((time.perf_counter() - sent[frame["data"]["request_id"]]) * 1000)
            elif kind == "run.finished":
                break
    finally:
        await socket_.close_handshake()
    return took


async def throughput(target: Target, team_id: int, runs: int = 1) -> float:
    """Messages per second of ``runs`` runs started at once, POST to the last end."""
    started = time.monotonic()
    run_ids = await asyncio.gather(*(target.start_run(team_id) for _ in range(runs)))
    results = await asyncio.gather(*(watch_to_end(target, run_id) for run_id in run_ids))
    return sum(count for count, _ in results) / (max(end for _, end in results) - started)


async def fan_out(target: Target, team_id: int, watchers: int = 200) -> tuple[list[float], int]:
    """One paced run watched by ``watchers`` sockets: (latencies in ms, events missed).

    Latency is counted for events created after every socket was open; missed is, over
    all watchers, the seqs up to the run's last that a watcher did not receive.
    """
    run_id = await target.start_run(team_id)
    sockets = await asyncio.gather(*(target.socket(run_id) for _ in range(watchers)))
    ready = time.time()
    last_seq = 0

    async def collect(socket_: Socket) -> tuple[set[int], list[float]]:
        nonlocal last_seq
        seen: set[int] = set()
        late: list[float] = []
        async for frame in frames(socket_):
            seq = frame.get("seq")
            if seq is None:
                continue
            seen.add(seq)
            at = at_seconds(frame)
            if at > ready:
                late.append((time.time() - at) * 1000)
            if frame["type"] == "run.finished":
                last_seq = seq
                break
        return seen, late

    try:
        results = await asyncio.gather(*(collect(socket_) for socket_ in sockets))
    finally:
        for socket_ in sockets:
            socket_.close()
    expected = set(range(1, last_seq + 1))
    missed = sum(len(expected - seen) for seen, _ in results)
    return [value for _, late in results for value in late], missed


async def close_time(target: Target, run_id: int, samples: int = 10) -> list[float]:
    """Milliseconds from a client's close frame to the server's (sockets on ``run_id``)."""
    took = []
    for _ in range(samples):
        socket_ = await target.socket(run_id)
        await socket_.receive()  # the socket relays: a follower is waiting on the run now
        await asyncio.sleep(0.2)
        took.append(await socket_.close_handshake() * 1000)
    return took


# --- rows that watch the stack's processes ---


def database_connections(stack: Stack, pid: int) -> int:
    """Database connections a process (and its children) holds open now."""
    if stack.database == "postgres":
        import psycopg

        with psycopg.connect(stack.env["DATABASE_URL"]) as connection:
            row = connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [WORKER_APP]
            ).fetchone()
            return int(row[0]) if row else 0
    database = (stack.work / "bench.sqlite3").resolve()
    held = 0
    for one in [pid, *children(pid)]:
        for link in Path(f"/proc/{one}/fd").iterdir():
            try:
                held += Path(link).resolve() == database
            except OSError:
                pass
    return held


def peak_overlap(starts: list[float], ends: list[float]) -> int:
    """The most intervals [start, end) open at one moment."""
    moments = sorted([(start, 1) for start in starts] + [(end, -1) for end in ends])
    open_now = peak = 0
    for _, change in moments:
        open_now += change
        peak = max(peak, open_now)
    return peak


def run_rows(stack: Stack, query: str) -> list[tuple[Any, ...]]:
    """Rows of a query on the stack's database (read-only use)."""
    if stack.database == "postgres":
        import psycopg

        with psycopg.connect(stack.env["DATABASE_URL"]) as connection:
            return list(connection.execute(query).fetchall())
    with sqlite3.connect(stack.work / "bench.sqlite3", timeout=30) as connection:
        return list(connection.execute(query).fetchall())


def as_time(value: Any) -> float:
    if isinstance(value, str):
        return datetime.fromisoformat(value).timestamp()
    return float(value.timestamp())


async def capacity(
    stack: Stack, team_id: int, runs: int, ideal: float, starters: int = 16
) -> dict[str, float]:
    """``runs`` runs started together on one worker process; what it took.

    Returns the slowest run's time from its creation to its end, the wall time from the
    first creation to the last end, the most database connections the worker held, and
    its RSS growth per run while all were active.
    """
    target = Target(f"http://127.0.0.1:{stack.port}", stack.token)
    worker = stack.processes["worker"].pid
    rss_before = rss_mib(worker)
    cpu_before = cpu_seconds(worker)
    first_id = run_rows(stack, "SELECT coalesce(max(id), 0) FROM runs_run")[0][0]
    with ThreadPoolExecutor(starters) as pool:
        start = lambda _: target.api("POST", "/api/runs", {"team": team_id, "task": "Go"})  # noqa: E731
        await asyncio.to_thread(lambda: list(pool.map(start, range(runs))))
    peak_connections = peak_rss = 0.0
    deadline = time.monotonic() + 10 * ideal + 120
    done_statuses = "('completed','failed','cancelled','timed_out','budget_exhausted')"
    while time.monotonic() < deadline:
        peak_connections = max(peak_connections, database_connections(stack, worker))
        peak_rss = max(peak_rss, rss_mib(worker))
        (finished,) = run_rows(
            stack,
            f"SELECT count(*) FROM runs_run WHERE id > {first_id} AND status IN {done_statuses}",
        )[0]
        if finished >= runs:
            break
        await asyncio.sleep(0.25)
    rows = run_rows(
        stack,
        f"SELECT status, created_at, started_at, finished_at FROM runs_run WHERE id > {first_id}",
    )
    bad = [row[0] for row in rows if row[0] != "completed"]
    if bad or len(rows) < runs:
        raise RuntimeError(f"{len(bad)} runs did not complete: {bad[:5]}")
    created = [as_time(row[1]) for row in rows]
    started = [as_time(row[2]) for row in rows]
    ended = [as_time(row[3]) for row in rows]
    return {
        "slowest": max(end - begin for begin, end in zip(created, ended, strict=True)),
        "wall": max(ended) - min(created),
        "ideal": ideal,
        "start_p95": sorted(go - begin for begin, go in zip(created, started, strict=True))[
            int(0.95 * runs)
        ],
        "longest_execution": max(end - go for go, end in zip(started, ended, strict=True)),
        "peak_concurrent": peak_overlap(started, ended),
        "connections": peak_connections,
        "rss_per_run_mib": (peak_rss - rss_before) / runs,
        "worker_cpu": cpu_seconds(worker) - cpu_before,
    }


async def memory(
    stack: Stack, team_id: int, total: int, per_run: int, at_once: int = 4
) -> list[tuple[int, float]]:
    """The RSS (MiB) of the server and its run host processes together after each batch
    of runs: [(messages served, RSS)]."""
    target = Target(f"http://127.0.0.1:{stack.port}", stack.token)
    server = stack.processes["server"].pid

    def rss() -> float:
        return rss_mib(server)  # its children, the run hosts, included

    served = 0
    samples = [(0, rss())]
    while served < total:
        run_ids = await asyncio.gather(*(target.start_run(team_id) for _ in range(at_once)))
        results = await asyncio.gather(*(watch_to_end(target, run_id) for run_id in run_ids))
        served += sum(count for count, _ in results)
        samples.append((served, rss()))
    return samples


# --- the table ---


def ms(values: list[float]) -> str:
    """p50 / p95 / max of milliseconds."""
    if not values:
        return "no samples"
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.1f} / p95 {p95:.1f} / max {ordered[-1]:.1f} ms"


@dataclass
class Sizes:
    samples: int
    burst_messages: int
    ten_messages: int
    human_rounds: int
    fanout_watchers: int
    fanout_turns: int
    capacity_runs: int
    capacity_turns: int
    memory_messages: int


def teams_for(sizes: Sizes) -> list[tuple[Any, ...]]:
    return [
        ("tiny", 0.0, 2),
        ("burst", 0.0, sizes.burst_messages),
        ("ten", 0.0, sizes.ten_messages),
        ("human", 0.0, 2 * sizes.human_rounds, "human"),
        ("paced", 0.05, sizes.fanout_turns),
        ("slow", 1.0, sizes.capacity_turns),
        ("memory", 0.0, 1000),
    ]


Row = tuple[str, str, str]


async def measure(stack: Stack, sizes: Sizes, rows: set[str]) -> list[Row]:
    target = Target(f"http://127.0.0.1:{stack.port}", stack.token)
    teams = stack.teams
    table: list[Row] = []
    quiet_run = await target.start_run(teams["tiny"])
    await watch_to_end(target, quiet_run)
    if "post" in rows:
        took = await post_latency(target, teams["tiny"], sizes.samples)
        table.append(("POST /api/runs", "<= 15 ms", ms(took)))
        took = await post_latency_beside_runs(target, teams["ten"], teams["tiny"], sizes.samples)
        table.append(("POST /api/runs beside 10 busy runs", "<= 15 ms", ms(took)))
    if "first" in rows:
        took = await first_message(target, teams["tiny"], sizes.samples)
        table.append(("first message", "<= 30 ms", ms(took)))
    if "lag" in rows:
        idle, busy = await loop_lag(target, teams["burst"], quiet_run)
        table.append(("loop lag (ping) idle", "-", ms(idle)))
        table.append(("loop lag (ping) busy run", "<= 20 ms", ms(busy)))
    if "human" in rows:
        took = await human_round_trip(target, teams["human"])
        table.append(("human round trip", "<= 5 ms", ms(took)))
    if "throughput" in rows:
        one = await throughput(target, teams["burst"])
        table.append(
            (f"1 run x {sizes.burst_messages} msgs", ">= 2,260 msg/s", f"{one:,.0f} msg/s")
        )
        ten = await throughput(target, teams["ten"], 10)
        table.append((f"10 runs x {sizes.ten_messages} msgs", "(20x AGS)", f"{ten:,.0f} msg/s"))
    if "fanout" in rows:
        late, missed = await fan_out(target, teams["paced"], sizes.fanout_watchers)
        table.append((f"{sizes.fanout_watchers} watchers", "p95 <= 250 ms", ms(late)))
        table.append((f"{sizes.fanout_watchers} watchers missed", "0", str(missed)))
    if "close" in rows:
        busy_run = await target.start_run(teams["paced"])
        took = await close_time(target, busy_run, sizes.samples // 2)
        table.append(("close, running run", "<= 100 ms", ms(took)))
        took = await close_time(target, quiet_run, sizes.samples // 2)
        table.append(("close, finished run", "<= 100 ms", ms(took)))
    if "capacity" in rows and stack.backend == "distributed":
        ideal = sizes.capacity_turns * 1.0
        found = await capacity(stack, teams["slow"], sizes.capacity_runs, ideal)
        runs = sizes.capacity_runs
        table.append(
            (
                f"{runs} runs @1 s, 1 worker",
                f"<= {1.2 * ideal:.0f} s",
                f"slowest {found['slowest']:.1f} s, wall {found['wall']:.1f} s "
                f"(ideal {ideal:.0f} s), {found['peak_concurrent']} at once",
            )
        )
        table.append(
            (
                "  start p95 / longest execution",
                "-",
                f"{found['start_p95']:.1f} s / {found['longest_execution']:.1f} s "
                f"(worker CPU {found['worker_cpu']:.1f} s)",
            )
        )
        table.append(("  db connections", "<= 10", f"{found['connections']:.0f}"))
        table.append(("  RSS per run", "<= 2 MB", f"{found['rss_per_run_mib']:.2f} MiB"))
    if "memory" in rows and stack.backend == "embedded":
        samples = await memory(stack, teams["memory"], sizes.memory_messages, 1000)
        warm = next((rss for served, rss in samples if served >= 10_000), samples[-1][1])
        table.append(
            (
                f"server RSS over {samples[-1][0]:,} msgs",
                "flat within 20 MiB",
                f"{samples[0][1]:.0f} -> {warm:.0f} (10k) -> {samples[-1][1]:.0f} MiB "
                f"(peak {max(rss for _, rss in samples):.0f})",
            )
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/roundtable_bench"
    )
    everything = "post,first,lag,human,throughput,fanout,close,capacity,memory"
    parser.add_argument("--rows", default=everything, help=f"comma-separated, of {everything}")
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--keep", action="store_true", help="keep the logs and the database")
    args = parser.parse_args()
    if args.quick:
        sizes = Sizes(10, 1000, 200, 10, 50, 60, 100, 5, 20_000)
    else:
        sizes = Sizes(30, 1000, 1000, 20, 200, 100, 500, 20, 100_000)
    rows = set(args.rows.split(","))
    backends = ["embedded", "distributed"] if args.backend == "both" else [args.backend]
    if args.database == "postgres" and not postgres_available(args.postgres_url):
        sys.exit("PostgreSQL is not reachable at --postgres-url.")
    for backend in backends:
        work = Path(tempfile.mkdtemp(prefix=f"rt-scale-{backend}-"))
        if args.database == "postgres":
            fresh_postgres(args.postgres_url)
        stack = Stack(backend, args.database, args.postgres_url, work)
        with ExitStack() as cleanup:
            cleanup.callback(stack.stop)
            print(f"… {backend} on {args.database} (logs in {work})", file=sys.stderr)
            stack.start(teams_for(sizes))
            table = asyncio.run(measure(stack, sizes, rows))
        print_table(f"{backend}, {args.database}", table)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def print_table(title: str, table: list[Row], out: Callable[[str], Any] = print) -> None:
    widths = [
        max(len(row[column]) for row in [("row", "target", "measured"), *table])
        for column in range(3)
    ]
    out(f"\n{title}")
    for row in [("row", "target", "measured"), *table]:
        out(" | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
