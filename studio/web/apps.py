"""App configuration for the pages."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    """Registers the web app."""

    name = "studio.web"
    label = "web"
    verbose_name = "Web"
