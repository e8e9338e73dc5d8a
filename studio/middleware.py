"""Request-wide middleware: the request body size limit and the Content-Security-Policy;
and the ASGI handler that runs the chain on the request's thread."""

from collections.abc import Callable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from studio.errors import error_response

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
            return error_response(f"The request body is larger than the {limit} byte limit.", 413)
        return self.get_response(request)

    @staticmethod
    def _undeclared_body_too_large(request: HttpRequest, limit: int) -> bool:
        if request.method not in BODY_METHODS or "CONTENT_LENGTH" in request.META:
            return False
        body = request.read(limit + 1)
        # The stream is consumed: hand the bytes to request.body the way Django caches them.
        request._body = body  # Django's own cache attribute
        return len(body) > limit


class ContentSecurityPolicyMiddleware:
    """Send ``settings.CONTENT_SECURITY_POLICY`` on every response.

    Django 5.2 has no CSP support of its own (6.0 adds it), and the policy is fixed
    apart from one thing, so a few lines do: ``connect-src`` also names the page's own
    host under ``ws://`` or ``wss://`` (browsers differ on whether ``'self'`` covers
    websockets). A response that already carries a policy keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy_for(request)
        return response

    @staticmethod
    def policy_for(request: HttpRequest) -> str:
        """The header value for ``request``."""
        directives = {
            name: list(sources) for name, sources in settings.CONTENT_SECURITY_POLICY.items()
        }
        try:
            host = request.get_host()
        except DisallowedHost:  # answered 400 already; 'self' is enough for that page
            host = ""
        if host:
            scheme = "wss" if request.is_secure() else "ws"
            directives.setdefault("connect-src", ["'self'"]).append(f"{scheme}://{host}")
        return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class SynchronousHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view run synchronously in
    one trip to the request's thread.

    Django's own handler runs an async chain: each middleware that can be async runs on
    the event loop, Django's own (``MiddlewareMixin``) send every ``process_request`` and
    ``process_response`` back to the request's thread, and a synchronous view is another
    trip there and back. Each trip is a wait for the other side's turn at the
    interpreter, which on a busy server costs more than the request's own work. Here the
    chain is built synchronous (an async view, if any, is the one thing adapted) and the
    whole of it runs as one call on the thread.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        """Build the synchronous chain, whatever mode is asked for."""
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        """The response of the synchronous chain, run on the request's thread."""
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
