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

from __future__ import annotations

import inspect
import json
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from runtime.agents.assistant import AssistantAgent
from runtime.agents.nested import SocietyOfMindAgent
from runtime.agents.user_proxy import InputFunc, UserProxyAgent
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
from runtime.errors import ComponentError, RoundtableError
from runtime.llm import CreateResult, ModelInfo
from runtime.teams import (
    DiGraph,
    DiGraphEdge,
    DiGraphNode,
    GraphFlow,
    RoundRobinGroupChat,
    SelectorGroupChat,
    Swarm,
)
from runtime.testing import ScriptedModelClient
from runtime.tools import FunctionTool, Handoff, ToolRegistry

if TYPE_CHECKING:
    from runtime.model_clients.anthropic import AnthropicChatCompletionClient
    from runtime.model_clients.openai import OpenAIChatCompletionClient

__all__ = [
    "ComponentKind",
    "ComponentRegistry",
    "ConfigReader",
    "ConfigWriter",
    "dump_component",
    "load_component",
]

#: What AutoGen writes in place of a secret it will not dump.
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
    A provider inside AutoGen's packages whose module path differs from the public one
    (``autogen_agentchat.teams._group_chat._round_robin_group_chat.RoundRobinGroupChat``)
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
        return cls(_builtin_kinds())

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
        if kind is not None or not provider.startswith(_AUTOGEN_PACKAGES):
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
                f"{component_name}: unknown provider {provider!r}; "
                "only known component providers are loaded",
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
    loader = _Loader(registry or _BUILTIN, tools, input_func)
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
        registry or _BUILTIN, include_secrets=include_secrets, include_source=include_source
    )
    return writer.component(obj)


# --------------------------------------------------------------------------------------
# Shared pieces of configs
# --------------------------------------------------------------------------------------


def _compact(config: dict[str, Any]) -> dict[str, Any]:
    """Drop ``None`` values, as AutoGen's ``exclude_none`` dumps do."""
    return {key: value for key, value in config.items() if value is not None}


def _model_info(reader: ConfigReader) -> ModelInfo | None:
    """``model_info``, or the older ``model_capabilities`` of AutoGen 0.4.x files."""
    info = reader.mapping("model_info", None)
    if info is None:
        info = reader.mapping("model_capabilities", None)
        if info is None:
            return None
        info.setdefault("family", "unknown")
    known = ModelInfo.__annotations__
    # Only ModelInfo's own keys are kept; their values are passed on as the file has them.
    return cast(ModelInfo, {key: value for key, value in info.items() if key in known})


#: The model_info keys AutoGen's configs require, with the values it assumes.
_MODEL_INFO_DEFAULTS: Final[ModelInfo] = {
    "vision": False,
    "function_calling": False,
    "json_output": False,
    "family": "unknown",
    "structured_output": False,
}


def _model_info_config(info: ModelInfo) -> dict[str, Any]:
    return {**_MODEL_INFO_DEFAULTS, **info}


def _api_key(reader: ConfigReader) -> str | None:
    key = reader.text("api_key", None)
    return None if key in (None, "", MASKED_SECRET) else key


def _secret(client: object, writer: ConfigWriter) -> str | None:
    if not writer.include_secrets:
        return None
    key = getattr(client, "api_key", None)
    return key if isinstance(key, str) and key else None


# --------------------------------------------------------------------------------------
# Model clients
# --------------------------------------------------------------------------------------

_OPENAI_OWN: Final = frozenset(
    {
        "model",
        "api_key",
        "base_url",
        "model_info",
        "model_capabilities",
        "temperature",
        "max_tokens",
        "max_retries",
        "timeout",
        "retry_backoff",
        "organization",
        "default_headers",
        "include_name_in_message",
    }
)
#: OpenAI request arguments a file may carry; anything else is ignored, never forwarded.
_OPENAI_CREATE_ARGS: Final = frozenset(
    {
        "frequency_penalty",
        "logit_bias",
        "n",
        "presence_penalty",
        "seed",
        "stop",
        "top_p",
        "user",
        "parallel_tool_calls",
        "reasoning_effort",
        "response_format",
        "stream_options",
        "max_completion_tokens",
    }
)


def _load_openai(reader: ConfigReader) -> OpenAIChatCompletionClient:
    from runtime.model_clients.openai import OpenAIChatCompletionClient

    create_args = {key: reader.raw(key) for key in _OPENAI_CREATE_ARGS if key in reader}
    return OpenAIChatCompletionClient(
        reader.text("model"),
        api_key=_api_key(reader),
        base_url=reader.text("base_url", None),
        model_info=_model_info(reader),
        temperature=reader.number("temperature", None),
        max_tokens=reader.integer("max_tokens", None),
        max_retries=reader.integer("max_retries", 4),
        timeout=reader.number("timeout", 60.0),
        retry_backoff=reader.number("retry_backoff", 0.5),
        organization=reader.text("organization", None),
        default_headers=reader.mapping("default_headers", None),
        include_name_in_message=reader.flag("include_name_in_message", True),
        **create_args,
    )


def _dump_openai(client: OpenAIChatCompletionClient, writer: ConfigWriter) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model": client.model,
        "api_key": _secret(client, writer),
        "base_url": client.base_url,
        "model_info": _model_info_config(client.model_info),
        "temperature": client.temperature,
        "max_tokens": client.max_tokens,
        "max_retries": client.max_retries,
        "timeout": client.timeout,
        "organization": client.organization,
        "default_headers": client.default_headers or None,
    }
    if client.retry_backoff != 0.5:
        config["retry_backoff"] = client.retry_backoff
    if not client.include_name_in_message:
        config["include_name_in_message"] = False
    for key, value in client.create_args.items():
        if key in _OPENAI_CREATE_ARGS:
            config[key] = value
    return _compact(config)


_ANTHROPIC_CREATE_ARGS: Final = frozenset({"top_p", "top_k", "stop_sequences", "metadata"})


def _load_anthropic(reader: ConfigReader) -> AnthropicChatCompletionClient:
    from runtime.model_clients.anthropic import AnthropicChatCompletionClient

    create_args = {key: reader.raw(key) for key in _ANTHROPIC_CREATE_ARGS if key in reader}
    return AnthropicChatCompletionClient(
        reader.text("model"),
        api_key=_api_key(reader),
        base_url=reader.text("base_url", None),
        model_info=_model_info(reader),
        temperature=reader.number("temperature", None),
        max_tokens=reader.integer("max_tokens", 4096),
        max_retries=reader.integer("max_retries", 4),
        timeout=reader.number("timeout", 60.0),
        retry_backoff=reader.number("retry_backoff", 0.5),
        default_headers=reader.mapping("default_headers", None),
        **create_args,
    )


def _dump_anthropic(client: AnthropicChatCompletionClient, writer: ConfigWriter) -> dict[str, Any]:
    config: dict[str, Any] = {
        "model": client.model,
        "api_key": _secret(client, writer),
        "base_url": client.base_url,
        "model_info": _model_info_config(client.model_info),
        "temperature": client.temperature,
        "max_tokens": client.max_tokens,
        "max_retries": client.max_retries,
        "timeout": client.timeout,
        "default_headers": client.default_headers or None,
    }
    if client.retry_backoff != 0.5:
        config["retry_backoff"] = client.retry_backoff
    for key, value in client.create_args.items():
        if key in _ANTHROPIC_CREATE_ARGS:
            config[key] = value
    return _compact(config)


def _load_scripted(reader: ConfigReader) -> ScriptedModelClient:
    replies: list[str | CreateResult] = []
    for index, item in enumerate(reader.items("chat_completions")):
        if isinstance(item, str):
            replies.append(item)
        elif isinstance(item, Mapping) and "content" in item:
            replies.append(CreateResult.from_dict(item))
        else:
            raise reader.error(
                "each scripted reply must be a string or a CreateResult object",
                f"chat_completions[{index}]",
            )
    return ScriptedModelClient(
        replies,
        # AutoGen's replay client offers no function calling unless told otherwise.
        model_info=_model_info(reader) or ModelInfo(**_MODEL_INFO_DEFAULTS),
        model=reader.text("model", "scripted"),
        delay=reader.number("delay", 0.0),
    )


def _dump_scripted(client: ScriptedModelClient, writer: ConfigWriter) -> dict[str, Any]:
    replies = [r if isinstance(r, str) else r.to_dict() for r in client.replies]
    config: dict[str, Any] = {
        "chat_completions": replies,
        "model_info": _model_info_config(client.model_info),
    }
    # Ours only; AutoGen ignores them.
    if client.model != "scripted":
        config["model"] = client.model
    if client.delay:
        config["delay"] = client.delay
    return config


# --------------------------------------------------------------------------------------
# Tools, workbenches, handoffs
# --------------------------------------------------------------------------------------


def _load_function_tool(reader: ConfigReader) -> FunctionTool:
    name = reader.text("name")
    registry = reader.tools
    if registry is not None and name in registry:
        return registry.get(name)
    has_source = bool(reader.text("source_code", "").strip())
    if has_source:
        raise reader.error(
            f"tool {name!r} carries source code, which is never executed; "
            f"register a tool named {name!r} to use it"
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


def _dump_function_tool(tool: FunctionTool, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "source_code": _source_of(tool) if writer.include_source else "",
        "name": tool.name,
        "description": tool.description,
        "global_imports": [],
        "has_cancellation_support": tool.has_cancellation_token,
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


class _Workbench:
    """What AssistantAgent dumps its tools into (AutoGen's StaticStreamWorkbench)."""

    __slots__ = ("tools",)

    def __init__(self, tools: Sequence[FunctionTool]) -> None:
        self.tools = list(tools)


def _dump_workbench(workbench: _Workbench, writer: ConfigWriter) -> dict[str, Any]:
    return {"tools": [writer.component(t) for t in workbench.tools], "tool_overrides": {}}


def _handoff_config(handoff: Handoff) -> dict[str, Any]:
    return {
        "target": handoff.target,
        "description": handoff.description,
        "name": handoff.name,
        "message": handoff.message,
    }


def _handoff_from(value: Any, reader: ConfigReader, key: str) -> Handoff:
    if isinstance(value, str):
        return Handoff(value)
    if not isinstance(value, Mapping) or not isinstance(value.get("target"), str):
        raise reader.error("a handoff must be a target name or an object with 'target'", key)
    if "provider" in value:  # a handoff written as a component of its own
        return Handoff(**_handoff_fields(value.get("config") or {}))
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


def _load_unbounded_context(reader: ConfigReader) -> None:
    if reader.items("initial_messages"):
        raise reader.error("initial_messages in a model context are not supported")
    return None


# --------------------------------------------------------------------------------------
# Termination conditions
# --------------------------------------------------------------------------------------


def _conditions(reader: ConfigReader) -> list[TerminationCondition]:
    conditions: list[TerminationCondition] = reader.components("conditions", "termination")
    if not conditions:
        raise reader.error("'conditions' must list at least one condition", "conditions")
    return conditions


def _dump_combined(
    condition: OrTerminationCondition | AndTerminationCondition, writer: ConfigWriter
) -> dict[str, Any]:
    return {"conditions": [writer.component(c) for c in condition.conditions]}


def _load_text_mention(reader: ConfigReader) -> TextMentionTermination:
    return TextMentionTermination(reader.text("text"), sources=reader.texts("sources", None))


def _dump_text_mention(condition: TextMentionTermination, writer: ConfigWriter) -> dict[str, Any]:
    sources = condition.sources
    return _compact({"text": condition.text, "sources": list(sources) if sources else None})


def _load_token_usage(reader: ConfigReader) -> TokenUsageTermination:
    return TokenUsageTermination(
        max_total_token=reader.integer("max_total_token", None),
        max_prompt_token=reader.integer("max_prompt_token", None),
        max_completion_token=reader.integer("max_completion_token", None),
    )


def _dump_token_usage(condition: TokenUsageTermination, writer: ConfigWriter) -> dict[str, Any]:
    # AutoGen requires all three keys (null for "no limit").
    return {
        "max_total_token": condition.max_total_token,
        "max_prompt_token": condition.max_prompt_token,
        "max_completion_token": condition.max_completion_token,
    }


def _price_pair(value: Any, reader: ConfigReader, key: str) -> tuple[float, float]:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return float(value[0]), float(value[1])
    raise reader.error("a price is [USD per million input tokens, per million output]", key)


def _load_cost(reader: ConfigReader) -> CostTermination:
    prices = {
        model: _price_pair(pair, reader, f"prices.{model}")
        for model, pair in reader.mapping("prices", {}).items()
    }
    default = reader.raw("default_price", [0.0, 0.0])
    return CostTermination(
        reader.number("max_cost_usd"),
        prices,
        default_price=_price_pair(default, reader, "default_price"),
    )


def _dump_cost(condition: CostTermination, writer: ConfigWriter) -> dict[str, Any]:
    return {
        "max_cost_usd": condition.max_cost_usd,
        "prices": {model: list(pair) for model, pair in condition.prices.items()},
        "default_price": list(condition.default_price),
    }


# --------------------------------------------------------------------------------------
# Agents
# --------------------------------------------------------------------------------------

_UNSUPPORTED_AGENT_FIELDS: Final = {
    "memory": "memory",
    "output_content_type": "structured output (output_content_type)",
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
    reader.optional_component("model_context", "context")
    handoffs = [
        _handoff_from(value, reader, f"handoffs[{index}]")
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
        metadata=reader.mapping("metadata", None),
        **options,
    )


def _dump_assistant(agent: AssistantAgent, writer: ConfigWriter) -> dict[str, Any]:
    config: dict[str, Any] = {
        "name": agent.name,
        "model_client": writer.component(agent.model_client),
        "workbench": [writer.component(_Workbench(agent.tools))],
        "handoffs": [_handoff_config(h) for h in agent.handoffs] or None,
        "model_context": writer.component(_UNBOUNDED_CONTEXT),
        "description": agent.description,
        "system_message": agent.system_message,
        "model_client_stream": agent.model_client_stream,
        "reflect_on_tool_use": agent.reflect_on_tool_use,
        "tool_call_summary_format": agent.tool_call_summary_format,
        "max_tool_iterations": agent.max_tool_iterations,
        "metadata": dict(agent.metadata),
    }
    return _compact(config)


class _UnboundedContext:
    """AutoGen's default model context; our agents always keep the whole history."""


_UNBOUNDED_CONTEXT: Final = _UnboundedContext()


def _load_user_proxy(reader: ConfigReader) -> UserProxyAgent:
    return UserProxyAgent(
        reader.text("name"),
        description=reader.text("description", "A human user"),
        input_func=reader.input_func,
    )


def _dump_user_proxy(agent: UserProxyAgent, writer: ConfigWriter) -> dict[str, Any]:
    return {"name": agent.name, "description": agent.description}


def _load_society(reader: ConfigReader) -> SocietyOfMindAgent:
    reader.optional_component("model_context", "context")
    options: dict[str, Any] = {}
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
    return _compact(
        {
            "name": agent.name,
            "team": writer.component(agent.team),
            "model_client": writer.component(client) if client is not None else None,
            "description": agent.description,
            "instruction": agent.instruction,
            "response_prompt": agent.response_prompt,
            "model_context": writer.component(_UNBOUNDED_CONTEXT),
        }
    )


# --------------------------------------------------------------------------------------
# Teams
# --------------------------------------------------------------------------------------


def _team_options(reader: ConfigReader) -> dict[str, Any]:
    options: dict[str, Any] = {
        "termination_condition": reader.optional_component("termination_condition", "termination"),
        "max_turns": reader.integer("max_turns", None),
        "emit_team_events": reader.flag("emit_team_events", False),
    }
    for key in ("name", "description"):
        if key in reader:
            options[key] = reader.text(key)
    return options


def _team_config(team: Any, writer: ConfigWriter) -> dict[str, Any]:
    condition = team.termination_condition
    return {
        "name": team.name,
        "description": team.description,
        "participants": [writer.component(p) for p in team.participants],
        "termination_condition": writer.component(condition) if condition else None,
        "max_turns": team.max_turns,
        "emit_team_events": team.emit_team_events,
    }


def _load_round_robin(reader: ConfigReader) -> RoundRobinGroupChat:
    return RoundRobinGroupChat(
        reader.components("participants", "agent|team"), **_team_options(reader)
    )


def _dump_round_robin(team: RoundRobinGroupChat, writer: ConfigWriter) -> dict[str, Any]:
    return _compact(_team_config(team, writer))


def _load_selector(reader: ConfigReader) -> SelectorGroupChat:
    reader.optional_component("model_context", "context")
    options = _team_options(reader)
    if "selector_prompt" in reader:
        options["selector_prompt"] = reader.text("selector_prompt")
    return SelectorGroupChat(
        reader.components("participants", "agent|team"),
        reader.component("model_client", "model"),
        allow_repeated_speaker=reader.flag("allow_repeated_speaker", False),
        max_selector_attempts=reader.integer("max_selector_attempts", 3),
        model_client_streaming=reader.flag("model_client_streaming", False),
        **options,
    )


def _dump_selector(team: SelectorGroupChat, writer: ConfigWriter) -> dict[str, Any]:
    for name in ("selector_func", "candidate_func"):
        if getattr(team, name) is not None:
            raise ComponentError(
                f"this SelectorGroupChat has a {name}, a Python function that cannot be "
                "written to a file; leave the choice to its model to export it",
                component="SelectorGroupChat",
            )
    config = _team_config(team, writer)
    config.update(
        {
            "model_client": writer.component(team.model_client),
            "selector_prompt": team.selector_prompt,
            "allow_repeated_speaker": team.allow_repeated_speaker,
            "max_selector_attempts": team.max_selector_attempts,
            "model_client_streaming": team.model_client_streaming,
        }
    )
    return _compact(config)


def _load_swarm(reader: ConfigReader) -> Swarm:
    return Swarm(reader.components("participants", "agent"), **_team_options(reader))


def _dump_swarm(team: Swarm, writer: ConfigWriter) -> dict[str, Any]:
    return _compact(_team_config(team, writer))


def _load_edge(value: Any, reader: ConfigReader, key: str) -> DiGraphEdge:
    if not isinstance(value, Mapping) or not isinstance(value.get("target"), str):
        raise reader.error("an edge must be an object with a 'target' name", key)
    condition = value.get("condition")
    if condition is not None and not isinstance(condition, str):
        raise reader.error("an edge condition must be text (code is never loaded)", key)
    options: dict[str, Any] = {}
    if isinstance(value.get("activation_group"), str):
        options["activation_group"] = value["activation_group"]
    if value.get("activation_condition") in ("all", "any"):
        options["activation_condition"] = value["activation_condition"]
    return DiGraphEdge(value["target"], condition=condition, **options)


def _load_graph(reader: ConfigReader) -> DiGraph:
    graph = reader.mapping("graph")
    nodes_data = graph.get("nodes")
    if not isinstance(nodes_data, Mapping) or not nodes_data:
        raise reader.error("the graph needs a non-empty 'nodes' object", "graph.nodes")
    nodes: dict[str, DiGraphNode] = {}
    for name, node in nodes_data.items():
        key = f"graph.nodes.{name}"
        if not isinstance(node, Mapping):
            raise reader.error("a graph node must be an object", key)
        edges = [
            _load_edge(edge, reader, f"{key}.edges[{index}]")
            for index, edge in enumerate(node.get("edges") or [])
        ]
        activation = node.get("activation", "all")
        nodes[name] = DiGraphNode(name, edges=edges, activation=activation)
    start = graph.get("default_start_node")
    return DiGraph(nodes=nodes, default_start_node=start if isinstance(start, str) else None)


def _load_graph_flow(reader: ConfigReader) -> GraphFlow:
    return GraphFlow(
        reader.components("participants", "agent"), _load_graph(reader), **_team_options(reader)
    )


def _dump_graph(graph: DiGraph) -> dict[str, Any]:
    nodes: dict[str, Any] = {}
    for name, node in graph.nodes.items():
        edges = []
        for edge in node.edges:
            if edge.condition is not None and not isinstance(edge.condition, str):
                raise ComponentError(
                    f"the edge {name} -> {edge.target} has a function as its condition, "
                    "which cannot be written to a file; use a text condition",
                    component="GraphFlow",
                )
            edges.append(
                _compact(
                    {
                        "target": edge.target,
                        "condition": edge.condition,
                        "activation_group": edge.activation_group,
                        "activation_condition": edge.activation_condition,
                    }
                )
            )
        nodes[name] = {"name": name, "edges": edges, "activation": node.activation}
    return _compact({"nodes": nodes, "default_start_node": graph.default_start_node})


def _dump_graph_flow(team: GraphFlow, writer: ConfigWriter) -> dict[str, Any]:
    config = _team_config(team, writer)
    config["graph"] = _dump_graph(team.graph)
    return _compact(config)


# --------------------------------------------------------------------------------------
# The built-in registry
# --------------------------------------------------------------------------------------


def _no_config(obj: object, writer: ConfigWriter) -> dict[str, Any]:
    return {}


def _refuse_load(reader: ConfigReader) -> Any:
    raise reader.error("it holds a Python function in code, so it cannot come from a file")


def _refuse_dump(obj: object, writer: ConfigWriter) -> dict[str, Any]:
    raise ComponentError(
        f"{type(obj).__name__} holds a Python function and cannot be written to a file",
        component=type(obj).__name__,
    )


def _condition_kinds() -> list[ComponentKind]:
    def kind(
        cls: type[TerminationCondition],
        load: Callable[[ConfigReader], Any],
        dump: Callable[[Any, ConfigWriter], dict[str, Any]],
        description: str,
    ) -> ComponentKind:
        return ComponentKind(
            cls.component_provider, cls, "termination", load, dump, description=description
        )

    return [
        kind(
            MaxMessageTermination,
            lambda r: MaxMessageTermination(
                r.integer("max_messages"), r.flag("include_agent_event", False)
            ),
            lambda c, w: {
                "max_messages": c.max_messages,
                "include_agent_event": c.include_agent_event,
            },
            "Stop after a number of messages.",
        ),
        kind(
            TextMentionTermination,
            _load_text_mention,
            _dump_text_mention,
            "Stop when a text is mentioned.",
        ),
        kind(
            StopMessageTermination,
            lambda r: StopMessageTermination(),
            _no_config,
            "Stop on a StopMessage.",
        ),
        kind(
            TokenUsageTermination,
            _load_token_usage,
            _dump_token_usage,
            "Stop when token usage reaches a limit.",
        ),
        kind(
            HandoffTermination,
            lambda r: HandoffTermination(r.text("target")),
            lambda c, w: {"target": c.target},
            "Stop on a handoff to a target.",
        ),
        kind(
            TimeoutTermination,
            lambda r: TimeoutTermination(r.number("timeout_seconds")),
            lambda c, w: {"timeout_seconds": c.timeout_seconds},
            "Stop when a run has lasted a number of seconds.",
        ),
        kind(
            ExternalTermination,
            lambda r: ExternalTermination(),
            _no_config,
            "Stop when asked from outside the run.",
        ),
        kind(
            SourceMatchTermination,
            lambda r: SourceMatchTermination(r.texts("sources")),
            lambda c, w: {"sources": list(c.sources)},
            "Stop when one of the given agents has answered.",
        ),
        kind(
            TextMessageTermination,
            lambda r: TextMessageTermination(r.text("source", None)),
            lambda c, w: _compact({"source": c.source}),
            "Stop on a text message (from a source).",
        ),
        kind(
            FunctionCallTermination,
            lambda r: FunctionCallTermination(r.text("function_name")),
            lambda c, w: {"function_name": c.function_name},
            "Stop when a tool with a given name was executed.",
        ),
        kind(
            CostTermination,
            _load_cost,
            _dump_cost,
            "Stop when model calls have cost a number of dollars.",
        ),
        kind(
            OrTerminationCondition,
            lambda r: OrTerminationCondition(*_conditions(r)),
            _dump_combined,
            "",
        ),
        kind(
            AndTerminationCondition,
            lambda r: AndTerminationCondition(*_conditions(r)),
            _dump_combined,
            "",
        ),
    ]


def _builtin_kinds() -> list[ComponentKind]:
    return [
        ComponentKind(
            "autogen_ext.models.openai.OpenAIChatCompletionClient",
            "runtime.model_clients.openai.OpenAIChatCompletionClient",
            "model",
            _load_openai,
            _dump_openai,
            aliases=("OpenAIChatCompletionClient", "openai_chat_completion_client"),
            description="Chat completion client for OpenAI and OpenAI-compatible servers.",
        ),
        ComponentKind(
            "autogen_ext.models.anthropic.AnthropicChatCompletionClient",
            "runtime.model_clients.anthropic.AnthropicChatCompletionClient",
            "model",
            _load_anthropic,
            _dump_anthropic,
            aliases=("AnthropicChatCompletionClient", "anthropic_chat_completion_client"),
            description="Chat completion client for Anthropic's Claude models.",
        ),
        ComponentKind(
            "autogen_ext.models.replay.ReplayChatCompletionClient",
            ScriptedModelClient,
            "model",
            _load_scripted,
            _dump_scripted,
            component_type="replay_chat_completion_client",
            aliases=("ReplayChatCompletionClient", "roundtable.testing.ScriptedModelClient"),
            description="A scripted model client that replays predefined replies in order.",
        ),
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
            _Workbench,
            "workbench",
            _load_workbench,
            _dump_workbench,
            description="A fixed set of tools.",
        ),
        ComponentKind(
            "autogen_core.tools.StaticWorkbench",
            _Workbench,
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
            lambda h, w: _handoff_config(h),
            description="Passes the conversation to another agent.",
        ),
        ComponentKind(
            "autogen_core.model_context.UnboundedChatCompletionContext",
            _UnboundedContext,
            "context",
            _load_unbounded_context,
            _no_config,
            component_type="chat_completion_context",
            description="Keeps the whole conversation.",
        ),
        *_condition_kinds(),
        ComponentKind(
            FunctionalTermination.component_provider,
            FunctionalTermination,
            "termination",
            _refuse_load,
            _refuse_dump,
        ),
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
            "autogen_agentchat.teams.RoundRobinGroupChat",
            RoundRobinGroupChat,
            "team",
            _load_round_robin,
            _dump_round_robin,
            aliases=("RoundRobinGroupChat",),
            description="Participants take turns in a fixed order.",
        ),
        ComponentKind(
            "autogen_agentchat.teams.SelectorGroupChat",
            SelectorGroupChat,
            "team",
            _load_selector,
            _dump_selector,
            aliases=("SelectorGroupChat",),
            description="A model (or a function) picks who speaks next.",
        ),
        ComponentKind(
            "autogen_agentchat.teams.Swarm",
            Swarm,
            "team",
            _load_swarm,
            _dump_swarm,
            aliases=("Swarm",),
            description="Agents pass the conversation on with handoffs.",
        ),
        ComponentKind(
            "autogen_agentchat.teams.GraphFlow",
            GraphFlow,
            "team",
            _load_graph_flow,
            _dump_graph_flow,
            aliases=("GraphFlow",),
            description="Agents speak along the edges of a directed graph.",
        ),
    ]


_BUILTIN: Final = ComponentRegistry(_builtin_kinds())
