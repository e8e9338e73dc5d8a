"""A studio in its own process for real browsers: embedded mode on a scratch data folder,
served by daphne on a free port of 127.0.0.1.

The browser tests' session fixtures and the browser benchmarks (bench/ui_*.py) both start
the studio this way; nothing here depends on pytest.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from playwright.sync_api import Page

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

CREATE_USER = f"""
from django.contrib.auth.models import User
user = User.objects.create_user({USERNAME!r}, password={PASSWORD!r})
User.objects.create_superuser({ADMIN_USERNAME!r}, password={PASSWORD!r})
"""


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


def manage(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    """Run a management command in a child process against `env`'s data folder; returns
    its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.stdout


def prepare_studio(env: dict[str, str]) -> None:
    """A fresh database with the demo gallery, the test user and an administrator."""
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo")
    manage(env, "shell", "-c", CREATE_USER)


def start_daphne(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Serve the studio on a free port, its output in `log`; returns the process and the
    base URL once it answers. Raises RuntimeError with the log when it does not."""
    port = free_port()
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
    except RuntimeError:
        stop_daphne(process)
        raise
    return process, url


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll until the server answers, or raise RuntimeError with its log."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/accounts/login/", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"daphne did not answer within 30 s:\n{log.read_text()}")


def stop_daphne(process: subprocess.Popen[bytes]) -> None:
    """Ask the server to stop; kill it when it takes more than 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def log_in(page: Page) -> None:
    """Log the page (of a context with the studio as base URL) in as the test user and wait
    for the team list."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
