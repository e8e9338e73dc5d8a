"""End-to-end event streaming benchmark: executor -> sink -> database -> live log ->
websocket client, through a real daphne server (and in distributed mode a real
redis-server and Celery worker), for each backend and database.

    .venv/bin/python bench/stream.py                      # every combination available
    .venv/bin/python bench/stream.py --backend distributed --database postgres
    .venv/bin/python bench/stream.py --quick              # smaller workloads

PostgreSQL is used when reachable at --postgres-url (a scratch database is created and
dropped). Teams use the scripted model, so the numbers are the studio's own overhead.
Prints one table: latency at a paced rate, burst throughput of one run, total
throughput of 10 and 50 concurrent runs, runs sustained with 1 s model latency, and
RSS growth of the server and the worker over 10,000 events.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
#: the application name of the worker's PostgreSQL sessions, to count them
WORKER_APP = "roundtable-bench-worker"

SETUP_SCRIPT = """
import json
from django.contrib.auth.models import User
from studio.accounts.models import ApiToken
from studio.teams.models import Agent, AgentKind, ModelConfig, Team, TeamMember
from studio.teams.services import snapshot_team
user = User.objects.create_user("bench")
_, token = ApiToken.objects.issue(user)
teams = {}
for name, delay, turns, *kind in json.loads(TEAMS):
    agents = []
    # "human": an assistant that asks and a human seat that answers, in turn.
    seats = ("asker", "person") if kind == ["human"] else ("writer", "critic")
    for seat in seats:
        if seat == "person":
            agents.append(Agent.objects.create(owner=user, name=seat, kind=AgentKind.USER_PROXY))
            continue
        model = ModelConfig.objects.create(owner=user, name=name, provider="scripted",
            model="scripted", params={"delay": delay} if delay else {},
            scripted_replies=["A short reply of a few words."] * (turns // 2 + 2))
        agents.append(Agent.objects.create(owner=user, name=seat, model=model))
    team = Team.objects.create(owner=user, name=name,
        termination={"type": "max_messages", "max_messages": turns + 1})
    for position, agent in enumerate(agents):
        TeamMember.objects.create(team=team, agent=agent, position=position)
    snapshot_team(team, user)
    teams[name] = team.pk
print("BENCH-SETUP " + json.dumps({"token": token, "teams": teams}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children(pid: int) -> list[int]:
    """The ids of a process's children, whichever of its threads started them (a server
    starts its run host process from a request's thread)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time a process used so far (user and system)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    """Resident set size of a process and its children, in MiB."""
    total = 0
    for one in [pid, *children(pid)]:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def call_api(base_url: str, token: str, method: str, path: str, body: Any = None) -> Any:
    """One JSON request to a server, with a bearer token when there is one."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{base_url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


# --- a minimal websocket client (RFC 6455, text frames) ---


class Socket:
    """Just enough of a websocket client to receive a run's events."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, path: str, token: str) -> Socket:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=2**24)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n"
                f"Authorization: Bearer {token}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket refused: {head[:200]!r}")
        return cls(reader, writer)

    async def receive(self) -> str | None:
        """The next text message (None when the server closes)."""
        parts: list[bytes] = []
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)
            opcode = first & 0x0F
            if opcode == 8:
                return None
            if opcode == 9:  # the server drops clients that leave its pings unanswered
                self.send_control(0xA, payload)
                continue
            if opcode in (0, 1):
                parts.append(payload)
                if first & 0x80:
                    return b"".join(parts).decode()

    def send_control(self, opcode: int, payload: bytes) -> None:
        """A short control frame, masked as every client frame must be."""
        self.send_frame(opcode, payload)

    def send_frame(self, opcode: int, payload: bytes) -> None:
        """One whole frame, masked as every client frame must be."""
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        length = len(payload)
        if length < 126:
            head = bytes([0x80 | opcode, 0x80 | length])
        elif length < 1 << 16:
            head = bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", length)
        else:
            head = bytes([0x80 | opcode, 0x80 | 127]) + struct.pack("!Q", length)
        self.writer.write(head + mask + masked)

    def send_text(self, text: str) -> None:
        """A text frame."""
        self.send_frame(0x1, text.encode())

    async def close_handshake(self, limit: float = 30.0) -> float:
        """Send a close frame; seconds until the server's close frame (or its EOF) arrives."""
        started = time.monotonic()
        self.send_frame(0x8, struct.pack("!H", 1000))
        try:
            async with asyncio.timeout(limit):
                while await self.receive() is not None:
                    pass
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the server dropped the connection: that ends the handshake too
        elapsed = time.monotonic() - started
        self.writer.close()
        return elapsed

    def close(self) -> None:
        self.writer.close()


# --- the stack under test ---


@dataclass
class Stack:
    """daphne (+ redis-server and a Celery worker) on one database."""

    backend: str
    database: str
    postgres_url: str
    work: Path
    #: Celery worker processes in the distributed mode (``make run-distributed`` starts
    #: one per core)
    workers: int = 1
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""
    teams: dict[str, int] = field(default_factory=dict)

    def start(self, teams: list[tuple[Any, ...]]) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "studio.settings",
            "DATA_DIR": str(self.work),
            "SECRET_KEY": "bench-secret-key-bench-secret-key-bench-secret-key",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "LOG_LEVEL": "WARNING",
            "RUNS_RECOVER_ON_START": "false",
            # One user starts hundreds of runs here: limits far above that, so that every
            # start is checked and counted as by default, and never refused.
            "RUNS_STARTS_PER_MINUTE": "1000000",
            "RUNS_MAX_ACTIVE_PER_USER": "1000000",
            "RUNS_MAX_TURNS": "100000",
            "RUNS_MAX_MODEL_CALLS": "100000",
        }
        if self.database == "postgres":
            self.env["DATABASE_URL"] = self.postgres_url
        else:
            self.env["DATABASE_URL"] = f"sqlite:///{self.work / 'bench.sqlite3'}"
        if self.backend == "distributed":
            redis_port = free_port()
            self.spawn(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
            )
            self.env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        self.manage("migrate", "--noinput")
        out = self.manage("shell", "-c", SETUP_SCRIPT.replace("TEAMS", repr(json.dumps(teams))))
        setup = json.loads(out.split("BENCH-SETUP ", 1)[1])
        self.token, self.teams = setup["token"], setup["teams"]
        self.port = free_port()
        self.spawn(
            "server",
            [
                PYTHON,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "studio.asgi:application",
            ],
        )
        if self.backend == "distributed":
            # The documented command, nothing added: its defaults are what is measured.
            worker_env = dict(self.env)
            if self.database == "postgres":
                worker_env["DATABASE_URL"] = f"{self.postgres_url}?application_name={WORKER_APP}"
            command = [PYTHON, "-m", "celery", "-A", "studio", "worker", "--loglevel", "INFO"]
            self.spawn("worker", command, env=worker_env)
            for number in range(2, self.workers + 1):
                # Beside the first, as make run-distributed starts them: each its own name.
                name = f"worker{number}"
                self.spawn(name, [*command, "-n", f"{name}@%h"], env=worker_env)
        self.wait_ready()

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stderr[-2000:]}")
        return result.stdout

    def spawn(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.work / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env or self.env, stdout=log, stderr=subprocess.STDOUT
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.api("GET", "/api/runs?limit=1")
                workers = [name for name in self.processes if name.startswith("worker")]
                if all(b"ready." in (self.work / f"{name}.log").read_bytes() for name in workers):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the stack did not start; see the logs in {self.work}")

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        return call_api(f"http://127.0.0.1:{self.port}", self.token, method, path, body)

    async def start_run(self, team: str) -> int:
        body = {"team": self.teams[team], "task": "Go"}
        run = await asyncio.to_thread(self.api, "POST", "/api/runs", body)
        return int(run["id"])

    async def watch(self, run_id: int, latencies: list[float] | None = None) -> tuple[int, float]:
        """Receive a run's events until it finishes: (events, time of the last)."""
        socket_ = await Socket.open(self.port, f"/ws/runs/{run_id}/?after=0", self.token)
        count = 0
        try:
            while True:
                text = await socket_.receive()
                if text is None:
                    raise RuntimeError(f"run {run_id}: socket closed early")
                now = time.time()
                event = json.loads(text)
                if event.get("seq") is None:
                    continue
                count += 1
                if latencies is not None:
                    at = datetime.fromisoformat(event["at"].replace("Z", "+00:00"))
                    latencies.append((now - at.timestamp()) * 1000)
                if event["type"] == "run.finished":
                    if event["data"]["status"] != "completed":
                        raise RuntimeError(f"run {run_id} ended {event['data']}")
                    return count, time.monotonic()
        finally:
            socket_.close()


# --- scenarios ---


async def run_many(stack: Stack, team: str, count: int) -> tuple[int, float]:
    """Start ``count`` runs at once and watch each; (events, seconds)."""
    started = time.monotonic()
    run_ids = await asyncio.gather(*(stack.start_run(team) for _ in range(count)))
    results = await asyncio.gather(*(stack.watch(run_id) for run_id in run_ids))
    return sum(events for events, _ in results), max(end for _, end in results) - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(stack: Stack, sizes: dict[str, int]) -> dict[str, str]:
    row: dict[str, str] = {}
    latencies: list[float] = []
    run_id = await stack.start_run("paced")
    await stack.watch(run_id, latencies)
    latencies = latencies[10:]  # start-up
    row["p50/p95/p99 ms @500/s"] = "/".join(
        f"{percentile(latencies, share):.1f}" for share in (0.5, 0.95, 0.99)
    )
    events, seconds = await run_many(stack, "burst", 1)
    row["1 run ev/s"] = f"{events / seconds:,.0f}"
    events, seconds = await run_many(stack, "ten", 10)
    row["10 runs ev/s"] = f"{events / seconds:,.0f}"
    events, seconds = await run_many(stack, "fifty", 50)
    row["50 runs ev/s"] = f"{events / seconds:,.0f}"
    count = sizes["slow_runs"]
    events, seconds = await run_many(stack, "slow", count)
    ideal = sizes["slow_turns"] * 1.0
    row["runs @1s latency"] = f"{count} in {seconds:.1f}s (ideal {ideal:.0f}s)"
    pids = {
        name: stack.processes[name].pid for name in ("server", "worker") if name in stack.processes
    }
    before = {name: rss_mib(pid) for name, pid in pids.items()}
    await run_many(stack, "memory", 1)
    await asyncio.sleep(1)
    growth = {name: rss_mib(pid) - before[name] for name, pid in pids.items()}
    row["RSS growth MiB /10k ev"] = " ".join(f"{name} {mib:+.0f}" for name, mib in growth.items())
    return row


def teams_for(sizes: dict[str, int]) -> list[tuple[str, float, int]]:
    # Each turn is two events (usage, message): 4 ms per call paces 500 events/s.
    return [
        ("paced", 0.004, sizes["paced_turns"]),
        ("burst", 0.0, sizes["burst_turns"]),
        ("ten", 0.0, sizes["ten_turns"]),
        ("fifty", 0.0, sizes["fifty_turns"]),
        ("slow", 1.0, sizes["slow_turns"]),
        ("memory", 0.0, 5000),
    ]


def postgres_available(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def fresh_postgres(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["embedded", "distributed", "both"], default="both")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/roundtable_bench"
    )
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--keep", action="store_true", help="keep logs and databases")
    args = parser.parse_args()
    scale = 5 if args.quick else 1
    sizes = {
        "paced_turns": 1500 // scale,
        "burst_turns": 2500 // scale,
        "ten_turns": 500 // scale,
        "fifty_turns": 100 // scale,
        "slow_runs": 50,
        "slow_turns": 5,
    }
    backends = ["embedded", "distributed"] if args.backend == "both" else [args.backend]
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    if "postgres" in databases and not postgres_available(args.postgres_url):
        print("PostgreSQL is not reachable: skipping it.", file=sys.stderr)
        databases.remove("postgres")
    rows = []
    for backend in backends:
        for database in databases:
            work = Path(tempfile.mkdtemp(prefix=f"rt-bench-{backend}-{database}-"))
            if database == "postgres":
                fresh_postgres(args.postgres_url)
            stack = Stack(backend, database, args.postgres_url, work)
            with ExitStack() as cleanup:
                cleanup.callback(stack.stop)
                print(f"… {backend} on {database} (logs in {work})", file=sys.stderr)
                stack.start(teams_for(sizes))
                row = asyncio.run(measure(stack, sizes))
            rows.append({"backend": backend, "database": database, **row})
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    columns = list(rows[0])
    widths = [max(len(column), *(len(str(row[column])) for row in rows)) for column in columns]
    print(" | ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)))
    print("-|-".join("-" * width for width in widths))
    for row in rows:
        print(" | ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))


if __name__ == "__main__":
    main()
