"""Websocket routes of the runs app, included by studio.asgi."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import path

from studio.runs.consumers import RunConsumer

if TYPE_CHECKING:
    from channels.routing import URLRouter, _ExtendedURLPattern

websocket_urlpatterns: list[_ExtendedURLPattern | URLRouter] = [
    # django-stubs types path() for views only; Channels routes ASGI applications with it.
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi(), name="runs-socket"),  # type: ignore[arg-type, list-item]
]
