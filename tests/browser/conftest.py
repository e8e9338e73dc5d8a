"""Real Chromium against a real daphne: the studio in embedded mode on a file SQLite DB.

pytest-django's live_server speaks no websockets, so the session starts daphne in its own
process on a free port, after preparing a fresh data folder (migrate, demo gallery, a
user). Playwright drives the system Chromium; browsers are never downloaded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.studio_process import ADMIN_USERNAME as ADMIN_USERNAME  # for the tests
from tests.browser.studio_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    ROOT,
    USERNAME,
    log_in,
    manage,
    prepare_studio,
    start_daphne,
    stop_daphne,
    studio_env,
)

BUNDLE = ROOT / "static" / "dist" / "run.js"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last: sync Playwright must not share a thread with the event
    loops the async tests leave behind, and the slow tests belong at the end anyway."""
    browser_dir = Path(__file__).parent
    items.sort(key=lambda item: browser_dir in Path(item.path).parents)


@pytest.fixture(scope="session")
def studio_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The data folder of the test studio and the environment that points at it."""
    data_dir = tmp_path_factory.mktemp("studio-data")
    return data_dir, studio_env(data_dir)


@pytest.fixture(scope="session")
def studio_manage(studio_data: tuple[Path, dict[str, str]]) -> Callable[..., str]:
    """Runs a management command against the test studio's database; returns its output."""
    _, env = studio_data
    return functools.partial(manage, env, timeout=300)


@pytest.fixture(scope="session")
def studio_url(studio_data: tuple[Path, dict[str, str]]) -> Iterator[str]:
    """The base URL of a daphne serving the studio with the demo gallery and one user."""
    if not BUNDLE.exists():
        pytest.fail("The browser bundle is missing: run `make frontend` first.")
    data_dir, env = studio_data
    prepare_studio(env)
    try:
        process, url = start_daphne(env, data_dir / "daphne.log")
    except RuntimeError as error:
        pytest.fail(str(error))
    try:
        yield url
    finally:
        stop_daphne(process)


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
    log_in(page)
    return page
