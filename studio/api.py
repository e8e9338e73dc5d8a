"""The JSON API at /api/ (docs at /api/docs, schema at /api/openapi.json).

Every error is JSON: `{"message": "...", "errors": [{"path": "...", "message": "..."}]}`.
Each app contributes a router, added below.
"""

from collections.abc import Sequence
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from studio.accounts.auth import api_auth, login_required_for_docs
from studio.accounts.throttling import RateLimited
from studio.errors import ServiceError, error_body

api = NinjaAPI(
    title="Roundtable API",
    version="1",
    description="Build, import, export and run teams of LLM agents.",
    auth=api_auth,
    docs_decorator=login_required_for_docs,
    urls_namespace="api",
)


def format_path(location: Sequence[Any]) -> str:
    """Render a pydantic error location as `participants[2].model`."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def request_field_path(location: Sequence[Any]) -> str:
    """Drop Ninja's leading source (body/query/path) and body parameter name."""
    parts = list(location)
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:]
    elif parts and parts[0] in {"query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    return format_path(parts)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """422 with one entry per invalid field."""
    errors = [
        {"path": request_field_path(item.get("loc", ())), "message": item.get("msg", "")}
        for item in exc.errors
    ]
    return api.create_response(request, error_body("The request is not valid.", errors), status=422)


@api.exception_handler(ServiceError)
def on_service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """The status and problems a service chose; a throttled request says when to retry."""
    errors = [problem.as_dict() for problem in exc.problems]
    response = api.create_response(request, error_body(exc.message, errors), status=exc.status)
    if isinstance(exc, RateLimited):
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    """401 for a missing or wrong session or token."""
    return api.create_response(
        request, error_body("Log in, or send Authorization: Bearer <token>."), status=401
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    """404, also for objects the user may not see."""
    return api.create_response(request, error_body("Not found."), status=404)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Any explicit HttpError keeps its status."""
    return api.create_response(request, error_body(str(exc)), status=exc.status_code)


# --- Routers ---

from studio.teams.api import router as teams_router  # noqa: E402

api.add_router("/", teams_router)

from studio.runs.api import router as runs_router  # noqa: E402

api.add_router("/", runs_router)

from studio.accounts.api import router as accounts_router  # noqa: E402

api.add_router("/", accounts_router)
