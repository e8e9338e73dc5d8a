"""Real Chromium against a real daphne: the studio in embedded mode on a file SQLite DB.

pytest-django's live_server speaks no websockets, so the session starts daphne in its own
process on a free port, after preparing a fresh data folder (migrate, demo gallery, a
user). Playwright drives the system Chromium; browsers are never downloaded.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERNAME = "alice"
PASSWORD = "correct-horse-battery"
ADMIN_USERNAME = "root"
BUNDLE = ROOT / "static" / "dist" / "run.js"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: sync Playwright must not share a thread with the event
    loops the async tests leave behind, and the slow tests belong at the end anyway."""
    browser_dir = Path(__file__).parent
    items.sort(key=lambda item: browser_dir in Path(item.path).parents)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def studio_env(data_dir: Path) -> dict[str, str]:
    """Embedded mode (no Redis, SQLite in `data_dir`), whatever the caller's shell says."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}
    }
    env.update(
        DATA_DIR=str(data_dir),
        SECRET_KEY="browser-tests-secret-key-not-for-production-0123456789",
        DJANGO_SETTINGS_MODULE="studio.settings",
        DJANGO_ALLOW_ASYNC_UNSAFE="true",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> None:
    """Run a management command in a child process against the test data folder."""
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


CREATE_USER = f"""
from django.contrib.auth.models import User
user = User.objects.create_user({USERNAME!r}, password={PASSWORD!r})
User.objects.create_superuser({ADMIN_USERNAME!r}, password={PASSWORD!r})
"""


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until the server answers, or fail with its log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    pytest.fail(f"daphne did not answer within 30 s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def studio_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The data folder of the test studio and the environment that points at it."""
    data_dir = tmp_path_factory.mktemp("studio-data")
    return data_dir, studio_env(data_dir)


@pytest.fixture(scope="session")
def studio_manage(studio_data: tuple[Path, dict[str, str]]) -> Callable[..., str]:
    """Runs a management command against the test studio's database; returns its output."""
    _, env = studio_data

    def run(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return done.stdout

    return run


@pytest.fixture(scope="session")
def studio_url(studio_data: tuple[Path, dict[str, str]]) -> Iterator[str]:
    """The base URL of a daphne serving the studio with the demo gallery and one user."""
    if not BUNDLE.exists():
        pytest.fail("The browser bundle is missing: run `make frontend` first.")
    data_dir, env = studio_data
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "shell", "-c", CREATE_USER)
    port = free_port()
    log = data_dir / "daphne.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("daphne")),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "studio.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """One headless system Chromium for the session."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium (make system-deps).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, studio_url: str) -> Iterator[object]:
    """A fresh browser context (no cookies) with one page; JavaScript errors fail the test."""
    context = chromium.new_context(base_url=studio_url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def credentials() -> tuple[str, str]:
    """Username and password of the test user."""
    return USERNAME, PASSWORD


@pytest.fixture
def logged_in_page(page):
    """The page, logged in as the test user and showing the team list."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    return page
