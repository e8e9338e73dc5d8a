"""`manage.py ensure_admin`: make sure a local admin account exists."""

import os
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    """Create the admin on first run with a generated password, printed once and kept in
    a 0600 file in the data folder; later runs do nothing."""

    help = "Create a local admin account with a generated password, once."

    def add_arguments(self, parser: CommandParser) -> None:
        """--username (default admin)."""
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **options: Any) -> None:
        """Create the admin unless one exists."""
        users = get_user_model().objects
        username = options["username"]
        password_file = settings.DATA_DIR / "admin_password"
        if users.filter(username=username).exists():
            where = f" (password in {password_file})" if password_file.exists() else ""
            self.stdout.write(f'Admin account "{username}" exists{where}.')
            return
        password = secrets.token_urlsafe(15)
        users.create_superuser(username=username, email="", password=password)
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(f"{username}\n{password}\n")
        os.chmod(password_file, 0o600)
        self.stdout.write(
            self.style.SUCCESS(f'Created admin account "{username}" with password: {password}')
        )
        self.stdout.write(f"(also saved, readable only by you, in {password_file})")
