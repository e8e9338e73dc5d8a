"""Built-in tools every team may use, and the registry the studio builds teams with.

Tools are code registered here, never code from a team file. Teams refer to them by
name. The calculator parses arithmetic itself (no `eval`); the URL fetcher refuses
private, loopback and link-local addresses after DNS resolution and on every redirect.
"""

from __future__ import annotations

import ast
import functools
import http.client
import math
import operator
import socket
import ssl
import time
from collections.abc import Callable
from datetime import datetime
from html.parser import HTMLParser
from typing import Annotated, Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

from runtime import AddressNotAllowed, FunctionTool, NetworkGuard, ProcessLimits, ToolRegistry

# --- Calculator ---

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., float]] = {
    "sqrt": math.sqrt,
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
MAX_EXPRESSION_CHARS = 500
MAX_EXPONENT = 1000
#: The largest whole number any step may produce, in bits (about 3,000 decimal digits).
#: Exponents alone do not bound work: ((10**1000)**1000)**30 keeps every exponent small.
MAX_RESULT_BITS = 10_000
TOO_LARGE = f"the result would have more than {MAX_RESULT_BITS} bits; use smaller numbers"


def _result_bits(op: ast.operator, left: int, right: int) -> int:
    """An upper bound of the bits a whole-number result of `left op right` needs."""
    if isinstance(op, ast.Pow):
        return abs(left).bit_length() * abs(right) if right > 0 else 0
    if isinstance(op, ast.Mult):
        return abs(left).bit_length() + abs(right).bit_length()
    return max(abs(left).bit_length(), abs(right).bit_length()) + 1


def _apply(op: ast.operator, left: float, right: float) -> float:
    """One binary operation, refused before it starts when its result would be huge."""
    if isinstance(op, ast.Pow) and abs(right) > MAX_EXPONENT:
        raise ValueError(f"exponents above {MAX_EXPONENT} are not allowed")
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and _result_bits(op, left, right) > MAX_RESULT_BITS
    ):
        raise ValueError(TOO_LARGE)
    try:
        return _BINARY[type(op)](left, right)
    except OverflowError:
        raise ValueError("the result is too large for a floating-point number") from None
    except ZeroDivisionError:
        raise ValueError("division by zero") from None


def _evaluate(node: ast.AST) -> float:
    """Evaluate an allowed arithmetic node; anything else is refused."""
    if isinstance(node, ast.Expression):
        return _evaluate(node.body)
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)  # True and False are no numbers here
    ):
        if isinstance(node.value, int) and node.value.bit_length() > MAX_RESULT_BITS:
            raise ValueError(TOO_LARGE)
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _apply(node.op, _evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        try:
            return _FUNCTIONS[node.func.id](*(_evaluate(arg) for arg in node.args))
        except OverflowError:
            raise ValueError("the result is too large for a floating-point number") from None
    raise ValueError(f"unsupported expression element: {ast.dump(node)[:60]}")


def calculator(expression: Annotated[str, "Arithmetic such as (2 + 3) * sqrt(16)"]) -> str:
    """Evaluate an arithmetic expression: + - * / // % **, parentheses, pi, e, and
    sqrt, abs, round, min, max, log, exp, sin, cos, tan."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {exc.msg}") from None
    result = _evaluate(tree)
    if isinstance(result, float) and result.is_integer() and abs(result) < 1e15:
        result = int(result)
    return str(result)


# --- Current time ---


def current_time(
    timezone: Annotated[str, "An IANA time zone such as Europe/Paris"] = "UTC",
) -> str:
    """The current date and time in a time zone, in ISO 8601."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None
    return datetime.now(zone).isoformat(timespec="seconds")


# --- URL fetcher ---

MAX_REDIRECTS = 5
MAX_FETCH_BYTES = 2_000_000
FETCH_TIMEOUT_SECONDS = 15.0
#: The most a whole fetch may take: a server trickling a byte at a time must not keep
#: a worker thread for longer than this.
FETCH_TOTAL_SECONDS = 30.0


def read_body(response: http.client.HTTPResponse, *, deadline: float) -> bytes:
    """At most MAX_FETCH_BYTES of the body, refused once the deadline passes."""
    chunks: list[bytes] = []
    size = 0
    while size < MAX_FETCH_BYTES:
        if time.monotonic() > deadline:
            raise FetchRefused(f"the page took longer than {FETCH_TOTAL_SECONDS:g} seconds")
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:MAX_FETCH_BYTES]


class FetchRefused(ValueError):
    """The URL points somewhere the fetcher must not go."""


def resolve_checked(host: str, port: int, guard: NetworkGuard) -> str:
    """Resolve `host` and return the address to connect to, once `guard` allowed every
    address it resolves to (so DNS answers mixing public and private ones are refused)."""
    try:
        return str(guard.resolve(host, port))
    except socket.gaierror as exc:
        raise FetchRefused(f"cannot resolve {host}: {exc.strerror}") from None
    except AddressNotAllowed as exc:
        raise FetchRefused(str(exc)) from None


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to an already checked address, whatever the Host header says."""

    def __init__(self, host: str, address: str, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to an already checked address, verifying the certificate for the host name."""

    def __init__(self, host: str, address: str, **kwargs: Any) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, context=self._tls, **kwargs)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class _TextExtractor(HTMLParser):
    """Collects visible text from HTML, skipping scripts and styles."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in {"script", "style", "noscript"}:
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "noscript"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def fetch_text(
    url: str,
    *,
    guard: NetworkGuard,
    timeout: float = FETCH_TIMEOUT_SECONDS,
) -> tuple[int, str, str]:
    """GET `url`, following redirects with every hop checked; return (status, type, body)."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise FetchRefused("only http and https URLs can be fetched")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_checked(parts.hostname, port, guard)
        connection_class = (
            _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        )
        connection = connection_class(parts.hostname, address, port=port, timeout=timeout)
        try:
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            connection.request("GET", path, headers={"User-Agent": "Roundtable fetch_url"})
            response = connection.getresponse()
            if response.status in {301, 302, 303, 307, 308} and response.getheader("Location"):
                url = urljoin(url, response.getheader("Location", ""))
                continue
            body = read_body(response, deadline=time.monotonic() + FETCH_TOTAL_SECONDS)
            content_type = response.getheader("Content-Type", "")
            charset = response.headers.get_content_charset() or "utf-8"
            return response.status, content_type, body.decode(charset, errors="replace")
        finally:
            connection.close()
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def fetch_url(
    url: Annotated[str, "An http(s) URL on the public internet"],
    max_chars: Annotated[int, "Truncate the text to this many characters"] = 5000,
) -> str:
    """Fetch a web page and return its status and text (HTML reduced to visible text)."""
    everywhere = ["0.0.0.0/0", "::/0"] if settings.FETCH_ALLOW_PRIVATE_ADDRESSES else []
    guard = NetworkGuard(
        everywhere, hint="The operator can allow them with FETCH_ALLOW_PRIVATE_ADDRESSES."
    )
    status, content_type, body = fetch_text(url, guard=guard)
    if "html" in content_type:
        extractor = _TextExtractor()
        extractor.feed(body)
        body = "\n".join(extractor.parts)
    limit = max(100, min(max_chars, 50_000))
    truncated = " [truncated]" if len(body) > limit else ""
    return f"HTTP {status}\n{body[:limit]}{truncated}"


# --- Registry ---

BUILTIN_TOOLS: list[Callable[..., Any]] = [calculator, current_time, fetch_url]
#: Tools whose work a model's input decides (arithmetic can be made to burn CPU and
#: memory) run in a child process with these limits, killed at their timeout; never on
#: the server's event loop or in a thread that cannot be stopped.
CPU_BOUND_TOOLS = {"calculator": ProcessLimits(cpu_seconds=5, memory_bytes=512 * 1024 * 1024)}
TOOL_TIMEOUT_SECONDS = 30.0


@functools.cache
def tool_registry() -> ToolRegistry:
    """The registry teams are built with: the built-ins (created once per process)."""
    registry = ToolRegistry()
    for func in BUILTIN_TOOLS:
        limits = CPU_BOUND_TOOLS.get(func.__name__)
        registry.register(FunctionTool(func, timeout=TOOL_TIMEOUT_SECONDS, process_limits=limits))
    return registry


def describe_tools(registry: ToolRegistry | None = None) -> list[dict[str, Any]]:
    """Name, description and JSON schema of every registered tool, for the API."""
    registry = registry or tool_registry()
    return [
        {
            "name": tool.name,
            "description": tool.description,
            "parameters": dict(tool.schema.get("parameters", {})),
        }
        for tool in registry
    ]
