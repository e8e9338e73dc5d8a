"""Websocket routes of the runs app, included by studio.asgi."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
