"""The API token admin: staff may rename or delete a token, never hand it to someone
else, since whoever holds its secret would then act as that person."""

from __future__ import annotations

from django.contrib.auth.models import Permission, User
from django.test import Client

from studio.accounts.models import ApiToken


def test_staff_cannot_move_a_token_to_another_user(owner: User, stranger: User) -> None:
    stranger.is_staff = True
    stranger.save(update_fields=["is_staff"])
    stranger.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_apitoken", "change_apitoken"])
    )
    token, _ = ApiToken.objects.issue(stranger, name="mine")
    client = Client()
    client.force_login(stranger)

    response = client.post(
        f"/admin/accounts/apitoken/{token.pk}/change/", {"user": owner.pk, "name": "renamed"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    token.refresh_from_db()
    assert (token.user, token.name) == (stranger, "renamed")
