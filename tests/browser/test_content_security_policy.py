"""The Content-Security-Policy holds in Chromium: every main page works under it and the
browser reports no violation (no inline script or style, no stray connection)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_USERNAME, PASSWORD

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/\d+/$")

# Registered before any page script runs; reports through a binding Playwright exposes,
# so reports survive navigations.
LISTEN = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(
    `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber} on ${location.pathname}`
  );
});
"""


@pytest.fixture
def violations(page: Page) -> Iterator[list[str]]:
    """Every policy violation the page reports, from the event and from the console."""
    found: list[str] = []

    def report(text: str) -> None:
        found.append(text)

    page.expose_function("reportViolation", report)
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda message: (
            found.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return found


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def test_the_violation_detector_sees_inline_code(page: Page, violations: list[str]) -> None:
    page.goto("/accounts/login/")
    page.evaluate("document.body.setAttribute('style', 'color: red')")
    page.evaluate(
        "const s = document.createElement('script'); s.textContent = '1'; document.body.append(s)"
    )
    expect(page.locator("body")).to_be_visible()
    page.wait_for_timeout(200)
    directives = " ".join(violations)
    assert "style-src" in directives and "script-src" in directives, violations


def test_the_studio_pages_run_under_the_policy_without_a_violation(
    page: Page, violations: list[str], credentials: tuple[str, str]
) -> None:
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", name="Log in to Roundtable")).to_be_visible()
    log_in(page, credentials[0])
    expect(page.get_by_role("heading", name="Teams", exact=True)).to_be_visible()

    # The builder: canvas, inspector and JSON view.
    page.get_by_role("link", name="Writer and critic", exact=True).click()
    expect(page.get_by_test_id("agent-node")).to_have_count(2)
    page.get_by_label("Agent critic").click()
    expect(page.get_by_label("System message", exact=True)).to_be_visible()

    # A live run over the websocket, to its end.
    page.get_by_role("button", name="Run…").click()
    page.get_by_label("Task").fill("Write a tagline")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(RUN_URL)
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    expect(page.get_by_label("Message from critic")).to_have_count(2)

    page.goto("/runs/")
    expect(page.get_by_role("heading", name="Runs", exact=True)).to_be_visible()
    expect(page.get_by_text("Write a tagline").first).to_be_visible()
    page.goto("/models/")
    expect(page.get_by_role("heading", name="Models and credentials")).to_be_visible()
    page.goto("/settings/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    page.goto("/no/such/page/")
    expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    page.goto("/api/docs")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    page.wait_for_timeout(300)
    assert violations == []


def test_the_admin_runs_under_the_policy_without_a_violation(
    page: Page, violations: list[str]
) -> None:
    page.goto("/admin/login/")
    expect(page.locator("#login-form")).to_be_visible()
    page.locator("#id_username").fill(ADMIN_USERNAME)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/runs/run/")
    expect(page.locator("#changelist")).to_be_visible()
    page.goto("/admin/auth/user/")
    page.get_by_role("link", name=ADMIN_USERNAME, exact=True).click()
    expect(page.locator("#user_form")).to_be_visible()
    page.goto("/admin/teams/team/")
    expect(page.locator("#changelist")).to_be_visible()
    page.wait_for_timeout(300)
    assert violations == []
