"""API authentication: a browser session (CSRF-checked) or a bearer token.

`api_auth` is the list handed to Django Ninja. `user_from_bearer` resolves a token for
code outside Ninja too (the websocket consumer, on a server thread).
Given the client's address they also throttle guessing: wrong tokens count against the
address, and past `API_MAX_BAD_TOKENS_PER_IP` no token from it is even looked at.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import cache, wraps
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from studio.accounts import throttling
from studio.accounts.models import ApiToken, digest_token
from studio.accounts.throttling import RateLimited
from studio.errors import error_response
from studio.sql import columns_of, db_value, first_row, quoted_column, quoted_table

# Writing last_used_at on every request would turn reads into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_from_bearer(token: str, *, client_ip: str | None = None) -> User | None:
    """Return the active user owning `token`, or None.

    With `client_ip`, raise :class:`RateLimited` while that address is throttled, and
    count a wrong token against it.
    """
    if not token:
        return None
    if client_ip is not None:
        throttling.check_token_address(client_ip)
    now = timezone.now()
    stale_before = db_value(ApiToken, "last_used_at", now - LAST_USED_RESOLUTION)
    user = first_row(User, token_holder_statement(), [stale_before, digest_token(token)])
    if user is None or not user.is_active:
        if client_ip is not None:
            throttling.record_bad_token(client_ip)
        return None
    if user.token_is_stale:  # type: ignore[attr-defined]  # the statement's own column
        ApiToken.objects.filter(pk=user.token_id).update(last_used_at=now)  # type: ignore[attr-defined]
    return user


@cache
def token_holder_statement() -> str:
    """The user holding a token (parameters: the moment before which its last use is
    noted again, the token's digest), with the token's ``token_id`` and whether its last
    use is older than that (``token_is_stale``, 1 or 0).

    Written out once (see :mod:`studio.sql`): every request and socket of a script reads
    it, and the ORM compiled its join anew each time, which took longer than running it.
    """
    user, token = quoted_table(User), quoted_table(ApiToken)
    last_used = f"{token}.{quoted_column(ApiToken, 'last_used_at')}"
    return (
        f"SELECT {columns_of(User)}, {token}.{quoted_column(ApiToken, 'id')} AS token_id, "
        f"CASE WHEN {last_used} IS NULL OR {last_used} < %s THEN 1 ELSE 0 END "
        f"AS token_is_stale FROM {token} INNER JOIN {user} "
        f"ON {user}.{quoted_column(User, 'id')} = {token}.{quoted_column(ApiToken, 'user')} "
        f"WHERE {token}.{quoted_column(ApiToken, 'digest')} = %s"
    )


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <token>` for scripts."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        """Return the token's user (also set as request.user) or None; 429 if throttled."""
        user = user_from_bearer(token, client_ip=throttling.client_ip(request))
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


def login_required_for_docs(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Guard the API docs page and schema like every other page and API call.

    A session or a bearer token lets the request in; otherwise the docs page sends the
    browser to the login page and the schema answers 401 in the API's error shape.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = None
        if scheme.lower() == "bearer":
            try:
                user = user_from_bearer(token.strip(), client_ip=throttling.client_ip(request))
            except RateLimited as exc:
                response = error_response(exc.message, 429)
                response["Retry-After"] = str(exc.retry_after)
                return response
        if user is None and request.user.is_authenticated and request.user.is_active:
            user = request.user
        if user is not None:
            return view(request, *args, **kwargs)
        if request.path.endswith(".json"):
            return error_response("Log in, or send Authorization: Bearer <token>.", 401)
        return redirect_to_login(request.get_full_path())

    return guarded
