"""The run history page in Chromium: full-text search snippets and the date range."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/\d+/$")


def test_search_marks_the_word_in_the_snippet_and_a_later_from_date_hides_the_run(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    page.goto("/")
    page.get_by_role("link", name="Writer and critic", exact=True).click()
    expect(page.get_by_test_id("agent-node").first).to_be_visible()
    page.get_by_role("button", name="Run…").click()
    page.get_by_label("Task").fill("A slogan about <b>okapis</b> & friends")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(RUN_URL)
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")

    page.get_by_role("link", name="Runs", exact=True).click()
    rows = page.get_by_test_id("run-row")
    expect(rows.first).to_be_visible()
    page.get_by_label("Search").fill("okapis")
    expect(rows).to_have_count(1)
    snippet = rows.first.get_by_test_id("run-snippet")
    expect(snippet.locator("mark").first).to_have_text(re.compile(r"^okapis$", re.IGNORECASE))
    # the escaped markup in the message reads as text, never as elements
    expect(snippet.locator("b")).to_have_count(0)

    page.get_by_label("From").fill("2999-01-01")
    expect(page.get_by_text("No runs match.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"created_after=2999-01-01"))
    page.get_by_label("From").fill("")
    page.get_by_label("To").fill("2999-01-01")
    expect(rows).to_have_count(1)
