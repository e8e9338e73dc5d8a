"""Admin views of runs, their events and checkpoints."""

from django.contrib import admin

from studio.runs.models import Checkpoint, Run, RunEvent


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    """Runs with their status, usage and executor."""

    list_display = (
        "id",
        "team",
        "status",
        "started_by",
        "created_at",
        "finished_at",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "attempts",
        "worker",
    )
    list_filter = ("status", "backend", "created_at")
    search_fields = ("task", "stop_reason", "team__name", "started_by__username")
    raw_id_fields = ("team", "team_version", "parent", "started_by")
    readonly_fields = ("lease", "heartbeat_at", "task_id", "usage")


@admin.register(RunEvent)
class RunEventAdmin(admin.ModelAdmin):
    """The transcript, event by event."""

    list_display = ("run", "seq", "type", "source", "discarded", "created_at")
    list_filter = ("type", "discarded")
    search_fields = ("text", "source")
    raw_id_fields = ("run",)


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin):
    """Saved team states."""

    list_display = ("run", "seq", "kind", "base_seq", "created_at")
    raw_id_fields = ("run",)
