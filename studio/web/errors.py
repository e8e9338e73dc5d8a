"""The studio's own 403, 404 and 500 pages: styled like the rest, each saying what
happened and where to go next. Under /api/ the same errors stay JSON in the API's
error shape, since scripts read them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.template.response import TemplateResponse

from studio.errors import error_response

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    """Whether the request was for the JSON API."""
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404: the page, or a thing the user may not see (which must look the same)."""
    if is_api(request):
        return error_response(f"No API endpoint or object at {request.path}.", 404)
    response = TemplateResponse(request, "404.html", {"path": request.path}, status=404)
    return response.render()


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403: the user may see this but not do it."""
    if is_api(request):
        return error_response("You may not do this. Ask the owner to share it with you.", 403)
    return TemplateResponse(request, "403.html", status=403).render()


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form or call without a valid CSRF token: almost always a page left open
    while the session changed, which a reload fixes."""
    if is_api(request):
        return error_response(
            "The page's session token is stale. Reload the page and try again.", 403
        )
    return TemplateResponse(request, "403_csrf.html", status=403).render()


def server_error(request: HttpRequest) -> HttpResponse:
    """500, rendered without the request context: whatever broke (the database, a
    context processor) must not break the error page too."""
    if is_api(request):
        return error_response("Something went wrong on the server. Try again in a moment.", 500)
    return HttpResponse(loader.get_template("500.html").render(), status=500)
