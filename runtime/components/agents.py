"""Component kinds of the agents: assistant, user proxy and society of mind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from runtime.agents.assistant import AssistantAgent
from runtime.agents.filtering import MessageFilterAgent, MessageFilterConfig
from runtime.agents.nested import SocietyOfMindAgent
from runtime.agents.user_proxy import UserProxyAgent
from runtime.components.registry import (
    ComponentKind,
    ConfigReader,
    ConfigWriter,
    compact,
)
from runtime.components.structured import StructuredOutput
from runtime.components.tools import Workbench, handoff_config, handoff_from
from runtime.errors import ComponentError
from runtime.tools import FunctionTool

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []


_UNSUPPORTED_AGENT_FIELDS: Final = {
    "tool_call_summary_formatter": "a tool call summary formatter",
}


def _agent_tools(reader: ConfigReader) -> list[FunctionTool]:
    # Component version 1 (AutoGen Studio 0.4.x) lists tools directly; version 2 wraps
    # them in one or more workbenches (a single object in some 0.5 releases).
    tools: list[FunctionTool] = reader.components("tools", "tool")
    workbench = reader.raw("workbench")
    if isinstance(workbench, Mapping):
        tools.extend(reader.component("workbench", "workbench"))
    else:
        for group in reader.components("workbench", "workbench"):
            tools.extend(group)
    return tools


def _load_assistant(reader: ConfigReader) -> AssistantAgent:
    for key, what in _UNSUPPORTED_AGENT_FIELDS.items():
        if key in reader:
            raise reader.error(f"{what} is not supported", key)
    handoffs = [
        handoff_from(value, reader, f"handoffs[{index}]")
        for index, value in enumerate(reader.items("handoffs"))
    ]
    options: dict[str, Any] = {}
    if "description" in reader:
        options["description"] = reader.text("description")
    return AssistantAgent(
        reader.text("name"),
        reader.component("model_client", "model"),
        tools=_agent_tools(reader),
        handoffs=handoffs,
        # AutoGen leaves out a null system message, so absence means "none".
        system_message=reader.text("system_message", None),
        model_client_stream=reader.flag("model_client_stream", False),
        reflect_on_tool_use=reader.flag("reflect_on_tool_use", None),
        max_tool_iterations=reader.integer("max_tool_iterations", 1),
        tool_call_summary_format=reader.text("tool_call_summary_format", "{result}"),
        model_context=reader.optional_component("model_context", "context"),
        metadata=reader.mapping("metadata", None),
        memory=reader.components("memory", "memory"),
        **_structured_options(reader),
        **options,
    )


def _structured_options(reader: ConfigReader) -> dict[str, Any]:
    output = reader.optional_component("structured_message_factory", "structured_message")
    if output is None:
        return {}
    return {
        "output_content_type": output.model,
        "output_content_type_format": output.format_string,
    }


def _dump_assistant(agent: AssistantAgent, writer: ConfigWriter) -> dict[str, Any]:
    if agent.tool_call_summary_formatter is not None:
        raise ComponentError(
            f"agent {agent.name!r} has a tool_call_summary_formatter, a Python function that "
            "cannot be written to a file; use tool_call_summary_format to export it",
            component="AssistantAgent",
        )
    config: dict[str, Any] = {
        "name": agent.name,
        "model_client": writer.component(agent.model_client),
        "workbench": [writer.component(Workbench(agent.tools))],
        "handoffs": [handoff_config(h) for h in agent.handoffs] or None,
        "model_context": writer.component(agent.model_context),
        "description": agent.description,
        "system_message": agent.system_message,
        "model_client_stream": agent.model_client_stream,
        "reflect_on_tool_use": agent.reflect_on_tool_use,
        "tool_call_summary_format": agent.tool_call_summary_format,
        "max_tool_iterations": agent.max_tool_iterations,
        "metadata": dict(agent.metadata),
        "memory": [writer.component(m) for m in agent.memory] or None,
    }
    if agent.output_content_type is not None:
        output = StructuredOutput(agent.output_content_type, agent.output_content_type_format)
        config["structured_message_factory"] = writer.component(output)
    return compact(config)


def _load_user_proxy(reader: ConfigReader) -> UserProxyAgent:
    return UserProxyAgent(
        reader.text("name"),
        description=reader.text("description", "A human user"),
        input_func=reader.input_func,
    )


def _dump_user_proxy(agent: UserProxyAgent, writer: ConfigWriter) -> dict[str, Any]:
    return {"name": agent.name, "description": agent.description}


def _load_society(reader: ConfigReader) -> SocietyOfMindAgent:
    options: dict[str, Any] = {
        "model_context": reader.optional_component("model_context", "context")
    }
    for key in ("description", "instruction", "response_prompt"):
        if key in reader:
            options[key] = reader.text(key)
    return SocietyOfMindAgent(
        reader.text("name"),
        reader.component("team", "team"),
        reader.optional_component("model_client", "model"),
        **options,
    )


def _dump_society(agent: SocietyOfMindAgent, writer: ConfigWriter) -> dict[str, Any]:
    client = agent.model_client
    return compact(
        {
            "name": agent.name,
            "team": writer.component(agent.team),
            "model_client": writer.component(client) if client is not None else None,
            "description": agent.description,
            "instruction": agent.instruction,
            "response_prompt": agent.response_prompt,
            "model_context": writer.component(agent.model_context),
        }
    )


def _load_filter_agent(reader: ConfigReader) -> MessageFilterAgent:
    return MessageFilterAgent(
        reader.text("name"),
        reader.component("wrapped_agent", "agent"),
        MessageFilterConfig.from_dict(reader.mapping("filter", {})),
    )


def _dump_filter_agent(agent: MessageFilterAgent, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "name": agent.name,
        "wrapped_agent": writer.component(agent.wrapped_agent),
        "filter": agent.filter.to_dict(),
    }


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        ComponentKind(
            "autogen_agentchat.agents.AssistantAgent",
            AssistantAgent,
            "agent",
            _load_assistant,
            _dump_assistant,
            version=2,
            aliases=("AssistantAgent",),
            description="An agent that answers with a model, calls tools and hands off.",
        ),
        ComponentKind(
            "autogen_agentchat.agents.UserProxyAgent",
            UserProxyAgent,
            "agent",
            _load_user_proxy,
            _dump_user_proxy,
            aliases=("UserProxyAgent",),
            description="The human's seat: asks a person through an input function.",
        ),
        ComponentKind(
            "autogen_agentchat.agents.SocietyOfMindAgent",
            SocietyOfMindAgent,
            "agent",
            _load_society,
            _dump_society,
            aliases=("SocietyOfMindAgent",),
            description="A whole team acting as one participant.",
        ),
        ComponentKind(
            "autogen_agentchat.agents.MessageFilterAgent",
            MessageFilterAgent,
            "agent",
            _load_filter_agent,
            _dump_filter_agent,
            aliases=("MessageFilterAgent",),
            description="Passes its agent only some of the messages it receives.",
        ),
    ]
