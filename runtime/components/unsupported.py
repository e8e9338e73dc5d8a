"""Providers AutoGen 0.7 and AutoGen Studio 0.4 write that we refuse on purpose.

Each is known by its public provider path and its class name (so AutoGen's private
module paths resolve to it too), and loading it is an
:class:`~runtime.UnsupportedProviderError` that says why and what to use instead. Nothing
of these is ever imported or built.
"""

from __future__ import annotations

from typing import Final

from runtime.components.registry import ComponentKind, refusal, refuse_dump

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []

_RUNS_CODE = "it runs code, and a component file never brings code execution with it"
_USE_OPENAI_COMPATIBLE = (
    "point an OpenAIChatCompletionClient at the service's OpenAI-compatible base_url instead"
)
_MCP = "MCP servers are not supported; register a Python tool that does the same"
_MEMORY = "use autogen_core.memory.ListMemory or roundtable.memory.SQLiteVectorMemory"
_CACHE = "caching is not supported"

#: role -> {provider: why it is refused}
REFUSED: Final[dict[str, dict[str, str]]] = {
    "model": {
        "autogen_ext.models.openai.AzureOpenAIChatCompletionClient": (
            "point an OpenAIChatCompletionClient at the resource's OpenAI-compatible "
            "endpoint, base_url https://<resource>.openai.azure.com/openai/v1/, "
            "with the resource's key"
        ),
        "autogen_ext.models.azure.AzureAIChatCompletionClient": _USE_OPENAI_COMPATIBLE,
        "autogen_ext.models.anthropic.AnthropicBedrockChatCompletionClient": (
            "Amazon Bedrock is not supported; use AnthropicChatCompletionClient"
        ),
        "autogen_ext.models.llama_cpp.LlamaCppChatCompletionClient": (
            "serve the model with llama.cpp's OpenAI-compatible server and "
            "use an OpenAIChatCompletionClient"
        ),
        "autogen_ext.models.semantic_kernel.SKChatCompletionAdapter": _USE_OPENAI_COMPATIBLE,
        "autogen_ext.models.cache.ChatCompletionCache": (
            f"{_CACHE}; use the model client it wraps"
        ),
    },
    "agent": {
        "autogen_agentchat.agents.CodeExecutorAgent": _RUNS_CODE,
        "autogen_ext.agents.web_surfer.MultimodalWebSurfer": (
            "it drives a web browser, which is not available; use an AssistantAgent "
            "with a registered search tool"
        ),
        "autogen_ext.agents.file_surfer.FileSurfer": "it reads files on the machine it runs on",
        "autogen_ext.agents.video_surfer.VideoSurfer": "it reads files on the machine it runs on",
        "autogen_ext.agents.magentic_one.MagenticOneCoderAgent": _RUNS_CODE,
        "autogen_ext.agents.openai.OpenAIAgent": (
            "OpenAI's hosted agents are not supported; use an AssistantAgent"
        ),
        "autogen_ext.agents.openai.OpenAIAssistantAgent": (
            "OpenAI's hosted assistants are not supported; use an AssistantAgent"
        ),
        "autogen_ext.agents.azure.AzureAIAgent": (
            "Azure AI's hosted agents are not supported; use an AssistantAgent"
        ),
    },
    "team": {
        "autogen_agentchat.teams.MagenticOneGroupChat": (
            "Magentic-One's orchestrator is not available; use a SelectorGroupChat"
        ),
    },
    "tool": {
        "autogen_ext.tools.code_execution.PythonCodeExecutionTool": _RUNS_CODE,
        "autogen_ext.tools.http.HttpTool": "register a Python tool that makes the request",
        "autogen_ext.tools.mcp.SseMcpToolAdapter": _MCP,
        "autogen_ext.tools.mcp.StdioMcpToolAdapter": _MCP,
        "autogen_ext.tools.mcp.StreamableHttpMcpToolAdapter": _MCP,
        "autogen_ext.tools.azure.AzureAISearchTool": "register a Python tool that searches",
        "autogen_ext.tools.azure.BaseAzureAISearchTool": "register a Python tool that searches",
        "autogen_ext.tools.langchain.LangChainToolAdapter": (
            "register the LangChain tool's function as a Python tool"
        ),
        "autogen_ext.tools.graphrag.GlobalSearchTool": "register a Python tool that searches",
        "autogen_ext.tools.graphrag.LocalSearchTool": "register a Python tool that searches",
    },
    "workbench": {"autogen_ext.tools.mcp.McpWorkbench": _MCP},
    "memory": {
        "autogen_ext.memory.chromadb.ChromaDBVectorMemory": _MEMORY,
        "autogen_ext.memory.mem0.Mem0Memory": _MEMORY,
        "autogen_ext.memory.redis_memory.RedisMemory": _MEMORY,
        "autogen_ext.memory.canvas.TextCanvasMemory": _MEMORY,
    },
    "code_executor": {
        "autogen_ext.code_executors.local.LocalCommandLineCodeExecutor": _RUNS_CODE,
        "autogen_ext.code_executors.docker.DockerCommandLineCodeExecutor": _RUNS_CODE,
        "autogen_ext.code_executors.jupyter.JupyterCodeExecutor": _RUNS_CODE,
        "autogen_ext.code_executors.docker_jupyter.DockerJupyterCodeExecutor": _RUNS_CODE,
        "autogen_ext.code_executors.azure.ACADynamicSessionsCodeExecutor": _RUNS_CODE,
    },
    "token_provider": {
        "autogen_ext.auth.azure.AzureTokenProvider": "Azure sign-in is not supported",
    },
    "cache_store": {
        "autogen_core.InMemoryStore": _CACHE,
        "autogen_ext.cache_store.diskcache.DiskCacheStore": _CACHE,
        "autogen_ext.cache_store.redis.RedisStore": _CACHE,
    },
    "mcp_session_actor": {"autogen_ext.tools.mcp.McpSessionActor": _MCP},
}

#: AutoGen's own short names for some of them (autogen_core's WELL_KNOWN_PROVIDERS).
_ALIASES: Final = {
    "autogen_ext.models.openai.AzureOpenAIChatCompletionClient": (
        "azure_openai_chat_completion_client",
    ),
}


def kinds() -> list[ComponentKind]:
    """A refusing kind for each provider above."""
    return [
        ComponentKind(
            provider,
            # Never one of our classes, so nothing ever dumps as one of these.
            provider,
            role,
            refusal(provider.rsplit(".", 1)[-1], reason),
            refuse_dump,
            component_type=role,
            aliases=(provider.rsplit(".", 1)[-1], *_ALIASES.get(provider, ())),
        )
        for role, providers in REFUSED.items()
        for provider, reason in providers.items()
    ]
