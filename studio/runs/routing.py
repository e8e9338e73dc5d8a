"""Websocket routes of the runs app, included by studio.asgi."""

from django.urls import URLPattern, path

from studio.runs.consumers import RunConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/runs/<int:run_id>/", RunConsumer.as_asgi(), name="runs-socket"),
]
