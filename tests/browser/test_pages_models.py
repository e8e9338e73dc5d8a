"""The models page in Chromium: deleting what something still uses is refused with the
reason, deleting what nothing uses works, and a model is shared from its row."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_USERNAME
from tests.browser.pages import api_post

pytestmark = pytest.mark.browser


def test_delete_is_refused_while_in_use_and_works_once_free(logged_in_page: Page) -> None:
    page = logged_in_page
    page.on("dialog", lambda dialog: dialog.accept())
    credential = api_post(
        page, "/api/credentials", {"name": "Busy key", "provider": "openai", "api_key": "sk-x"}
    )
    model = api_post(
        page,
        "/api/models",
        {
            "name": "Busy model",
            "provider": "openai",
            "model": "gpt-4o-mini",
            "credential": credential["id"],
        },
    )
    api_post(page, "/api/agents", {"name": "busy_agent", "model": model["id"]})
    api_post(page, "/api/models", {"name": "Idle model", "provider": "scripted"})

    page.goto("/models/")
    notice = page.get_by_test_id("models-notice")
    page.get_by_role("button", name="Delete credential Busy key").click()
    expect(notice).to_contain_text("Could not delete credential “Busy key”")
    expect(notice).to_contain_text("Busy model")
    expect(page.get_by_role("table", name="Credentials")).to_contain_text("Busy key")

    page.get_by_role("button", name="Delete model Busy model").click()
    expect(notice).to_contain_text("busy_agent")
    expect(page.get_by_role("table", name="Models")).to_contain_text("Busy model")

    page.get_by_role("button", name="Delete model Idle model").click()
    expect(notice).to_have_text("Deleted model “Idle model”. Dismiss")
    expect(page.get_by_role("table", name="Models")).not_to_contain_text("Idle model")


def test_a_model_is_shared_from_its_row(logged_in_page: Page) -> None:
    page = logged_in_page
    api_post(page, "/api/models", {"name": "Lent model", "provider": "scripted"})
    page.goto("/models/")
    page.get_by_role("button", name="Share model Lent model").click()
    dialog = page.get_by_role("dialog", name="Share Lent model")
    expect(dialog).to_contain_text("can use it in their teams")
    dialog.get_by_label("Username or group name").fill(ADMIN_USERNAME)
    dialog.get_by_role("button", name="Share", exact=True).click()
    expect(dialog.get_by_role("listitem")).to_contain_text(ADMIN_USERNAME)
    expect(dialog.get_by_label(f"Role of {ADMIN_USERNAME}")).to_have_value("viewer")
