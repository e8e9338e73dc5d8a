"""`manage.py import_team FILE`: import teams from a file, as the API does."""

import json
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.errors import ServiceError
from studio.teams.importing import import_document


class Command(BaseCommand):
    """Import AutoGen component JSON, an AutoGen Studio gallery or a Roundtable export."""

    help = "Import teams (and gallery agents/models) from FILE and print the report."

    def add_arguments(self, parser: CommandParser) -> None:
        """FILE and --owner."""
        parser.add_argument("file", type=Path)
        parser.add_argument("--owner", default="admin", help="username that will own them")

    def handle(self, *args: Any, **options: Any) -> None:
        """Read, import, report; exit non-zero when something failed."""
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f'No user "{options["owner"]}" (use --owner).')
        try:
            data = json.loads(options["file"].read_text())
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from None
        try:
            items = import_document(owner, data)
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        for item in items:
            target = f" -> id {item.id}" if item.id else ""
            self.stdout.write(f"{item.status:9} {item.kind:12} {item.label}{target}")
            for problem in item.problems:
                self.stdout.write(f"          {problem.path or '(file)'}: {problem.message}")
        if any(item.status == "failed" for item in items):
            raise CommandError("Some components were not imported.")
