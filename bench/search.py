"""Full-text search latency over many events.

    .venv/bin/python bench/search.py                          # PostgreSQL, 1,000,000 events
    .venv/bin/python bench/search.py --database sqlite --events 200000

Fills a scratch database (created here, dropped at the end) with runs whose messages are
sentences drawn from a Zipf-like vocabulary, then times the run list's search the way
``GET /api/runs?q=`` does it (match, rank, first page, snippets) for rare, common and
two-word queries, and prints p50/p95 per kind. The target is p95 <= 100 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_RUN = 100
BATCH = 20_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=40, help="Queries timed per kind.")
    parser.add_argument("--seed", type=int, default=7)
    return parser.parse_args()


def scratch_postgres(admin_url: str) -> tuple[str, Any]:
    """Create a scratch database; return its URL and a function that drops it."""
    import psycopg

    name = f"roundtable_bench_search_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]

    def drop() -> None:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base}/{name}", drop


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    """Made-up words; their order is their frequency rank."""
    syllables = ["ka", "lo", "mi", "ren", "to", "sa", "vu", "el", "dor", "pin", "que", "zu"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda word: rng.random())


def sentence(rng: random.Random, words: list[str], weights: list[float]) -> str:
    return " ".join(rng.choices(words, weights, k=rng.randint(12, 40))).capitalize() + "."


def fill(total: int, rng: random.Random, words: list[str]) -> None:
    from django.contrib.auth.models import User

    from studio.runs.events import searchable_text
    from studio.runs.models import Run, RunEvent
    from studio.teams.models import Team
    from studio.teams.services import snapshot_team

    owner = User.objects.create_user("bench")
    team = Team.objects.create(owner=owner, name="bench")
    version = snapshot_team(team, owner)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    sentences = [sentence(rng, words, weights) for _ in range(50_000)]
    runs = Run.objects.bulk_create(
        Run(team=team, team_version=version, task="bench", started_by=owner, status="completed")
        for _ in range(max(1, total // EVENTS_PER_RUN))
    )
    pending: list[RunEvent] = []
    started = time.perf_counter()
    for index in range(total):
        run = runs[index // EVENTS_PER_RUN % len(runs)]
        seq = index % EVENTS_PER_RUN + 1
        data = {"content": rng.choice(sentences)}
        pending.append(
            RunEvent(
                run=run,
                seq=seq,
                type="message",
                source="writer",
                data=data,
                text=searchable_text("message", data),
            )
        )
        if len(pending) == BATCH:
            RunEvent.objects.bulk_create(pending)
            pending.clear()
            done = index + 1
            rate = done / (time.perf_counter() - started)
            print(f"\r  {done:,} events ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    RunEvent.objects.bulk_create(pending)
    print(file=sys.stderr)


def search_once(query: str) -> int:
    """What the API does for ``?q=``: match, rank, a page of 50, snippets."""
    from django.contrib.auth.models import User

    from studio.runs import search
    from studio.runs.models import Run

    user = User.objects.get(username="bench")
    page = search.search_page(Run.objects.visible_to(user), query, 0, 50)
    search.best_hits([run.pk for run in page], query)
    return len(page)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(args: argparse.Namespace, words: list[str], rng: random.Random) -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE runs_runevent")
    kinds = {
        "rare word (rank 5k-20k)": lambda: rng.choice(words[5000:]),
        "mid word (rank 200-2k)": lambda: rng.choice(words[200:2000]),
        "common word (top 50)": lambda: rng.choice(words[:50]),
        "two words (mid + rare)": lambda: (
            f"{rng.choice(words[200:2000])} {rng.choice(words[2000:])}"
        ),
    }
    print(f"\n{connection.vendor}, {args.events:,} events\n")
    print("| query | p50 ms | p95 ms | runs found (median) |\n|---|---|---|---|")
    every: list[float] = []
    for kind, pick in kinds.items():
        timings, found = [], []
        search_once(pick())  # warm the cache and the connection
        for _ in range(args.queries):
            query = pick()
            started = time.perf_counter()
            found.append(search_once(query))
            timings.append((time.perf_counter() - started) * 1000)
        every += timings
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        print(f"| {kind} | {p50:.1f} | {p95:.1f} | {statistics.median(found):.0f} |")
    print(f"| all | {percentile(every, 0.5):.1f} | {percentile(every, 0.95):.1f} | |")


def main() -> None:
    args = parse_args()
    sys.path.insert(0, str(ROOT))
    drop: Any = None
    workdir = tempfile.TemporaryDirectory(prefix="roundtable-search-")
    if args.database == "postgres":
        url, drop = scratch_postgres(args.postgres_url)
    else:
        url = f"sqlite:///{Path(workdir.name) / 'bench.sqlite3'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        rng = random.Random(args.seed)
        words = vocabulary(rng)
        started = time.perf_counter()
        fill(args.events, rng, words)
        print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        measure(args, words, rng)
    finally:
        if drop is not None:
            drop()
        workdir.cleanup()


if __name__ == "__main__":
    main()
