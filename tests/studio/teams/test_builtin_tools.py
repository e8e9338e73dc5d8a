"""Built-in tools: a calculator without eval, the time, and a fetcher that refuses
private addresses, also after redirects."""

import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

import pytest

from runtime import CancellationToken, NetworkGuard
from studio.teams.tools import (
    FetchRefused,
    calculator,
    current_time,
    fetch_text,
    fetch_url,
    tool_registry,
)


def test_calculator_evaluates_arithmetic() -> None:
    assert calculator("(2 + 3) * sqrt(16)") == "20"
    assert calculator("7 / 2") == "3.5"
    assert calculator("-2 ** 2 + pi * 0") == "-4"


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "open('/etc/passwd')", "(1).__class__", "9 ** 99999", "x"],
)
def test_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ValueError):
        calculator(expression)


def test_current_time_honours_the_time_zone() -> None:
    assert current_time("Asia/Tokyo").endswith("+09:00")
    with pytest.raises(ValueError):
        current_time("Mars/Olympus")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/admin/",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "file:///etc/passwd",
    ],
)
def test_fetcher_refuses_private_loopback_and_non_http_urls(url: str, settings) -> None:
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(FetchRefused):
        fetch_url(url)


class Redirector(BaseHTTPRequestHandler):
    """Answers /page with text and /jump with a redirect to a link-local address."""

    def do_GET(self) -> None:
        if self.path == "/jump":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/latest/")
            self.end_headers()
            return
        body = b"<html><script>x()</script><p>Hello there</p></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def local_server():
    server = HTTPServer(("127.0.0.1", 0), Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


only_loopback = NetworkGuard(["127.0.0.0/8"])


def test_fetcher_checks_every_redirect_hop(local_server: str) -> None:
    status, _, body = fetch_text(f"{local_server}/page", guard=only_loopback)
    assert (status, "Hello there" in body) == (200, True)
    with pytest.raises(FetchRefused, match=r"169\.254\.169\.254"):
        fetch_text(f"{local_server}/jump", guard=only_loopback)


def test_fetcher_returns_visible_text_when_private_addresses_are_allowed(
    local_server: str, settings
) -> None:
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    assert fetch_url(f"{local_server}/page") == "HTTP 200\nHello there"


@pytest.mark.parametrize(
    "expression",
    ["((10**1000)**1000)**30", "10**999*10**999*10**999*10**999", "9**9**9", "exp(10**4)"],
)
def test_calculator_refuses_huge_results_before_computing_them(expression: str) -> None:
    with pytest.raises(ValueError, match=r"too large|more than|exponents above"):
        calculator(expression)


async def test_the_calculator_runs_in_a_killable_process_with_limits() -> None:
    tool = tool_registry().get("calculator")
    assert tool.process_limits is not None
    assert await tool.run_json({"expression": "6 * 7"}, CancellationToken()) == "42"
    with pytest.raises(ValueError, match="more than"):
        await tool.run_json({"expression": "((10**1000)**1000)**30"}, CancellationToken())


class Trickler(BaseHTTPRequestHandler):
    """Sends its body a byte at a time, slowly."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    def log_message(self, *args: object) -> None:
        return


def test_a_page_that_trickles_in_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.teams import tools

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(tools, "FETCH_TOTAL_SECONDS", 0.5)
    try:
        with pytest.raises(FetchRefused, match="took longer than"):
            fetch_text(f"http://127.0.0.1:{server.server_port}/", guard=only_loopback)
    finally:
        server.shutdown()
        server.server_close()
