"""Request-wide middleware: the request body size limit."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


class RequestSizeLimitMiddleware:
    """Answer 413 with a JSON error when a request declares a body above the limit.

    Django's own DATA_UPLOAD_MAX_MEMORY_SIZE only fires when the body is read and answers
    400; clients deserve the precise status before anything is parsed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return JsonResponse(
                {
                    "message": f"The request body is larger than the {limit} byte limit.",
                    "errors": [],
                },
                status=413,
            )
        return self.get_response(request)
