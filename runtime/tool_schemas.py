"""How a typed Python function becomes a JSON schema, and JSON arguments become Python values.

:func:`read_parameters` reads a function's signature once: each parameter's type turns
into a JSON schema fragment plus a converter that checks (and, for enums, dataclasses and
tuples, builds) the value the model sent. Descriptions come from ``Annotated[T, "..."]``
or the docstring (:func:`parse_docstring`, Google or reST style). :mod:`runtime.tools`
wraps this in :class:`~runtime.FunctionTool`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias

from runtime.cancellation import CancellationToken
from runtime.errors import ToolError

# Internal to the runtime: FunctionTool is the public face of this module.
__all__: list[str] = []

Converter: TypeAlias = Callable[[Any], Any]
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns|Return|Raises|Yields|Examples?|Notes?):\s*$"
)
_ARGS_HEADERS = frozenset({"Args", "Arguments", "Parameters", "Params"})
_GOOGLE_PARAM = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_REST_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")
_MISSING = object()  # a required parameter
_OPTIONAL = object()  # an optional field without a default value worth showing


class _Invalid(ValueError):
    """An argument value does not fit its declared type."""


# -- docstrings ---------------------------------------------------------------------------


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
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
    fields = ParameterSpecs.build(params, {}, where)
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
class ParameterSpec:
    """One parameter: its schema fragment, its converter and its default."""

    name: str
    schema: dict[str, Any]
    convert: Converter
    default: Any


@dataclasses.dataclass(frozen=True, slots=True)
class ParameterSpecs:
    """The parameters of a function (or fields of a dataclass) as schema + converters."""

    specs: dict[str, ParameterSpec]
    required: tuple[str, ...]

    @classmethod
    def build(
        cls, params: Sequence[tuple[str, Any, Any]], docs: Mapping[str, str], where: str
    ) -> ParameterSpecs:
        """Specs for ``(name, type hint, default)`` triples; ``docs`` describe parameters."""
        specs: dict[str, ParameterSpec] = {}
        for name, hint, default in params:
            schema, convert = _schema_for(hint, f"{where}, parameter {name!r}")
            description = _annotated_description(hint) or docs.get(name) or name
            schema = {"description": description, **schema}
            if default is not _MISSING and default is not _OPTIONAL:
                try:
                    schema["default"] = json.loads(json.dumps(_default_json(default)))
                except (TypeError, ValueError):
                    pass
            specs[name] = ParameterSpec(name, schema, convert, default)
        required = tuple(name for name, _, default in params if default is _MISSING)
        return cls(specs, required)

    def parameters_schema(self) -> dict[str, Any]:
        """The JSON schema of an object holding every parameter."""
        return {
            "type": "object",
            "properties": {name: spec.schema for name, spec in self.specs.items()},
            "required": list(self.required),
            "additionalProperties": False,
        }

    def convert(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments from the model's JSON arguments; :class:`ToolError` if they
        do not fit."""
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


def read_parameters(func: Callable[..., Any], where: str) -> tuple[str, ParameterSpecs]:
    """The name of ``func``'s cancellation-token parameter ("" if none) and its other
    parameters as schema + converters; :class:`ToolError` names what cannot be described."""
    try:
        signature = inspect.signature(func)
        target = func if inspect.isroutine(func) else type(func).__call__
        if isinstance(func, functools.partial):
            target = func.func
        hints = typing.get_type_hints(target, include_extras=True)
    except (NameError, TypeError, ValueError) as exc:
        raise ToolError(f"{where}: cannot read the signature: {exc}") from exc
    _, docs = parse_docstring(inspect.getdoc(func))
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
    return cancellation_param, ParameterSpecs.build(params, docs, where)
