"""The middleware chain runs synchronously on the request's thread under ASGI."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler


def test_every_middleware_runs_synchronously_under_asgi(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.DEBUG = True  # Django reports each adaptation between sync and async then
    with caplog.at_level(logging.DEBUG, logger="django.request"):
        ASGIHandler()
    adapted = [record.getMessage() for record in caplog.records if "adapted" in record.getMessage()]
    assert adapted == [
        "Asynchronous handler adapted for middleware studio.middleware.SynchronousChainMiddleware."
    ]
