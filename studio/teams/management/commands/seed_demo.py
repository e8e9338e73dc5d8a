"""`manage.py seed_demo`: create the demo gallery (idempotent)."""

from typing import Any

from django.core.management.base import BaseCommand

from studio.teams.gallery import seed_gallery


class Command(BaseCommand):
    """Create the offline demo teams and the provider templates once."""

    help = "Create the demo gallery: offline teams on scripted models and provider templates."

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed and say what was created."""
        for name, created in seed_gallery():
            self.stdout.write(f"{'created' if created else 'exists '}  {name}")
