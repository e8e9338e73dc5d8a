"""The settings page in Chromium: API tokens created (shown once), listed and revoked,
and sharing from the settings page and from a team card."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ADMIN_USERNAME
from tests.browser.pages import api_post

pytestmark = pytest.mark.browser


def status_with_token(chromium: Browser, studio_url: str, token: str) -> int:
    """What the API answers a script that sends only `token` (no session cookie)."""
    context = chromium.new_context(base_url=studio_url)
    try:
        response = context.request.get("/api/teams", headers={"Authorization": f"Bearer {token}"})
        return response.status
    finally:
        context.close()


def test_a_token_is_shown_once_listed_and_revoked(
    logged_in_page: Page, chromium: Browser, studio_url: str
) -> None:
    page = logged_in_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()

    page.get_by_label("Name of a new token").fill("nightly export")
    page.get_by_role("button", name="Create token").click()
    issued = page.get_by_test_id("issued-token")
    expect(issued).to_have_value(re.compile(r"^rt_"))
    expect(issued).to_be_focused()
    token = issued.input_value()
    row = page.get_by_test_id("token-row").filter(has_text="nightly export")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(token[:10])
    assert status_with_token(chromium, studio_url, token) == 200

    page.get_by_role("button", name="Done").click()
    expect(issued).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("token-row").filter(has_text="nightly export")).to_have_count(1)
    assert token not in page.content()

    page.get_by_role("button", name="Revoke token nightly export").click()
    expect(page.get_by_role("status").filter(has_text="Revoked")).to_be_visible()
    expect(page.get_by_test_id("token-row").filter(has_text="nightly export")).to_have_count(0)
    assert status_with_token(chromium, studio_url, token) == 401


def test_sharing_a_team_from_its_card_and_seeing_it_in_settings(logged_in_page: Page) -> None:
    page = logged_in_page
    api_post(page, "/api/teams", {"name": "Shared desk"})
    page.goto("/")
    page.get_by_role("button", name="Share Shared desk").click()
    dialog = page.get_by_role("dialog", name="Share Shared desk")
    expect(dialog.get_by_text("Only you have access so far.")).to_be_visible()

    dialog.get_by_label("Username or group name").fill("nobody-here")
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("needs an account here")

    dialog.get_by_label("Username or group name").fill(ADMIN_USERNAME)
    dialog.get_by_label("Role").select_option("editor")
    dialog.get_by_role("button", name="Share", exact=True).click()
    people = dialog.get_by_role("list", name="People and groups with access")
    expect(people.get_by_role("listitem")).to_have_count(1)
    expect(people).to_contain_text(ADMIN_USERNAME)
    role = dialog.get_by_label(f"Role of {ADMIN_USERNAME}")
    expect(role).to_have_value("editor")
    role.select_option("viewer")
    expect(dialog.get_by_role("status")).to_have_text(f"{ADMIN_USERNAME} is now a viewer.")
    expect(role).to_have_value("viewer")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Share Shared desk")).to_be_focused()

    page.goto("/settings/")
    teams = page.get_by_role("list", name="Teams")
    teams.get_by_role("button", name="Share Shared desk").click()
    dialog = page.get_by_role("dialog", name="Share Shared desk")
    expect(dialog.get_by_role("listitem")).to_have_count(1)
    dialog.get_by_role("button", name=f"Stop sharing with {ADMIN_USERNAME}").click()
    expect(dialog.get_by_text("Only you have access so far.")).to_be_visible()
    expect(dialog.get_by_role("status")).to_have_text(f"Stopped sharing with {ADMIN_USERNAME}.")


def test_sharing_a_team_from_its_builder(logged_in_page: Page) -> None:
    page = logged_in_page
    team = api_post(page, "/api/teams", {"name": "Builder desk"})
    page.goto(f"/teams/{team['id']}/")
    share = page.get_by_role("button", name="Share Builder desk")
    share.click()
    dialog = page.get_by_role("dialog", name="Share Builder desk")
    dialog.get_by_label("Username or group name").fill(ADMIN_USERNAME)
    dialog.get_by_role("button", name="Share", exact=True).click()
    people = dialog.get_by_role("list", name="People and groups with access")
    expect(people).to_contain_text(ADMIN_USERNAME)
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()
    expect(share).to_be_focused()


def test_a_share_the_network_drops_says_so_instead_of_failing_silently(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    api_post(page, "/api/teams", {"name": "Offline desk"})
    page.goto("/")
    page.route(
        "**/api/teams/*/shares",
        lambda route: route.abort() if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_role("button", name="Share Offline desk").click()
    dialog = page.get_by_role("dialog", name="Share Offline desk")
    expect(dialog.get_by_text("Only you have access so far.")).to_be_visible()

    dialog.get_by_label("Username or group name").fill(ADMIN_USERNAME)
    dialog.get_by_role("button", name="Share", exact=True).click()

    alert = dialog.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).not_to_contain_text("Check the spelling")
    expect(dialog.get_by_role("button", name="Share", exact=True)).to_be_enabled()
