"""Full-text search over message text with the database's own engine.

SQLite: an FTS5 table over ``runs_runevent.text`` (external content, kept in step by
triggers, so every writer of events is covered). PostgreSQL: a GIN index on the
``to_tsvector`` of the same column, the expression :mod:`studio.runs.search` queries.
"""

from typing import Any

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE runs_runevent_fts USING fts5("
    "text, content='runs_runevent', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "INSERT INTO runs_runevent_fts(rowid, text) SELECT id, text FROM runs_runevent WHERE text <> ''",
    "CREATE TRIGGER runs_runevent_fts_insert AFTER INSERT ON runs_runevent "
    "WHEN new.text <> '' BEGIN "
    "INSERT INTO runs_runevent_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER runs_runevent_fts_delete AFTER DELETE ON runs_runevent "
    "WHEN old.text <> '' BEGIN "
    "INSERT INTO runs_runevent_fts(runs_runevent_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); END",
    # One trigger, so the old text leaves the index before the new text enters it.
    "CREATE TRIGGER runs_runevent_fts_update AFTER UPDATE OF text ON runs_runevent BEGIN "
    "INSERT INTO runs_runevent_fts(runs_runevent_fts, rowid, text) "
    "SELECT 'delete', old.id, old.text WHERE old.text <> ''; "
    "INSERT INTO runs_runevent_fts(rowid, text) SELECT new.id, new.text WHERE new.text <> ''; "
    "END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS runs_runevent_fts_insert",
    "DROP TRIGGER IF EXISTS runs_runevent_fts_delete",
    "DROP TRIGGER IF EXISTS runs_runevent_fts_update",
    "DROP TABLE IF EXISTS runs_runevent_fts",
]
POSTGRES_FORWARD = [
    "CREATE INDEX runevent_text_search ON runs_runevent "
    "USING GIN (to_tsvector('english'::regconfig, text)) WHERE text <> ''",
]
POSTGRES_BACKWARD = ["DROP INDEX IF EXISTS runevent_text_search"]


def run_for_vendor(sqlite: list[str], postgres: list[str]) -> Any:
    def apply(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        statements = {"sqlite": sqlite, "postgresql": postgres}.get(vendor, [])
        for statement in statements:
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("runs", "0005_reviews")]

    operations = [
        migrations.RunPython(
            run_for_vendor(SQLITE_FORWARD, POSTGRES_FORWARD),
            run_for_vendor(SQLITE_BACKWARD, POSTGRES_BACKWARD),
        )
    ]
