"""AutoGen's method API, shared by every component class of the runtime."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from runtime.components.registry import (
    ComponentModel,
    ComponentRegistry,
    builtin_registry,
    dump_component,
    load_component,
)
from runtime.errors import ComponentError

# Only for annotations: the agents and tools are Components themselves.
if TYPE_CHECKING:
    from runtime.agents.user_proxy import InputFunc
    from runtime.tools import ToolRegistry

__all__ = ["Component"]


class Component:
    """AutoGen's method API on every team, agent, condition, model client, model context,
    memory and tool class: ``obj.dump_component()`` and ``Class.load_component(config)``.

    Both go through the same registry as :func:`dump_component` and
    :func:`load_component`. ``component_label`` and ``component_description`` name and
    describe the object in its document (its kind's defaults when ``None``); loading
    sets them from the file, except on tools, which may be registered tools that every
    file naming them shares (a ``FunctionTool`` takes no instance attributes).
    """

    __slots__ = ()

    #: the label a dump writes (a file's own label when loaded from one)
    component_label: str | None = None
    #: the description a dump writes (a file's own description when loaded from one)
    component_description: str | None = None

    def dump_component(
        self,
        *,
        include_secrets: bool = False,
        include_source: bool = True,
        tool_stubs: bool = False,
        registry: ComponentRegistry | None = None,
    ) -> ComponentModel:
        """This object's component document (see :func:`dump_component`)."""
        return dump_component(
            self,
            include_secrets=include_secrets,
            include_source=include_source,
            tool_stubs=tool_stubs,
            registry=registry,
        )

    @classmethod
    def load_component(
        cls,
        config: Mapping[str, Any] | str,
        *,
        tools: ToolRegistry | None = None,
        registry: ComponentRegistry | None = None,
        input_func: InputFunc | None = None,
        api_key: str | None = None,
    ) -> Self:
        """An instance of this class (or a subclass) from a component document; a
        document of another kind is a :class:`~runtime.ComponentError` saying which,
        raised before anything in it is built when its kind tells its class."""
        provider = config.get("provider") if isinstance(config, Mapping) else None
        kind = (registry or builtin_registry()).find(str(provider or ""))
        if kind is not None and isinstance(kind.cls, type) and not issubclass(kind.cls, cls):
            raise _wrong_class(cls, kind.label, provider)
        loaded = load_component(
            config, tools=tools, registry=registry, input_func=input_func, api_key=api_key
        )
        if not isinstance(loaded, cls):
            raise _wrong_class(cls, type(loaded).__name__, provider)
        return loaded


def _wrong_class(cls: type, got: str, provider: object) -> ComponentError:
    source = f" ({provider})" if isinstance(provider, str) and provider else ""
    return ComponentError(
        f"{cls.__name__}.load_component expected a {cls.__name__} document, got a "
        f"{got}{source}; load it with runtime.load_component() or with its own class",
        component=cls.__name__,
    )
