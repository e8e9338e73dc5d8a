"""GET /health/ and log records that carry run ids."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from studio.logs import RunContext, StructuredFormatter, bind_run, current_run, logging_config
from studio.runs import backends
from tests.studio.runs.processes import CeleryWorker, RedisServer, free_port, use_broker

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(settings: Any) -> Iterator[None]:
    settings.RUNS_BACKEND = "embedded"
    backends.get_backend.cache_clear()
    yield
    backends.get_backend.cache_clear()


@pytest.mark.usefixtures("embedded")
def test_health_needs_no_login_and_reports_the_database() -> None:
    response = Client().get("/health/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["mode"] == "embedded"
    assert body["checks"]["database"]["ok"] is True
    assert set(body["checks"]) == {"database"}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.usefixtures("embedded")
def test_health_refuses_other_methods() -> None:
    assert Client().post("/health/").status_code == 405


def test_health_fails_with_redis_away_and_names_only_the_kind_of_error(settings: Any) -> None:
    settings.RUNS_BACKEND = "distributed"
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    backends.get_backend.cache_clear()
    try:
        response = Client().get("/health/")
    finally:
        backends.get_backend.cache_clear()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"] == {
        "ok": False,
        "error": "ConnectionError",
        "ms": body["checks"]["redis"]["ms"],
    }
    assert body["checks"]["workers"]["ok"] is False
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.distributed
@pytest.mark.django_db(transaction=True)
def test_health_counts_the_workers_that_answer(settings: Any, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path / "redis.log")
    redis.start()
    worker = CeleryWorker(tmp_path / "worker.log", redis_url=redis.url, settings={})
    previous = use_broker(redis.url)
    try:
        settings.RUNS_BACKEND = "distributed"
        settings.REDIS_URL = redis.url
        backends.get_backend.cache_clear()
        before = Client().get("/health/")
        worker.start()
        after = Client().get("/health/")
    finally:
        worker.stop()
        use_broker(previous)
        backends.get_backend.cache_clear()
        redis.stop()
    assert before.status_code == 503
    assert before.json()["checks"]["redis"]["ok"] is True
    assert before.json()["checks"]["workers"] == {
        "ok": False,
        "error": "NoWorkers",
        "ms": before.json()["checks"]["workers"]["ms"],
    }
    assert after.status_code == 200
    assert after.json()["checks"]["workers"]["count"] == 1


def records_of(form: str, emit: Any) -> str:
    """What the configured console handler writes while ``emit(logger)`` logs."""
    config = logging_config("INFO", form)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RunContext())
    formatter = config["formatters"][form]
    handler.setFormatter(
        formatter["()"]() if "()" in formatter else logging.Formatter(formatter["format"])
    )
    logger = logging.getLogger("tests.health.records")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_json_records_carry_the_bound_run_and_leave_it_out_otherwise() -> None:
    def emit(logger: logging.Logger) -> None:
        logger.warning("before any run")
        token = bind_run(42)
        try:
            logger.error("inside run %s", 42)
        finally:
            current_run.reset(token)

    lines = [json.loads(line) for line in records_of("json", emit).splitlines()]
    assert lines[0]["message"] == "before any run"
    assert "run_id" not in lines[0]
    assert lines[1]["run_id"] == 42
    assert lines[1]["level"] == "ERROR"
    assert lines[1]["logger"] == "tests.health.records"
    assert lines[1]["message"] == "inside run 42"
    assert "timestamp" in lines[1]


def test_text_records_name_the_run() -> None:
    def emit(logger: logging.Logger) -> None:
        token = bind_run(7)
        try:
            logger.info("claimed")
        finally:
            current_run.reset(token)
        logger.info("idle")

    first, second = records_of("text", emit).splitlines()
    assert first.endswith("tests.health.records run=7: claimed")
    assert second.endswith("tests.health.records: idle")


def test_structured_formatter_keeps_exceptions() -> None:
    formatter = StructuredFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
        record.exc_info = sys.exc_info()
    RunContext().filter(record)
    data = json.loads(formatter.format(record))
    assert "ValueError: boom" in data["exc_info"]
