"""The log-in pages, ours and the admin's, refusing further tries while guesses pile up.

Each failed log-in counts against its username and the client's address (see
:mod:`studio.accounts.throttling`); while either is over its limit every attempt, even
with the right password, gets a form error saying how long to wait (and, on our page,
429 with ``Retry-After``).
"""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpResponse

from studio.accounts.throttling import (
    client_ip,
    describe_wait,
    forget_login_failures,
    login_retry_after,
    record_login_failure,
)


class ThrottledLoginMixin(AuthenticationForm):
    """Checks the throttles before authenticating and counts the failures."""

    retry_after = 0

    def clean(self) -> dict[str, Any]:
        """Refuse while throttled; otherwise authenticate and count a failure."""
        username = self.cleaned_data.get("username") or ""
        address = client_ip(self.request) if self.request is not None else "unknown"
        self.retry_after = login_retry_after(username, address)
        if self.retry_after:
            raise ValidationError(
                f"Too many failed log-in attempts. Try again in {describe_wait(self.retry_after)}.",
                code="throttled",
            )
        try:
            cleaned: dict[str, Any] = super().clean()
        except ValidationError:
            # Count wrong passwords, not right ones refused for another reason (no staff).
            if username and self.get_user() is None:
                record_login_failure(username, address)
            raise
        if username:
            forget_login_failures(username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The studio's log-in form."""


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's log-in form (staff only), counting against the same throttles."""


class LoginView(auth_views.LoginView):
    """The log-in page; a throttled attempt is answered 429 with ``Retry-After``."""

    form_class = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        """Re-render with the errors; say when to come back if throttled."""
        response = super().form_invalid(form)
        if isinstance(form, ThrottledLoginMixin) and form.retry_after:
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response
