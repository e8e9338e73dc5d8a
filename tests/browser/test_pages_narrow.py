"""Every page at 420 px wide in Chromium: nothing pushes the page sideways, Log out
stays on screen, tables turn into cards, and the builder's minimap gives way."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PASSWORD, USERNAME
from tests.browser.pages import finished_run, gallery_team_id

pytestmark = pytest.mark.browser

WIDTH = 420

# Elements wider than the window, for the failure message: the page's own overflow.
OVERFLOWING = """
() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const element of document.querySelectorAll("body *")) {
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1) {
      const label = element.tagName.toLowerCase() +
        (element.id ? "#" + element.id : "") +
        (typeof element.className === "string" && element.className
          ? "." + element.className.trim().split(/\\s+/).join(".") : "");
      wide.push(`${label} (right edge ${Math.round(box.right)})`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}
"""


@pytest.fixture
def narrow_page(chromium: Browser, studio_url: str) -> Iterator[Page]:
    """A phone-sized window, logged in as the test user; JavaScript errors fail the test."""
    context = chromium.new_context(base_url=studio_url, viewport={"width": WIDTH, "height": 820})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    yield page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def assert_fits(page: Page, name: str) -> None:
    """The page is no wider than the window, and Log out is on screen."""
    measured = page.evaluate(OVERFLOWING)
    assert measured["scrollWidth"] <= measured["width"], f"{name} overflows: {measured}"
    log_out = page.get_by_role("button", name="Log out")
    expect(log_out).to_be_visible()
    box = log_out.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (name, box)


def test_no_page_scrolls_sideways_at_420_px(narrow_page: Page) -> None:
    page = narrow_page
    team_id = gallery_team_id(page, "Writer and critic")
    first = finished_run(page, team_id, "A narrow-screen tagline about long-necked giraffes")
    assert_fits(page, "run detail")
    second = finished_run(page, team_id, "Another narrow-screen tagline")

    page.goto("/")
    expect(page.get_by_role("heading", name="Teams", exact=True)).to_be_visible()
    assert_fits(page, "team list")

    page.goto(f"/teams/{team_id}/")
    expect(page.get_by_test_id("agent-node").first).to_be_visible()
    assert_fits(page, "builder")
    expect(page.locator(".react-flow__minimap")).to_be_hidden()

    page.goto("/runs/")
    rows = page.get_by_test_id("run-row")
    expect(rows.first).to_be_visible()
    assert_fits(page, "runs list")
    # each run is a card: its cells stack instead of standing in a row
    cells = rows.first.locator("td")
    first_box, second_box = cells.nth(1).bounding_box(), cells.nth(2).bounding_box()
    assert first_box and second_box and second_box["y"] > first_box["y"]

    page.goto(f"/runs/compare/?a={first}&b={second}")
    expect(page.get_by_test_id("divergence-summary")).to_be_visible()
    assert_fits(page, "compare")

    page.goto("/models/")
    expect(page.get_by_role("heading", name="Credentials", exact=True)).to_be_visible()
    assert_fits(page, "models")

    page.goto("/settings/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    assert_fits(page, "settings")

    page.goto("/no/such/page/")
    expect(page.get_by_role("heading", name="There is nothing here")).to_be_visible()
    assert_fits(page, "404")


def test_the_wrapped_top_bar_is_reachable_by_keyboard(narrow_page: Page) -> None:
    page = narrow_page
    page.goto("/settings/")
    reached = []
    for _ in range(12):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.textContent.trim()"))
        if reached[-1] == "Log out":
            break
    assert "Settings" in reached and reached[-1] == "Log out", reached
