"""Run statistics for reviewers: runs per day by status, cost per team and per model per
week, failure rate and p50/p95 duration per week; drawn as server-rendered SVG (no
script, nothing fetched) with the numbers in tables beside the charts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from studio.runs.models import FINISHED_STATUSES, Run, Status, is_reviewer

#: how far back the dashboard looks
DAYS = 28
PALETTE = ("#417690", "#79aec8", "#ba2121", "#e1a200", "#5b8c3a", "#8a5a9e", "#666", "#c86")
FAILED = (Status.FAILED, Status.TIMED_OUT)


@dataclass
class Chart:
    """Stacked bars: one bar per label, one segment per series."""

    title: str
    labels: list[str]
    series: dict[str, list[float]] = field(default_factory=dict)
    unit: str = ""

    def rows(self) -> list[list[str]]:
        """The table beside the chart: a row per label, a column per series."""
        return [
            [label, *(self.format(values[index]) for values in self.series.values())]
            for index, label in enumerate(self.labels)
        ]

    def format(self, value: float) -> str:
        if self.unit == "$":
            return f"${value:,.4f}"
        if self.unit == "%":
            return f"{value:.1f}%"
        if self.unit == "s":
            return f"{value:,.1f} s"
        return f"{value:,.0f}"


def week_of(moment: datetime) -> date:
    """The Monday of the moment's week (in the current time zone)."""
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def runs_per_day(runs: QuerySet[Run], start: date) -> Chart:
    days = [start + timedelta(days=offset) for offset in range(DAYS)]
    chart = Chart("Runs per day by status", [day.isoformat() for day in days])
    counts = (
        runs.annotate(day=TruncDate("created_at"))
        .values_list("day", "status")
        .annotate(count=Count("pk"))
    )
    by_status: dict[str, dict[date, int]] = defaultdict(dict)
    for day, status, count in counts:
        by_status[status][day] = count
    for status in Status:
        if status in by_status:
            chart.series[status.label] = [float(by_status[status].get(day, 0)) for day in days]
    return chart


def weekly(runs: list[Run], start: date) -> dict[str, Chart]:
    """Cost per team and per model, failure rate and durations, week by week."""
    weeks = sorted({week_of(run.created_at) for run in runs} | {week_of_day(start)})
    labels = [week.isoformat() for week in weeks]
    index = {week: position for position, week in enumerate(weeks)}
    team_cost: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(weeks))
    model_cost: dict[str, list[float]] = defaultdict(lambda: [0.0] * len(weeks))
    finished, failed = [0] * len(weeks), [0] * len(weeks)
    durations: list[list[float]] = [[] for _ in weeks]
    for run in runs:
        position = index[week_of(run.created_at)]
        team_cost[run.team.name][position] += run.cost_usd
        for model, row in ((run.usage or {}).get("by_model") or {}).items():
            model_cost[str(model)][position] += float(row.get("cost_usd") or 0)
        if run.status in FINISHED_STATUSES:
            finished[position] += 1
            failed[position] += run.status in FAILED
        if run.started_at and run.finished_at:
            durations[position].append((run.finished_at - run.started_at).total_seconds())
    rate = [
        100 * bad / total if total else 0.0 for bad, total in zip(failed, finished, strict=True)
    ]
    return {
        "team_cost": Chart("Cost per team per week", labels, dict(team_cost), "$"),
        "model_cost": Chart("Cost per model per week", labels, dict(model_cost), "$"),
        "failure_rate": Chart("Failure rate per week", labels, {"failed": rate}, "%"),
        "duration": Chart(
            "Duration per week",
            labels,
            {
                "p50": [percentile(values, 0.5) for values in durations],
                "p95": [percentile(values, 0.95) for values in durations],
            },
            "s",
        ),
    }


def week_of_day(day: date) -> date:
    return day - timedelta(days=day.weekday())


def svg_chart(chart: Chart, *, stacked: bool = True) -> SafeString:
    """The chart as inline SVG; every label is escaped."""
    width, height, left, bottom = 640, 220, 56, 40
    count = max(1, len(chart.labels))
    slot = (width - left - 8) / count
    totals = [
        sum(values[i] for values in chart.series.values())
        if stacked
        else max((values[i] for values in chart.series.values()), default=0)
        for i in range(len(chart.labels))
    ]
    peak = max(totals, default=0) or 1
    scale = (height - bottom - 10) / peak
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(chart.title)}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="4" y="14" font-size="11">{escape(chart.format(peak))}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" '
        'stroke="#999"/>',
    ]
    series = list(chart.series.items())
    for i, label in enumerate(chart.labels):
        x = left + i * slot
        base = float(height - bottom)
        for number, (name, values) in enumerate(series):
            value = values[i]
            if value <= 0:
                continue
            bar = value * scale
            bar_width = slot * 0.8 if stacked else slot * 0.8 / len(series)
            offset = 0 if stacked else number * bar_width
            top = base - bar if stacked else height - bottom - bar
            parts.append(
                f'<rect x="{x + offset:.1f}" y="{top:.1f}" width="{bar_width:.1f}" '
                f'height="{bar:.1f}" fill="{PALETTE[number % len(PALETTE)]}">'
                f"<title>{escape(name)} {escape(label)}: {escape(chart.format(value))}</title>"
                "</rect>"
            )
            if stacked:
                base -= bar
        if count <= 12 or i % max(1, count // 8) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10">'
                f"{escape(label[5:])}</text>"
            )
    for number, (name, _values) in enumerate(series):
        y = height - 12
        x = left + number * 110
        parts.append(
            f'<rect x="{x}" y="{y - 8}" width="9" height="9" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text x="{x + 12}" y="{y}" font-size="10">{escape(name[:16])}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # built from escaped parts only


def dashboard(user: Any) -> list[dict[str, Any]]:
    """Every chart of the dashboard with its SVG and table."""
    start = timezone.localdate() - timedelta(days=DAYS - 1)
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    runs = Run.objects.visible_to(user).filter(created_at__gte=since)
    charts = [runs_per_day(runs, start)]
    charts += weekly(list(runs.select_related("team")), start).values()
    return [
        {
            "chart": chart,
            "svg": svg_chart(chart, stacked=chart.unit not in ("s", "%")),
            "columns": list(chart.series),
            "rows": chart.rows(),
        }
        for chart in charts
    ]


@login_required
def stats_page(request: HttpRequest) -> HttpResponse:
    """``/runs/stats/``: reviewers only; anyone else is told there is nothing here."""
    if not is_reviewer(request.user):
        raise Http404("No such page.")
    context = {"charts": dashboard(request.user), "days": DAYS, "title": "Run statistics"}
    return render(request, "admin/runs/stats.html", context)
