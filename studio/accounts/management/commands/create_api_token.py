"""`manage.py create_api_token USER`: print a new bearer token for scripts."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from studio.accounts.models import ApiToken


class Command(BaseCommand):
    """Issue an API token; it is printed once and only its digest is stored."""

    help = "Create an API token for USER and print it (send it as Authorization: Bearer …)."

    def add_arguments(self, parser: CommandParser) -> None:
        """USER and an optional --name."""
        parser.add_argument("user", help="username")
        parser.add_argument("--name", default="", help="a label to recognise the token")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create and print the token."""
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f'No user "{options["user"]}".')
        _, plain = ApiToken.objects.issue(user, name=options["name"])
        self.stdout.write(plain)
