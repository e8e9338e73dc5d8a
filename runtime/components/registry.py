"""The component registry and the reader and writer every kind's config goes through."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from runtime.agents.user_proxy import InputFunc
from runtime.errors import ComponentError, RoundtableError
from runtime.tools import ToolRegistry

__all__ = [
    "ComponentKind",
    "ComponentRegistry",
    "ConfigReader",
    "ConfigWriter",
    "dump_component",
    "load_component",
]

MASKED_SECRET: Final = "**********"
_MISSING: Final = object()
_AUTOGEN_PACKAGES: Final = ("autogen_agentchat.", "autogen_core.", "autogen_ext.")


# --------------------------------------------------------------------------------------
# Reading one config, with the path of every value for error messages
# --------------------------------------------------------------------------------------


class ConfigReader:
    """Typed access to one component's ``config``; every error names the component and path.

    A kind's ``load`` function receives one of these. Nested components are loaded with
    :meth:`component` / :meth:`components`, which extend the path.
    """

    __slots__ = ("_config", "_loader", "component_name", "path", "version")

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        path: str,
        component_name: str,
        version: int,
        loader: _Loader,
    ) -> None:
        self._config = config
        self._loader = loader
        self.path = path
        self.component_name = component_name
        self.version = version

    @property
    def tools(self) -> ToolRegistry | None:
        """The tool registry the caller passed to :func:`load_component`."""
        return self._loader.tools

    @property
    def input_func(self) -> InputFunc | None:
        """The human input function the caller passed to :func:`load_component`."""
        return self._loader.input_func

    def field_path(self, key: str) -> str:
        return f"{self.path}.config.{key}" if self.path else f"config.{key}"

    def error(self, message: str, key: str | None = None) -> ComponentError:
        """A :class:`ComponentError` about this component (or one of its fields)."""
        path = self.field_path(key) if key else self.path
        return ComponentError(
            f"{self.component_name}: {message}", path=path, component=self.component_name
        )

    def __contains__(self, key: str) -> bool:
        return self._config.get(key) is not None

    def raw(self, key: str, default: Any = None) -> Any:
        """The value as it is in the file (``default`` when absent or null)."""
        value = self._config.get(key)
        return default if value is None else value

    def _typed(self, key: str, kinds: tuple[type, ...], what: str, default: Any) -> Any:
        value = self._config.get(key)
        if value is None:
            if default is _MISSING:
                raise self.error(f"'{key}' is required", key)
            return default
        if isinstance(value, bool) and bool not in kinds:
            raise self.error(f"'{key}' must be {what}, got {value!r}", key)
        if not isinstance(value, kinds):
            raise self.error(f"'{key}' must be {what}, got {type(value).__name__}", key)
        return value

    def text(self, key: str, default: Any = _MISSING) -> Any:
        """A string (``default`` when absent; required when no default is given)."""
        return self._typed(key, (str,), "a string", default)

    def integer(self, key: str, default: Any = _MISSING) -> Any:
        """An integer."""
        return self._typed(key, (int,), "an integer", default)

    def number(self, key: str, default: Any = _MISSING) -> Any:
        """A number, as a float."""
        value = self._typed(key, (int, float), "a number", default)
        return float(value) if isinstance(value, int | float) else value

    def flag(self, key: str, default: Any = _MISSING) -> Any:
        """A boolean."""
        return self._typed(key, (bool,), "true or false", default)

    def mapping(self, key: str, default: Any = _MISSING) -> Any:
        """A JSON object, as a dict."""
        value = self._typed(key, (dict,), "an object", default)
        return dict(value) if isinstance(value, dict) else value

    def items(self, key: str) -> list[Any]:
        """A JSON array (empty when absent)."""
        value = self._typed(key, (list,), "a list", [])
        return list(value)

    def texts(self, key: str, default: Any = _MISSING) -> Any:
        """A list of strings."""
        value = self._typed(key, (list,), "a list of strings", default)
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise self.error(f"'{key}' must be a list of strings", key)
        return value

    def component(self, key: str, role: str | None = None) -> Any:
        """Load the nested component at ``key`` (required)."""
        value = self._config.get(key)
        if value is None:
            raise self.error(f"'{key}' is required", key)
        return self._loader.load(value, self.field_path(key), role)

    def optional_component(self, key: str, role: str | None = None) -> Any:
        """Load the nested component at ``key``, or ``None`` when it is absent."""
        value = self._config.get(key)
        if value is None:
            return None
        return self._loader.load(value, self.field_path(key), role)

    def load_nested(self, value: Any, key: str, role: str | None = None) -> Any:
        """Load a component found inside a field (``key`` is its path within the config)."""
        return self._loader.load(value, self.field_path(key), role)

    def components(self, key: str, role: str | None = None) -> list[Any]:
        """Load every nested component of the list at ``key`` (empty when absent)."""
        path = self.field_path(key)
        return [
            self._loader.load(item, f"{path}[{index}]", role)
            for index, item in enumerate(self.items(key))
        ]


# --------------------------------------------------------------------------------------
# Kinds and the registry
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComponentKind:
    """One allowed provider: which class it builds and how its config reads and writes.

    ``cls`` is our class, or its ``"module.QualName"`` for classes whose module is costly
    to import (the provider SDK clients), so dumping matches it without importing it.
    ``role`` groups kinds for the ``expected`` check (``model``, ``agent``, ``team``,
    ``tool``, ``workbench``, ``termination``, ``handoff``, ``context``);
    ``component_type`` and ``version`` are what AutoGen writes for it.
    """

    provider: str
    cls: type[Any] | str
    role: str
    load: Callable[[ConfigReader], Any]
    dump: Callable[[Any, ConfigWriter], dict[str, Any]]
    component_type: str = ""
    version: int = 1
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def label(self) -> str:
        return self.provider.rsplit(".", 1)[-1]

    @property
    def class_path(self) -> str:
        cls = self.cls
        return cls if isinstance(cls, str) else f"{cls.__module__}.{cls.__qualname__}"


class ComponentRegistry:
    """Provider string -> :class:`ComponentKind`; the only way a file reaches a class.

    :meth:`default` has every built-in kind under AutoGen's provider strings and aliases.
    A bare class name (``RoundRobinGroupChat``), or a provider inside AutoGen's packages
    whose module path differs from the public one
    (``autogen_agentchat.teams._group_chat._round_robin_group_chat.RoundRobinGroupChat``),
    resolves by its class name when exactly one known kind has that name.
    """

    __slots__ = ("_by_class", "_by_label", "_by_provider")

    def __init__(self, kinds: Iterable[ComponentKind] = ()) -> None:
        self._by_provider: dict[str, ComponentKind] = {}
        self._by_class: dict[str, ComponentKind] = {}
        self._by_label: dict[str, list[ComponentKind]] = {}
        for kind in kinds:
            self.register(kind)

    @classmethod
    def default(cls) -> ComponentRegistry:
        """A new registry with every built-in kind (extend it with :meth:`register`)."""
        # The kind modules build on this one, so they are imported on first use.
        from runtime.components import (
            agents,
            conditions,
            contexts,
            memory,
            model_clients,
            structured,
            teams,
            tools,
        )

        modules = (model_clients, tools, contexts, structured, memory, conditions, agents, teams)
        return cls(kind for module in modules for kind in module.kinds())

    def register(self, kind: ComponentKind) -> None:
        """Allow ``kind``; a provider or alias that is already taken is a ComponentError."""
        for name in (kind.provider, *kind.aliases):
            if name in self._by_provider:
                raise ComponentError(f"provider {name!r} is already registered")
            self._by_provider[name] = kind
        self._by_class.setdefault(kind.class_path, kind)
        self._by_label.setdefault(kind.label, []).append(kind)

    def find(self, provider: str) -> ComponentKind | None:
        """The kind for a provider string, or ``None`` when it is not allowed."""
        kind = self._by_provider.get(provider)
        is_bare_name = "." not in provider
        if kind is not None or not (is_bare_name or provider.startswith(_AUTOGEN_PACKAGES)):
            return kind
        candidates = self._by_label.get(provider.rsplit(".", 1)[-1], [])
        return candidates[0] if len(candidates) == 1 else None

    def kind_of(self, obj: object) -> ComponentKind | None:
        """The kind that dumps ``obj`` (by its class, then its base classes)."""
        for cls in type(obj).__mro__:
            kind = self._by_class.get(f"{cls.__module__}.{cls.__qualname__}")
            if kind is not None:
                return kind
        return None

    def providers(self) -> list[str]:
        """Every allowed provider string and alias, sorted."""
        return sorted(self._by_provider)

    def __iter__(self) -> Iterator[ComponentKind]:
        seen: dict[int, ComponentKind] = {id(k): k for k in self._by_provider.values()}
        return iter(seen.values())


# --------------------------------------------------------------------------------------
# Loading and dumping
# --------------------------------------------------------------------------------------


class _Loader:
    __slots__ = ("input_func", "registry", "tools")

    def __init__(
        self,
        registry: ComponentRegistry,
        tools: ToolRegistry | None,
        input_func: InputFunc | None,
    ) -> None:
        self.registry = registry
        self.tools = tools
        self.input_func = input_func

    def load(self, data: Any, path: str, role: str | None) -> Any:
        where = path or "the top level"
        if not isinstance(data, Mapping):
            raise ComponentError(
                f"expected a component object at {where}, got {type(data).__name__}", path=path
            )
        provider = data.get("provider")
        label = data.get("label") if isinstance(data.get("label"), str) else None
        if not isinstance(provider, str) or not provider:
            name = f"component {label!r}" if label else "a component"
            raise ComponentError(f"{name} has no 'provider'", path=path, component=label or "")
        component_name = f"{label} ({provider})" if label and label != provider else provider
        kind = self.registry.find(provider)
        if kind is None:
            raise ComponentError(
                f"{component_name}: unknown provider; only known providers are loaded "
                "(nothing named in a file is imported)",
                path=path,
                component=component_name,
            )
        if role is not None and kind.role not in role.split("|"):
            raise ComponentError(
                f"{component_name}: expected a {role.replace('|', ' or ')} component, "
                f"got a {kind.role}",
                path=path,
                component=component_name,
            )
        config = data.get("config", {})
        if not isinstance(config, Mapping):
            raise ComponentError(
                f"{component_name}: 'config' must be an object",
                path=f"{path}.config" if path else "config",
                component=component_name,
            )
        version = data.get("component_version", data.get("version", kind.version))
        reader = ConfigReader(
            config,
            path=path,
            component_name=component_name,
            version=version if isinstance(version, int) else kind.version,
            loader=self,
        )
        try:
            return kind.load(reader)
        except ComponentError:
            raise
        except (RoundtableError, ValueError, TypeError) as exc:
            raise reader.error(str(exc)) from exc


class ConfigWriter:
    """Dumps nested components for a kind's ``dump`` function, with the caller's options."""

    __slots__ = ("include_secrets", "include_source", "registry")

    def __init__(
        self, registry: ComponentRegistry, *, include_secrets: bool, include_source: bool
    ) -> None:
        self.registry = registry
        self.include_secrets = include_secrets
        self.include_source = include_source

    def component(self, obj: object) -> dict[str, Any]:
        """The full component document of ``obj``."""
        kind = self.registry.kind_of(obj)
        if kind is None:
            raise ComponentError(
                f"{type(obj).__name__} is not a known component kind; "
                "register a ComponentKind for it",
                component=type(obj).__name__,
            )
        document: dict[str, Any] = {
            "provider": kind.provider,
            "component_type": kind.component_type or kind.role,
            "version": kind.version,
            "component_version": kind.version,
        }
        if kind.description:
            document["description"] = kind.description
        document["label"] = kind.label
        document["config"] = kind.dump(obj, self)
        return document


@cache
def _builtin_registry() -> ComponentRegistry:
    """The registry used when a caller passes none; never handed out, so never changed."""
    return ComponentRegistry.default()


def load_component(
    data: Mapping[str, Any] | str,
    *,
    tools: ToolRegistry | None = None,
    expected: str | None = None,
    registry: ComponentRegistry | None = None,
    input_func: InputFunc | None = None,
) -> Any:
    """Build a team, agent, model client, tool or condition from a component document.

    ``data`` is the parsed JSON (or its text). ``tools`` resolves ``FunctionTool``
    configs by name; ``expected`` (``"team"``, ``"agent"``, ``"model"``, ...; ``a|b``
    for either) checks what the top level is; ``input_func`` is given to every
    ``UserProxyAgent`` (files never carry one). A workbench loads as a list of tools.
    Raises :class:`~runtime.ComponentError` naming the component and its path.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ComponentError(f"the component file is not valid JSON: {exc}") from exc
    loader = _Loader(registry or _builtin_registry(), tools, input_func)
    return loader.load(data, "", expected)


def dump_component(
    obj: object,
    *,
    include_secrets: bool = False,
    include_source: bool = True,
    registry: ComponentRegistry | None = None,
) -> dict[str, Any]:
    """The AutoGen component document of a team, agent, model client, tool or condition.

    API keys are written only with ``include_secrets=True``. A ``FunctionTool`` carries
    its function's source (AutoGen needs it to load the tool; we never read it back);
    ``include_source=False`` leaves it empty.
    """
    writer = ConfigWriter(
        registry or _builtin_registry(),
        include_secrets=include_secrets,
        include_source=include_source,
    )
    return writer.component(obj)


# --------------------------------------------------------------------------------------
# Helpers for kinds
# --------------------------------------------------------------------------------------


def compact(config: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values, as AutoGen's ``exclude_none`` dumps do."""
    return {key: value for key, value in config.items() if value is not None}


def no_config(obj: object, writer: ConfigWriter) -> dict[str, Any]:
    return {}


def refuse_load(reader: ConfigReader) -> Any:
    raise reader.error("it holds a Python function in code, so it cannot come from a file")


def refuse_dump(obj: object, writer: ConfigWriter) -> dict[str, Any]:
    raise ComponentError(
        f"{type(obj).__name__} holds a Python function and cannot be written to a file",
        component=type(obj).__name__,
    )
