"""Request-wide middleware: the request body size limit."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class RequestSizeLimitMiddleware:
    """Answer 413 with a JSON error when a request body is above the limit.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE only fires when the body is read, answers
    400, and trusts the declared length; clients deserve the precise status before
    anything is parsed. A body sent without a length (chunked) is measured by reading it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit or (not length and self._undeclared_body_too_large(request, limit)):
            return JsonResponse(
                {
                    "message": f"The request body is larger than the {limit} byte limit.",
                    "errors": [],
                },
                status=413,
            )
        return self.get_response(request)

    @staticmethod
    def _undeclared_body_too_large(request: HttpRequest, limit: int) -> bool:
        if request.method not in BODY_METHODS or "CONTENT_LENGTH" in request.META:
            return False
        body = request.read(limit + 1)
        # The stream is consumed: hand the bytes to request.body the way Django caches them.
        request._body = body  # type: ignore[attr-defined]  # Django's own cache attribute
        return len(body) > limit
