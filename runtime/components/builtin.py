"""The built-in component kinds, registered when the runtime package is imported.

They live apart from the registry because they build the runtime's classes, and those
classes build on the registry (every one is a :class:`~runtime.Component`).
"""

from __future__ import annotations

from runtime.components import (
    agents,
    conditions,
    contexts,
    memory,
    model_clients,
    structured,
    teams,
    tools,
    unsupported,
)
from runtime.components.registry import register_builtin_kinds

__all__: list[str] = []

register_builtin_kinds(
    kind
    for module in (
        model_clients,
        tools,
        contexts,
        structured,
        memory,
        conditions,
        agents,
        teams,
        unsupported,
    )
    for kind in module.kinds()
)
