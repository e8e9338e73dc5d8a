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
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape

from studio.runs.models import Run, RunEvent

#: markers the engines put around matches; swapped for <mark> after escaping
START, STOP = "\ue000", "\ue001"
WORDS = re.compile(r"\w+", re.UNICODE)
#: at most this many words of a query are used
MAX_TERMS = 16
#: the newest this many matching events are ranked; older matches follow by date
RANK_WINDOW = 5000

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
    """SQL selecting the ids of runs with an event matching ``text`` (None: nothing the
    engine can search for, such as no words, or only English stop words on PostgreSQL)."""
    if is_postgres():
        if not WORDS.search(text) or only_stop_words(text):
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


def only_stop_words(text: str) -> bool:
    """Whether PostgreSQL's English configuration drops every word of ``text``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT numnode(plainto_tsquery('english'::regconfig, %s))", [plain_words(text)]
        )
        row = cursor.fetchone()
    return row is None or row[0] == 0


def filter_runs(runs: RunsT, text: str) -> RunsT:
    """Runs whose task contains ``text`` or with a message matching it; text the engine
    cannot search for ("here is more") is looked for as a substring instead."""
    matching = matching_runs_sql(text)
    if matching is None:
        in_messages = RunEvent.objects.filter(text__icontains=text, discarded=False)
        return runs.filter(Q(task__icontains=text) | Q(pk__in=in_messages.values("run_id")))
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


def ranked_run_ids(text: str) -> list[int]:
    """Ids of runs with a matching event, best first, among the newest
    :data:`RANK_WINDOW` matching events (ranking every match of a common word costs
    too much; beyond the window, runs follow newest first)."""
    if matching_runs_sql(text) is None:
        return []
    if is_postgres():
        inner = (
            "SELECT e.run_id, ts_rank(e.search_vector, q) AS score "
            "FROM runs_runevent e, plainto_tsquery('english'::regconfig, %s) q "
            "WHERE e.text <> '' AND NOT e.discarded AND e.search_vector @@ q "
            "ORDER BY e.id DESC LIMIT %s"
        )
        params: list[str | int] = [plain_words(text), RANK_WINDOW]
    else:
        inner = (
            "SELECT e.run_id, -bm25(runs_runevent_fts) AS score FROM runs_runevent_fts "
            "JOIN runs_runevent e ON e.id = runs_runevent_fts.rowid "
            "WHERE runs_runevent_fts MATCH %s AND NOT e.discarded "
            "ORDER BY runs_runevent_fts.rowid DESC LIMIT %s"
        )
        params = [fts5_query(text), RANK_WINDOW]
    sql = (
        f"SELECT hits.run_id FROM ({inner}) hits GROUP BY hits.run_id "
        "ORDER BY MAX(hits.score) DESC, hits.run_id DESC"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def search_page(runs: QuerySet[Run], text: str, offset: int, limit: int) -> list[Run]:
    """One page of the runs among ``runs`` matching ``text``: ranked matches first, then
    the other matches (by task, or past the ranking window) newest first."""
    ranked = ranked_run_ids(text)
    visible = set(runs.filter(pk__in=ranked).values_list("pk", flat=True)) if ranked else set()
    ordered = [pk for pk in ranked if pk in visible]
    head_ids = ordered[offset : offset + limit]
    by_id = {run.pk: run for run in runs.filter(pk__in=head_ids)}
    page = [by_id[pk] for pk in head_ids if pk in by_id]
    missing = limit - len(page)
    if missing > 0:
        start = max(0, offset - len(ordered))
        rest = filter_runs(runs, text).exclude(pk__in=ordered).order_by("-created_at", "-pk")
        page += list(rest[start : start + missing])
    return page


def highlight(snippet: str) -> str:
    """A snippet escaped for HTML, its matches in ``<mark>``."""
    return escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
