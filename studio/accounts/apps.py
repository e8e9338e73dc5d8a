"""App configuration for accounts."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Registers the accounts app and the studio's configuration checks."""

    name = "studio.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        """Register system checks (imported for their side effect)."""
        from studio import checks  # noqa: F401
