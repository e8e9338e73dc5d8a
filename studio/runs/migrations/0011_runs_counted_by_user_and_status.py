"""Runs by their starter and status: a start counts its user's active runs through it,
where it went through every run the user ever started."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0010_checkpoint_text_compressed_with_lz4"),
        ("teams", "0003_agent_context_memory"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="run",
            index=models.Index(fields=["started_by", "status"], name="run_started_by_status"),
        ),
    ]
