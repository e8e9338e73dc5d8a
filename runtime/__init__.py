"""Roundtable's embedded multi-agent runtime: pure asyncio, AutoGen AgentChat semantics.

Everything a caller needs is importable from here; other modules are internal layout.
"""

from runtime.agents.assistant import AssistantAgent
from runtime.agents.base import BaseChatAgent, Response
from runtime.agents.user_proxy import UserProxyAgent
from runtime.cancellation import CancellationToken
from runtime.errors import (
    ComponentError,
    ConfigurationError,
    InputError,
    ModelClientError,
    ModelResponseError,
    RoundtableError,
    StateError,
    TeamError,
    ToolError,
)
from runtime.llm import (
    AssistantMessage,
    CreateResult,
    FunctionCall,
    FunctionExecutionResult,
    FunctionExecutionResultMessage,
    ModelInfo,
    RequestUsage,
    SystemMessage,
    ToolSchema,
    UserMessage,
)
from runtime.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    ModelClientStreamingChunkEvent,
    SelectSpeakerEvent,
    StopMessage,
    TaskResult,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    UserInputRequestedEvent,
    load_message,
)
from runtime.model_clients.anthropic import AnthropicChatCompletionClient
from runtime.model_clients.base import ChatCompletionClient
from runtime.model_clients.openai import OpenAIChatCompletionClient
from runtime.sink import EventSink
from runtime.tools import FunctionTool, Handoff, ToolRegistry

__all__ = [
    "AnthropicChatCompletionClient",
    "AssistantAgent",
    "AssistantMessage",
    "BaseAgentEvent",
    "BaseChatAgent",
    "BaseChatMessage",
    "BaseMessage",
    "CancellationToken",
    "ChatCompletionClient",
    "ComponentError",
    "ConfigurationError",
    "CreateResult",
    "EventSink",
    "FunctionCall",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "FunctionTool",
    "Handoff",
    "HandoffMessage",
    "InputError",
    "ModelClientError",
    "ModelClientStreamingChunkEvent",
    "ModelInfo",
    "ModelResponseError",
    "OpenAIChatCompletionClient",
    "RequestUsage",
    "Response",
    "RoundtableError",
    "SelectSpeakerEvent",
    "StateError",
    "StopMessage",
    "SystemMessage",
    "TaskResult",
    "TeamError",
    "TextMessage",
    "ThoughtEvent",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "ToolCallSummaryMessage",
    "ToolError",
    "ToolRegistry",
    "ToolSchema",
    "UserInputRequestedEvent",
    "UserMessage",
    "UserProxyAgent",
    "load_message",
]
