"""JSON API for your own API tokens: list them, issue one (its secret is in that answer
and nowhere else, ever), revoke one.

Only a browser session may issue a token, so a leaked token cannot mint more of itself:
revoking it ends the leak. Listing and revoking work with either kind of login.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404
from ninja import Field, Router, Schema, Status

from studio.accounts.auth import ActiveSessionAuth
from studio.accounts.models import ApiToken
from studio.accounts.users import AuthenticatedRequest
from studio.errors import ServiceError
from studio.inputs import ObjectId, Text

router = Router(tags=["tokens"])

#: more than anyone's scripts need; a bound keeps a runaway script from filling the table
MAX_TOKENS_PER_USER = 50


class TokenIn(Schema):
    """A new token's label, to recognise it in the list later."""

    name: Text = Field("", max_length=100)


class TokenOut(Schema):
    """A token as the list shows it: never the secret, only its first characters."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class IssuedTokenOut(TokenOut):
    """A new token, with its secret: shown in this answer only."""

    token: str = Field(description="Send as `Authorization: Bearer <token>`. Not shown again.")


def token_out(token: ApiToken) -> dict[str, Any]:
    """A token row without its digest."""
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
    }


@router.get("/tokens", response=list[TokenOut], url_name="tokens-list")
def list_tokens(request: AuthenticatedRequest) -> list[dict[str, Any]]:
    """Your API tokens, newest first."""
    return [token_out(token) for token in ApiToken.objects.filter(user=request.user)]


@router.post(
    "/tokens",
    response={201: IssuedTokenOut},
    url_name="tokens-create",
    auth=[ActiveSessionAuth()],
)
def create_token(request: AuthenticatedRequest, payload: TokenIn) -> Status[dict[str, Any]]:
    """Issue a token for scripts (from a logged-in browser only); copy it from this answer,
    it is never shown again."""
    if ApiToken.objects.filter(user=request.user).count() >= MAX_TOKENS_PER_USER:
        raise ServiceError(
            f"You have {MAX_TOKENS_PER_USER} tokens, the most one person may hold. "
            "Revoke one you no longer use, then create the new one.",
            409,
        )
    token, plain = ApiToken.objects.issue(request.user, name=payload.name.strip())
    return Status(201, {**token_out(token), "token": plain})


@router.delete("/tokens/{token_id}", response={204: None}, url_name="tokens-delete")
def revoke_token(request: AuthenticatedRequest, token_id: ObjectId) -> Status[None]:
    """Revoke one of your tokens: scripts sending it are refused from now on."""
    deleted, _ = ApiToken.objects.filter(user=request.user, pk=token_id).delete()
    if not deleted:
        raise Http404
    return Status(204, None)
