"""Teams as data: credentials, model configurations, agents, teams and team versions.

Everything a user creates has an owner and may be shared with users or groups as viewer
or editor (`Share`). Querysets expose `visible_to(user)` and `editable_by(user)`; views
go through them for every lookup, so an id from a client is never trusted on its own.
Objects marked `is_gallery` are visible (never editable) to every logged-in user.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from studio.accounts.users import AnyUser
from studio.sql import columns_of, fetch_rows, quoted_column, quoted_table
from studio.teams import encryption

IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
identifier_validator = RegexValidator(
    IDENTIFIER, "Use letters, digits and underscores, starting with a letter (max 64)."
)


class Role(models.TextChoices):
    """What a share lets its user or group do."""

    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"


class Provider(models.TextChoices):
    """Model provider kinds."""

    OPENAI = "openai", "OpenAI"
    ANTHROPIC = "anthropic", "Anthropic"
    OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible (Ollama, vLLM, LM Studio)"
    SCRIPTED = "scripted", "Scripted (offline replies)"


class Share(models.Model):
    """Grants one user or one group a role on one owned object."""

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.CASCADE)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(group__isnull=True))
                | (Q(user__isnull=True) & Q(group__isnull=False)),
                name="share_user_xor_group",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "user"], name="share_unique_user"
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id", "group"], name="share_unique_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.group} as {self.role} on {self.content_type} {self.object_id}"


OwnedT = TypeVar("OwnedT", bound="Owned")


class SharedQuerySet(models.QuerySet[OwnedT]):
    """Scopes owned objects to what a user may see or change."""

    def _shared_ids(self, user: AnyUser, roles: list[str]) -> models.QuerySet[Share, int]:
        content_type = ContentType.objects.get_for_model(self.model)
        return Share.objects.filter(
            Q(user=user) | Q(group__in=user.groups.all()),
            content_type=content_type,
            role__in=roles,
        ).values_list("object_id", flat=True)

    def visible_to(self, user: AnyUser) -> SharedQuerySet[OwnedT]:
        """Objects `user` owns, has been shared, or that are in the gallery."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self.all()
        shared = self._shared_ids(user, [Role.VIEWER, Role.EDITOR])
        return self.filter(Q(owner=user) | Q(pk__in=shared) | Q(is_gallery=True))

    def editable_by(self, user: AnyUser) -> SharedQuerySet[OwnedT]:
        """Objects `user` owns or has been shared as editor."""
        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self.all()
        shared = self._shared_ids(user, [Role.EDITOR])
        return self.filter(Q(owner=user) | Q(pk__in=shared))


class Owned(models.Model):
    """Fields and sharing common to everything a user creates."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_gallery = models.BooleanField(
        default=False, help_text="Visible read-only to every logged-in user."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    shares = GenericRelation(Share)

    objects = SharedQuerySet.as_manager()

    class Meta:
        abstract = True

    def share_with(
        self,
        *,
        user: User | None = None,
        group: Group | None = None,
        role: str = Role.VIEWER,
    ) -> Share:
        """Grant (or change) a user's or group's role on this object."""
        content_type = ContentType.objects.get_for_model(self)
        share, _ = Share.objects.update_or_create(
            content_type=content_type,
            object_id=self.pk,
            user=user,
            group=group,
            defaults={"role": role},
        )
        return share

    def role_of(self, user: AnyUser) -> str | None:
        """ "owner", "editor", "viewer" or None for `user` on this object."""
        if not (user.is_authenticated and user.is_active):
            return None
        if self.owner_id == user.pk or user.is_superuser:
            return "owner"
        manager = type(self).objects
        if manager.editable_by(user).filter(pk=self.pk).exists():
            return Role.EDITOR
        if manager.visible_to(user).filter(pk=self.pk).exists():
            return Role.VIEWER
        return None


ENV_KEY_REFUSED = (
    "is not a variable this server lends keys from; the operator lists those in the "
    "CREDENTIAL_KEY_ENV_VARS setting (store the key itself instead)"
)


def env_key_url(env_var: str) -> str | None:
    """Where a key read from `env_var` may be sent: "" for the provider's own URL only, a
    URL the operator paired with it, or None when the variable is not on the allow-list.

    The server's environment holds its own secrets too, and a credential's owner picks
    where its key goes: so only variables the operator named lend keys, and only to the
    URL the operator chose for them.
    """
    return settings.CREDENTIAL_KEY_ENV_VARS.get(env_var)


def same_url(first: str | None, second: str | None) -> bool:
    """Whether two base URLs name the same endpoint (a trailing slash does not count)."""
    return (first or "").rstrip("/") == (second or "").rstrip("/")


class Credential(Owned):
    """How to reach a provider: base URL and an API key, encrypted at rest.

    The key is either stored (encrypted with a key derived from the settings secret) or
    named by an environment variable on the server. It is never returned, rendered,
    exported or logged: only `has_key` is.
    """

    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    base_url = models.URLField(blank=True, max_length=500)
    encrypted_key = models.TextField(blank=True, editable=False)
    key_env_var = models.CharField(
        max_length=100,
        blank=True,
        validators=[RegexValidator(r"^[A-Za-z_][A-Za-z0-9_]*$", "Not a variable name.")],
        help_text="Read the key from this environment variable instead of storing it.",
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"

    def __repr__(self) -> str:
        return f"<Credential {self.pk} {self.name!r} provider={self.provider}>"

    @property
    def has_key(self) -> bool:
        """Whether a key is stored or named."""
        return bool(self.encrypted_key or self.key_env_var)

    def set_key(self, plain: str) -> None:
        """Store `plain` encrypted (an empty string clears the stored key)."""
        self.encrypted_key = encryption.encrypt(plain) if plain else ""

    def clean(self) -> None:
        """Only allow-listed environment variables, and only toward their own URL."""
        if not self.key_env_var.isidentifier():
            return  # blank, or the field's own validator already said what is wrong
        allowed_url = env_key_url(self.key_env_var)
        if allowed_url is None:
            raise ValidationError({"key_env_var": f"not allowed: {ENV_KEY_REFUSED}"})
        self.base_url = self.base_url or allowed_url
        problem = self.destination_problem(self.base_url)
        if problem is not None:
            raise ValidationError({"base_url": problem})

    def destination_problem(self, url: str | None) -> str | None:
        """Why this credential's environment key may not be sent to `url` (None: it may).

        A stored key goes wherever its owner points it (see `ModelConfig`); a key lent
        by the server's environment goes only where the operator said.
        """
        if not self.key_env_var:
            return None
        allowed_url = env_key_url(self.key_env_var)
        if allowed_url is None:
            return f'environment variable "{self.key_env_var}" {ENV_KEY_REFUSED}'
        if same_url(url, allowed_url):
            return None
        where = allowed_url or "the provider's own URL (leave the base URL empty)"
        return f'the key in "{self.key_env_var}" is lent by the server and goes only to {where}'

    def get_key(self) -> str:
        """The plain key, decrypted or read from an allowed environment variable ("" when
        there is none or the variable is not allowed)."""
        if self.key_env_var:
            if env_key_url(self.key_env_var) is None:
                return ""
            return os.environ.get(self.key_env_var, "")
        return encryption.decrypt(self.encrypted_key) if self.encrypted_key else ""

    def key_problem(self) -> str | None:
        """Why the key cannot be used, or None when it can."""
        if self.key_env_var and env_key_url(self.key_env_var) is None:
            return f'environment variable "{self.key_env_var}" {ENV_KEY_REFUSED}'
        if self.key_env_var and not os.environ.get(self.key_env_var):
            return f'environment variable "{self.key_env_var}" is not set on the server'
        if self.encrypted_key:
            try:
                encryption.decrypt(self.encrypted_key)
            except encryption.DecryptionError:
                return "the stored key cannot be decrypted (was the secret changed?)"
        return None


class ModelConfig(Owned):
    """A model to talk to: provider, model name, parameters and prices.

    The scripted provider holds its replies here, so demos and tests run offline.
    """

    name = models.CharField(max_length=100)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    model = models.CharField(max_length=200, blank=True)
    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="models"
    )
    base_url = models.URLField(blank=True, max_length=500, help_text="Overrides the credential's.")
    params = models.JSONField(default=dict, blank=True, help_text="temperature, max_tokens, …")
    model_info = models.JSONField(default=dict, blank=True)
    price_input_per_million = models.FloatField(default=0.0)
    price_output_per_million = models.FloatField(default=0.0)
    scripted_replies = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "model"

    def __str__(self) -> str:
        return f"{self.name} ({self.provider}: {self.model or 'scripted'})"


class AgentKind(models.TextChoices):
    """What sits in a seat of a team."""

    ASSISTANT = "assistant", "Assistant (model + tools)"
    USER_PROXY = "user_proxy", "Human seat"
    TEAM = "team", "Nested team"


class Agent(Owned):
    """One participant: an assistant, a human seat or a nested team."""

    name = models.CharField(max_length=64, validators=[identifier_validator])
    kind = models.CharField(max_length=20, choices=AgentKind.choices, default=AgentKind.ASSISTANT)
    description = models.TextField(blank=True)
    system_message = models.TextField(blank=True)
    model = models.ForeignKey(
        ModelConfig, null=True, blank=True, on_delete=models.PROTECT, related_name="agents"
    )
    tools = models.JSONField(default=list, blank=True)
    handoffs = models.JSONField(default=list, blank=True)
    reflect_on_tool_use = models.BooleanField(default=False)
    max_tool_iterations = models.PositiveIntegerField(default=1)
    model_client_stream = models.BooleanField(default=False)
    inner_team = models.ForeignKey(
        "Team", null=True, blank=True, on_delete=models.PROTECT, related_name="nested_in"
    )
    instruction = models.TextField(blank=True)
    response_prompt = models.TextField(blank=True)
    model_context = models.JSONField(
        null=True, blank=True, help_text="What the model sees of the conversation."
    )
    memory = models.JSONField(default=list, blank=True, help_text="Facts recalled each turn.")
    tool_call_summary_format = models.CharField(max_length=1000, default="{result}")

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class TeamKind(models.TextChoices):
    """How a team decides who speaks next."""

    ROUND_ROBIN = "round_robin", "Round robin"
    SELECTOR = "selector", "Selector (a model picks)"
    SWARM = "swarm", "Swarm (handoffs)"
    GRAPH = "graph", "Graph"


class Team(Owned):
    """A team: who takes part, how turns pass, when to stop."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=20, choices=TeamKind.choices, default=TeamKind.ROUND_ROBIN)
    participants: models.ManyToManyField[Agent, TeamMember] = models.ManyToManyField(
        Agent, through="TeamMember", related_name="teams"
    )
    termination = models.JSONField(null=True, blank=True)
    max_turns = models.PositiveIntegerField(null=True, blank=True)
    selector_model = models.ForeignKey(
        ModelConfig, null=True, blank=True, on_delete=models.PROTECT, related_name="selector_of"
    )
    selector_prompt = models.TextField(blank=True)
    allow_repeated_speaker = models.BooleanField(default=False)
    graph_edges = models.JSONField(default=list, blank=True)
    layout = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def ordered_members(self) -> list[Agent]:
        """Participants in seat order, each with its model.

        Read at every run start, by two statements written out once (see
        :mod:`studio.sql`): the ORM compiled its join of seats, agents and models anew
        each time, which took longer than the database did to answer it.
        """
        agents = fetch_rows(Agent, seated_agents_statement(), [self.pk])
        model_ids = sorted({agent.model_id for agent in agents if agent.model_id is not None})
        if model_ids:
            statement = models_statement(len(model_ids))
            models = {model.pk: model for model in fetch_rows(ModelConfig, statement, model_ids)}
            for agent in agents:
                model = models.get(agent.model_id or 0)
                if model is not None:  # else gone meanwhile: read when asked for
                    agent.model = model
        return agents

    def latest_version(self) -> TeamVersion | None:
        """The newest saved version, if any."""
        return self.versions.order_by("-number").first()


class TeamMember(models.Model):
    """A seat: which agent sits at which position of a team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="seats")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["team", "position"]
        constraints = [
            models.UniqueConstraint(fields=["team", "position"], name="member_unique_position"),
            models.UniqueConstraint(fields=["team", "agent"], name="member_unique_agent"),
        ]

    def __str__(self) -> str:
        return f"{self.team} #{self.position}: {self.agent}"


def spec_hash(spec: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of a spec (sorted keys, no whitespace)."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class TeamVersion(models.Model):
    """An immutable snapshot of a team's fully resolved spec; runs pin one."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    content_hash = models.CharField(max_length=64, editable=False)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["team", "number"], name="version_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.team} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Insert only: a version never changes once written."""
        if not self._state.adding:
            raise ValidationError("Team versions are immutable.")
        self.content_hash = spec_hash(self.spec)
        super().save(*args, **kwargs)


class TeamDraft(models.Model):
    """A user's unsaved work on a team: any JSON, valid or not, kept until they save.

    One per user and team; the builder autosaves here. `base_version` is the version the
    work started from, so a save can tell when someone else saved in between.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="drafts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    spec = models.JSONField()
    base_version = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="draft_unique_team_user")
        ]

    def __str__(self) -> str:
        return f"{self.user}'s draft of {self.team}"


@functools.cache
def seated_agents_statement() -> str:
    """The agents of a team's seats (the team's id as parameter), in seat order."""
    agent, member = quoted_table(Agent), quoted_table(TeamMember)
    return (
        f"SELECT {columns_of(Agent)} FROM {member} INNER JOIN {agent} "
        f"ON {agent}.{quoted_column(Agent, 'id')} = {member}.{quoted_column(TeamMember, 'agent')} "
        f"WHERE {member}.{quoted_column(TeamMember, 'team')} = %s "
        f"ORDER BY {member}.{quoted_column(TeamMember, 'position')}"
    )


@functools.cache
def models_statement(count: int) -> str:
    """The model configurations with ``count`` ids (the ids as parameters)."""
    marks = ", ".join(["%s"] * count)
    return (
        f"SELECT {columns_of(ModelConfig)} FROM {quoted_table(ModelConfig)} "
        f"WHERE {quoted_column(ModelConfig, 'id')} IN ({marks})"
    )
