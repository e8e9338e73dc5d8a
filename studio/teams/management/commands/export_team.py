"""`manage.py export_team ID`: print a team as JSON."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.errors import ServiceError
from studio.teams.importing import export_team
from studio.teams.models import Team


class Command(BaseCommand):
    """Write a team in AutoGen component JSON or Roundtable's own format (no keys)."""

    help = "Print team ID as JSON (--format autogen|roundtable)."

    def add_arguments(self, parser: CommandParser) -> None:
        """ID and --format."""
        parser.add_argument("team_id", type=int)
        parser.add_argument("--format", default="roundtable", choices=["autogen", "roundtable"])

    def handle(self, *args: Any, **options: Any) -> None:
        """Print the export."""
        team = Team.objects.filter(pk=options["team_id"]).first()
        if team is None:
            raise CommandError(f"No team with id {options['team_id']}.")
        try:
            data = export_team(team, options["format"])
        except ServiceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(data, indent=2, ensure_ascii=False))
