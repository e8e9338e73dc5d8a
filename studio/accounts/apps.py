"""App configuration for accounts."""

from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    """Create the database cache's table (throttle counters) if it is missing.

    Run after every `migrate`, so `make run` and the test databases always have it; a
    no-op when the cache is Redis or the table exists.
    """
    call_command("createcachetable", database=using, verbosity=0)


class AccountsConfig(AppConfig):
    """Registers the accounts app, the studio's configuration checks and the cache table."""

    name = "studio.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Register system checks (imported for their side effect) and the cache table."""
        from studio import checks  # noqa: F401

        post_migrate.connect(create_cache_table, sender=self)
