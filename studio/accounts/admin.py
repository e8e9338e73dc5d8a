"""Admin for API tokens (only the digest is stored; the token itself is shown once), and
the admin's log-in form, throttled like the studio's own."""

from django.contrib import admin
from django.http import HttpRequest

from studio.accounts.models import ApiToken
from studio.accounts.views import AdminLoginForm

admin.site.login_form = AdminLoginForm


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """API tokens; people create theirs on the Settings page, or with
    `manage.py create_api_token USER`."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at"]
    list_filter = ["created_at", "last_used_at"]
    search_fields = ["user__username", "name", "prefix"]
    # Whoever holds a token's secret acts as its user: moving a token to another user
    # would let them act as that person, so its user is fixed at issue.
    readonly_fields = ["user", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Tokens are issued where the secret can be shown once: the Settings page or the
        command."""
        return False
