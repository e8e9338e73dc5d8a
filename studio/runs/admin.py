"""Admin views of runs, their events and checkpoints.

A run is read-only here: its page is a review console (the transcript rendered inert,
usage and cost by agent and model, timings, the team version and its diff, the run's
fork family) where the only thing a reviewer changes is the review. Who may read runs
is decided in one place, :func:`studio.runs.models.is_reviewer`: staff and holders of
``runs.review_run`` read every run; owners see only their own runs outside the admin.
"""

from __future__ import annotations

import abc
import io
import json
import zipfile
from typing import Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString

from studio.errors import ServiceError
from studio.runs import reviews, search
from studio.runs.export import ExportFormat, csv_summary, export_run
from studio.runs.filtering import HistoryFilters, filter_history
from studio.runs.models import (
    Checkpoint,
    MessageComment,
    ReviewTag,
    Run,
    RunEvent,
    RunFlag,
    RunReview,
    Verdict,
    is_reviewer,
)
from studio.runs.rendering import render_markdown
from studio.teams.models import TeamVersion
from studio.teams.services import diff_specs

ReviewRecordT = TypeVar("ReviewRecordT", RunReview, ReviewTag, RunFlag, MessageComment)


class ReviewForm(forms.Form):
    """The one thing a reviewer changes on a run's page."""

    verdict = forms.ChoiceField(choices=Verdict.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    tags = forms.CharField(required=False, help_text="Comma-separated.", max_length=500)

    def tag_list(self) -> list[str]:
        """The tags typed, split on commas."""
        return [tag for tag in self.cleaned_data["tags"].split(",") if tag.strip()][:20]


class CommentForm(forms.Form):
    """A remark on one event of the transcript."""

    seq = forms.IntegerField(min_value=1, label="Event #")
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Comment")


class ReviewVerdictFilter(admin.SimpleListFilter):
    """Runs by their latest verdict, or never reviewed."""

    title = "review"
    parameter_name = "verdict"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Verdict.choices, ("none", "Not reviewed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        value = self.value()
        if value == "none":
            return reviews.filter_by_review(queryset, verdict=None, tag=None, reviewed=False)
        if value in Verdict.values:
            return reviews.filter_by_review(queryset, verdict=value, tag=None, reviewed=None)
        return queryset


class ReviewQueueFilter(admin.SimpleListFilter):
    """The review queue: finished runs nobody reviewed yet, or flagged since."""

    title = "review queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("waiting", "Waiting for review")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        if self.value() == "waiting":
            return reviews.waiting_for_review(Run.objects.filter(pk__in=queryset.values("pk")))
        return queryset


class HistoryFilter(admin.SimpleListFilter, abc.ABC):
    """A yes/no filter of run history (see :mod:`studio.runs.filtering`)."""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Run]) -> QuerySet[Run]:
        if self.value() not in ("yes", "no"):
            return queryset
        return filter_history(queryset, self.history(self.value() == "yes"))

    @abc.abstractmethod
    def history(self, wanted: bool) -> HistoryFilters:
        """The history filter this list filter stands for."""


class ToolErrorFilter(HistoryFilter):
    title = "a tool failed"
    parameter_name = "tool_errors"

    def history(self, wanted: bool) -> HistoryFilters:
        return HistoryFilters(tool_errors=wanted)


class AskedHumanFilter(HistoryFilter):
    title = "asked the human"
    parameter_name = "asked_human"

    def history(self, wanted: bool) -> HistoryFilters:
        return HistoryFilters(asked_human=wanted)


class ForkedFilter(HistoryFilter):
    title = "forked or continued"
    parameter_name = "forked"

    def history(self, wanted: bool) -> HistoryFilters:
        return HistoryFilters(forked=wanted)


def money(value: float | None) -> str:
    """Dollars to four decimals (cost per call is often below a cent)."""
    return f"${value or 0:,.4f}"


def usage_rows(usage: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Rows of the usage table ``by_model`` or ``by_agent``, costliest first."""
    rows = []
    for name, row in (usage.get(key) or {}).items():
        rows.append(
            {
                "name": name,
                "calls": int(row.get("calls") or 0),
                "prompt_tokens": int(row.get("prompt_tokens") or 0),
                "completion_tokens": int(row.get("completion_tokens") or 0),
                "cost": money(row.get("cost_usd")),
                "sort": float(row.get("cost_usd") or 0),
            }
        )
    return sorted(rows, key=lambda row: -row["sort"])


def event_body(event: RunEvent) -> str:
    """What to show for an event: its text, or its data as indented JSON."""
    data = event.data if isinstance(event.data, dict) else {}
    content = data.get("content")
    if isinstance(content, str) and set(data) <= {"content", "models_usage", "message_id"}:
        return content
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def event_html(event: RunEvent) -> SafeString | None:
    """A message's text as sanitised Markdown; None for events shown as their data."""
    content = event.data.get("content") if isinstance(event.data, dict) else None
    if event.type == "message" and isinstance(content, str):
        return render_markdown(content)
    return None


def version_changes(version: TeamVersion) -> list[dict[str, str]]:
    """How the run's team version differs from the version before it."""
    previous = (
        TeamVersion.objects.filter(team_id=version.team_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )
    if previous is None:
        return []
    return [
        {
            "path": change["path"],
            "old": json.dumps(change["old"], default=str),
            "new": json.dumps(change["new"], default=str),
        }
        for change in diff_specs(previous.spec, version.spec)
    ]


def run_family(run: Run) -> list[Run]:
    """The run's ancestors (forks and continuations it came from) and its direct forks."""
    family: list[Run] = []
    parent = run.parent
    while parent is not None and len(family) < 50:
        family.insert(0, parent)
        parent = parent.parent
    return [*family, run, *run.forks.order_by("pk")]


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    """Runs as a read-only review console; reviewers change only the review."""

    list_display = (
        "id",
        "team",
        "status",
        "started_by",
        "created_at",
        "finished_at",
        "total_tokens",
        "cost",
        "latest_verdict",
    )
    list_filter = (
        "status",
        ReviewQueueFilter,
        ReviewVerdictFilter,
        ToolErrorFilter,
        AskedHumanFilter,
        ForkedFilter,
        ("team", admin.RelatedOnlyFieldListFilter),
        ("started_by", admin.RelatedOnlyFieldListFilter),
        "backend",
        "created_at",
    )
    search_fields = ("task", "stop_reason", "team__name", "started_by__username")
    list_select_related = ("team", "started_by")
    actions = (
        "mark_good",
        "mark_bad",
        "mark_needs_work",
        "export_jsonl_archive",
        "export_csv_summary",
    )
    change_form_template = "admin/runs/run/review.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Run]:
        return reviews.with_review_state(Run.objects.visible_to(request.user))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Run], search_term: str
    ) -> tuple[QuerySet[Run], bool]:
        """The admin's fields, or any message matching the words (full-text)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found = found | search.filter_runs(queryset, search_term)
        return found, may_have_duplicates

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reviewer(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reviewer(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # runs leave through `manage.py prune_runs`, which spares active ones

    @admin.display(description="cost", ordering="cost_usd")
    def cost(self, run: Run) -> str:
        return money(run.cost_usd)

    @admin.display(description="verdict")
    def latest_verdict(self, run: Run) -> str:
        verdict = getattr(run, "latest_verdict", None)
        return Verdict(verdict).label if verdict else "—"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The review console of one run; a POST records a review."""
        if not is_reviewer(request.user):
            return HttpResponseRedirect(reverse("admin:login"))
        run = get_object_or_404(
            Run.objects.visible_to(request.user).select_related(
                "team", "team_version", "started_by", "parent"
            ),
            pk=object_id if str(object_id).isdigit() else 0,
        )
        posted = request.POST if request.method == "POST" else None
        is_comment = posted is not None and "seq" in posted
        form = ReviewForm(None if is_comment else posted)
        comment_form = CommentForm(posted if is_comment else None)
        if posted is not None and (comment_form if is_comment else form).is_valid():
            try:
                self.save_review(request, run, form, comment_form, is_comment=is_comment)
            except ServiceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "Comment saved." if is_comment else "Review saved.")
            return HttpResponseRedirect(request.path)
        context = self.console(request, run, form)
        context["comment_form"] = comment_form
        return TemplateResponse(request, self.change_form_template, context)

    def save_review(
        self,
        request: HttpRequest,
        run: Run,
        form: ReviewForm,
        comment_form: CommentForm,
        *,
        is_comment: bool,
    ) -> None:
        """Record the posted review, or the posted comment on one event."""
        if is_comment:
            data = comment_form.cleaned_data
            reviews.comment_on_message(request.user, run.pk, data["seq"], data["text"])
            return
        data = form.cleaned_data
        reviews.review_run(request.user, run.pk, data["verdict"], data["note"], form.tag_list())

    def console(self, request: HttpRequest, run: Run, form: ReviewForm) -> dict[str, Any]:
        """Everything the review page shows."""
        duration = None
        if run.started_at and run.finished_at:
            duration = run.finished_at - run.started_at
        comments: dict[int, list[MessageComment]] = {}
        for comment in MessageComment.objects.filter(run=run).select_related("author"):
            comments.setdefault(comment.seq, []).append(comment)
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Review run {run.pk}",
            "run": run,
            "events": [
                {
                    "event": event,
                    "body": event_body(event),
                    "html": event_html(event),
                    "comments": comments.get(event.seq),
                }
                for event in RunEvent.objects.filter(run=run).order_by("seq")
            ],
            "by_model": usage_rows(run.usage or {}, "by_model"),
            "by_agent": usage_rows(run.usage or {}, "by_agent"),
            "cost": money(run.cost_usd),
            "duration": duration,
            "changes": version_changes(run.team_version),
            "family": run_family(run),
            "reviews": RunReview.objects.filter(run=run)
            .select_related("reviewer")
            .prefetch_related("tags"),
            "flags": RunFlag.objects.filter(run=run).select_related("flagged_by"),
            "form": form,
            "live_url": reverse("web-run-detail", args=[run.pk]),
        }

    def review_selected(self, request: HttpRequest, queryset: QuerySet[Run], verdict: str) -> None:
        """Give every selected run the same verdict, one review each."""
        for pk in queryset.values_list("pk", flat=True):
            reviews.review_run(request.user, pk, verdict)
        label = Verdict(verdict).label
        messages.success(request, f"Reviewed {queryset.count()} runs as {label.lower()}.")

    @admin.action(description="Review selected runs as good")
    def mark_good(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self.review_selected(request, queryset, Verdict.GOOD)

    @admin.action(description="Review selected runs as bad")
    def mark_bad(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self.review_selected(request, queryset, Verdict.BAD)

    @admin.action(description="Review selected runs as needing work")
    def mark_needs_work(self, request: HttpRequest, queryset: QuerySet[Run]) -> None:
        self.review_selected(request, queryset, Verdict.NEEDS_WORK)

    @admin.action(description="Download selected runs as a JSON Lines archive (zip)")
    def export_jsonl_archive(self, request: HttpRequest, queryset: QuerySet[Run]) -> HttpResponse:
        buffer = io.BytesIO()
        runs = queryset.select_related("team", "team_version", "started_by")
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for run in runs:
                archive.writestr(f"run-{run.pk}.jsonl", export_run(run, ExportFormat.JSONL))
        response = HttpResponse(buffer.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="runs.zip"'
        return response

    @admin.action(description="Download a CSV summary of selected runs")
    def export_csv_summary(self, request: HttpRequest, queryset: QuerySet[Run]) -> HttpResponse:
        runs = queryset.select_related("team", "team_version", "started_by").order_by("pk")
        response = HttpResponse(csv_summary(runs), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="runs.csv"'
        return response


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin[RunEvent]):
    """The transcript, event by event."""

    list_display = ("run", "seq", "type", "source", "discarded", "created_at")
    list_filter = ("type", "discarded")
    search_fields = ("text", "source")
    raw_id_fields = ("run",)


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin[Checkpoint]):
    """Saved team states."""

    list_display = ("run", "seq", "kind", "base_seq", "created_at")
    raw_id_fields = ("run",)


class ReviewRecordAdmin(admin.ModelAdmin[ReviewRecordT]):
    """Review records as a read-only log: they are written from a run's review page."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reviewer(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reviewer(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RunReview)
class RunReviewAdmin(ReviewRecordAdmin[RunReview]):
    """Every verdict given, newest first."""

    list_display = ("run", "verdict", "reviewer", "created_at")
    list_filter = ("verdict", "created_at")
    raw_id_fields = ("run",)
    search_fields = ("note", "reviewer__username")


@admin.register(ReviewTag)
class ReviewTagAdmin(ReviewRecordAdmin[ReviewTag]):
    """Tags reviews gave."""

    list_display = ("name", "run", "review")
    search_fields = ("name",)
    raw_id_fields = ("run", "review")


@admin.register(RunFlag)
class RunFlagAdmin(ReviewRecordAdmin[RunFlag]):
    """Requests for review."""

    list_display = ("run", "flagged_by", "reason", "created_at")
    raw_id_fields = ("run",)
    search_fields = ("reason", "flagged_by__username")


@admin.register(MessageComment)
class MessageCommentAdmin(ReviewRecordAdmin[MessageComment]):
    """Remarks on single events."""

    list_display = ("run", "seq", "author", "created_at")
    raw_id_fields = ("run",)
    search_fields = ("text", "author__username")
