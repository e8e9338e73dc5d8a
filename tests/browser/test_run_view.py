"""The run view in Chromium: the human-input box, long runs, safe Markdown with
highlighted code, tool cards, the conversation graph, who is watching, and a phone-sized
window."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ADMIN_USERNAME, PASSWORD, USERNAME

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/\d+/$")

HOSTILE_REPLY = """Here is `inline` code and a [bad link](javascript:window.__xss=1).

<img src=x onerror="window.__xss=2"> and <script>window.__xss = 3</script>

![tracker](javascript:window.__xss=4)

```python
def greet(name):
    return f"hello {name}"
```

A long word: LONG_WORD
""".replace("LONG_WORD", "a" * 120)

# Every element whose right edge is past the window, for failure messages.
OVERFLOW = """
() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter((element) => element.getBoundingClientRect().right > width + 1)
    .map((element) => element.tagName.toLowerCase() + "." + String(element.className));
  return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 8)};
}
"""


def log_in(page: Page, username: str = USERNAME) -> Page:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    return page


def post(page: Page, path: str, body: dict[str, Any]) -> Any:
    """POST JSON with the page's session."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(path, data=body, headers={"X-CSRFToken": token})
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def team_id(page: Page, name: str) -> int:
    teams = page.request.get("/api/teams").json()
    return next(team["id"] for team in teams if team["name"] == name)


def open_new_run(page: Page, team: int, task: str) -> None:
    run = post(page, "/api/runs", {"team": team, "task": task})
    page.goto(f"/runs/{run['id']}/")


def scripted_team(page: Page, name: str, replies: list[str]) -> int:
    model = post(
        page,
        "/api/models",
        {"name": f"{name} model", "provider": "scripted", "scripted_replies": replies},
    )
    agent = post(page, "/api/agents", {"name": "mallory", "model": model["id"]})
    termination = {"type": "max_messages", "max_messages": len(replies) + 1}
    body = {"name": name, "participants": [agent["id"]], "termination": termination}
    return int(post(page, "/api/teams", body)["id"])


@pytest.fixture(scope="module")
def long_run(studio_url: str, studio_manage: Callable[..., str]) -> int:
    """A finished run of 5,000 messages (and 500 tool calls), written straight to the DB."""
    return int(studio_manage("seed_long_run", "--messages", "5000", "--user", USERNAME))


@pytest.fixture
def second_page(chromium: Browser, studio_url: str) -> Iterator[Page]:
    """Another person's browser: the admin user, logged in."""
    context = chromium.new_context(base_url=studio_url, viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    page = log_in(context.new_page(), ADMIN_USERNAME)
    yield page
    context.close()


@pytest.fixture
def narrow_page(chromium: Browser, studio_url: str) -> Iterator[Page]:
    """A phone-sized window (420 px), logged in."""
    context = chromium.new_context(base_url=studio_url, viewport={"width": 420, "height": 820})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield log_in(page)
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_the_human_input_box_names_the_asking_agent_quotes_it_and_shows_the_timeout(
    page: Page,
) -> None:
    log_in(page)
    open_new_run(page, team_id(page, "Ask the human"), "Book me a flight to Oslo")
    box = page.get_by_test_id("input-box")
    expect(box.get_by_role("heading")).to_have_text("helper asks you")
    expect(box.get_by_label("What helper said")).to_have_text(
        "Before I book it: which city are you flying from?"
    )
    expect(box.get_by_test_id("input-timeout")).to_contain_text(re.compile(r"Answer within \d+"))
    answer = box.get_by_role("textbox", name="The team is waiting for your answer")
    expect(answer).to_be_focused()
    answer.fill("From Lisbon.")
    answer.press("Control+Enter")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    expect(box).to_have_count(0)


def test_a_5000_message_run_opens_at_its_last_message_and_draws_only_what_is_seen(
    page: Page, long_run: int
) -> None:
    log_in(page)
    page.goto(f"/runs/{long_run}/")
    last = page.get_by_text("Last message (5000 of 5000).")
    expect(last).to_be_in_viewport()
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    drawn = page.locator(".transcript > li").count()
    assert 0 < drawn < 60, f"{drawn} rows in the page: the list is not virtual"
    expect(page.get_by_role("list", name="Transcript").locator("li").last).to_have_attribute(
        "aria-setsize",
        str(5000 + 1 + 500),  # messages, the task, tool cards
    )

    # The last tool card, with arguments, result and the duration the event carried.
    card = page.locator(".tool-card").last
    expect(card).to_contain_text("calculator")
    expect(card).to_contain_text("done")
    expect(card).to_contain_text("13 ms")
    card.locator("summary").click()
    expect(card.locator("pre").first).to_contain_text('"x": 2')
    expect(card.locator("pre").last).to_have_text("4")

    # The graph has both agents and the task's author; reading back, and returning.
    graph = page.get_by_test_id("conversation-graph")
    expect(graph.locator(".graph-node")).to_have_count(3)
    expect(graph.locator(".graph-node")).to_contain_text(["writer", "critic", "user"])
    expect(graph.locator(".react-flow__edge.is-active")).to_have_count(1)
    page.get_by_role("region", name="Conversation").evaluate("node => { node.scrollTop = 0; }")
    expect(page.get_by_text("Talk for 5000 messages").first).to_be_visible()
    expect(last).to_have_count(0)
    jump = page.get_by_role("button", name="Latest messages")
    jump.focus()
    page.keyboard.press("Enter")
    expect(last).to_be_in_viewport()


def test_agent_html_stays_text_and_code_is_highlighted_with_a_copy_button(page: Page) -> None:
    log_in(page)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_new_run(page, scripted_team(page, "Hostile markdown", [HOSTILE_REPLY]), "Say it")
    message = page.get_by_label("Message from mallory")
    expect(message).to_contain_text('<img src=x onerror="window.__xss=2">')
    expect(message).to_contain_text("<script>window.__xss = 3</script>")
    expect(message.locator("script, img, iframe")).to_have_count(0)
    expect(message.get_by_role("link", name="bad link")).to_have_count(0)
    expect(message.get_by_role("link", name="[image: tracker]")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    code = message.locator("pre code")
    expect(code.locator(".hljs-keyword").first).to_have_text("def")
    message.get_by_role("button", name="Copy the python code").click()
    expect(message.get_by_role("button", name="Copy the python code")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("def greet(name):") and 'return f"hello {name}"' in copied


def test_watchers_see_each_other(page: Page, second_page: Page, long_run: int) -> None:
    log_in(page)
    page.goto(f"/runs/{long_run}/")
    watchers = page.get_by_test_id("watchers")
    expect(watchers).to_contain_text(f"{USERNAME} (you)")
    expect(watchers).to_contain_text("Nobody else right now.")

    second_page.goto(f"/runs/{long_run}/")
    expect(watchers).to_contain_text(ADMIN_USERNAME)
    expect(second_page.get_by_test_id("watchers")).to_contain_text(USERNAME)
    second_page.goto("/")
    expect(watchers).not_to_contain_text(ADMIN_USERNAME)


# A WebSocket that never opens: the page waits for its first event for ever.
SILENT_SOCKET = """
window.WebSocket = class {
  constructor() { this.readyState = 0; }
  addEventListener() {}
  send() {}
  close() {}
};
"""


def test_the_run_page_says_it_is_loading_until_the_socket_opens(page: Page) -> None:
    log_in(page)
    page.add_init_script(SILENT_SOCKET)
    open_new_run(page, team_id(page, "Writer and critic"), "Hold on")
    expect(page.get_by_test_id("transcript-empty")).to_have_text("Loading the conversation…")
    expect(page.get_by_test_id("connection-state")).to_have_text("Connecting…")


def test_an_open_socket_without_events_shows_the_empty_state(page: Page) -> None:
    log_in(page)
    held: list[Any] = []

    def hold(socket: Any) -> None:  # never reaches the server
        held.append(socket)

    page.route_web_socket(re.compile(r"/ws/runs/\d+/"), hold)
    open_new_run(page, team_id(page, "Writer and critic"), "Hold on")
    expect(page.get_by_test_id("transcript-empty")).to_have_text("Waiting for the first message…")
    expect(page.get_by_test_id("connection-state")).to_have_text("Live")


def test_the_run_page_fits_a_420_px_window(narrow_page: Page, long_run: int) -> None:
    page = narrow_page
    open_new_run(page, scripted_team(page, "Narrow markdown", [HOSTILE_REPLY]), "Say it")
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")
    expect(page.get_by_label("Message from mallory")).to_be_visible()
    measured = page.evaluate(OVERFLOW)
    assert measured["scrollWidth"] <= measured["width"], measured

    page.goto(f"/runs/{long_run}/")
    expect(page.get_by_text("Last message (5000 of 5000).")).to_be_in_viewport()
    measured = page.evaluate(OVERFLOW)
    assert measured["scrollWidth"] <= measured["width"], measured
    # Keyboard: the transcript takes focus, and Tab moves on to what is inside it.
    page.get_by_role("region", name="Conversation").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("Boolean(document.activeElement.closest('.transcript'))")


FOLD = """
(events) => {
  const { initialTranscript, foldEvents } = window.roundtable.transcript;
  const state = foldEvents(initialTranscript(), events);
  return {
    items: state.items.map((item) => {
      if (item.kind === "tools") {
        const calls = item.calls.map((c) => [c.id, c.result && c.result.content, c.durationMs]);
        return ["tools", item.seq, calls];
      }
      return [item.kind, item.seq ?? null, item.source || item.user || "", item.content || ""];
    }),
    turns: state.turns,
    pending: state.pendingInput && [state.pendingInput.askedBy, state.pendingInput.question],
    edges: [...state.graph.edges.values()].map((e) => [e.from, e.to, e.count, e.handoffs]),
  };
}
"""


def event(seq: int, event_type: str, source: str = "", at: str = "", **data: Any) -> dict[str, Any]:
    return {"run": 1, "seq": seq, "type": event_type, "source": source, "at": at, "data": data}


def test_folding_places_results_replaces_interjections_and_drops_what_a_resume_discards(
    page: Page, long_run: int
) -> None:
    log_in(page)
    page.goto(f"/runs/{long_run}/")
    calls = [{"id": "a", "name": "f", "arguments": "{}"}, {"id": "b", "name": "g", "arguments": ""}]
    events = [
        event(1, "message", "user", content="Task", id="m1", kind="TextMessage"),
        event(2, "message", "writer", content="Draft", id="m2", kind="TextMessage"),
        event(3, "tool.call", "writer", "2026-01-01T00:00:00.000Z", id="t", calls=calls),
        # parallel calls: results in another order, each with its own duration
        event(
            4,
            "tool.result",
            "writer",
            id="r1",
            results=[{"call_id": "b", "content": "B"}],
            durations_ms=[5],
        ),
        event(
            5,
            "tool.result",
            "writer",
            "2026-01-01T00:00:00.250Z",
            id="r2",
            results=[{"call_id": "a", "content": "A"}, {"call_id": "zz", "content": "?"}],
        ),
        event(6, "interjection", "olivia", user="olivia", content="Be brief"),
        event(7, "message", "olivia", content="Be brief", id="m3", kind="TextMessage"),
        event(8, "handoff", "writer", content="Over to you", target="critic", id="h1"),
        event(9, "message", "critic", content="Doomed", id="m4", kind="TextMessage"),
        event(10, "message", "critic", content="Gone", id="m5", kind="TextMessage", discarded=True),
        event(
            11,
            "run.resumed",
            checkpoint_seq=8,
            discarded_from=9,
            discarded_to=10,
            reason="worker lost",
        ),
        event(12, "message", "critic", content="Fine", id="m6", kind="TextMessage"),
        event(
            13,
            "input.requested",
            "you",
            request_id="q",
            prompt="",
            asked_by="critic",
            question="Ship it?",
            timeout_seconds=60,
        ),
    ]
    events[9]["discarded"] = True
    folded = page.evaluate(FOLD, events)

    assert folded["items"] == [
        ["message", 1, "user", "Task"],
        ["message", 2, "writer", "Draft"],
        ["tools", 3, [["a", "A", 250], ["b", "B", 5]]],
        ["tools", 5, [["zz", "?", None]]],  # a result without its call gets a card
        ["message", 7, "olivia", "Be brief"],  # the queued line gave way to the message
        ["handoff", 8, "writer", "Over to you"],
        ["notice", 11, "", "The run resumed from its last checkpoint (worker lost)."],
        ["message", 12, "critic", "Fine"],
    ]
    assert folded["turns"] == {"user": 1, "writer": 2, "critic": 1}
    assert folded["pending"] == ["critic", "Ship it?"]
    assert sorted(folded["edges"]) == [
        ["olivia", "writer", 1, 0],
        ["user", "writer", 1, 0],
        ["writer", "critic", 1, 1],
        ["writer", "olivia", 1, 0],
    ]
