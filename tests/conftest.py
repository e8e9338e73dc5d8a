"""Fixtures shared by every test directory. Keep this module free of Django imports:
runtime tests must run without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.llm_server import FakeLLMServer


@pytest.fixture(scope="session")
def llm_server_process() -> Iterator[FakeLLMServer]:
    """One fake OpenAI/Anthropic server for the whole test session."""
    with FakeLLMServer() as server:
        yield server


@pytest.fixture
def llm_server(llm_server_process: FakeLLMServer) -> Iterator[FakeLLMServer]:
    """The fake LLM server with an empty script and no recorded requests."""
    llm_server_process.reset()
    yield llm_server_process
    llm_server_process.reset()
