"""API tokens: long random secrets of which only a SHA-256 digest is stored."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "rt_"


def digest_token(token: str) -> str:
    """Return the stored form of a token (tokens are random, so a plain hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiTokenManager(models.Manager["ApiToken"]):
    """Creates tokens so the plain secret exists only in the caller's hands."""

    def issue(self, user: User, name: str = "") -> tuple["ApiToken", str]:
        """Create a token for `user`; return the row and the plain token (shown once)."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name, prefix=plain[:10], digest=digest_token(plain))
        return token, plain


class ApiToken(models.Model):
    """A bearer token for scripts, sent as `Authorization: Bearer <token>`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, help_text="The first characters, to recognise it.")
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
