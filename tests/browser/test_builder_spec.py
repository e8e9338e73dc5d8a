"""The builder in Chromium edits one team spec: a save is whole or refused with its problems,
unsaved work comes back from the draft, stale saves are caught, the gallery is copied rather
than changed, and the lists come from the catalog."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    create_team,
    csrf_headers,
    open_builder,
    rename_agent,
    save_new_version,
    stored_team,
)

pytestmark = pytest.mark.browser

BUILDER_URL = re.compile(r".*/teams/(\d+)/$")


def test_a_duplicate_name_is_refused_with_its_path_and_nothing_is_saved(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    team_id = create_team(page, "Alpha and beta")
    open_builder(page, team_id)
    expect(page.get_by_test_id("version")).to_have_text("v1")

    rename_agent(page, "beta", "alpha")
    page.get_by_role("button", name="Save").click()

    problems = page.get_by_role("list", name="Problems")
    expect(problems).to_contain_text('participants[1].name: "alpha" is already taken in this team')
    nodes = page.get_by_test_id("agent-node")
    expect(nodes.nth(1)).to_have_attribute("data-problems", "1")
    expect(nodes.nth(0)).not_to_have_attribute("data-problems", "1")
    expect(page.get_by_label("Name", exact=True)).to_be_focused()
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")
    expect(page.get_by_text(re.compile("Saved as version"))).to_have_count(0)
    expect(page.get_by_test_id("version")).to_have_text("v1")

    page.reload()
    expect(page.get_by_label("Agent alpha")).to_be_visible()
    expect(page.get_by_label("Agent beta")).to_be_visible()
    expect(page.get_by_test_id("version")).to_have_text("v1")
    stored = stored_team(page, team_id)
    assert [agent["name"] for agent in stored["spec"]["participants"]] == ["alpha", "beta"]
    assert stored["version"] == 1


def test_unsaved_work_is_offered_back_after_a_reload_and_saved_from_there(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    team_id = create_team(page, "Draft keeper")
    open_builder(page, team_id)
    page.get_by_label("Agent beta").click()
    page.get_by_label("System message", exact=True).fill("Kept in the draft.")
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")

    page.reload()
    offer = page.get_by_role("region", name="Unsaved changes")
    expect(offer).to_contain_text("You have unsaved changes from")
    expect(page.get_by_test_id("save-state")).to_have_text("All changes saved")
    page.get_by_label("Agent beta").click()
    expect(page.get_by_label("System message", exact=True)).to_have_value("You are beta.")

    offer.get_by_role("button", name="Restore draft").click()
    expect(offer).to_have_count(0)
    page.get_by_label("Agent beta").click()
    expect(page.get_by_label("System message", exact=True)).to_have_value("Kept in the draft.")
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")

    save_new_version(page)
    expect(page.get_by_test_id("save-state")).to_have_text("All changes saved")
    assert page.request.get(f"/api/teams/{team_id}/draft").status == 204
    page.reload()
    expect(page.get_by_test_id("agent-node").first).to_be_visible()
    expect(page.get_by_role("region", name="Unsaved changes")).to_have_count(0)


def test_arrow_keys_move_a_node_into_the_layout(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "Keyboard layout")
    open_builder(page, team_id)
    node = page.get_by_label("Agent beta")
    node.click()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")
    draft = page.request.get(f"/api/teams/{team_id}/draft").json()
    moved = draft["spec"]["layout"]["positions"]["beta"]
    assert "alpha" not in draft["spec"]["layout"]["positions"]

    save_new_version(page)
    assert stored_team(page, team_id)["spec"]["layout"]["positions"]["beta"] == moved


def test_a_save_after_someone_elses_is_refused_and_reload_shows_theirs(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    team_id = create_team(page, "Two tabs")
    open_builder(page, team_id)

    # Another tab saves version 2 first.
    theirs = stored_team(page, team_id)["spec"]
    theirs["description"] = "Saved in the other tab."
    response = page.request.put(
        f"/api/teams/{team_id}/spec",
        data={"spec": theirs, "base_version": 1},
        headers=csrf_headers(page),
    )
    assert response.ok, response.text()

    page.get_by_label("Agent alpha").click()
    page.get_by_label("System message", exact=True).fill("Mine.")
    page.get_by_role("button", name="Save").click()
    conflict = page.get_by_role("alert").filter(has_text="saved version 2")
    expect(conflict).to_contain_text("alice saved version 2")
    expect(page.get_by_test_id("version")).to_have_text("v1")

    conflict.get_by_role("button", name="Reload").click()
    expect(page.get_by_test_id("version")).to_have_text("v2")
    page.get_by_role("tab", name="Team").click()
    expect(page.get_by_label("Description")).to_have_value("Saved in the other tab.")
    expect(page.get_by_role("region", name="Unsaved changes")).to_contain_text("version 2")
    assert (
        stored_team(page, team_id)["spec"]["participants"][0]["system_message"] == "You are alpha."
    )


def test_a_gallery_team_is_read_only_and_opens_an_editable_copy(logged_in_page: Page) -> None:
    page = logged_in_page
    page.get_by_role("link", name="Plan, code, test", exact=True).click()
    page.wait_for_url(BUILDER_URL)
    gallery_url = page.url
    expect(page.get_by_test_id("save-state")).to_have_text("Read only")
    expect(page.get_by_role("button", name="Save")).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()

    page.get_by_role("button", name="Make an editable copy").click()
    page.wait_for_url(lambda url: BUILDER_URL.match(url) is not None and url != gallery_url)
    expect(page.get_by_role("heading", name="Plan, code, test (copy)")).to_be_visible()
    expect(page.get_by_test_id("save-state")).to_have_text("All changes saved")
    expect(page.get_by_role("button", name="Make an editable copy")).to_have_count(0)
    expect(page.get_by_label("Name", exact=True)).to_be_enabled()
    copy_id = int(BUILDER_URL.match(page.url).group(1))
    copy = stored_team(page, copy_id)
    assert copy["is_gallery"] is False and copy["role"] == "owner"


def test_the_condition_list_is_the_catalogs_and_nested_conditions_save(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    catalog = page.request.get("/api/teams/catalog").json()
    team_id = create_team(page, "Stop rules")
    open_builder(page, team_id)
    page.get_by_role("tab", name="Team").click()

    kind = page.get_by_label("Condition type")
    options = kind.first.locator("option").evaluate_all("items => items.map(item => item.value)")
    assert options == [condition["type"] for condition in catalog["conditions"]]

    kind.first.select_option("and")
    expect(kind).to_have_count(2)
    kind.nth(1).select_option("timeout")
    timeout = next(c for c in catalog["conditions"] if c["type"] == "timeout")
    seconds = page.get_by_label(timeout["fields"][0]["label"], exact=True)
    expect(seconds).to_have_value("")

    # Left empty, the field is refused by its path, and the path leads back to it.
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("list", name="Problems")).to_contain_text(
        "termination.conditions[0].timeout_seconds"
    )
    expect(seconds).to_be_focused()
    seconds.fill("30")
    save_new_version(page)
    termination = stored_team(page, team_id)["spec"]["termination"]
    assert termination["type"] == "and"
    assert [(c["type"], c["timeout_seconds"]) for c in termination["conditions"]] == [
        ("timeout", 30)
    ]
