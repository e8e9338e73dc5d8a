"""Admin pages for reviewing teams, agents, models, credentials, versions and shares."""

from collections.abc import Mapping
from typing import Any, TypeVar

from django.contrib import admin
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.http import HttpRequest

from studio.teams.models import (
    Agent,
    Credential,
    ModelConfig,
    Owned,
    Share,
    Team,
    TeamDraft,
    TeamMember,
    TeamVersion,
)

OwnedT = TypeVar("OwnedT", bound=Owned)

#: a provider address typed without a scheme is taken as https (Django's forms assume
#: http until 6.0, and warn about it on every form that has a URL field)
URLS_ASSUME_HTTPS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.URLField: {"assume_scheme": "https"}
}


class GalleryReadOnly(admin.ModelAdmin[OwnedT]):
    """Gallery objects are read-only here too: only `seed_demo` writes them."""

    def has_change_permission(self, request: HttpRequest, obj: OwnedT | None = None) -> bool:
        is_gallery = obj is not None and obj.is_gallery
        return not is_gallery and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: OwnedT | None = None) -> bool:
        is_gallery = obj is not None and obj.is_gallery
        return not is_gallery and super().has_delete_permission(request, obj)


class ShareInline(GenericTabularInline):
    """Shares of one object."""

    model = Share
    extra = 0
    autocomplete_fields = ["user", "group"]


class TeamMemberInline(admin.TabularInline[TeamMember, Team]):
    """Seats of a team."""

    model = TeamMember
    extra = 0
    autocomplete_fields = ["agent"]


@admin.register(Credential)
class CredentialAdmin(GalleryReadOnly[Credential]):
    """Credentials; the key is never shown, only whether one is set."""

    list_display = ["name", "provider", "owner", "base_url", "has_key", "key_env_var", "updated_at"]
    list_filter = ["provider"]
    search_fields = ["name", "base_url", "owner__username"]
    exclude = ["encrypted_key"]
    inlines = [ShareInline]
    formfield_overrides = URLS_ASSUME_HTTPS

    @admin.display(boolean=True, description="key set")
    def has_key(self, credential: Credential) -> bool:
        """Whether a key is stored or named."""
        return credential.has_key


@admin.register(ModelConfig)
class ModelConfigAdmin(GalleryReadOnly[ModelConfig]):
    """Model configurations."""

    list_display = [
        "name",
        "provider",
        "model",
        "credential",
        "price_input_per_million",
        "price_output_per_million",
        "owner",
        "is_gallery",
    ]
    list_filter = ["provider", "is_gallery"]
    search_fields = ["name", "model", "owner__username"]
    autocomplete_fields = ["credential"]
    inlines = [ShareInline]
    formfield_overrides = URLS_ASSUME_HTTPS


@admin.register(Agent)
class AgentAdmin(GalleryReadOnly[Agent]):
    """Agents."""

    list_display = ["name", "kind", "model", "owner", "is_gallery", "updated_at"]
    list_filter = ["kind", "is_gallery", "model_client_stream", "reflect_on_tool_use"]
    search_fields = ["name", "description", "system_message", "owner__username"]
    autocomplete_fields = ["model", "inner_team"]
    inlines = [ShareInline]


@admin.register(Team)
class TeamAdmin(GalleryReadOnly[Team]):
    """Teams with their seats and shares."""

    list_display = ["name", "kind", "owner", "is_gallery", "max_turns", "updated_at"]
    list_filter = ["kind", "is_gallery"]
    search_fields = ["name", "description", "owner__username"]
    autocomplete_fields = ["selector_model"]
    inlines = [TeamMemberInline, ShareInline]


@admin.register(TeamMember)
class TeamMemberAdmin(admin.ModelAdmin[TeamMember]):
    """Seats across teams: which agent sits where (also editable inline on a team)."""

    list_display = ["team", "position", "agent"]
    list_filter = ["team__kind"]
    search_fields = ["team__name", "agent__name"]
    autocomplete_fields = ["team", "agent"]


@admin.register(TeamVersion)
class TeamVersionAdmin(admin.ModelAdmin[TeamVersion]):
    """Team versions: read-only, they are immutable."""

    list_display = ["team", "number", "note", "created_by", "created_at", "short_hash"]
    list_filter = ["created_at"]
    search_fields = ["team__name", "note", "content_hash"]
    readonly_fields = ["team", "number", "spec", "content_hash", "note", "created_by", "created_at"]

    @admin.display(description="hash")
    def short_hash(self, version: TeamVersion) -> str:
        """The first characters of the content hash."""
        return version.content_hash[:12]

    def has_change_permission(self, request: HttpRequest, obj: TeamVersion | None = None) -> bool:
        """Versions never change."""
        return False


@admin.register(Share)
class ShareAdmin(admin.ModelAdmin[Share]):
    """All shares."""

    list_display = ["content_type", "object_id", "user", "group", "role", "created_at"]
    list_filter = ["role", "content_type"]
    search_fields = ["user__username", "group__name"]


@admin.register(TeamDraft)
class TeamDraftAdmin(admin.ModelAdmin[TeamDraft]):
    """Unsaved work people keep on teams (read-only: it is theirs to change)."""

    list_display = ["team", "user", "base_version", "updated_at"]
    search_fields = ["team__name", "user__username"]
    readonly_fields = ["team", "user", "spec", "base_version", "updated_at"]

    def has_change_permission(self, request: HttpRequest, obj: TeamDraft | None = None) -> bool:
        return False
