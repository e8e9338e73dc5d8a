"""Events as lines for a terminal: readable, coloured when the output is a TTY."""

from __future__ import annotations

import json
from typing import Any

RESET = "\033[0m"
COLOURS = {
    "message": "\033[1m",
    "handoff": "\033[1;34m",
    "tool.call": "\033[33m",
    "tool.result": "\033[36m",
    "thought": "\033[2m",
    "input.requested": "\033[1;35m",
    "input.provided": "\033[35m",
    "interjection": "\033[35m",
    "error": "\033[1;31m",
    "run.resumed": "\033[33m",
    "run.finished": "\033[1;32m",
}
QUIET_TYPES = frozenset({"message.chunk", "usage", "speaker.selected", "run.status"})


def describe(envelope: dict[str, Any]) -> str:
    """The text of one event, without colour."""
    kind, data, source = envelope["type"], envelope["data"], envelope["source"]
    if kind == "message":
        return f"{source}: {data['content']}"
    if kind == "handoff":
        return f"{source} -> {data['target']}: {data['content']}"
    if kind == "tool.call":
        calls = ", ".join(f"{call['name']}({call['arguments']})" for call in data["calls"])
        return f"{source} calls {calls}"
    if kind == "tool.result":
        return "; ".join(f"{result['name']} -> {result['content']}" for result in data["results"])
    if kind == "thought":
        return f"{source} thinks: {data['content']}"
    if kind == "input.requested":
        return f"{source} asks you: {data['prompt'] or 'your answer?'}"
    if kind == "input.provided":
        return f"{data['user']} answered"
    if kind == "interjection":
        return f"{data['user']} interjects: {data['content']}"
    if kind == "error":
        return f"error ({data['code']}): {data['message']}"
    if kind == "run.resumed":
        return f"resumed from seq {data['checkpoint_seq']} ({data['reason']})"
    if kind == "run.finished":
        tokens = data["prompt_tokens"] + data["completion_tokens"]
        return (
            f"run {data['status']}: {data['stop_reason'] or 'done'} "
            f"({tokens} tokens, ${data['cost_usd']:.4f})"
        )
    return f"{kind} {source} {json.dumps(data)}"


def render(envelope: dict[str, Any], *, colour: bool, verbose: bool = False) -> str | None:
    """One line for an event, or None for events only ``verbose`` shows."""
    kind = envelope["type"]
    if kind in QUIET_TYPES and not verbose:
        return None
    text = f"[{envelope['seq']}] {describe(envelope)}"
    if envelope.get("discarded"):
        text += " (discarded)"
    if colour:
        failed = kind == "run.finished" and envelope["data"]["status"] != "completed"
        code = "\033[1;31m" if failed else COLOURS.get(kind, "")
        return f"{code}{text}{RESET}" if code else text
    return text
