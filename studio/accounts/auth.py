"""API authentication: a browser session (CSRF-checked) or a bearer token.

`api_auth` is the list handed to Django Ninja. `user_from_bearer` and
`auser_from_bearer` resolve a token for code outside Ninja (the websocket consumer).
"""

from datetime import timedelta
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from studio.accounts.models import ApiToken, digest_token

# Writing last_used_at on every request would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_from_bearer(token: str) -> AbstractBaseUser | None:
    """Return the active user owning `token`, or None."""
    if not token:
        return None
    row = ApiToken.objects.select_related("user").filter(digest=digest_token(token)).first()
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


async def auser_from_bearer(token: str) -> AbstractBaseUser | None:
    """Async variant of `user_from_bearer` for consumers."""
    return await sync_to_async(user_from_bearer)(token)


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` for scripts."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        """Return the token's user (also set as request.user) or None."""
        user = user_from_bearer(token)
        if user is not None:
            request.user = user
        return user


class ActiveSessionAuth(SessionAuth):
    """The browser's session cookie; CSRF is enforced for unsafe methods."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        """Return the logged-in active user or None."""
        user = request.user
        return user if user.is_authenticated and user.is_active else None


api_auth = [BearerTokenAuth(), ActiveSessionAuth()]
