"""Run history and compare in Chromium: picking runs is explicit (a third tick is
refused, or replaces one on request), and compare lines the turns up and marks where
the runs part ways."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import finished_run, scripted_team

pytestmark = pytest.mark.browser


def test_compare_aligns_turns_and_marks_the_first_divergence(logged_in_page: Page) -> None:
    page = logged_in_page
    task = "Plan an aardvark picnic"
    long_team = scripted_team(page, "Picnic planner A", ["Plan first.", "Bring bread.", "Done."])
    short_team = scripted_team(page, "Picnic planner B", ["Plan first.", "Bring grapes."])
    first = finished_run(page, long_team, task)
    second = finished_run(page, short_team, task)

    page.goto(f"/runs/compare/?a={first}&b={second}")
    rows = page.get_by_test_id("turn-row")
    expect(rows).to_have_count(4)
    expect(page.get_by_test_id("divergence-summary")).to_contain_text(
        "agree for 2 turns, then part ways at turn 3: different words"
    )
    states = [rows.nth(index).get_attribute("data-state") for index in range(4)]
    assert states == ["same", "same", "differs", "differs"]
    divergence = page.locator("#first-divergence")
    expect(divergence).to_contain_text("First divergence")
    expect(divergence.get_by_label(f"Run {first}, turn 3")).to_contain_text("Bring bread.")
    expect(divergence.get_by_label(f"Run {second}, turn 3")).to_contain_text("Bring grapes.")
    expect(rows.nth(3).get_by_label(f"Run {second}, turn 4")).to_contain_text("it had stopped")
    expect(rows.nth(3)).to_contain_text(f"only run #{first} has this turn")
    expect(page.get_by_test_id("compare-duration")).to_have_count(2)
    page.get_by_role("link", name="Go to turn 3").click()
    expect(page).to_have_url(re.compile("#first-divergence$"))


def test_a_third_tick_is_refused_and_can_replace_a_pick_on_request(logged_in_page: Page) -> None:
    page = logged_in_page
    team = scripted_team(page, "Okra counter", ["One okra."])
    ids = [finished_run(page, team, f"Count okra batch {number}") for number in (1, 2, 3)]

    page.goto("/runs/?q=okra")
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(3)
    compare = page.get_by_role("link", name="Compare selected runs")
    page.get_by_label(f"Compare run {ids[0]}").check()
    page.get_by_label(f"Compare run {ids[1]}").check()
    expect(compare).to_have_attribute("href", re.compile(rf"a={ids[0]}&b={ids[1]}"))

    page.get_by_label(f"Compare run {ids[2]}").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(f"Run #{ids[2]} was not added")
    expect(page.get_by_label(f"Compare run {ids[2]}")).not_to_be_checked()
    expect(page.get_by_label(f"Compare run {ids[0]}")).to_be_checked()

    refusal.get_by_role("button", name=f"Replace #{ids[0]} with #{ids[2]}").click()
    expect(page.get_by_label(f"Compare run {ids[0]}")).not_to_be_checked()
    expect(page.get_by_label(f"Compare run {ids[2]}")).to_be_checked()
    expect(compare).to_have_attribute("href", re.compile(rf"a={ids[2]}&b={ids[1]}"))

    # the picks stay in view, and can be dropped, while the filters hide their rows
    page.get_by_label("Search").fill("nothing-matches-this")
    expect(page.get_by_text("No runs match.")).to_be_visible()
    picked = page.get_by_role("list", name="Picked runs")
    expect(picked.get_by_role("listitem")).to_have_count(2)
    picked.get_by_role("button", name=f"Unpick run {ids[1]}").click()
    expect(picked.get_by_role("listitem")).to_have_count(1)
    expect(compare).to_have_attribute("aria-disabled", "true")
