"""The structured-output part of an agent file: a JSON schema turned back into a model.

AutoGen writes an agent's ``output_content_type`` as a ``StructuredMessageFactory``
component holding the pydantic model's JSON schema. Reading it builds a pydantic model
from that schema: plain data, no code. Objects (also nested through ``$defs``), strings,
numbers, integers, booleans, nulls, arrays, ``enum`` and ``anyOf`` are understood;
anything else is a :class:`~runtime.ComponentError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Optional, Union

from runtime.components.registry import ComponentKind, ConfigReader, ConfigWriter, compact
from runtime.errors import ComponentError

# Internal: these kinds reach users through ComponentRegistry.default().
__all__: list[str] = []

PROVIDER = "autogen_agentchat.messages.StructuredMessageFactory"

_SCALARS: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}


class StructuredOutput:
    """An agent's output model and format, as a component of its own."""

    __slots__ = ("format_string", "model")

    def __init__(self, model: type[Any], format_string: str | None) -> None:
        self.model = model
        self.format_string = format_string


class _SchemaReader:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.definitions: Mapping[str, Any] = root.get("$defs") or {}
        self.built: dict[str, Any] = {}

    def model(self, name: str, schema: Mapping[str, Any]) -> type[Any]:
        import pydantic

        if schema.get("type") != "object" or not isinstance(schema.get("properties"), Mapping):
            raise ValueError(f"{name}: expected an object schema with properties")
        required = set(schema.get("required") or ())
        fields: dict[str, Any] = {}
        for key, prop in schema["properties"].items():
            annotation = self.annotation(f"{name}.{key}", prop)
            if key in required:
                fields[key] = (annotation, ...)
            else:
                fields[key] = (Optional[annotation], prop.get("default"))  # noqa: UP045
        model: type[Any] = pydantic.create_model(name, **fields)
        return model

    def annotation(self, where: str, schema: Any) -> Any:
        if not isinstance(schema, Mapping):
            raise ValueError(f"{where}: a schema must be an object")
        reference = schema.get("$ref")
        if isinstance(reference, str):
            key = reference.rsplit("/", 1)[-1]
            if key not in self.definitions:
                raise ValueError(f"{where}: unknown reference {reference!r}")
            if key not in self.built:
                self.built[key] = self.model(key, self.definitions[key])
            return self.built[key]
        if "enum" in schema:
            return Literal[tuple(schema["enum"])]
        options = schema.get("anyOf")
        if isinstance(options, list) and options:
            return Union[tuple(self.annotation(where, o) for o in options)]  # noqa: UP007
        kind = schema.get("type")
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            return list[self.annotation(f"{where}[]", schema.get("items") or {})]  # type: ignore[misc]
        if kind == "object":
            title = str(schema.get("title") or where.rsplit(".", 1)[-1].title())
            return self.model(title, schema)
        raise ValueError(f"{where}: schema type {kind!r} is not supported")


def model_from_schema(name: str, schema: Mapping[str, Any]) -> type[Any]:
    """A pydantic model class built from a JSON schema (see the module docstring)."""
    return _SchemaReader(schema).model(name, schema)


def _load(reader: ConfigReader) -> StructuredOutput:
    schema = reader.mapping("json_schema")
    name = reader.text("content_model_name", None) or str(schema.get("title") or "Output")
    try:
        model = model_from_schema(name, schema)
    except ValueError as exc:
        raise reader.error(f"cannot read the output schema: {exc}", "json_schema") from exc
    return StructuredOutput(model, reader.text("format_string", None))


def _dump(output: StructuredOutput, writer: ConfigWriter) -> dict[str, Any]:
    schema = getattr(output.model, "model_json_schema", None)
    if schema is None:
        raise ComponentError("the output type is not a pydantic model", component=PROVIDER)
    return compact(
        {
            "json_schema": schema(),
            "format_string": output.format_string,
            "content_model_name": output.model.__name__,
        }
    )


def kinds() -> list[ComponentKind]:
    """The built-in kinds of this module."""
    return [
        ComponentKind(
            PROVIDER,
            StructuredOutput,
            "structured_message",
            _load,
            _dump,
            component_type="structured_message",
            aliases=("StructuredMessageFactory",),
            description="The structure an agent's final answers take.",
        )
    ]
