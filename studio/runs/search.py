"""Full-text search over what was said in runs, with the database's own engine.

SQLite (the embedded mode) queries an FTS5 table and ranks with bm25; PostgreSQL queries
the stored ``search_vector`` column (``to_tsvector('english', text)``) through its GIN
index and ranks with ``ts_rank``. Both are set up by migrations (``0006``, ``0008``) over
``RunEvent.text``, the text
the sink stores for searchable events. Discarded events (replaced after a resume) are
left out. Snippets come back with the matches wrapped in ``<mark>`` and everything else
escaped, so they can be shown as HTML.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeVar

from django.db import connection
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape

from studio.runs.models import Run

#: markers the engines put around matches; swapped for <mark> after escaping
START, STOP = "\ue000", "\ue001"
WORDS = re.compile(r"\w+", re.UNICODE)
#: at most this many words of a query are used
MAX_TERMS = 16

RunsT = TypeVar("RunsT", bound=QuerySet[Run])


@dataclass(frozen=True)
class Hit:
    """The best matching event of a run: its seq, rank (higher is better) and snippet."""

    run_id: int
    seq: int
    rank: float
    snippet: str


def fts5_query(text: str) -> str:
    """The words of ``text`` as an FTS5 query all of whose terms must match.

    Each word is quoted, so nothing a user types is read as FTS5 syntax.
    """
    terms = WORDS.findall(text)[:MAX_TERMS]
    return " ".join(f'"{term}"' for term in terms)


def plain_words(text: str) -> str:
    """The words of ``text`` for ``plainto_tsquery``: all must match, nothing is syntax."""
    return " ".join(WORDS.findall(text)[:MAX_TERMS])


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def matching_runs_sql(text: str) -> tuple[str, list[str]] | None:
    """SQL selecting the ids of runs with an event matching ``text`` (None: no words)."""
    if is_postgres():
        if not WORDS.search(text):
            return None
        sql = (
            "SELECT e.run_id FROM runs_runevent e WHERE e.text <> '' AND NOT e.discarded "
            "AND e.search_vector "
            "@@ plainto_tsquery('english'::regconfig, %s)"
        )
        return sql, [plain_words(text)]
    query = fts5_query(text)
    if not query:
        return None
    sql = (
        "SELECT e.run_id FROM runs_runevent_fts f JOIN runs_runevent e ON e.id = f.rowid "
        "WHERE runs_runevent_fts MATCH %s AND NOT e.discarded"
    )
    return sql, [query]


def filter_runs(runs: RunsT, text: str) -> RunsT:
    """Runs whose task contains ``text`` or with a message matching it."""
    matching = matching_runs_sql(text)
    if matching is None:
        return runs.filter(task__icontains=text)
    return runs.filter(Q(task__icontains=text) | Q(pk__in=RawSQL(*matching)))


def best_hits(run_ids: list[int], text: str) -> dict[int, Hit]:
    """For each of ``run_ids``, its best matching event with a highlighted snippet."""
    if not run_ids or matching_runs_sql(text) is None:
        return {}
    placeholders = ", ".join(["%s"] * len(run_ids))
    if is_postgres():
        sql = (
            "SELECT e.run_id, e.seq, ts_rank(e.search_vector, q), "
            "ts_headline('english'::regconfig, e.text, q, %s) "
            "FROM runs_runevent e, plainto_tsquery('english'::regconfig, %s) q "
            "WHERE e.text <> '' AND NOT e.discarded "
            "AND e.search_vector @@ q "
            f"AND e.run_id IN ({placeholders})"
        )
        options = f"StartSel={START}, StopSel={STOP}, MaxWords=24, MinWords=8, MaxFragments=2"
        params: list[str | int] = [options, plain_words(text), *run_ids]
    else:
        sql = (
            "SELECT e.run_id, e.seq, -bm25(runs_runevent_fts), "
            "snippet(runs_runevent_fts, 0, %s, %s, '…', 16) "
            "FROM runs_runevent_fts JOIN runs_runevent e ON e.id = runs_runevent_fts.rowid "
            "WHERE runs_runevent_fts MATCH %s AND NOT e.discarded "
            f"AND e.run_id IN ({placeholders})"
        )
        params = [START, STOP, fts5_query(text), *run_ids]
    hits: dict[int, Hit] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for run_id, seq, rank, snippet in cursor.fetchall():
            best = hits.get(run_id)
            if best is None or rank > best.rank or (rank == best.rank and seq < best.seq):
                hits[run_id] = Hit(run_id, seq, float(rank), highlight(snippet))
    return hits


def rank_runs(runs: RunsT, text: str) -> RunsT:
    """``runs`` ordered best match first (runs matched only by their task last)."""
    matching = matching_runs_sql(text)
    if matching is None:
        return runs
    if is_postgres():
        rank_sql = (
            "SELECT MAX(ts_rank(e.search_vector, "
            "plainto_tsquery('english'::regconfig, %s))) FROM runs_runevent e "
            "WHERE e.run_id = runs_run.id AND e.text <> '' AND NOT e.discarded "
            "AND e.search_vector "
            "@@ plainto_tsquery('english'::regconfig, %s)"
        )
        params = [plain_words(text), plain_words(text)]
    else:
        # bm25() cannot sit inside an aggregate: take the best row instead
        rank_sql = (
            "SELECT -bm25(runs_runevent_fts) FROM runs_runevent_fts "
            "JOIN runs_runevent e ON e.id = runs_runevent_fts.rowid "
            "WHERE runs_runevent_fts MATCH %s AND e.run_id = runs_run.id AND NOT e.discarded "
            "ORDER BY bm25(runs_runevent_fts) LIMIT 1"
        )
        params = [fts5_query(text)]
    ranked = runs.annotate(search_rank=RawSQL(rank_sql, params))
    return ranked.order_by(F("search_rank").desc(nulls_last=True), "-created_at", "-pk")


def highlight(snippet: str) -> str:
    """A snippet escaped for HTML, its matches in ``<mark>``."""
    return escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
