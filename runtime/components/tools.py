"""Component kinds of tools: registered function tools, workbenches and handoffs."""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Final

from runtime.components.registry import (
    ComponentKind,
    ConfigReader,
    ConfigWriter,
)
from runtime.tools import FunctionTool, Handoff

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []


def _load_function_tool(reader: ConfigReader) -> FunctionTool:
    name = reader.text("name")
    registry = reader.tools
    if registry is not None and name in registry:
        return registry.get(name)
    has_source = bool(reader.text("source_code", "").strip())
    if has_source:
        raise reader.error(
            f'tool "{name}" carries code, which is never executed (source code in a file '
            f'is ignored); register a tool named "{name}" to use it'
        )
    raise reader.error(f"no tool named {name!r} is registered")


def _source_of(tool: FunctionTool) -> str:
    try:
        source = textwrap.dedent(inspect.getsource(tool.func))
    except (OSError, TypeError):
        return ""
    lines = source.splitlines(keepends=True)
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    return "".join(lines)


#: Python annotations for JSON schema types, in a tool's stub.
_STUB_TYPES: Final = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}


def _stub_of(tool: FunctionTool) -> str:
    """A function with the tool's name, parameters and description whose body raises:
    AutoGen can load and show it, and the real function stays where it is registered."""
    parameters = tool.schema.get("parameters", {})
    properties: dict[str, Any] = parameters.get("properties", {})
    required = [name for name in properties if name in parameters.get("required", [])]
    arguments = [f"{name}: {_stub_type(properties[name])}" for name in required]
    arguments += [
        f"{name}: {_stub_type(schema)} = {schema.get('default')!r}"
        for name, schema in properties.items()
        if name not in required
    ]
    # A tool name may hold "-" or start with a digit; a function name may not.
    function = re.sub(r"\W|^(?=\d)", "_", tool.name)
    message = f"{tool.name} is a stub: the real tool is registered where this file was written"
    return (
        f"def {function}({', '.join(arguments)}) -> str:\n"
        f"    {tool.description!r}\n"
        f"    raise NotImplementedError({message!r})\n"
    )


def _stub_type(schema: Any) -> str:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    return _STUB_TYPES.get(kind, "object") if isinstance(kind, str) else "object"


def _dump_function_tool(tool: FunctionTool, writer: ConfigWriter) -> dict[str, Any]:
    if writer.tool_stubs:
        source = _stub_of(tool)
    else:
        source = _source_of(tool) if writer.include_source else ""
    return {
        "source_code": source,
        "name": tool.name,
        "description": tool.description,
        "global_imports": [],
        # A stub takes no cancellation token, whatever the real function does.
        "has_cancellation_support": tool.has_cancellation_token and not writer.tool_stubs,
    }


def _load_workbench(reader: ConfigReader) -> list[FunctionTool]:
    tools: list[FunctionTool] = reader.components("tools", "tool")
    overrides = reader.mapping("tool_overrides", {})
    if not overrides:
        return tools
    renamed: list[FunctionTool] = []
    for tool in tools:
        override = overrides.get(tool.name)
        if not isinstance(override, Mapping):
            renamed.append(tool)
            continue
        renamed.append(
            FunctionTool(
                tool.func,
                override.get("description") or tool.description,
                override.get("name") or tool.name,
                timeout=tool.timeout,
                strict=tool.strict,
            )
        )
    return renamed


class Workbench:
    """What AssistantAgent dumps its tools into (AutoGen's StaticStreamWorkbench)."""

    __slots__ = ("tools",)

    def __init__(self, tools: Sequence[FunctionTool]) -> None:
        self.tools = list(tools)


def _dump_workbench(workbench: Workbench, writer: ConfigWriter) -> dict[str, Any]:
    return {"tools": [writer.component(t) for t in workbench.tools], "tool_overrides": {}}


def handoff_config(handoff: Handoff) -> dict[str, Any]:
    return {
        "target": handoff.target,
        "description": handoff.description,
        "name": handoff.name,
        "message": handoff.message,
    }


def handoff_from(value: Any, reader: ConfigReader, key: str) -> Handoff:
    if isinstance(value, str):
        return Handoff(value)
    if isinstance(value, Mapping) and "provider" in value:  # written as a component
        handoff: Handoff = reader.load_nested(value, key, "handoff")
        return handoff
    if not isinstance(value, Mapping) or not isinstance(value.get("target"), str):
        raise reader.error("a handoff must be a target name or an object with 'target'", key)
    return Handoff(**_handoff_fields(value))


def _handoff_fields(value: Mapping[str, Any]) -> dict[str, Any]:
    fields = ("target", "description", "name", "message")
    return {key: value[key] for key in fields if isinstance(value.get(key), str)}


def _load_handoff(reader: ConfigReader) -> Handoff:
    return Handoff(
        reader.text("target"),
        description=reader.text("description", None),
        name=reader.text("name", None),
        message=reader.text("message", None),
    )


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        ComponentKind(
            "autogen_core.tools.FunctionTool",
            FunctionTool,
            "tool",
            _load_function_tool,
            _dump_function_tool,
            aliases=("FunctionTool",),
            description="A registered Python function the model may call.",
        ),
        ComponentKind(
            "autogen_core.tools.StaticStreamWorkbench",
            Workbench,
            "workbench",
            _load_workbench,
            _dump_workbench,
            description="A fixed set of tools.",
        ),
        ComponentKind(
            "autogen_core.tools.StaticWorkbench",
            Workbench,
            "workbench",
            _load_workbench,
            _dump_workbench,
            description="A fixed set of tools.",
        ),
        ComponentKind(
            "autogen_agentchat.base.Handoff",
            Handoff,
            "handoff",
            _load_handoff,
            lambda h, w: handoff_config(h),
            description="Passes the conversation to another agent.",
        ),
    ]
