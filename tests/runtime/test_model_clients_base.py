"""What every model client inherits: a token estimate, a model name, and close()."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from runtime import (
    AssistantMessage,
    CancellationToken,
    ChatCompletionClient,
    CreateResult,
    FunctionCall,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    ToolSchema,
    UserMessage,
)
from runtime.testing import ScriptedModelClient


class FixedClient(ChatCompletionClient):
    """The smallest client a library user could write: one fixed answer."""

    async def create(
        self,
        messages: Sequence[Any],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: Any = "auto",
        json_output: bool | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> CreateResult:
        return CreateResult(content="fixed")

    async def create_stream(
        self,
        messages: Sequence[Any],
        *,
        tools: Sequence[ToolSchema] = (),
        tool_choice: Any = "auto",
        json_output: bool | None = None,
        extra_create_args: Mapping[str, Any] | None = None,
        cancellation_token: CancellationToken | None = None,
    ) -> AsyncGenerator[str | CreateResult, None]:
        yield CreateResult(content="fixed")

    @property
    def model_info(self) -> ModelInfo:
        return ModelInfo(function_calling=False, family="unknown")

    def actual_usage(self) -> RequestUsage:
        return RequestUsage()

    def total_usage(self) -> RequestUsage:
        return RequestUsage()


async def test_a_client_that_names_no_model_reports_an_empty_name_and_closes_quietly() -> None:
    client = FixedClient()

    assert client.model == ""
    await client.close()
    assert (await client.create([UserMessage("hi", "user")])).content == "fixed"


def test_the_token_estimate_counts_about_four_characters_a_token() -> None:
    client = ScriptedModelClient([])
    messages = [SystemMessage("s" * 40), UserMessage("u" * 400, "user")]

    assert client.count_tokens(messages) == 111


def test_the_token_estimate_grows_with_tool_calls_and_tool_schemas() -> None:
    client = ScriptedModelClient([])
    call = AssistantMessage(content=[FunctionCall(id="1", arguments="{}", name="f")], source="a")
    tool: ToolSchema = {"name": "lookup", "description": "Find a word in the dictionary."}

    bare = client.count_tokens([UserMessage("hello", "user")])
    with_call = client.count_tokens([UserMessage("hello", "user"), call])
    with_tool = client.count_tokens([UserMessage("hello", "user")], tools=[tool])

    assert with_call > bare
    assert with_tool > bare
