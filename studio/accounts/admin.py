"""Admin for API tokens (only the digest is stored; the token itself is shown once)."""

from django.contrib import admin

from studio.accounts.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """API tokens; create them with `manage.py create_api_token USER`."""

    list_display = ["prefix", "user", "name", "created_at", "last_used_at"]
    list_filter = ["created_at", "last_used_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        """Tokens are issued by the command so the secret can be shown once."""
        return False
