"""Team files: read and write AutoGen's component JSON through an explicit allow-list.

A component document has AutoGen's shape::

    {"provider": "autogen_agentchat.teams.RoundRobinGroupChat", "component_type": "team",
     "version": 1, "component_version": 1, "label": "...", "description": "...",
     "config": {...}}

:func:`load_component` looks the ``provider`` up in a :class:`ComponentRegistry` (AutoGen's
provider strings, their short aliases and our own are known) and builds our class from the
config. Nothing named in a file is ever imported and no code from a file is ever executed:
a ``FunctionTool`` config is resolved by its name in the caller's
:class:`~runtime.ToolRegistry`, and its ``source_code`` is ignored. Anything the registry
does not know is a :class:`~runtime.ComponentError` that names the component and where it
sits in the file, for example ``config.participants[1].config.workbench[0].config.tools[0]``.

:func:`dump_component` writes the same shape with AutoGen's provider strings and version
numbers, so AutoGen can load what we write. API keys are left out unless asked for.

Every component class also has AutoGen's method API through :class:`Component`:
``team.dump_component()`` and ``RoundRobinGroupChat.load_component(config)``.

The registry knows every provider AutoGen 0.7 and AutoGen Studio 0.4 write, under its
public path, its short name and AutoGen's well-known aliases; a path inside AutoGen's
packages (``autogen_agentchat.teams._group_chat._round_robin_group_chat.RoundRobinGroupChat``)
resolves by its class name. Providers we do not support (Azure OpenAI, web surfers, code
executors, MCP, ...) are refused with a :class:`~runtime.UnsupportedProviderError` that
says why, never loaded.
"""

from runtime.components.component import Component
from runtime.components.registry import (
    ComponentKind,
    ComponentModel,
    ComponentRegistry,
    ConfigReader,
    ConfigWriter,
    dump_component,
    load_component,
)

__all__ = [
    "Component",
    "ComponentKind",
    "ComponentModel",
    "ComponentRegistry",
    "ConfigReader",
    "ConfigWriter",
    "dump_component",
    "load_component",
]
