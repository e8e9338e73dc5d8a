"""Errors that services raise and the API turns into JSON responses.

A `ServiceError` carries an HTTP status and a list of `(path, message)` problems, so a
client can point at the exact field (`participants[2].model`).
"""

from dataclasses import dataclass, field
from typing import Any

from django.http import JsonResponse


@dataclass(frozen=True)
class Problem:
    """One problem with one field: `path` is like `participants[2].model` ("" = whole)."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """JSON form used by the API."""
        return {"path": self.path, "message": self.message}


@dataclass
class ServiceError(Exception):
    """A request a service refuses, with the status the API should answer."""

    message: str
    status: int = 400
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message


def error_body(message: str, errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The one JSON shape of every API error."""
    return {"message": message, "errors": errors or []}


def error_response(message: str, status: int) -> JsonResponse:
    """An API error answered outside the API's own handlers (middleware, plain views)."""
    return JsonResponse(error_body(message), status=status)
