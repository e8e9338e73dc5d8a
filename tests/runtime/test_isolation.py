"""Tools with process limits: a child process per call, limited, killed on timeout and
cancellation, and the event loop free while it works."""

from __future__ import annotations

import ast
import asyncio
import os
from pathlib import Path

import pytest

from runtime import CancellationToken, FunctionTool, ProcessLimits, ToolError
from tests.runtime import isolated_functions as functions

LIMITS = ProcessLimits(cpu_seconds=5, memory_bytes=256 * 1024 * 1024)


def isolated(func: object, **options: object) -> FunctionTool:
    return FunctionTool(func, process_limits=LIMITS, **options)  # type: ignore[arg-type]


async def test_a_result_comes_back_as_text_from_another_process() -> None:
    os.environ["PARENT"] = str(os.getpid())
    text = await isolated(functions.describe).run_json({"value": 7}, CancellationToken())
    assert ast.literal_eval(text) == {"value": 7, "pid_differs": 1}


async def test_the_function_s_builtin_exception_type_is_kept() -> None:
    with pytest.raises(ValueError, match="7 is not acceptable"):
        await isolated(functions.refuse).run_json({"value": 7}, CancellationToken())


async def test_a_call_past_its_timeout_is_killed_and_the_loop_kept_running(
    tmp_path: Path,
) -> None:
    pid_file = tmp_path / "pid"
    tool = isolated(functions.sleep_writing_pid, timeout=1.0)
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    with pytest.raises(TimeoutError, match="did not finish within 1 seconds"):
        await tool.run_json({"pid_file": str(pid_file), "seconds": 30}, CancellationToken())
    ticker.cancel()
    assert ticks > 20
    pid = int(pid_file.read_text())
    await asyncio.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_cancelling_the_token_kills_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    token = CancellationToken()
    call = asyncio.create_task(
        isolated(functions.sleep_writing_pid).run_json(
            {"pid_file": str(pid_file), "seconds": 30}, token
        )
    )
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        await asyncio.sleep(0.02)
    token.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await asyncio.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


async def test_cpu_time_is_limited() -> None:
    tool = FunctionTool(
        functions.burn, process_limits=ProcessLimits(cpu_seconds=1, memory_bytes=256 * 2**20)
    )
    with pytest.raises(RuntimeError, match="stopped by its limits"):
        await tool.run_json({"seconds": 20}, CancellationToken())


async def test_memory_is_limited() -> None:
    with pytest.raises(MemoryError, match="memory limit"):
        await isolated(functions.hog_memory).run_json({"megabytes": 2048}, CancellationToken())


async def test_the_child_does_not_see_the_servers_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-server")
    names = ast.literal_eval(
        await isolated(functions.environment_names).run_json({}, CancellationToken())
    )
    assert "OPENAI_API_KEY" not in names


def test_functions_a_child_cannot_import_are_refused() -> None:
    def local(x: int) -> int:
        return x

    with pytest.raises(ToolError, match="top level of an importable module"):
        FunctionTool(local, process_limits=LIMITS)


def test_async_functions_cannot_run_in_a_process() -> None:
    async def work() -> str:
        return ""

    with pytest.raises(ToolError, match="only sync functions"):
        FunctionTool(work, process_limits=LIMITS)


def test_limits_below_a_workable_minimum_are_refused() -> None:
    with pytest.raises(ToolError):
        ProcessLimits(cpu_seconds=0)
