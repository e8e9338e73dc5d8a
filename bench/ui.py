"""The browser benchmarks in one call: the builder at 2, 60 and 200 agents, then the run
view on a long finished run (real Chromium at /usr/bin/chromium, driven by Playwright).

    .venv/bin/python bench/ui.py                 # both, with their default sizes
    .venv/bin/python bench/ui.py --only run      # one of them: builder or run

Needs a fresh bundle (`cd frontend && npm run build`). Each part starts its own studio on
a scratch data folder and prints its table with the targets (see bench/ui_builder.py and
bench/ui_run.py for what is timed and how); the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ui_builder
import ui_run

PARTS = {"builder": ui_builder.main, "run": ui_run.main}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(PARTS), help="run one part")
    options = parser.parse_args()
    status = 0
    for name, part in PARTS.items():
        if options.only in (None, name):
            print(f"\n## {name}\n")
            status = max(status, part([]))
    return status


if __name__ == "__main__":
    sys.exit(main())
