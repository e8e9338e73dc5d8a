"""Run view benchmark in real Chromium: how fast a long finished run opens, and how fast the
browser folds its events into a transcript.

    .venv/bin/python bench/ui_run.py                    # 10,000 messages, 5 page loads
    .venv/bin/python bench/ui_run.py --messages 20000 --loads 3

Needs a fresh bundle (`cd frontend && npm run build`) and Chromium at /usr/bin/chromium.
It prepares a scratch data folder (migrate, the demo gallery, one user), starts daphne on
127.0.0.1 as the browser tests do (bench/ui_studio.py), writes a finished run of N
messages straight to the database (`manage.py seed_long_run`: no model runs), and drives
Chromium with Playwright. Rows:

- open: from the start of the page's navigation to its last message being drawn in
  the viewport (a fresh browser context each time, so nothing is cached), median and max;
- fold: `applyEvent` over the run's first 10,000 events, timed inside the page with
  `performance.now()` (the run's events come from the API first), median of 5;
- fold all: the same over every event of the run.

Targets (DESIGN, run view): open <= 1.5 s for 10,000 messages; fold <= 100 ms.
:func:`measure` returns the numbers for other scripts (bench/ui.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any

from ui_studio import CHROMIUM, USERNAME, manage, new_logged_in_page, running_studio

FOLD_EVENTS = 10_000
TARGET_OPEN_S = 1.5
TARGET_FOLD_MS = 100.0

# Registered before the page's scripts: notes when the last message is drawn on screen.
PROBE = """
(() => {
  window.__lastVisibleAt = null;
  const check = () => {
    const node = document.querySelector('.transcript article[data-seq="%d"]');
    const box = node && node.getBoundingClientRect();
    if (box && box.height > 0 && box.top < window.innerHeight && box.bottom > 0) {
      window.__lastVisibleAt = performance.now();
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""

FOLD = """
async ([eventsUrl, limit, rounds]) => {
  const events = [];
  for (let after = 0; ; ) {
    const page = await (await fetch(`${eventsUrl}?after=${after}&limit=2000`)).json();
    events.push(...page);
    if (page.length < 2000) break;
    after = page[page.length - 1].seq;
  }
  const { applyEvent, initialTranscript } = window.roundtable.transcript;
  const time = (list) => {
    const started = performance.now();
    const state = initialTranscript();
    for (const event of list) applyEvent(state, event);
    return [performance.now() - started, state.items.length];
  };
  const some = events.slice(0, limit);
  const messages = events.filter((event) => event.type === "message");
  const lastSeq = messages.length ? messages[messages.length - 1].seq : 0;
  const results = { events: events.length, folded: some.length, lastSeq, some: [], all: [] };
  for (let i = 0; i < rounds; i += 1) {
    results.some.push(time(some)[0]);
    results.all.push(time(events)[0]);
  }
  return results;
}
"""


def wait_for_value(page: Any, expression: str, timeout: float = 60.0) -> Any:
    """Poll ``expression`` until it is neither null nor undefined (the pages' CSP forbids
    the eval that Playwright's wait_for_function uses; the probe keeps its own clock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value is not None:
            return value
        time.sleep(0.02)
    raise TimeoutError(f"{expression} stayed empty for {timeout} s")


def time_open(browser: Any, url: str, run_id: int, last_seq: int) -> float:
    """Seconds from navigation start to the last message on screen, in a fresh context."""
    page = new_logged_in_page(browser, url, viewport={"width": 1360, "height": 900})
    try:
        page.add_init_script(PROBE % last_seq)
        page.goto(f"{url}/runs/{run_id}/", wait_until="commit")
        return float(wait_for_value(page, "window.__lastVisibleAt")) / 1000
    finally:
        page.context.close()


def time_fold(browser: Any, url: str, run_id: int) -> dict[str, Any]:
    page = new_logged_in_page(browser, url)
    try:
        page.goto(f"{url}/runs/{run_id}/")
        wait_for_value(page, "window.roundtable && window.roundtable.transcript && true")
        return dict(page.evaluate(FOLD, [f"/api/runs/{run_id}/events", FOLD_EVENTS, 5]))
    finally:
        page.context.close()


def measure(messages: int = 10_000, loads: int = 5) -> dict[str, Any]:
    """Open a finished run of ``messages`` messages ``loads`` times and time folding."""
    with running_studio() as studio:
        seeded = manage(
            studio.env, "seed_long_run", "--messages", str(messages), "--user", USERNAME
        )
        run_id = int(seeded)
        fold = time_fold(studio.browser, studio.url, run_id)
        opens = [
            time_open(studio.browser, studio.url, run_id, fold["lastSeq"]) for _ in range(loads)
        ]
    return {
        "messages": messages,
        "open_s": opens,
        "open_median_s": statistics.median(opens),
        "open_max_s": max(opens),
        "events": fold["events"],
        "fold_events": fold["folded"],
        "fold_ms": statistics.median(fold["some"]),
        "fold_all_ms": statistics.median(fold["all"]),
    }


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit status 1 when a target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--loads", type=int, default=5)
    options = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print("Chromium is not installed at /usr/bin/chromium.", file=sys.stderr)
        return 2
    result = measure(options.messages, options.loads)
    is_open_ok = result["open_median_s"] <= TARGET_OPEN_S
    is_fold_ok = result["fold_ms"] <= TARGET_FOLD_MS
    rows = [
        (
            f"open a finished {result['messages']:,}-message run, last message on screen",
            f"median {result['open_median_s']:.2f} s, max {result['open_max_s']:.2f} s",
            f"<= {TARGET_OPEN_S} s",
            "ok" if is_open_ok else "MISSED",
        ),
        (
            f"fold {result['fold_events']:,} events in the page",
            f"{result['fold_ms']:.1f} ms",
            f"<= {TARGET_FOLD_MS:.0f} ms",
            "ok" if is_fold_ok else "MISSED",
        ),
        (f"fold all {result['events']:,} events", f"{result['fold_all_ms']:.1f} ms", "", ""),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(
        " | ".join(
            h.ljust(w) for h, w in zip(("row", "measured", "target", ""), widths, strict=True)
        )
    )
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0 if is_open_ok and is_fold_ok else 1


if __name__ == "__main__":
    sys.exit(main())
