"""Team builder benchmark in real Chromium: how fast a big team opens, how smooth dragging a
node is, and how fast typing in the inspector answers.

    .venv/bin/python bench/ui_builder.py                  # 2, 60 and 200 agents
    .venv/bin/python bench/ui_builder.py --sizes 200 --loads 5

Needs a fresh bundle (`cd frontend && npm run build`) and Chromium at /usr/bin/chromium.
Like the browser tests, it prepares a scratch data folder (migrate, the demo gallery, one
user) and starts daphne on 127.0.0.1, then for each size saves a round-robin team of that
many scripted assistants (no layout: the builder places them) and drives Chromium with
Playwright. Rows, per size:

- load: from the start of the page's navigation to every node on the canvas drawn and
  measured (the builder's `builder-ready` performance mark), median of `--loads` fresh
  browser contexts;
- drag frame: a node is dragged with 100 mouse moves; each move is timed from the event's
  timestamp to the end of the next frame (a task queued from requestAnimationFrame);
- keystroke: 64 keys typed into the selected agent's system message, each timed the same
  way from its keydown, in bursts of 8 with pauses so the typed text reaches the spec;
- commit frame: the longest frame during each of those pauses, when the typed text lands
  in the spec and the canvas redraws.

Targets at 200 agents: load <= 1.5 s, drag frame p95 <= 33 ms, keystroke p95 <= 33 ms.
`measure()` returns the rows for other scripts (bench/ui.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from ui_studio import CHROMIUM, new_logged_in_page, running_studio

from tests.browser.pages import create_team_from_spec  # importable once ui_studio ran

SIZES = (2, 60, 200)
TARGETS_AT = 200
TARGET_LOAD_MS = 1500.0
TARGET_FRAME_MS = 33.0
DRAG_MOVES = 100
KEYS = 64
BURST = 8

# Registered before the page's scripts: times input events to the end of the next frame.
PROBE = """
(() => {
  const timings = { key: [], move: [] };
  window.__builderBench = timings;
  const afterFrame = (done) =>
    requestAnimationFrame(() => {
      const channel = new MessageChannel();
      channel.port1.onmessage = done;
      channel.port2.postMessage(null);
    });
  addEventListener("keydown", (event) => {
    const start = event.timeStamp;
    afterFrame(() => timings.key.push(performance.now() - start));
  }, true);
  addEventListener("pointermove", (event) => {
    if (!timings.isDragging) return;
    const start = event.timeStamp;
    afterFrame(() => timings.move.push(performance.now() - start));
  }, true);
  // The longest frame within `ms` milliseconds.
  timings.longestFrame = (ms) => new Promise((resolve) => {
    let last = performance.now();
    const end = last + ms;
    let longest = 0;
    const tick = (now) => {
      longest = Math.max(longest, now - last);
      last = now;
      if (now < end) requestAnimationFrame(tick);
      else resolve(longest);
    };
    requestAnimationFrame(tick);
  });
})();
"""
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))"


def percentile(values: list[float], share: float) -> float:
    """The `share` percentile (0..1) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]


def make_team(page: Any, size: int) -> int:
    """Save a round-robin team of `size` scripted assistants (every third with a tool, no
    layout); returns its id."""
    model = {"name": "Bench model", "provider": "scripted", "scripted_replies": ["Done."]}
    spec = {
        "name": f"Bench team of {size}",
        "kind": "round_robin",
        "participants": [
            {
                "kind": "assistant",
                "name": f"agent_{index}",
                "description": f"Agent number {index}.",
                "system_message": f"You are agent {index}. Answer briefly.",
                "model": model,
                "tools": ["calculator"] if index % 3 == 0 else [],
            }
            for index in range(size)
        ],
        "termination": {"type": "max_messages", "max_messages": 4},
    }
    return create_team_from_spec(page, spec)


def open_builder(page: Any, team_id: int) -> float:
    """Open the builder; milliseconds from navigation start to every node measured."""
    page.goto(f"/teams/{team_id}/")
    page.wait_for_selector("[data-testid=canvas][data-ready=true]", timeout=60_000)
    return float(page.evaluate("performance.getEntriesByName('builder-ready')[0].startTime"))


def time_drag(page: Any) -> list[float]:
    """Drag the node nearest the canvas's centre in small steps; each move's frame time."""
    canvas = page.get_by_test_id("canvas").bounding_box()
    centre = (canvas["x"] + canvas["width"] / 2, canvas["y"] + canvas["height"] / 2)
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.react-flow__node-agent')].map((node) => {
            const box = node.getBoundingClientRect();
            return [box.x + box.width / 2, box.y + box.height / 2];
        })"""
    )
    x, y = min(boxes, key=lambda point: (point[0] - centre[0]) ** 2 + (point[1] - centre[1]) ** 2)
    dragged = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y).closest('.react-flow__node').dataset.id",
        [x, y],
    )
    before = page.locator(f'.react-flow__node[data-id="{dragged}"]').bounding_box()
    page.mouse.move(x, y)
    page.mouse.down()
    page.evaluate("window.__builderBench.isDragging = true")
    for step in range(DRAG_MOVES):
        page.mouse.move(x + (step + 1) * 2, y + (step + 1))
        page.evaluate(NEXT_FRAME)
    page.evaluate("window.__builderBench.isDragging = false")
    page.mouse.up()
    after = page.locator(f'.react-flow__node[data-id="{dragged}"]').bounding_box()
    if abs(after["x"] - before["x"]) < 20:
        raise RuntimeError("the drag did not move the node: the numbers would mean nothing")
    return list(page.evaluate("window.__builderBench.move"))


def time_typing(page: Any) -> tuple[list[float], list[float]]:
    """Type into the selected agent's system message; keystroke and commit frame times."""
    field = page.get_by_label("System message", exact=True)
    field.click()
    page.keyboard.press("End")
    page.evaluate("window.__builderBench.key.length = 0")
    commits = []
    for _ in range(KEYS // BURST):
        for _ in range(BURST):
            page.keyboard.press("x")
            page.evaluate(NEXT_FRAME)
        # The pause lets the typed text reach the spec: the canvas and checks follow.
        commits.append(float(page.evaluate("window.__builderBench.longestFrame(700)")))
    if not field.input_value().endswith("x" * KEYS):
        raise RuntimeError("the typed keys did not reach the field")
    return list(page.evaluate("window.__builderBench.key")), commits


def measure_size(browser: Any, base_url: str, team_id: int, loads: int) -> dict[str, float]:
    """Every row for one team."""
    times = []
    for attempt in range(loads):
        page = new_logged_in_page(browser, base_url, viewport={"width": 1360, "height": 900})
        page.add_init_script(PROBE)
        times.append(open_builder(page, team_id))
        if attempt < loads - 1:
            page.context.close()
    try:
        page.wait_for_timeout(800)  # the first check of the team settles
        moves = time_drag(page)
        keys, commits = time_typing(page)
    finally:
        page.context.close()
    return {
        "load_ms": statistics.median(times),
        "drag_p50_ms": percentile(moves, 0.5),
        "drag_p95_ms": percentile(moves, 0.95),
        "key_p50_ms": percentile(keys, 0.5),
        "key_p95_ms": percentile(keys, 0.95),
        "commit_p95_ms": percentile(commits, 0.95),
    }


def measure(
    browser: Any,
    base_url: str,
    make_team: Callable[[Any, int], int] = make_team,
    sizes: tuple[int, ...] = SIZES,
    loads: int = 3,
) -> list[tuple[str, float]]:
    """Rows `(name, milliseconds)` for each team size, against a running studio whose test
    user can log in (`make_team(page, size)` saves a team and returns its id)."""
    rows: list[tuple[str, float]] = []
    page = new_logged_in_page(browser, base_url)
    try:
        teams = {size: make_team(page, size) for size in sizes}
    finally:
        page.context.close()
    for size in sizes:
        result = measure_size(browser, base_url, teams[size], loads)
        rows += [(f"builder {name} @{size} agents", value) for name, value in result.items()]
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit status 1 when a target is missed at 200 agents."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--loads", type=int, default=3, help="Page loads timed per size.")
    options = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print("Chromium is not installed at /usr/bin/chromium.", file=sys.stderr)
        return 2
    sizes = tuple(int(size) for size in options.sizes.split(","))
    with running_studio() as studio:
        started = time.monotonic()
        rows = measure(studio.browser, studio.url, sizes=sizes, loads=options.loads)
    targets = {
        f"builder load_ms @{TARGETS_AT} agents": TARGET_LOAD_MS,
        f"builder drag_p95_ms @{TARGETS_AT} agents": TARGET_FRAME_MS,
        f"builder key_p95_ms @{TARGETS_AT} agents": TARGET_FRAME_MS,
    }
    missed = 0
    print(f"{'row':<42} {'ms':>9}  target")
    for name, value in rows:
        target = targets.get(name)
        verdict = ""
        if target is not None:
            is_met = value <= target
            missed += not is_met
            verdict = f"<= {target:.0f} {'ok' if is_met else 'MISSED'}"
        print(f"{name:<42} {value:>9.1f}  {verdict}")
    print(f"({time.monotonic() - started:.0f} s)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
