"""The component registry and the reader and writer every kind's config goes through."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Protocol, runtime_checkable

from runtime.errors import ComponentError, RoundtableError, UnsupportedProviderError

# Only for annotations: the agents and tools build on this module (they are Components).
if TYPE_CHECKING:
    from runtime.agents.user_proxy import InputFunc
    from runtime.tools import ToolRegistry

__all__ = [
    "ComponentKind",
    "ComponentModel",
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

    __slots__ = ("_config", "_loader", "component_name", "path", "provider", "version")

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        path: str,
        component_name: str,
        provider: str,
        version: int,
        loader: _Loader,
    ) -> None:
        self._config = config
        self._loader = loader
        self.path = path
        self.component_name = component_name
        self.provider = provider
        self.version = version

    @property
    def tools(self) -> ToolRegistry | None:
        """The tool registry the caller passed to :func:`load_component`."""
        return self._loader.tools

    @property
    def input_func(self) -> InputFunc | None:
        """The human input function the caller passed to :func:`load_component`."""
        return self._loader.input_func

    @property
    def api_key(self) -> str | None:
        """The key the caller passed to :func:`load_component` for every client, if any."""
        return self._loader.api_key

    def field_path(self, key: str) -> str:
        return f"{self.path}.config.{key}" if self.path else f"config.{key}"

    def error(self, message: str, key: str | None = None) -> ComponentError:
        """A :class:`ComponentError` about this component (or one of its fields)."""
        path = self.field_path(key) if key else self.path
        return ComponentError(
            f"{self.component_name}: {message}",
            path=path,
            component=self.component_name,
            reason=message,
        )

    def unsupported(self, message: str) -> UnsupportedProviderError:
        """An :class:`UnsupportedProviderError`: this provider is known and refused."""
        return UnsupportedProviderError(
            f"{self.component_name}: {message}",
            provider=self.provider,
            path=self.path,
            component=self.component_name,
            reason=message,
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
        if not _BUILTIN_KINDS:
            raise ComponentError("the built-in component kinds are not registered yet")
        return cls(_BUILTIN_KINDS)

    def refusing(self, reason_for: Callable[[ComponentKind], str | None]) -> ComponentRegistry:
        """A copy in which every kind ``reason_for`` gives a reason for is refused with it.

        A refused kind still dumps; loading it is an :class:`~runtime.UnsupportedProviderError`
        at its path. Use it to load only what a caller can hold (no memories, say).
        """
        refused: list[ComponentKind] = []
        for kind in self:
            reason = reason_for(kind)
            refused.append(
                kind
                if reason is None
                else dataclasses.replace(kind, load=refusal(kind.label, reason))
            )
        return ComponentRegistry(refused)

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


#: Every built-in kind. The kinds build on the classes, which build on this module, so
#: ``runtime.components.builtin`` adds them when the runtime package is imported.
_BUILTIN_KINDS: list[ComponentKind] = []


def register_builtin_kinds(kinds: Iterable[ComponentKind]) -> None:
    """Add the built-in kinds (``runtime.components.builtin`` calls this, once)."""
    _BUILTIN_KINDS.extend(kinds)
    builtin_registry.cache_clear()


@cache
def builtin_registry() -> ComponentRegistry:
    """The registry calls without a ``registry`` use (internal to the components: never
    handed to callers, so never changed)."""
    return ComponentRegistry.default()


class _Loader:
    __slots__ = ("api_key", "input_func", "registry", "tools")

    def __init__(
        self,
        registry: ComponentRegistry,
        tools: ToolRegistry | None,
        input_func: InputFunc | None,
        api_key: str | None,
    ) -> None:
        self.registry = registry
        self.tools = tools
        self.input_func = input_func
        self.api_key = api_key

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
            reason = (
                f'unknown provider "{provider}"; only known providers are loaded '
                "(nothing named in a file is imported)"
            )
            raise UnsupportedProviderError(
                f"{component_name}: {reason}",
                provider=provider,
                path=path,
                component=component_name,
                reason=reason,
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
            provider=provider,
            version=version if isinstance(version, int) else kind.version,
            loader=self,
        )
        try:
            loaded = kind.load(reader)
        except ComponentError:
            raise
        except (RoundtableError, ValueError, TypeError) as exc:
            raise reader.error(str(exc)) from exc
        _keep_envelope(loaded, kind, data)
        return loaded


def _keep_envelope(loaded: object, kind: ComponentKind, data: Mapping[str, Any]) -> None:
    """Remember a label and description the file chose (not its kind's defaults) on a
    :class:`~runtime.Component`, so a dump writes them back. Tools keep theirs: they may
    be the caller's registered tools, shared by every file that names them."""
    if kind.role == "tool" or not isinstance(loaded, _Labelled):
        return
    label, description = data.get("label"), data.get("description")
    if isinstance(label, str) and label and label != kind.label:
        loaded.component_label = label
    if isinstance(description, str) and description and description != kind.description:
        loaded.component_description = description


@runtime_checkable
class _Labelled(Protocol):
    """What :class:`~runtime.Component` adds to an object for its document's envelope."""

    component_label: str | None
    component_description: str | None


class ConfigWriter:
    """Dumps nested components for a kind's ``dump`` function, with the caller's options."""

    __slots__ = ("include_secrets", "include_source", "registry", "tool_stubs")

    def __init__(
        self,
        registry: ComponentRegistry,
        *,
        include_secrets: bool,
        include_source: bool,
        tool_stubs: bool = False,
    ) -> None:
        self.registry = registry
        self.include_secrets = include_secrets
        self.include_source = include_source
        self.tool_stubs = tool_stubs

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
        description = getattr(obj, "component_description", None) or kind.description
        if description:
            document["description"] = description
        document["label"] = getattr(obj, "component_label", None) or kind.label
        document["config"] = kind.dump(obj, self)
        return document


def load_component(
    data: Mapping[str, Any] | str,
    *,
    tools: ToolRegistry | None = None,
    expected: str | None = None,
    registry: ComponentRegistry | None = None,
    input_func: InputFunc | None = None,
    api_key: str | None = None,
) -> Any:
    """Build a team, agent, model client, tool or condition from a component document.

    ``data`` is the parsed JSON (or its text). ``tools`` resolves ``FunctionTool``
    configs by name; ``expected`` (``"team"``, ``"agent"``, ``"model"``, ...; ``a|b``
    for either) checks what the top level is; ``input_func`` is given to every
    ``UserProxyAgent`` (files never carry one). ``api_key`` is given to every model and
    embedding client instead of the file's key, which is then ignored. A workbench loads
    as a list of tools. A label or description the file gives a component is kept on it
    (``component_label``, ``component_description``), so a dump writes it back.
    Raises :class:`~runtime.ComponentError` naming the component and its path.
    """
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ComponentError(f"the component file is not valid JSON: {exc}") from exc
    loader = _Loader(registry or builtin_registry(), tools, input_func, api_key)
    return loader.load(data, "", expected)


def dump_component(
    obj: object,
    *,
    include_secrets: bool = False,
    include_source: bool = True,
    tool_stubs: bool = False,
    registry: ComponentRegistry | None = None,
) -> ComponentModel:
    """The AutoGen component document of a team, agent, model client, tool or condition.

    API keys are written only with ``include_secrets=True``. A ``FunctionTool`` carries
    its function's source (AutoGen needs it to load the tool; we never read it back);
    ``include_source=False`` leaves it empty. ``tool_stubs=True`` writes a stub instead:
    the tool's signature and a body that raises ``NotImplementedError``, so AutoGen loads
    the file while the function itself stays where it is registered.
    """
    writer = ConfigWriter(
        registry or builtin_registry(),
        include_secrets=include_secrets,
        include_source=include_source,
        tool_stubs=tool_stubs,
    )
    return ComponentModel(writer.component(obj))


class ComponentModel(dict[str, Any]):
    """A component document: a plain dict, with the reading methods of AutoGen's
    ``ComponentModel`` so code written for AutoGen (``.model_dump_json()``) works."""

    __slots__ = ()

    @property
    def provider(self) -> str:
        return str(self["provider"])

    @property
    def component_type(self) -> str | None:
        return self.get("component_type")

    @property
    def label(self) -> str | None:
        return self.get("label")

    @property
    def description(self) -> str | None:
        return self.get("description")

    @property
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = self["config"]
        return config

    def model_dump(self) -> dict[str, Any]:
        """A deep copy as plain JSON data."""
        copied: dict[str, Any] = json.loads(json.dumps(self))
        return copied

    def model_dump_json(self, *, indent: int | None = None) -> str:
        """The document as JSON text."""
        return json.dumps(self, indent=indent)


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


def refusal(label: str, reason: str) -> Callable[[ConfigReader], Any]:
    """A ``load`` for a provider that is known and refused on purpose, saying why."""

    def refuse(reader: ConfigReader) -> Any:
        raise reader.unsupported(f"{label} is not supported: {reason}")

    return refuse


def refuse_dump(obj: object, writer: ConfigWriter) -> dict[str, Any]:
    raise ComponentError(
        f"{type(obj).__name__} holds a Python function and cannot be written to a file",
        component=type(obj).__name__,
    )
