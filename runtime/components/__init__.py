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
"""

from runtime.components.registry import (
    ComponentKind,
    ComponentRegistry,
    ConfigReader,
    ConfigWriter,
    dump_component,
    load_component,
)

__all__ = [
    "ComponentKind",
    "ComponentRegistry",
    "ConfigReader",
    "ConfigWriter",
    "dump_component",
    "load_component",
]
