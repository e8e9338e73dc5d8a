"""Module-level functions for the process-isolation tests (a child process imports them)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def burn(seconds: float) -> str:
    """Spin the CPU for about ``seconds``."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "burnt"


def hog_memory(megabytes: int) -> int:
    """Allocate ``megabytes`` of memory at once."""
    return len(bytearray(megabytes * 1024 * 1024))


def sleep_writing_pid(pid_file: str, seconds: float) -> str:
    """Write this process's pid, then sleep."""
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(seconds)
    return "woke up"


def refuse(value: int) -> str:
    """Raise a ValueError naming the value."""
    raise ValueError(f"{value} is not acceptable")


def describe(value: int) -> dict[str, int]:
    """A dict result (turned into text like any tool result)."""
    return {"value": value, "pid_differs": int(os.getpid() != int(os.environ.get("PARENT", 0)))}


def environment_names() -> list[str]:
    """The names of the environment variables the child sees."""
    return sorted(os.environ)
