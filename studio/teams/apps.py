"""App configuration for teams."""

from django.apps import AppConfig


class TeamsConfig(AppConfig):
    """Registers the teams app."""

    name = "studio.teams"
    label = "teams"
    verbose_name = "Teams"
