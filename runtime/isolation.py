"""Run a tool's sync function in a child process that has limits and can be killed.

A function running in a thread cannot be stopped: a timeout only stops waiting for it,
and a CPU-bound one keeps a core (and, through the GIL, the event loop) busy until it
ends. A child process can be killed. :func:`run_in_process` starts one per call
(``python -m runtime.isolation``), caps its CPU time and memory with ``setrlimit``, sends
it the function's import path and arguments as JSON, and kills it when the call times
out or is cancelled. The child imports the function by the path its module gives; a
function that cannot be imported that way (a lambda, a local function) is refused when
the tool is made.
"""

from __future__ import annotations

import asyncio
import builtins
import importlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from runtime.errors import ToolError

__all__ = ["ProcessLimits"]

#: Environment variables the child keeps: enough to find Python and the code, nothing
#: secret (the server's environment holds its keys).
_KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV", "TZ")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProcessLimits:
    """Limits of a tool call run in its own process.

    ``cpu_seconds`` of CPU time and ``memory_bytes`` of address space for the child;
    ``max_output_bytes`` of result text (longer results are cut and marked).
    """

    cpu_seconds: int = 10
    memory_bytes: int = 1024 * 1024 * 1024
    max_output_bytes: int = 1_000_000

    def __post_init__(self) -> None:
        if self.cpu_seconds < 1 or self.memory_bytes < 64 * 1024 * 1024:
            raise ToolError("process limits need at least 1 CPU second and 64 MiB of memory")


def result_text(value: Any) -> str:
    """A tool's return value as the model reads it, as AutoGen writes it: a pydantic
    model as its JSON, anything else through ``str()`` (so a dict reads as Python)."""
    if isinstance(value, str):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return json.dumps(dump(), default=str)
    return str(value)


def import_path(func: Any, tool_name: str) -> tuple[str, str]:
    """The (module, qualified name) a child process imports ``func`` by; refused when
    importing that path would not give back the same function."""
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        raise ToolError(
            f"tool {tool_name!r} runs in its own process, so its function must be defined "
            "at the top level of an importable module"
        )
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not func:
        raise ToolError(f"tool {tool_name!r}: {module}.{qualname} does not name its function")
    return module, qualname


async def run_in_process(
    module: str, qualname: str, kwargs: dict[str, Any], limits: ProcessLimits
) -> str:
    """Call ``module.qualname(**kwargs)`` in a fresh child process; return its text result.

    The child is killed if this coroutine is cancelled (timeouts cancel it). An exception
    in the function is raised again here with its builtin type when it has one.
    """
    request = {
        "module": module,
        "qualname": qualname,
        "kwargs": kwargs,
        "cpu_seconds": limits.cpu_seconds,
        "memory_bytes": limits.memory_bytes,
        "max_output_bytes": limits.max_output_bytes,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "runtime.isolation",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=_child_environment(),
        start_new_session=True,
    )
    try:
        output, _ = await process.communicate(json.dumps(request).encode())
    except BaseException:
        if process.returncode is None:
            process.kill()
            await process.wait()
        raise
    return _read_answer(output, process.returncode)


def _child_environment() -> dict[str, str]:
    environment = {name: os.environ[name] for name in _KEPT_ENVIRONMENT if name in os.environ}
    environment["PYTHONPATH"] = os.pathsep.join(entry for entry in sys.path if entry)
    return environment


def _read_answer(output: bytes, returncode: int | None) -> str:
    try:
        answer = json.loads(output)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        if returncode is not None and returncode < 0:
            raise RuntimeError(f"the tool was stopped by its limits (signal {-returncode})")
        raise RuntimeError(f"the tool's process ended without an answer (exit {returncode})")
    if "result" in answer:
        return str(answer["result"])
    kind = getattr(builtins, str(answer.get("type")), None)
    message = str(answer.get("message", ""))
    if isinstance(kind, type) and issubclass(kind, Exception) and kind is not Exception:
        raise kind(message)
    raise RuntimeError(f"{answer.get('type')}: {message}" if message else str(answer.get("type")))


def _serve() -> None:
    """The child's side: apply limits, import, call, print one JSON answer."""
    import resource

    request = json.loads(sys.stdin.buffer.read())
    resource.setrlimit(resource.RLIMIT_AS, (request["memory_bytes"], request["memory_bytes"]))
    cpu = request["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        func: Any = importlib.import_module(request["module"])
        for part in request["qualname"].split("."):
            func = getattr(func, part)
        text = result_text(func(**request["kwargs"]))
        limit = request["max_output_bytes"]
        if len(text.encode()) > limit:
            text = text.encode()[:limit].decode(errors="ignore") + " [truncated]"
        answer: dict[str, Any] = {"result": text}
    except MemoryError:
        answer = {"type": "MemoryError", "message": "the tool ran out of its memory limit"}
    except Exception as exc:
        answer = {"type": type(exc).__name__, "message": str(exc)}
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    _serve()
