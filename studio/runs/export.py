"""A run written out whole: its summary, the team spec it ran and every persisted event in
seq order, as JSON, JSON Lines or Markdown; and CSV summaries of many runs.

Exports carry no credentials: the team spec a run pins holds model and credential names,
never keys.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from studio.runs.models import Run, RunEvent


class ExportFormat(StrEnum):
    """The shapes a run exports to."""

    JSONL = "jsonl"
    JSON = "json"
    MARKDOWN = "markdown"


#: media type and file extension of each format
MEDIA_TYPES: dict[ExportFormat, tuple[str, str]] = {
    ExportFormat.JSONL: ("application/x-ndjson", "jsonl"),
    ExportFormat.JSON: ("application/json", "json"),
    ExportFormat.MARKDOWN: ("text/markdown; charset=utf-8", "md"),
}

CSV_COLUMNS = (
    "id",
    "team",
    "team_version",
    "status",
    "started_by",
    "created_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "prompt_tokens",
    "completion_tokens",
    "cost_usd",
    "stop_reason",
    "task",
)


def run_summary(run: Run) -> dict[str, Any]:
    """What a run was and how it went, without its events."""
    duration = None
    if run.started_at and run.finished_at:
        duration = (run.finished_at - run.started_at).total_seconds()
    return {
        "id": run.pk,
        "team": run.team_id,
        "team_name": run.team.name,
        "team_version": run.team_version.number,
        "task": run.task,
        "status": run.status,
        "stop_reason": run.stop_reason,
        "started_by": run.started_by.get_username() if run.started_by else None,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "duration_seconds": duration,
        "prompt_tokens": run.prompt_tokens,
        "completion_tokens": run.completion_tokens,
        "cost_usd": run.cost_usd,
        "usage": run.usage or {},
        "parent": run.parent_id,
        "parent_seq": run.parent_seq,
    }


def run_events(run: Run) -> Iterator[dict[str, Any]]:
    """Every persisted event of the run, in seq order, as clients receive them."""
    for event in RunEvent.objects.filter(run=run).order_by("seq").iterator(chunk_size=500):
        yield event.envelope()


def to_json(value: Any) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


def export_json(run: Run) -> str:
    """One JSON document: summary, team spec and events."""
    document = {
        "run": run_summary(run),
        "team_spec": run.team_version.spec,
        "events": list(run_events(run)),
    }
    return to_json(document)


def export_jsonl(run: Run) -> Iterator[str]:
    """JSON Lines: a ``run`` line (summary and team spec), then an ``event`` line each."""
    header = {"kind": "run", "run": run_summary(run), "team_spec": run.team_version.spec}
    yield to_json(header) + "\n"
    for event in run_events(run):
        yield to_json({"kind": "event", "event": event}) + "\n"


def fenced(text: str) -> str:
    """Text in a Markdown code fence long enough that nothing inside can close it."""
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def event_markdown(event: dict[str, Any]) -> str:
    """One event as a Markdown section; content goes in fences, so nothing renders live."""
    data = event.get("data") or {}
    title = f"### #{event['seq']} {event['type']}"
    if event.get("source"):
        title += f" — {event['source']}"
    if event.get("discarded"):
        title += " (discarded)"
    content = data.get("content") if isinstance(data, dict) else None
    body = content if isinstance(content, str) else json.dumps(data, indent=2, ensure_ascii=False)
    return f"{title}\n\n{fenced(body)}\n"


def export_markdown(run: Run) -> str:
    """A readable transcript: summary, team spec, then each event."""
    summary = run_summary(run)
    lines = [f"# Run {run.pk}: {run.team.name} v{summary['team_version']}", ""]
    for key in ("status", "stop_reason", "started_by", "created_at", "finished_at"):
        lines.append(f"- **{key}**: {summary[key]}")
    lines.append(f"- **tokens**: {run.prompt_tokens} prompt, {run.completion_tokens} completion")
    lines.append(f"- **cost**: ${run.cost_usd:.4f}")
    lines += ["", "## Task", "", fenced(run.task), "", "## Team spec", ""]
    lines += [fenced(json.dumps(run.team_version.spec, indent=2, ensure_ascii=False)), ""]
    lines += ["## Events", ""]
    lines += [event_markdown(event) for event in run_events(run)]
    return "\n".join(lines)


def export_run(run: Run, export_format: ExportFormat) -> str:
    """The run in ``export_format``, as one string."""
    if export_format == ExportFormat.JSONL:
        return "".join(export_jsonl(run))
    if export_format == ExportFormat.JSON:
        return export_json(run)
    return export_markdown(run)


def inert_cell(value: Any) -> Any:
    """A CSV cell no spreadsheet evaluates: text that looks like a formula gets a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_summary(runs: Iterable[Run]) -> str:
    """One CSV row per run, with the columns of :data:`CSV_COLUMNS`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for run in runs:
        summary = run_summary(run)
        summary["team"] = summary["team_name"]
        writer.writerow([inert_cell(summary[column]) for column in CSV_COLUMNS])
    return buffer.getvalue()
