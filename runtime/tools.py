"""Tools a model can call: typed Python functions, a registry of them, and handoffs.

A :class:`FunctionTool` reads its JSON schema once, from the function's signature and
docstring, and checks the model's arguments against it before every call. Errors are
raised, never swallowed: the agent that runs the tool turns them into error results the
model sees. A :class:`Handoff` is the zero-argument tool an agent calls to pass the
conversation to another participant.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import enum
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypeVar, overload

from runtime.cancellation import CancellationToken
from runtime.errors import ConfigurationError, ToolError
from runtime.llm import ToolSchema

__all__ = ["FunctionTool", "Handoff", "ToolRegistry"]

Converter: TypeAlias = Callable[[Any], Any]
F = TypeVar("F", bound=Callable[..., Any])

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$"
)
_GOOGLE_PARAM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_MISSING = object()  # a required parameter
_OPTIONAL = object()  # an optional field without a default value worth showing


class _Invalid(ValueError):
    """An argument value does not fit its declared type."""


# -- docstrings ---------------------------------------------------------------------------


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """The summary text and per-parameter descriptions (Google or reST style)."""
    if not doc:
        return "", {}
    summary: list[str] = []
    params: dict[str, str] = {}
    section = ""  # "" (summary), "args", "rest" (a :param: line) or "other"
    current = ""
    param_indent = -1
    for raw in inspect.cleandoc(doc).splitlines():
        line = raw.strip()
        indent = len(raw) - len(raw.lstrip())
        header = _SECTION.match(line)
        rest = _REST_PARAM.match(line)
        google = _GOOGLE_PARAM.match(line) if section == "args" else None
        if rest:
            section, current = "rest", rest.group(1)
            params[current] = rest.group(2).strip()
        elif header or line.startswith(":"):
            is_args = bool(header) and line.split(":")[0] in _ARGS_HEADERS
            section, current, param_indent = ("args" if is_args else "other"), "", -1
        elif google and indent > 0 and (param_indent < 0 or indent <= param_indent):
            current, param_indent = google.group(1).lstrip("*"), indent
            params[current] = google.group(2).strip()
        elif section in ("args", "rest") and current and line and indent > 0:
            params[current] = f"{params[current]} {line}".strip()
        elif not section:
            summary.append(line)
    return "\n".join(summary).strip(), {k: v for k, v in params.items() if v}


_ARGS_HEADERS = frozenset({"Args", "Arguments", "Parameters", "Params"})


# -- types to schemas and converters ------------------------------------------------------


def _schema_for(hint: Any, where: str) -> tuple[dict[str, Any], Converter]:
    """The JSON schema of ``hint`` and a function that checks/converts a JSON value to it."""
    if hint is Any:
        return {}, _identity
    if hint is None or hint is type(None):
        return {"type": "null"}, _expect_none
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        return _schema_for(typing.get_args(hint)[0], where)
    if origin is typing.Union or origin is types.UnionType:
        return _union_schema(typing.get_args(hint), where)
    if origin is Literal:
        return _literal_schema(typing.get_args(hint))
    if origin is not None:
        return _generic_schema(origin, typing.get_args(hint), where)
    simple = _SIMPLE.get(hint)
    if simple is not None:
        return dict(simple[0]), simple[1]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_schema(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _object_schema(hint, where)
    if isinstance(hint, type) and typing.is_typeddict(hint):
        return _object_schema(hint, where)
    if hint in (list, tuple, set, frozenset, dict):
        return _generic_schema(hint, (), where)
    raise ToolError(
        f"{where}: type {hint!r} cannot be described as JSON; use str, int, "
        "float, bool, list, dict, Literal, an Enum, a dataclass or a TypedDict"
    )


def _identity(value: Any) -> Any:
    return value


def _expect_none(value: Any) -> None:
    if value is not None:
        raise _Invalid(f"expected null, got {_describe(value)}")


def _expect_str(value: Any) -> str:
    if not isinstance(value, str):
        raise _Invalid(f"expected a string, got {_describe(value)}")
    return value


def _expect_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {_describe(value)}")
    return value


def _expect_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"expected an integer, got {_describe(value)}")
    if isinstance(value, float):
        if not value.is_integer():
            raise _Invalid(f"expected an integer, got {value!r}")
        return int(value)
    return value


def _expect_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"expected a number, got {_describe(value)}")
    return float(value)


_SIMPLE: dict[Any, tuple[dict[str, Any], Converter]] = {
    str: ({"type": "string"}, _expect_str),
    bool: ({"type": "boolean"}, _expect_bool),
    int: ({"type": "integer"}, _expect_int),
    float: ({"type": "number"}, _expect_float),
}


def _describe(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _union_schema(options: Sequence[Any], where: str) -> tuple[dict[str, Any], Converter]:
    parts = [_schema_for(option, where) for option in options]
    schemas = [schema for schema, _ in parts]
    converters = [converter for _, converter in parts]

    def convert(value: Any) -> Any:
        problems = []
        for converter in converters:
            try:
                return converter(value)
            except _Invalid as exc:
                problems.append(str(exc))
        raise _Invalid(" or ".join(problems))

    return {"anyOf": schemas}, convert


def _literal_schema(values: Sequence[Any]) -> tuple[dict[str, Any], Converter]:
    allowed = list(values)
    schema: dict[str, Any] = {"enum": allowed}
    kinds = {type(v) for v in allowed}
    if len(kinds) == 1:
        kind = kinds.pop()
        if kind in _SIMPLE:
            schema["type"] = _SIMPLE[kind][0]["type"]

    def convert(value: Any) -> Any:
        for candidate in allowed:
            if value == candidate and type(value) is type(candidate):
                return candidate
        raise _Invalid(f"expected one of {json.dumps(allowed)}, got {_describe(value)}")

    return schema, convert


def _enum_schema(cls: type[enum.Enum]) -> tuple[dict[str, Any], Converter]:
    values = [member.value for member in cls]
    schema, check = _literal_schema(values)

    def convert(value: Any) -> Any:
        return cls(check(value))

    return schema, convert


def _generic_schema(
    origin: Any, args: Sequence[Any], where: str
) -> tuple[dict[str, Any], Converter]:
    import collections.abc as abc

    if origin in (list, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Set, abc.Iterable):
        item_schema, item_convert = _schema_for(args[0], where) if args else ({}, _identity)
        build: Callable[[list[Any]], Any] = (
            origin if origin in (set, frozenset) else (set if origin is abc.Set else list)
        )
        schema = {"type": "array", "items": item_schema}
        return schema, _array_converter(item_convert, build)
    if origin is tuple:
        if not args or (len(args) == 2 and args[1] is Ellipsis):
            item_schema, item_convert = _schema_for(args[0], where) if args else ({}, _identity)
            return {"type": "array", "items": item_schema}, _array_converter(item_convert, tuple)
        return _fixed_tuple_schema(args, where)
    if origin in (dict, abc.Mapping, abc.MutableMapping):
        if args and args[0] is not str:
            raise ToolError(f"{where}: JSON object keys are strings; use dict[str, ...]")
        value_schema, value_convert = _schema_for(args[1], where) if args else ({}, _identity)

        def convert_object(value: Any) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise _Invalid(f"expected an object, got {_describe(value)}")
            return {key: _nested(value_convert, item, key) for key, item in value.items()}

        return {"type": "object", "additionalProperties": value_schema}, convert_object
    raise ToolError(f"{where}: type {origin!r} cannot be described as JSON")


def _array_converter(item_convert: Converter, build: Callable[[list[Any]], Any]) -> Converter:
    def convert(value: Any) -> Any:
        if not isinstance(value, list):
            raise _Invalid(f"expected an array, got {_describe(value)}")
        return build([_nested(item_convert, item, index) for index, item in enumerate(value)])

    return convert


def _fixed_tuple_schema(args: Sequence[Any], where: str) -> tuple[dict[str, Any], Converter]:
    parts = [_schema_for(arg, where) for arg in args]
    size = len(parts)
    schema = {
        "type": "array",
        "prefixItems": [s for s, _ in parts],
        "minItems": size,
        "maxItems": size,
    }

    def convert(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or len(value) != size:
            raise _Invalid(f"expected an array of {size} items, got {_describe(value)}")
        return tuple(
            _nested(c, item, i) for i, ((_, c), item) in enumerate(zip(parts, value, strict=True))
        )

    return schema, convert


def _nested(convert: Converter, value: Any, key: object) -> Any:
    try:
        return convert(value)
    except _Invalid as exc:
        raise _Invalid(f"[{key!r}]: {exc}") from None


def _object_schema(cls: type, where: str) -> tuple[dict[str, Any], Converter]:
    hints = typing.get_type_hints(cls, include_extras=True)
    params: list[tuple[str, Any, Any]] = []
    if dataclasses.is_dataclass(cls):
        for field in dataclasses.fields(cls):
            if not field.init:
                continue
            has_default = (
                field.default is not dataclasses.MISSING
                or field.default_factory is not dataclasses.MISSING
            )
            default = field.default if field.default is not dataclasses.MISSING else _OPTIONAL
            params.append((field.name, hints[field.name], default if has_default else _MISSING))
    else:
        required = set(getattr(cls, "__required_keys__", hints))
        params = [(n, hints[n], _MISSING if n in required else _OPTIONAL) for n in hints]
    fields = _ParamSpecs.build(params, {}, where)
    schema = fields.parameters_schema()
    make: Callable[..., Any] = cls if dataclasses.is_dataclass(cls) else dict

    def convert(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Invalid(f"expected an object, got {_describe(value)}")
        try:
            return make(**fields.convert(value))
        except ToolError as exc:
            raise _Invalid(str(exc)) from None

    return schema, convert


def _default_json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class _ParamSpec:
    name: str
    schema: dict[str, Any]
    convert: Converter
    default: Any


@dataclasses.dataclass(frozen=True, slots=True)
class _ParamSpecs:
    """The parameters of a function (or fields of a dataclass) as schema + converters."""

    specs: dict[str, _ParamSpec]
    required: tuple[str, ...]

    @classmethod
    def build(
        cls, params: Sequence[tuple[str, Any, Any]], docs: Mapping[str, str], where: str
    ) -> _ParamSpecs:
        specs: dict[str, _ParamSpec] = {}
        for name, hint, default in params:
            schema, convert = _schema_for(hint, f"{where}, parameter {name!r}")
            description = _annotated_description(hint) or docs.get(name) or name
            schema = {"description": description, **schema}
            if default is not _MISSING and default is not _OPTIONAL:
                try:
                    schema["default"] = json.loads(json.dumps(_default_json(default)))
                except (TypeError, ValueError):
                    pass
            specs[name] = _ParamSpec(name, schema, convert, default)
        required = tuple(name for name, _, default in params if default is _MISSING)
        return cls(specs, required)

    def parameters_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: spec.schema for name, spec in self.specs.items()},
            "required": list(self.required),
            "additionalProperties": False,
        }

    def convert(self, args: Mapping[str, Any]) -> dict[str, Any]:
        unknown = [key for key in args if key not in self.specs]
        if unknown:
            known = ", ".join(self.specs) or "none"
            raise ToolError(f"unexpected argument {unknown[0]!r}; the parameters are: {known}")
        values: dict[str, Any] = {}
        for name, spec in self.specs.items():
            if name in args:
                try:
                    values[name] = spec.convert(args[name])
                except _Invalid as exc:
                    raise ToolError(f"argument {name!r}: {exc}") from None
            elif spec.default is _MISSING:
                raise ToolError(f"missing required argument {name!r}")
        return values


def _annotated_description(hint: Any) -> str:
    if typing.get_origin(hint) is typing.Annotated:
        for extra in hint.__metadata__:
            if isinstance(extra, str):
                return extra
    return ""


# -- FunctionTool -------------------------------------------------------------------------


def _is_async_callable(func: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an async __call__ on an object
    return call is not None and inspect.iscoroutinefunction(call)


def _result_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict | list | tuple):
        try:
            return json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    return str(value)


class FunctionTool:
    """A typed Python function (sync or async) the model may call.

    The JSON schema comes from the signature: each parameter's type (str, int, float,
    bool, ``list[...]``, ``dict[str, ...]``, ``Optional``/unions, ``Literal``, an
    ``Enum``, a dataclass or TypedDict), its default, and its description from
    ``Annotated[T, "description"]`` or the docstring's ``Args:`` / ``:param:`` lines.
    A parameter named ``cancellation_token`` receives the caller's token and is not
    shown to the model. Sync functions run in a worker thread; ``timeout`` (seconds)
    bounds every call.
    """

    __slots__ = (
        "_cancellation_param",
        "_description",
        "_func",
        "_is_async",
        "_name",
        "_params",
        "_schema",
        "_strict",
        "_timeout",
    )

    def __init__(
        self,
        func: Callable[..., Any],
        description: str | None = None,
        name: str | None = None,
        *,
        timeout: float | None = None,
        strict: bool = False,
    ) -> None:
        if not callable(func):
            raise ToolError(f"a tool needs a callable, got {type(func).__name__}")
        tool_name: str = name or str(getattr(func, "__name__", ""))
        if not _TOOL_NAME.match(tool_name):
            raise ToolError(
                f"tool name {tool_name!r} must be 1-64 letters, digits, '_' or '-'; "
                "pass name=... for lambdas and callable objects"
            )
        if timeout is not None and timeout <= 0:
            raise ToolError(f"tool {tool_name!r}: timeout must be positive, got {timeout}")
        summary, docs = _parse_docstring(inspect.getdoc(func))
        self._func = func
        self._name = tool_name
        self._description = summary if description is None else description
        self._timeout = timeout
        self._strict = strict
        self._is_async = _is_async_callable(func)
        self._cancellation_param, self._params = self._read_signature(docs)
        if strict and len(self._params.required) != len(self._params.specs):
            optional = [n for n in self._params.specs if n not in self._params.required]
            raise ToolError(
                f"tool {tool_name!r} is strict, so every parameter must be required; "
                f"remove the defaults of {', '.join(optional)}"
            )
        schema: ToolSchema = {
            "name": self._name,
            "description": self._description,
            "parameters": self._params.parameters_schema(),
            "strict": strict,
        }
        self._schema = schema

    def _read_signature(self, docs: Mapping[str, str]) -> tuple[str, _ParamSpecs]:
        where = f"tool {self._name!r}"
        try:
            signature = inspect.signature(self._func)
            target = self._func if inspect.isroutine(self._func) else type(self._func).__call__
            if isinstance(self._func, functools.partial):
                target = self._func.func
            hints = typing.get_type_hints(target, include_extras=True)
        except (NameError, TypeError, ValueError) as exc:
            raise ToolError(f"{where}: cannot read the signature: {exc}") from exc
        cancellation_param = ""
        params: list[tuple[str, Any, Any]] = []
        for param in signature.parameters.values():
            hint = hints.get(param.name, param.annotation)
            if param.name == "cancellation_token" or hint is CancellationToken:
                cancellation_param = param.name
                continue
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
                raise ToolError(
                    f"{where}: parameter {param.name!r} must be a named parameter "
                    "(no *args, **kwargs or positional-only parameters)"
                )
            if hint is inspect.Parameter.empty:
                raise ToolError(f"{where}: parameter {param.name!r} needs a type annotation")
            default = _MISSING if param.default is inspect.Parameter.empty else param.default
            params.append((param.name, hint, default))
        return cancellation_param, _ParamSpecs.build(params, docs, where)

    @property
    def name(self) -> str:
        """The name the model calls the tool by."""
        return self._name

    @property
    def description(self) -> str:
        """What the tool does, as the model reads it."""
        return self._description

    @property
    def schema(self) -> ToolSchema:
        """The tool's JSON schema (computed once, at construction)."""
        return self._schema

    @property
    def func(self) -> Callable[..., Any]:
        """The wrapped function."""
        return self._func

    @property
    def timeout(self) -> float | None:
        """Seconds a call may take before it fails; ``None`` means no limit."""
        return self._timeout

    @property
    def strict(self) -> bool:
        """Whether the schema asks providers for strict argument checking."""
        return self._strict

    @property
    def has_cancellation_token(self) -> bool:
        """Whether the function takes the caller's cancellation token."""
        return bool(self._cancellation_param)

    def __repr__(self) -> str:
        return f"FunctionTool(name={self._name!r})"

    async def run_json(
        self,
        args: Mapping[str, Any],
        cancellation_token: CancellationToken,
        call_id: str = "",
    ) -> str:
        """Check ``args`` against the schema, call the function, and return its result as text.

        Raises :class:`ToolError` for invalid arguments, :class:`TimeoutError` when the call
        outlives ``timeout``, and whatever the function itself raises.
        """
        try:
            kwargs = self._params.convert(args)
        except ToolError as exc:
            raise ToolError(f"invalid arguments for tool {self._name!r}: {exc}") from None
        if self._cancellation_param:
            kwargs[self._cancellation_param] = cancellation_token
        if cancellation_token.is_cancelled():
            raise asyncio.CancelledError()
        if self._timeout is None:
            return _result_text(await self._call(kwargs, cancellation_token))
        deadline = asyncio.timeout(self._timeout)
        try:
            async with deadline:
                result = await self._call(kwargs, cancellation_token)
        except TimeoutError:
            if not deadline.expired():
                raise  # the function's own TimeoutError
            raise TimeoutError(
                f"tool {self._name!r} did not finish within {self._timeout:g} seconds"
            ) from None
        return _result_text(result)

    async def _call(self, kwargs: dict[str, Any], cancellation_token: CancellationToken) -> Any:
        if self._is_async:
            return await self._func(**kwargs)
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        future = loop.run_in_executor(None, functools.partial(context.run, self._func, **kwargs))
        cancellation_token.link_future(future)
        return await future


# -- registry -----------------------------------------------------------------------------


def as_tool(item: FunctionTool | Callable[..., Any]) -> FunctionTool:
    """A tool as given, or a plain function wrapped in a :class:`FunctionTool`."""
    if isinstance(item, FunctionTool):
        return item
    if callable(item):
        return FunctionTool(item)
    raise ToolError(f"expected a FunctionTool or a function, got {type(item).__name__}")


class ToolRegistry:
    """Named tools an application offers; team files refer to tools by these names.

    Use :meth:`register` directly or as a decorator (``@registry.register`` or
    ``@registry.register(name="search", timeout=10)``); registering the same name twice
    is a :class:`ToolError`.
    """

    __slots__ = ("_tools",)

    def __init__(self, tools: Iterable[FunctionTool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, FunctionTool] = {}
        for tool in tools:
            self._add(self._make(tool, None, None, None))

    @overload
    def register(
        self,
        tool: F,
        /,
        name: str | None = None,
        *,
        description: str | None = None,
        timeout: float | None = None,
    ) -> F: ...

    @overload
    def register(
        self,
        tool: None = None,
        /,
        name: str | None = None,
        *,
        description: str | None = None,
        timeout: float | None = None,
    ) -> Callable[[F], F]: ...

    def register(
        self,
        tool: Any = None,
        /,
        name: str | None = None,
        *,
        description: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Add a tool (or a function, wrapped in a FunctionTool) and return what was given.

        Called without a tool it returns a decorator. ``name``, ``description`` and
        ``timeout`` override what the function or tool says.
        """
        if tool is None:
            return functools.partial(
                self.register, name=name, description=description, timeout=timeout
            )
        self._add(self._make(tool, name, description, timeout))
        return tool

    @staticmethod
    def _make(
        tool: Any, name: str | None, description: str | None, timeout: float | None
    ) -> FunctionTool:
        if isinstance(tool, FunctionTool):
            if name is None and description is None and timeout is None:
                return tool
            return FunctionTool(
                tool.func,
                tool.description if description is None else description,
                name or tool.name,
                timeout=tool.timeout if timeout is None else timeout,
                strict=tool.strict,
            )
        if not callable(tool):
            raise ToolError(f"expected a FunctionTool or a function, got {type(tool).__name__}")
        return FunctionTool(tool, description, name, timeout=timeout)

    def _add(self, tool: FunctionTool) -> None:
        if tool.name in self._tools:
            raise ToolError(f"a tool named {tool.name!r} is already registered")
        self._tools[tool.name] = tool

    def get(self, name: str) -> FunctionTool:
        """The tool called ``name``; :class:`ToolError` naming the known tools if absent."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "none"
            raise ToolError(f"no tool named {name!r} is registered (known: {known})")
        return tool

    def names(self) -> list[str]:
        """Registered tool names, sorted."""
        return sorted(self._tools)

    def schemas(self) -> list[ToolSchema]:
        """The JSON schema of every tool, in name order."""
        return [self._tools[name].schema for name in sorted(self._tools)]

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[FunctionTool]:
        return iter([self._tools[name] for name in sorted(self._tools)])

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolRegistry({self.names()!r})"


# -- handoffs -----------------------------------------------------------------------------


class Handoff:
    """A tool that passes the conversation to ``target`` (another participant's name).

    Defaults follow AutoGen: ``name`` is ``transfer_to_<target>``, ``description`` is
    ``Handoff to <target>.``, and ``message`` (the tool's result and the content of the
    resulting :class:`~runtime.HandoffMessage`) announces the transfer.
    """

    __slots__ = ("_description", "_message", "_name", "_schema", "_target")

    def __init__(
        self,
        target: str,
        description: str | None = None,
        name: str | None = None,
        message: str | None = None,
    ) -> None:
        if not isinstance(target, str) or not target:
            raise ConfigurationError(f"a handoff needs a target agent name, got {target!r}")
        self._target = target
        self._name = name or f"transfer_to_{target}".lower()
        if not self._name.isidentifier():
            raise ConfigurationError(
                f"handoff name {self._name!r} must be a Python identifier; pass name=..."
            )
        self._description = description or f"Handoff to {target}."
        self._message = (
            message or f"Transferred to {target}, adopting the role of {target} immediately."
        )
        self._schema: ToolSchema = {
            "name": self._name,
            "description": self._description,
            "parameters": {
                "type": "object",
                "properties": {},
                "required": [],
                "additionalProperties": False,
            },
            "strict": True,
        }

    @property
    def target(self) -> str:
        """The participant that takes over."""
        return self._target

    @property
    def name(self) -> str:
        """The tool name the model calls."""
        return self._name

    @property
    def description(self) -> str:
        """When the model should hand off, as the model reads it."""
        return self._description

    @property
    def message(self) -> str:
        """The text of the handoff (tool result and HandoffMessage content)."""
        return self._message

    @property
    def schema(self) -> ToolSchema:
        """The zero-argument tool schema offered to the model."""
        return self._schema

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Handoff):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[str, str, str, str]:
        return (self._target, self._name, self._description, self._message)

    def __repr__(self) -> str:
        return f"Handoff(target={self._target!r}, name={self._name!r})"
