"""End to end in Chromium: login, the team list, the builder, live runs and the human seat."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/\d+/$")
SCRIPTED_WRITER = "Scripted writer (scripted: scripted)"
SCRIPTED_CRITIC = "Scripted critic (scripted: scripted)"


def start_run(page: Page, team: str, task: str) -> None:
    """Open a team from the list and start a run of it; ends on the run page."""
    page.goto("/")
    page.get_by_role("link", name=team, exact=True).click()
    expect(page.get_by_test_id("agent-node").first).to_be_visible()
    page.get_by_role("button", name="Run…").click()
    page.get_by_label("Task").fill(task)
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(RUN_URL)


def transcript_seqs(page: Page) -> list[str]:
    """The seq of every message shown in the transcript, in order."""
    return page.locator(".transcript article[data-seq]").evaluate_all(
        "nodes => nodes.map(node => node.dataset.seq)"
    )


def test_login_refuses_a_wrong_password_then_lets_the_user_in(
    page: Page, credentials: tuple[str, str]
) -> None:
    username, password = credentials
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")

    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Teams", exact=True)).to_be_visible()
    expect(page.get_by_text(username, exact=True)).to_be_visible()


def test_team_list_shows_the_demo_gallery(logged_in_page: Page) -> None:
    gallery = logged_in_page.get_by_role("list", name="Gallery teams")
    for name in ["Writer and critic", "Support triage", "Plan, code, test", "Ask the human"]:
        expect(gallery.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_builder_edits_saves_and_validates_a_copy_of_a_demo_team(logged_in_page: Page) -> None:
    page = logged_in_page
    page.get_by_role("link", name="Writer and critic", exact=True).click()
    nodes = page.get_by_test_id("agent-node")
    expect(nodes).to_have_count(2)
    expect(page.get_by_label("Agent writer")).to_be_visible()
    expect(page.get_by_label("Agent critic")).to_be_visible()
    expect(page.get_by_test_id("save-state")).to_have_text("Read only")

    page.get_by_role("button", name="Make an editable copy").click()
    expect(page.get_by_test_id("save-state")).to_have_text("All changes saved")
    expect(nodes).to_have_count(2)

    page.get_by_label("Agent critic").click()
    system_message = page.get_by_label("System message", exact=True)
    expect(system_message).to_have_value("Review the draft. Say APPROVE when good.")
    system_message.fill("Be strict. Say APPROVE only for one clear sentence.")
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()

    page.reload()
    page.get_by_label("Agent critic").click()
    expect(page.get_by_label("System message", exact=True)).to_have_value(
        "Be strict. Say APPROVE only for one clear sentence."
    )

    page.get_by_role("button", name="Validate").click()
    expect(page.get_by_text("No problems: the team can run.")).to_be_visible()

    # A problem comes back with the path of the field, and the path leads to the agent.
    page.get_by_role("tab", name="Agent").click()
    page.get_by_label("Agent writer").click()
    page.get_by_label("Model", exact=True).select_option("")
    page.get_by_role("button", name="Validate").click()
    problems = page.get_by_role("list", name="Problems")
    expect(problems).to_contain_text("participants[0]")
    problems.get_by_role("button").first.click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("writer")


def test_a_writer_and_critic_run_streams_to_completion(logged_in_page: Page) -> None:
    page = logged_in_page
    start_run(page, "Writer and critic", "Write a tagline for Roundtable")
    transcript = page.get_by_role("list", name="Transcript")
    expect(transcript).to_contain_text("Clear and short. APPROVE")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    expect(page.get_by_test_id("stop-reason")).to_contain_text("APPROVE")
    expect(page.get_by_label("Message from writer")).to_have_count(2)
    expect(page.get_by_label("Message from critic")).to_have_count(2)
    # The demo agents stream: their chunks must have given way to the final messages.
    expect(page.locator(".message.streaming")).to_have_count(0)
    expect(transcript).to_contain_text("Write a tagline for Roundtable")
    expect(page.get_by_test_id("usage-meter")).to_contain_text(re.compile(r"Total tokens\s*[1-9]"))
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()


def test_the_human_seat_asks_and_the_answer_finishes_the_run(logged_in_page: Page) -> None:
    page = logged_in_page
    start_run(page, "Ask the human", "Book me a flight to Oslo")
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting for you")
    answer = page.get_by_role("textbox", name="The team is waiting for your answer")
    answer.fill("From Lisbon, please.")
    page.get_by_role("button", name="Send answer").click()

    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    expect(page.get_by_label("Message from you")).to_contain_text("From Lisbon, please.")
    expect(page.get_by_label("Message from helper").last).to_contain_text("Thanks!")
    expect(answer).to_have_count(0)


def test_reloading_mid_run_resumes_without_duplicates(logged_in_page: Page) -> None:
    page = logged_in_page
    start_run(page, "Ask the human", "Plan a weekend trip")
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting for you")
    before = transcript_seqs(page)
    assert len(before) == 2  # the task and the helper's question

    page.reload()
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting for you")
    expect(page.get_by_label("Message from helper")).to_have_count(1)
    assert transcript_seqs(page) == before

    page.get_by_role("textbox", name="The team is waiting for your answer").fill("Porto")
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    after = transcript_seqs(page)
    assert after[:2] == before
    assert len(after) == len(set(after)) == 4


def test_run_history_filters_by_status_and_text(logged_in_page: Page) -> None:
    page = logged_in_page
    start_run(page, "Writer and critic", "A tagline about zebras")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    run_path = page.url.removeprefix(page.url.split("/runs/")[0])

    page.get_by_role("link", name="Runs", exact=True).click()
    rows = page.get_by_test_id("run-row")
    expect(rows.first).to_be_visible()
    page.get_by_label("Search").fill("zebras")
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_attribute("href", run_path)
    expect(page).to_have_url(re.compile(r"q=zebras"))

    page.get_by_label("Status", exact=True).select_option("cancelled")
    expect(page.get_by_text("No runs match.")).to_be_visible()
    page.get_by_label("Status", exact=True).select_option("completed")
    expect(rows).to_have_count(1)


HOSTILE_REPLY = """**Bold** and `code`, a [safe link](https://example.org/docs) and
a [bad link](javascript:window.__xss=1) and <img src=x onerror="window.__xss=2">
<script>window.__xss = 3</script>

- one
- two
"""


def create_scripted_team(
    page: Page, name: str, replies: list[str], *, delay: float = 0.0, max_messages: int = 2
) -> int:
    """Make a one-agent team on a scripted model through the API; returns its id."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")

    def post(path: str, body: dict) -> dict:
        response = page.request.post(path, data=body, headers={"X-CSRFToken": token})
        assert response.ok, response.text()
        return response.json()

    model = post(
        "/api/models",
        {
            "name": f"{name} model",
            "provider": "scripted",
            "scripted_replies": replies,
            "params": {"delay": delay} if delay else {},
        },
    )
    agent = post("/api/agents", {"name": "mallory", "model": model["id"]})
    termination = {"type": "max_messages", "max_messages": max_messages}
    team = post(
        "/api/teams", {"name": name, "participants": [agent["id"]], "termination": termination}
    )
    return team["id"]


def test_agent_markdown_is_rendered_without_running_any_of_its_html(logged_in_page: Page) -> None:
    page = logged_in_page
    create_scripted_team(page, "Markdown check", [HOSTILE_REPLY])
    start_run(page, "Markdown check", "Say something")
    message = page.get_by_label("Message from mallory")
    expect(message).to_be_visible()
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")

    expect(message.locator("strong")).to_have_text("Bold")
    expect(message.locator("code")).to_have_text("code")
    expect(message.locator("li")).to_have_count(2)
    safe = message.get_by_role("link", name="safe link")
    expect(safe).to_have_attribute("href", "https://example.org/docs")
    expect(safe).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(message.get_by_role("link", name="bad link")).to_have_count(0)
    expect(message).to_contain_text("<script>window.__xss = 3</script>")
    expect(message.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.__xss") is None


def test_a_dropped_socket_reconnects_from_the_last_seq(logged_in_page: Page) -> None:
    page = logged_in_page
    opened: list[str] = []

    def relay(socket) -> None:
        opened.append(socket.url)
        server = socket.connect_to_server()
        if len(opened) > 1:
            return  # later connections pass through untouched

        def forward(message) -> None:
            socket.send(message)
            if json.loads(message).get("seq") == 2:
                socket.close(code=4000, reason="dropped by the test")

        server.on_message(forward)

    page.route_web_socket(re.compile(r"/ws/runs/\d+/"), relay)
    start_run(page, "Ask the human", "Find me a hotel")
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting for you")
    expect(page.get_by_label("Message from helper")).to_have_count(1)
    assert len(opened) == 2
    assert opened[0].endswith("after=0")
    assert opened[1].endswith("after=2")
    seqs = transcript_seqs(page)
    assert len(seqs) == len(set(seqs)) == 2


def test_stop_cancels_a_run_that_waits_for_the_human(logged_in_page: Page) -> None:
    page = logged_in_page
    start_run(page, "Ask the human", "Plan a dinner")
    expect(page.get_by_test_id("run-status")).to_have_text("Waiting for you")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_test_id("run-status")).to_have_text("Cancelled")
    expect(page.get_by_role("textbox", name="The team is waiting for your answer")).to_have_count(0)


def test_a_new_graph_team_gets_agents_and_an_edge(logged_in_page: Page) -> None:
    page = logged_in_page
    page.get_by_role("button", name="New team").click()
    page.get_by_label("Name", exact=True).fill("Review pipeline")
    page.get_by_label("Kind").select_option("graph")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Review pipeline")).to_be_visible()
    expect(page.get_by_test_id("agent-node")).to_have_count(0)

    page.get_by_role("button", name="+ Add agent").click()
    page.get_by_label("Name", exact=True).fill("drafter")
    page.get_by_label("Model", exact=True).select_option(label=SCRIPTED_WRITER)
    page.get_by_role("button", name="+ Add agent").click()
    page.get_by_label("Name", exact=True).fill("reviewer")
    page.get_by_label("Model", exact=True).select_option(label=SCRIPTED_CRITIC)
    page.get_by_role("tab", name="Team").click()
    page.get_by_role("button", name="+ Add edge").click()
    page.get_by_label("When the message contains").fill("READY")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("save-state")).to_have_text("All changes saved")

    page.reload()
    expect(page.get_by_test_id("agent-node")).to_have_count(2)
    expect(page.get_by_label("Agent drafter")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    expect(page.locator(".react-flow__edge-text")).to_have_text("contains “READY”")
    page.get_by_role("button", name="Validate").click()
    expect(
        page.get_by_role("list", name="Problems").or_(page.get_by_text("No problems"))
    ).to_be_visible()


def test_a_finished_run_continues_and_forks_from_a_message(logged_in_page: Page) -> None:
    page = logged_in_page
    create_scripted_team(page, "Echo", ["First answer.", "Second answer.", "Third answer."])
    start_run(page, "Echo", "Say something")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    run_url = page.url

    page.get_by_label("Continue with a new task").fill("Once more")
    page.get_by_role("button", name="Continue run").click()
    echo = page.get_by_label("Message from mallory")
    expect(echo.nth(1)).to_be_visible()
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")

    echo.first.hover()
    page.get_by_role("button", name=re.compile(r"Fork the run from message")).first.click()
    page.get_by_label("Message", exact=True).fill("An edited first answer.")
    page.get_by_role("button", name="Start the fork").click()
    page.wait_for_url(lambda url: RUN_URL.match(url) is not None and url != run_url)
    expect(page.get_by_role("list", name="Transcript")).to_contain_text("An edited first answer.")


def test_interjecting_and_reloading_while_a_run_is_busy(logged_in_page: Page) -> None:
    page = logged_in_page
    replies = ["One.", "Two.", "Three."]
    create_scripted_team(page, "Slow talker", replies, delay=0.7, max_messages=5)
    start_run(page, "Slow talker", "Count slowly")
    messages = page.get_by_label("Message from mallory")
    expect(messages.first).to_have_text(re.compile("One."))
    expect(page.get_by_test_id("run-status")).to_have_text("Running")

    page.get_by_label("Interject a message").fill("Please be brief")
    page.get_by_role("button", name="Interject", exact=True).click()
    transcript = page.get_by_role("list", name="Transcript")
    expect(transcript).to_contain_text("Please be brief")

    page.reload()
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    expect(transcript.get_by_text("Please be brief")).to_have_count(1)
    seqs = transcript_seqs(page)
    assert len(seqs) == len(set(seqs))
    assert seqs == sorted(seqs, key=int)


def test_models_page_stores_a_key_without_ever_showing_it(logged_in_page: Page) -> None:
    page = logged_in_page
    page.get_by_role("link", name="Models", exact=True).click()
    page.get_by_role("button", name="New credential").click()
    page.get_by_label("Name", exact=True).fill("My OpenAI")
    page.get_by_label("API key").fill("sk-test-never-shown-4242")
    page.get_by_role("button", name="Save").click()
    credentials = page.get_by_role("table", name="Credentials")
    expect(credentials).to_contain_text("My OpenAI")
    expect(credentials).to_contain_text("stored (hidden)")

    page.get_by_role("button", name="New model").click()
    page.get_by_label("Name", exact=True).fill("Mini")
    page.get_by_label("Model name").fill("gpt-4o-mini")
    page.get_by_label("Credential", exact=True).select_option(label="My OpenAI (OpenAI)")
    page.get_by_label("Input $ / million tokens").fill("0.15")
    page.get_by_role("button", name="Save").click()
    models = page.get_by_role("table", name="Models")
    expect(models.get_by_role("row", name=re.compile("Mini"))).to_contain_text("My OpenAI")

    page.get_by_role("button", name="Edit credential My OpenAI").click()
    expect(page.get_by_label("API key")).to_have_value("")
    page.get_by_role("button", name="Cancel").click()
    page.reload()
    expect(page.get_by_role("table", name="Credentials")).to_contain_text("stored (hidden)")
    assert "sk-test-never-shown-4242" not in page.content()


def test_a_run_stops_at_its_token_budget(logged_in_page: Page) -> None:
    page = logged_in_page
    page.get_by_role("link", name="Writer and critic", exact=True).click()
    page.get_by_role("button", name="Run…").click()
    page.get_by_label("Task").fill("Write until the money runs out")
    page.get_by_label("Max tokens").fill("30")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(RUN_URL)
    expect(page.get_by_test_id("run-status")).to_have_text("Budget exhausted")
    expect(page.get_by_test_id("stop-reason")).not_to_be_empty()
    expect(page.get_by_label("Message from critic")).not_to_have_count(2)


def test_two_runs_compare_side_by_side(logged_in_page: Page) -> None:
    page = logged_in_page
    for task in ["First comparison task", "Second comparison task"]:
        start_run(page, "Writer and critic", task)
        expect(page.get_by_test_id("run-status")).to_have_text("Completed")

    page.goto("/runs/?q=comparison")
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(2)
    rows.nth(0).get_by_role("checkbox").check()
    rows.nth(1).get_by_role("checkbox").check()
    page.get_by_role("link", name="Compare selected runs").click()

    expect(page.get_by_role("heading", name=re.compile("Compare runs"))).to_be_visible()
    expect(page.get_by_text(re.compile("Both runs used Writer and critic version"))).to_be_visible()
    turns = page.get_by_role("list", name="Turns side by side").get_by_test_id("turn-row")
    expect(turns.first).to_contain_text("First divergence")
    sides = turns.first.locator(".turn-side")
    for index, task in enumerate(["Second comparison task", "First comparison task"]):
        expect(sides.nth(index)).to_contain_text(task)
    expect(turns.filter(has_text="Clear and short. APPROVE").last).to_have_attribute(
        "data-state", "same"
    )


def test_versions_show_changes_restore_and_the_owner_deletes_the_team(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("link", name="Support triage", exact=True).click()
    page.get_by_role("button", name="Make an editable copy").click()
    expect(page.get_by_test_id("save-state")).to_have_text("All changes saved")
    page.get_by_role("tab", name="Team").click()
    page.get_by_label("Max turns").fill("9")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved as version 2")).to_be_visible()

    page.get_by_role("tab", name="Versions").click()
    versions = page.get_by_role("list", name="Versions")
    expect(versions.get_by_role("listitem")).to_have_count(2)
    versions.get_by_role("button", name="Changes").first.click()
    expect(versions).to_contain_text("max_turns")
    versions.get_by_role("button", name="Restore v1").click()
    expect(page.get_by_role("status").filter(has_text="Restored as version 3")).to_be_visible()
    page.get_by_role("tab", name="Team").click()
    expect(page.get_by_label("Max turns")).to_have_value("")

    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("link", name="Support triage (copy)")).to_have_count(0)
    expect(page.get_by_role("link", name="Support triage", exact=True)).to_be_visible()
