"""PostgreSQL: keep each event's tsvector in a stored generated column with the GIN index
on it, so matching and ranking read the stored vector instead of re-parsing the text of
every matching event (the expression index of 0006 made ranking a common word cost a
``to_tsvector`` per matching row). Nothing changes on SQLite, whose FTS5 table holds the
index already."""

from typing import Any

from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS runevent_text_search",
    "ALTER TABLE runs_runevent ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text)) STORED",
    "CREATE INDEX runevent_search_vector ON runs_runevent USING GIN (search_vector) "
    "WHERE text <> ''",
]
BACKWARD = [
    "DROP INDEX IF EXISTS runevent_search_vector",
    "ALTER TABLE runs_runevent DROP COLUMN IF EXISTS search_vector",
    "CREATE INDEX runevent_text_search ON runs_runevent "
    "USING GIN (to_tsvector('english'::regconfig, text)) WHERE text <> ''",
]


def on_postgres(statements: list[str]) -> Any:
    def apply(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("runs", "0007_message_comments")]

    operations = [migrations.RunPython(on_postgres(FORWARD), on_postgres(BACKWARD))]
