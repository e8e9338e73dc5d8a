"""Log records that say which run they are about, as text or as one JSON object a line.

``LOG_FORMAT=json`` (the setting) writes each record as a JSON object with ``timestamp``,
``level``, ``logger``, ``message``, ``process`` and, while a run executes or a socket
watches one, ``run_id``; ``text`` (the default) writes readable lines with ``run=<id>``.
The run id travels in a context variable: :func:`bind_run` sets it for the current task,
and tasks, threads started through ``sync_to_async`` and Celery task bodies inherit it.
"""

from __future__ import annotations

import contextvars
import logging
from typing import Any

from pythonjsonlogger.json import JsonFormatter

#: the run the current task works on, if any
current_run: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_run", default=None
)


def bind_run(run_id: int | None) -> contextvars.Token[int | None]:
    """Tag this task's records (and those of tasks it starts) with ``run_id``."""
    return current_run.set(run_id)


class RunContext(logging.Filter):
    """Adds ``run_id`` (or None) and ``run`` (`` run=<id>`` or nothing) to each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate; never drops a record."""
        run_id = getattr(record, "run_id", None)
        if run_id is None:
            run_id = current_run.get()
        record.run_id = run_id
        record.run = f" run={run_id}" if run_id is not None else ""
        return True


class StructuredFormatter(JsonFormatter):
    """One JSON object per record; fields without a value are left out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timestamp", True)
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        super().__init__("{levelname}{name}{message}{process}", *args, style="{", **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """The standard fields, the run id when there is one, nothing empty."""
        super().add_fields(log_data, record, message_dict)
        log_data.pop("run", None)
        if log_data.get("run_id") is None:
            log_data.pop("run_id", None)


def logging_config(level: str, form: str) -> dict[str, Any]:
    """The ``LOGGING`` setting for a level and a format (``text`` or ``json``)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"run_context": {"()": RunContext}},
        "formatters": {
            "text": {"format": "%(asctime)s %(levelname)s %(name)s%(run)s: %(message)s"},
            "json": {"()": StructuredFormatter},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": form,
                "filters": ["run_context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.db.backends": {"level": "INFO"}},
    }
