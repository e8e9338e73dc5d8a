"""What the browser benchmarks share: a studio on a scratch data folder, served by daphne as
in the browser tests (tests/browser/studio_process.py), and one system Chromium."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.studio_process import (  # noqa: E402 (the project root must be importable first)
    CHROMIUM,
    CHROMIUM_ARGS,
    USERNAME,
    log_in,
    manage,
    prepare_studio,
    start_daphne,
    stop_daphne,
    studio_env,
)

__all__ = ["CHROMIUM", "USERNAME", "Studio", "manage", "new_logged_in_page", "running_studio"]


@dataclass(frozen=True)
class Studio:
    """A running studio: its environment (for management commands), base URL and browser."""

    env: dict[str, str]
    url: str
    browser: Any


@contextmanager
def running_studio() -> Iterator[Studio]:
    """A fresh studio (demo gallery, the test user) and a headless Chromium, both stopped
    and the data folder removed on exit."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="roundtable-ui-bench-") as scratch:
        data_dir = Path(scratch)
        env = studio_env(data_dir)
        prepare_studio(env)
        process, url = start_daphne(env, data_dir / "daphne.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                try:
                    yield Studio(env=env, url=url, browser=browser)
                finally:
                    browser.close()
        finally:
            stop_daphne(process)


def new_logged_in_page(browser: Any, base_url: str, **options: Any) -> Any:
    """A page in a fresh context (no cache, no cookies) logged in as the test user."""
    context = browser.new_context(base_url=base_url, **options)
    page = context.new_page()
    log_in(page)
    return page
