"""Roundtable's embedded multi-agent runtime: pure asyncio, AutoGen AgentChat semantics.

Everything a caller needs is importable from here; other modules are internal layout.
"""

import importlib
from typing import TYPE_CHECKING, Any

# Registers the built-in component kinds (they build the classes imported below).
import runtime.components.builtin  # noqa: F401
from runtime.agents.assistant import AssistantAgent
from runtime.agents.base import BaseChatAgent, Response
from runtime.agents.filtering import MessageFilterAgent, MessageFilterConfig, PerSourceFilter
from runtime.agents.nested import SocietyOfMindAgent
from runtime.agents.user_proxy import InputFunc, UserProxyAgent, current_request_id
from runtime.cancellation import CancellationToken
from runtime.components import (
    Component,
    ComponentKind,
    ComponentModel,
    ComponentRegistry,
    ConfigReader,
    ConfigWriter,
    dump_component,
    load_component,
)
from runtime.conditions import (
    AndTerminationCondition,
    CostTermination,
    ExternalTermination,
    FunctionalTermination,
    FunctionCallTermination,
    HandoffTermination,
    MaxMessageTermination,
    OrTerminationCondition,
    SourceMatchTermination,
    StopMessageTermination,
    TerminationCondition,
    TextMentionTermination,
    TextMessageTermination,
    TimeoutTermination,
    TokenUsageTermination,
)
from runtime.console import Console
from runtime.errors import (
    AddressNotAllowed,
    ComponentError,
    ConfigurationError,
    InputError,
    ModelClientError,
    ModelResponseError,
    RoundtableError,
    StateError,
    TeamError,
    ToolError,
    UnsupportedProviderError,
)
from runtime.images import DirectoryImageStore, Image, ImageStore, restore_images, store_images
from runtime.isolation import ProcessLimits
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
from runtime.memory import (
    ListMemory,
    Memory,
    MemoryContent,
    MemoryMimeType,
    MemoryQueryResult,
    UpdateContextResult,
)
from runtime.messages import (
    BaseAgentEvent,
    BaseChatMessage,
    BaseMessage,
    HandoffMessage,
    MemoryQueryEvent,
    ModelClientStreamingChunkEvent,
    MultiModalMessage,
    SelectorEvent,
    SelectSpeakerEvent,
    StopMessage,
    StructuredMessage,
    TaskResult,
    TextMessage,
    ThoughtEvent,
    ToolCallExecutionEvent,
    ToolCallRequestEvent,
    ToolCallSummaryMessage,
    UserInputRequestedEvent,
    load_message,
)
from runtime.model_clients.base import ChatCompletionClient
from runtime.model_context import (
    BufferedChatCompletionContext,
    ChatCompletionContext,
    HeadAndTailChatCompletionContext,
    TokenLimitedChatCompletionContext,
    UnboundedChatCompletionContext,
)
from runtime.network import NetworkGuard, is_public_address
from runtime.sink import EventSink
from runtime.task_tools import AgentTool, TeamTool
from runtime.teams import (
    BaseGroupChat,
    DiGraph,
    DiGraphBuilder,
    DiGraphEdge,
    DiGraphNode,
    GraphFlow,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
    TeamStatus,
)
from runtime.teams.checkpoint import replace_message_content
from runtime.teams.selector import DEFAULT_SELECTOR_PROMPT
from runtime.tools import FunctionTool, Handoff, ToolRegistry
from runtime.vector_memory import EmbeddingClient, OpenAIEmbeddingClient, SQLiteVectorMemory

if TYPE_CHECKING:
    from runtime.model_clients.anthropic import AnthropicChatCompletionClient
    from runtime.model_clients.openai import OpenAIChatCompletionClient

# The provider SDKs weigh tens of megabytes: import them when a client is first asked for.
_LAZY_IMPORTS = {
    "AnthropicChatCompletionClient": "runtime.model_clients.anthropic",
    "OpenAIChatCompletionClient": "runtime.model_clients.openai",
}


def __getattr__(name: str) -> Any:
    module = _LAZY_IMPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DEFAULT_SELECTOR_PROMPT",
    "AddressNotAllowed",
    "AgentTool",
    "AndTerminationCondition",
    "AnthropicChatCompletionClient",
    "AssistantAgent",
    "AssistantMessage",
    "BaseAgentEvent",
    "BaseChatAgent",
    "BaseChatMessage",
    "BaseGroupChat",
    "BaseMessage",
    "BufferedChatCompletionContext",
    "CancellationToken",
    "ChatCompletionClient",
    "ChatCompletionContext",
    "Component",
    "ComponentError",
    "ComponentKind",
    "ComponentModel",
    "ComponentRegistry",
    "ConfigReader",
    "ConfigWriter",
    "ConfigurationError",
    "Console",
    "CostTermination",
    "CreateResult",
    "DiGraph",
    "DiGraphBuilder",
    "DiGraphEdge",
    "DiGraphNode",
    "DirectoryImageStore",
    "EmbeddingClient",
    "EventSink",
    "ExternalTermination",
    "FunctionCall",
    "FunctionCallTermination",
    "FunctionExecutionResult",
    "FunctionExecutionResultMessage",
    "FunctionTool",
    "FunctionalTermination",
    "GraphFlow",
    "Handoff",
    "HandoffMessage",
    "HandoffTermination",
    "HeadAndTailChatCompletionContext",
    "Image",
    "ImageStore",
    "InputError",
    "InputFunc",
    "ListMemory",
    "MaxMessageTermination",
    "Memory",
    "MemoryContent",
    "MemoryMimeType",
    "MemoryQueryEvent",
    "MemoryQueryResult",
    "MessageFilterAgent",
    "MessageFilterConfig",
    "ModelClientError",
    "ModelClientStreamingChunkEvent",
    "ModelInfo",
    "ModelResponseError",
    "MultiModalMessage",
    "NetworkGuard",
    "OpenAIChatCompletionClient",
    "OpenAIEmbeddingClient",
    "OrTerminationCondition",
    "PerSourceFilter",
    "ProcessLimits",
    "RequestUsage",
    "Response",
    "RoundRobinGroupChat",
    "RoundtableError",
    "SQLiteVectorMemory",
    "SelectSpeakerEvent",
    "SelectorEvent",
    "SelectorGroupChat",
    "SocietyOfMindAgent",
    "SourceMatchTermination",
    "StateError",
    "StopMessage",
    "StopMessageTermination",
    "StructuredMessage",
    "Swarm",
    "SystemMessage",
    "TaskResult",
    "TeamError",
    "TeamStatus",
    "TeamTool",
    "TerminationCondition",
    "TextMentionTermination",
    "TextMessage",
    "TextMessageTermination",
    "ThoughtEvent",
    "TimeoutTermination",
    "TokenLimitedChatCompletionContext",
    "TokenUsageTermination",
    "ToolCallExecutionEvent",
    "ToolCallRequestEvent",
    "ToolCallSummaryMessage",
    "ToolError",
    "ToolRegistry",
    "ToolSchema",
    "UnboundedChatCompletionContext",
    "UnsupportedProviderError",
    "UpdateContextResult",
    "UserInputRequestedEvent",
    "UserMessage",
    "UserProxyAgent",
    "current_request_id",
    "dump_component",
    "is_public_address",
    "load_component",
    "load_message",
    "replace_message_content",
    "restore_images",
    "store_images",
]
