"""How the run view and the comparison write a duration (frontend/src/run/durations.js),
checked in node: the module is plain JavaScript."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE = Path(__file__).resolve().parents[2] / "frontend" / "src" / "run" / "durations.js"


def format_durations(values: list[float | None]) -> list[str]:
    """`formatDuration` of each value, as node computes it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the frontend build needs it too)")
    script = (
        f"import {{ formatDuration }} from {json.dumps(MODULE.as_uri())};\n"
        f"console.log(JSON.stringify({json.dumps(values)}.map(formatDuration)));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    result: list[str] = json.loads(done.stdout)
    return result


def test_each_unit_carries_over_instead_of_reading_sixty() -> None:
    assert format_durations([59_600, 119_600, 3_599_600, 7_200_000, 7_530_000]) == [
        "1 min",
        "2 min",
        "1 h",
        "2 h",
        "2 h 5 min",
    ]


def test_short_spans_keep_their_precision_and_unknown_ones_are_empty() -> None:
    assert format_durations([None, 0.4, 12.5, 999.7, 2_449, 9_960, 61_000]) == [
        "",
        "<1 ms",
        "13 ms",
        "1.0 s",
        "2.4 s",
        "10 s",
        "1 min 1 s",
    ]
