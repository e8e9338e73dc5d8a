"""On PostgreSQL, checkpoints' text is compressed with LZ4 where the server has it.

A run writes a full snapshot of its state every few dozen turns; PostgreSQL compresses
such text with pglz by default, which cost it more than writing the row. LZ4 compresses
about as well for several times less. A server built without LZ4 keeps its default.
"""

from typing import Any

from django.db import migrations

TO_LZ4 = """
DO $$
BEGIN
    EXECUTE 'ALTER TABLE runs_checkpoint ALTER COLUMN state_json SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$
"""
TO_DEFAULT = "ALTER TABLE runs_checkpoint ALTER COLUMN state_json SET COMPRESSION default"


def on_postgres(statement: str) -> Any:
    def apply(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0009_run_lookups_by_the_seq_index"),
    ]

    operations = [
        migrations.RunPython(on_postgres(TO_LZ4), on_postgres(TO_DEFAULT)),
    ]
