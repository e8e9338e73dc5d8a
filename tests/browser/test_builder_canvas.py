"""The visual builder in Chromium: a team built by dragging from the palette runs and streams,
every edit undoes and redoes, problems show on the node and the field (for assistive
technology too), unsaved work survives leaving the page, auto-layout places a big team
without overlaps, the palette works from the keyboard, Run lists why a team cannot run,
the JSON view goes both ways, and an import report gives every reason."""

from __future__ import annotations

import json
import re
from itertools import combinations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import (
    create_empty_team,
    create_team,
    create_team_from_spec,
    open_builder,
    palette,
    rename_agent,
    save_new_version,
    stored_team,
    team_spec,
)

pytestmark = pytest.mark.browser

RUN_URL = re.compile(r".*/runs/\d+/$")


def test_an_assistant_dragged_onto_an_empty_canvas_is_equipped_saved_and_run(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    team_id = create_empty_team(page, "Dragged together")
    open_builder(page, team_id)
    canvas = page.get_by_role("region", name="Team canvas")
    expect(page.get_by_test_id("agent-node")).to_have_count(0)

    palette(page).get_by_text("Assistant", exact=True).drag_to(canvas)
    node = page.get_by_test_id("agent-node")
    expect(node).to_have_count(1)
    expect(node.get_by_test_id("node-model")).to_contain_text("no model")

    palette(page).get_by_text("Scripted writer").first.drag_to(node)
    expect(node.get_by_test_id("node-model")).to_have_text("◆ Scripted writer")
    palette(page).get_by_text("calculator", exact=True).drag_to(node)
    expect(node.get_by_role("list", name=re.compile("Tools of"))).to_have_text("calculator")

    palette(page).get_by_text("Max messages", exact=True).drag_to(
        canvas, target_position={"x": 40, "y": 40}
    )
    expect(page.get_by_test_id("team-termination")).to_have_text("max messages 10")
    # The scripted writer has two replies: stop after them.
    page.get_by_label("Max messages", exact=True).fill("3")
    expect(page.get_by_test_id("team-termination")).to_have_text("max messages 3")

    save_new_version(page)
    spec = stored_team(page, team_id)["spec"]
    (agent,) = spec["participants"]
    assert agent["model"]["name"] == "Scripted writer"
    assert agent["tools"] == ["calculator"]
    assert spec["termination"] == {
        "type": "max_messages",
        "max_messages": 3,
        "include_agent_event": False,
    }

    page.get_by_role("button", name="Run…").click()
    page.get_by_label("Task").fill("Write a slogan")
    page.get_by_role("button", name="Start run").click()
    page.wait_for_url(RUN_URL)
    expect(page.get_by_label(f"Message from {agent['name']}")).to_have_count(2)
    expect(page.get_by_test_id("run-status")).to_have_text("Completed")


def test_a_rename_is_undone_and_redone_with_the_buttons_and_the_keys(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    team_id = create_team(page, "Renamed back")
    open_builder(page, team_id)
    name = rename_agent(page, "beta", "gamma")
    expect(page.get_by_label("Agent gamma")).to_be_visible()

    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_label("Agent beta")).to_be_visible()
    expect(page.get_by_label("Agent gamma")).to_have_count(0)
    expect(name).to_have_value("beta")

    page.get_by_role("button", name="Redo").click()
    expect(page.get_by_label("Agent gamma")).to_be_visible()
    expect(name).to_have_value("gamma")

    page.get_by_label("Agent gamma").click()
    page.keyboard.press("Control+z")
    expect(page.get_by_label("Agent beta")).to_be_visible()
    page.keyboard.press("Control+Shift+z")
    expect(page.get_by_label("Agent gamma")).to_be_visible()
    expect(page.get_by_test_id("save-state")).to_have_text("Draft saved")
    draft = page.request.get(f"/api/teams/{team_id}/draft").json()
    assert [agent["name"] for agent in draft["spec"]["participants"]] == ["alpha", "gamma"]


def test_a_refused_save_marks_the_field_and_leaves_the_saved_team_unchanged(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    team_id = create_team(page, "Two of a name")
    open_builder(page, team_id)
    name = rename_agent(page, "beta", "alpha")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert").filter(has_text="Save refused: 1 problem")).to_be_visible()
    expect(name).to_be_focused()
    expect(name).to_have_attribute("aria-invalid", "true")
    message_id = name.get_attribute("aria-describedby").split()[0]
    expect(page.locator(f"#{message_id}")).to_have_text('"alpha" is already taken in this team')
    nodes = page.get_by_test_id("agent-node")
    expect(nodes.nth(1)).to_have_attribute("data-problems", "1")
    expect(nodes.nth(0)).not_to_have_attribute("data-problems", "1")
    expect(page.get_by_test_id("version")).to_have_text("v1")

    # The mark on the node leads back to the field.
    page.get_by_label("Agent alpha").first.click()
    nodes.nth(1).get_by_role("button", name=re.compile("problem")).click()
    expect(name).to_be_focused()

    page.reload()
    expect(page.get_by_label("Agent beta")).to_be_visible()
    stored = stored_team(page, team_id)
    assert [agent["name"] for agent in stored["spec"]["participants"]] == ["alpha", "beta"]
    assert stored["version"] == 1


def test_unsaved_work_is_offered_back_after_leaving_the_page(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "Left and back")
    open_builder(page, team_id)
    page.get_by_label("Agent alpha").click()
    page.get_by_label("System message", exact=True).fill("Kept while away.")
    # Leave at once, the text still in the field: it goes out as the page goes.
    page.goto("/")

    open_builder(page, team_id)
    offer = page.get_by_role("region", name="Unsaved changes")
    expect(offer).to_be_visible()
    offer.get_by_role("button", name=re.compile("restore draft", re.IGNORECASE)).click()
    expect(offer).to_have_count(0)
    page.get_by_label("Agent alpha").click()
    expect(page.get_by_label("System message", exact=True)).to_have_value("Kept while away.")


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def test_auto_layout_places_fifty_agents_without_overlap_and_saves_the_layout(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    names = tuple(f"agent_{index}" for index in range(50))
    team_id = create_team(page, "Fifty seats", names)
    open_builder(page, team_id)
    expect(page.get_by_test_id("agent-node")).to_have_count(50)

    page.get_by_role("button", name="Auto-layout").click()
    expect(page.get_by_role("status").filter(has_text="Laid out 50 agents")).to_be_visible()
    save_new_version(page)

    layout = stored_team(page, team_id)["spec"]["layout"]
    assert set(layout["positions"]) == set(names)
    boxes = page.locator(".react-flow__node").evaluate_all(
        """nodes => nodes.map(node => {
            const box = node.getBoundingClientRect();
            return {x: box.x, y: box.y, width: box.width, height: box.height};
        })"""
    )
    assert len(boxes) == 51  # the agents and the team
    overlapping = [(a, b) for a, b in combinations(boxes, 2) if boxes_overlap(a, b)]
    assert overlapping == []


def test_the_palette_works_from_the_keyboard(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "Keyboard palette", ("alpha",))
    open_builder(page, team_id)
    items = palette(page)

    items.get_by_text("Human seat", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("agent-node")).to_have_count(2)
    expect(page.get_by_label("Name", exact=True)).to_have_value("user")

    page.get_by_label("Agent alpha").click()
    items.get_by_text("calculator", exact=True).focus()
    page.keyboard.press("Enter")
    alpha = page.get_by_label("Agent alpha")
    expect(alpha.get_by_role("list", name=re.compile("Tools of"))).to_have_text("calculator")

    items.get_by_text("Text mention", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("team-termination")).to_have_text(
        "max messages 4 or text mention TERMINATE"
    )
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("team-termination")).to_have_text("max messages 4")


def test_run_lists_every_reason_the_team_cannot_run(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_empty_team(page, "Nobody home")
    open_builder(page, team_id)
    page.get_by_role("button", name="Run…").click()
    reasons = page.get_by_role("list", name="Why the team cannot run")
    expect(reasons).to_contain_text("a team needs at least one participant")
    expect(reasons).to_contain_text("the team never stops")

    page.get_by_label("Task").fill("Anything")
    page.get_by_role("button", name="Start run").click()
    expect(reasons).to_contain_text("a team needs at least one participant")
    expect(page.get_by_role("alert").filter(has_text="This team cannot run yet")).to_be_visible()
    assert not RUN_URL.match(page.url)

    reasons.get_by_role("button", name="termination").click()
    expect(page.get_by_role("tab", name="Team")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("button", name="+ Add termination")).to_be_focused()


def test_the_json_view_goes_both_ways_and_checks_the_schema(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "As JSON")
    open_builder(page, team_id)
    page.get_by_role("tab", name="JSON").click()
    box = page.get_by_label("The team spec as JSON")
    spec = json.loads(box.input_value())
    assert [agent["name"] for agent in spec["participants"]] == ["alpha", "beta"]

    spec["participants"][1]["name"] = "delta"
    box.fill(json.dumps(spec, indent=2))
    expect(page.get_by_label("Agent delta")).to_be_visible()

    spec["participants"][0]["max_tool_iterations"] = "many"
    box.fill(json.dumps(spec, indent=2))
    problems = page.get_by_role("list", name="JSON problems")
    expect(problems).to_contain_text("participants[0].max_tool_iterations")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Agent delta")).to_be_visible()

    box.fill("{ not json")
    expect(page.get_by_role("alert").filter(has_text="does not parse")).to_be_visible()


def test_an_import_report_gives_every_reason(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "Exported then broken")
    document = page.request.get(f"/api/teams/{team_id}/export?format=roundtable").json()
    document["team"]["participants"][0]["tools"] = ["no_such_tool"]
    document["team"]["participants"][1]["name"] = "alpha"

    page.goto("/")
    page.get_by_role("button", name="Import…").click()
    page.get_by_label("…or paste JSON").fill(json.dumps(document))
    page.get_by_role("button", name="Import", exact=True).click()
    report = page.get_by_role("list", name="Import report")
    expect(report).to_contain_text("✗ team Exported then broken — failed")
    expect(report).to_contain_text('participants[0].tools[0]: unknown tool "no_such_tool"')
    expect(report).to_contain_text('participants[1].name: "alpha" is already taken in this team')


def test_copied_agents_paste_under_fresh_names(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "Copy and paste", ("alpha",))
    open_builder(page, team_id)
    page.get_by_label("Agent alpha").click()
    page.get_by_role("button", name="Copy", exact=True).click()
    page.get_by_role("button", name="Paste", exact=True).click()
    expect(page.get_by_label("Agent alpha_2")).to_be_visible()
    page.get_by_label("Agent alpha_2").click()
    expect(page.get_by_label("System message", exact=True)).to_have_value("You are alpha.")


def test_a_nested_team_opens_on_the_canvas(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "Outer team", ("alpha",))
    open_builder(page, team_id)
    canvas = page.get_by_role("region", name="Team canvas")
    palette(page).get_by_text("Nested team", exact=True).drag_to(
        canvas, target_position={"x": 60, "y": 60}
    )
    nested = page.get_by_label("Agent inner_team")
    expect(nested).to_contain_text("runs Inner team · 0 agents")
    nested.get_by_role("button", name="Open the inner team of inner_team").click()

    inner = page.get_by_role("region", name="Canvas of Inner team")
    expect(inner).to_be_visible()
    palette(page).get_by_text("Assistant", exact=True).drag_to(inner)
    expect(inner.get_by_test_id("agent-node")).to_have_count(1)
    page.get_by_role("navigation", name="Nested teams").get_by_role("button").first.click()
    expect(page.get_by_label("Agent inner_team")).to_contain_text("runs Inner team · 1 agent")


def drag_between(page: Page, source: Locator, target: Locator) -> None:
    """A real mouse drag from the middle of one element to the middle of another."""
    start = source.bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] / 2, steps=12)
    page.mouse.up()


def test_a_graph_edge_drawn_between_nodes_takes_a_condition_and_an_activation(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    spec = team_spec(
        "Drawn graph",
        ("drafter", "reviewer", "editor"),
        kind="graph",
        graph={"edges": [{"source": "drafter", "target": "reviewer", "condition": None}]},
        termination={"type": "max_messages", "max_messages": 6},
        layout={
            "positions": {
                "drafter": {"x": 0, "y": 0},
                "reviewer": {"x": 420, "y": 0},
                "editor": {"x": 420, "y": 320},
            }
        },
    )
    team_id = create_team_from_spec(page, spec)
    open_builder(page, team_id)
    edges = page.locator(".react-flow__edge")
    expect(edges).to_have_count(1)

    drag_between(
        page,
        page.get_by_label("Agent reviewer").locator(".react-flow__handle-bottom"),
        page.get_by_label("Agent editor").locator(".react-flow__handle-top"),
    )
    expect(edges).to_have_count(2)
    expect(page.locator(".react-flow__edge-text").nth(1)).to_have_text("always")

    edges.nth(1).click(force=True)
    new_edge = page.get_by_role("group", name="Edge reviewer to editor")
    new_edge.get_by_label("When the message contains").fill("EDIT")
    new_edge.get_by_label("Target runs when").select_option("any")
    new_edge.get_by_label("Activation group").fill("fixes")
    expect(page.locator(".react-flow__edge-text").nth(1)).to_have_text(
        "contains “EDIT” · any · group fixes"
    )
    save_new_version(page)
    stored = stored_team(page, team_id)["spec"]["graph"]["edges"]
    assert stored[1] == {
        "source": "reviewer",
        "target": "editor",
        "condition": "EDIT",
        "activation_group": "fixes",
        "activation_condition": "any",
    }


def test_handoffs_are_drawn_between_swarm_agents_and_a_selector_takes_its_model_on_the_team(
    logged_in_page: Page,
) -> None:
    page = logged_in_page
    spec = team_spec(
        "Drawn swarm",
        ("triage", "billing"),
        kind="swarm",
        layout={"positions": {"triage": {"x": 0, "y": 0}, "billing": {"x": 420, "y": 0}}},
    )
    team_id = create_team_from_spec(page, spec)
    open_builder(page, team_id)
    triage = page.get_by_label("Agent triage")
    billing = page.get_by_label("Agent billing")

    drag_between(
        page,
        triage.locator(".react-flow__handle-right"),
        billing.locator(".react-flow__handle-left"),
    )
    expect(page.locator(".react-flow__edge-text")).to_have_text("handoff")
    drag_between(
        page,
        billing.locator(".react-flow__handle-left"),
        triage.locator(".react-flow__handle-right"),
    )
    expect(page.locator(".react-flow__edge-text")).to_have_text("handoffs both ways")
    page.get_by_role("tab", name="JSON").click()
    drawn = json.loads(page.get_by_label("The team spec as JSON").input_value())
    assert [agent["handoffs"] for agent in drawn["participants"]] == [["billing"], ["triage"]]

    page.get_by_role("tab", name="Team").click()
    page.get_by_label("Kind", exact=True).select_option("selector")
    expect(page.get_by_test_id("team-picker")).to_contain_text("no model")
    palette(page).get_by_text("Scripted writer").first.drag_to(page.get_by_test_id("team-node"))
    expect(page.get_by_test_id("team-picker")).to_have_text("◆ Scripted writer")
    expect(page.get_by_label("Model that picks the next speaker")).to_have_value(
        re.compile(r"^\d+$")
    )


def test_gallery_agents_and_teams_come_in_as_templates(logged_in_page: Page) -> None:
    page = logged_in_page
    team_id = create_team(page, "From templates", ("alpha",))
    # A team of one's own is a template too (a gallery team would be nested the same way,
    # and its stored copy would share its name in the team list).
    create_team(page, "Template pair", ("writer", "critic"))
    gallery_critic = next(
        agent
        for agent in page.request.get("/api/agents").json()
        if agent["is_gallery"] and agent["name"] == "critic"
    )
    open_builder(page, team_id)
    canvas = page.get_by_role("region", name="Team canvas")
    items = palette(page)
    items.locator("summary").filter(has_text="Templates").click()

    items.get_by_role("option", name=re.compile(r"^critic gallery agent")).drag_to(
        canvas, target_position={"x": 80, "y": 80}
    )
    expect(page.get_by_label("Agent critic")).to_be_visible()
    expect(page.get_by_label("System message", exact=True)).to_have_value(
        gallery_critic["system_message"]
    )

    items.get_by_role("option", name=re.compile(r"^Template pair your team")).drag_to(
        canvas, target_position={"x": 120, "y": 120}
    )
    nested = page.get_by_label("Agent template_pair")
    expect(nested).to_contain_text("runs Template pair · 2 agents")
    save_new_version(page)
    participants = stored_team(page, team_id)["spec"]["participants"]
    assert [agent["name"] for agent in participants] == ["alpha", "critic", "template_pair"]
    assert participants[1]["id"] != gallery_critic["id"]
    inner = participants[2]["team"]
    assert [agent["name"] for agent in inner["participants"]] == ["writer", "critic"]
