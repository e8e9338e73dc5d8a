"""App configuration for runs."""

from django.apps import AppConfig


class RunsConfig(AppConfig):
    """Registers the runs app."""

    name = "studio.runs"
    label = "runs"
    verbose_name = "Runs"
