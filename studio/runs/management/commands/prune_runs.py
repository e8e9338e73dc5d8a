"""``manage.py prune_runs --older-than DAYS [--keep-reviewed] [--dry-run]``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.runs.retention import prune_runs


class Command(BaseCommand):
    help = (
        "Delete finished runs older than DAYS with their events and checkpoints; "
        "runs still active are never touched. DAYS defaults to RUN_RETENTION_DAYS."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, metavar="DAYS", dest="days")
        parser.add_argument(
            "--keep-reviewed", action="store_true", help="Spare runs with a review."
        )
        parser.add_argument("--dry-run", action="store_true", help="Count, delete nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.RUN_RETENTION_DAYS
        if not days:
            raise CommandError("Give --older-than DAYS, or set RUN_RETENTION_DAYS.")
        if days < 0:
            raise CommandError("--older-than must be a positive number of days.")
        dry_run = options["dry_run"]
        count = prune_runs(days, keep_reviewed=options["keep_reviewed"], dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {count.runs} runs finished over {days} days ago, with "
            f"{count.events} events and {count.checkpoints} checkpoints."
        )
