"""Events and checkpoints are found by run through their (run, seq) constraint's index.

The foreign keys' own indexes were redundant with it and cost a write per row. Only the
indexes are dropped: altering the fields would make SQLite rebuild the events table,
which takes the full-text search triggers on it along.
"""

import django.db.models.deletion
from django.db import migrations, models

DROPPED = {
    "runs_runevent": "runs_runevent_run_id_8bd13aa7",
    "runs_checkpoint": "runs_checkpoint_run_id_d05b2df8",
}


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0008_runevent_search_vector"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="checkpoint",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="checkpoints",
                        to="runs.run",
                    ),
                ),
                migrations.AlterField(
                    model_name="runevent",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="events",
                        to="runs.run",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("run_id")',
                )
                for table, index in DROPPED.items()
            ],
        ),
    ]
