"""The user types the studio is written against.

The user model is Django's own `User` (AUTH_USER_MODEL is not swapped). A request may
come from nobody logged in (`AnyUser`); an API view's request always has a user, since
the API refuses unauthenticated calls before the view runs (see `studio.api`).
"""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

#: whoever a request comes from: a user, or nobody logged in
AnyUser = User | AnonymousUser


class AuthenticatedRequest(HttpRequest):
    """The request an API view gets: authentication (`api_auth`) has set its user."""

    user: User
