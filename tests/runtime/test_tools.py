"""FunctionTool schemas and calls, the tool registry, and handoff objects."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import threading
from typing import Annotated, Any, Literal, Optional, TypedDict

import pydantic
import pytest

from runtime import CancellationToken, FunctionTool, Handoff, ToolError, ToolRegistry


async def add(a: int, b: int = 2) -> int:
    """Add two numbers."""
    return a + b


def properties(tool: FunctionTool) -> dict[str, Any]:
    parameters = tool.schema["parameters"]
    return dict(parameters["properties"])


def test_schema_of_an_async_function_matches_the_autogen_shape() -> None:
    tool = FunctionTool(add, description="Add numbers.")

    assert tool.name == "add"
    assert tool.schema == {
        "name": "add",
        "description": "Add numbers.",
        "parameters": {
            "type": "object",
            "properties": {
                "a": {"description": "a", "type": "integer"},
                "b": {"description": "b", "type": "integer", "default": 2},
            },
            "required": ["a"],
            "additionalProperties": False,
        },
        "strict": False,
    }


def test_description_defaults_to_the_docstring_summary() -> None:
    assert FunctionTool(add).description == "Add two numbers."


def test_annotated_descriptions_win_over_docstring_descriptions() -> None:
    def search(
        query: Annotated[str, "What to look for"], limit: int = 10, exact: bool = False
    ) -> list[str]:
        """Search the notes.

        Args:
            query: ignored because Annotated says it
            limit: How many hits to return,
                at most.
            exact (bool): Match whole words only.

        Returns:
            The hits.
        """
        return []

    tool = FunctionTool(search)

    assert tool.description == "Search the notes."
    props = properties(tool)
    assert props["query"]["description"] == "What to look for"
    assert props["limit"]["description"] == "How many hits to return, at most."
    assert props["exact"] == {
        "description": "Match whole words only.",
        "type": "boolean",
        "default": False,
    }


def test_rest_style_docstrings_describe_parameters() -> None:
    def weather(city: str, days: int = 1) -> str:
        """Forecast for a city.

        :param city: The city name.
        :param int days: How many days ahead.
        :returns: The forecast.
        """
        return city

    tool = FunctionTool(weather)

    assert tool.description == "Forecast for a city."
    assert properties(tool)["city"]["description"] == "The city name."
    assert properties(tool)["days"]["description"] == "How many days ahead."


class Unit(enum.Enum):
    CELSIUS = "c"
    FAHRENHEIT = "f"


class Reading(pydantic.BaseModel):
    value: float
    unit: str


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Filters(TypedDict, total=False):
    tag: str


def test_schemas_cover_optional_list_dict_literal_enum_and_objects() -> None:
    def everything(
        names: list[str],
        scores: dict[str, float],
        mode: Literal["fast", "slow"] = "fast",
        unit: Unit = Unit.CELSIUS,
        note: Optional[str] = None,  # noqa: UP045 - the old spelling must work too
        point: Point | None = None,
        filters: Filters | None = None,
        pair: tuple[int, str] | None = None,
    ) -> str:
        return ""

    props = properties(FunctionTool(everything))

    assert props["names"]["type"] == "array"
    assert props["names"]["items"] == {"type": "string"}
    assert props["scores"]["additionalProperties"] == {"type": "number"}
    assert props["mode"]["enum"] == ["fast", "slow"]
    assert props["mode"]["type"] == "string"
    assert props["unit"]["enum"] == ["c", "f"]
    assert props["unit"]["default"] == "c"
    assert props["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    point = props["point"]["anyOf"][0]
    assert point["required"] == ["x"]
    assert point["properties"]["y"]["default"] == 0
    assert props["filters"]["anyOf"][0]["required"] == []
    assert props["pair"]["anyOf"][0]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]


async def test_arguments_are_converted_to_the_declared_python_types() -> None:
    seen: dict[str, Any] = {}

    def record(unit: Unit, point: Point, ratio: float, count: int, tags: set[str]) -> str:
        seen.update(unit=unit, point=point, ratio=ratio, count=count, tags=tags)
        return "ok"

    tool = FunctionTool(record)
    args = {"unit": "f", "point": {"x": 1}, "ratio": 2, "count": 3.0, "tags": ["a", "a"]}

    assert await tool.run_json(args, CancellationToken()) == "ok"
    assert seen == {
        "unit": Unit.FAHRENHEIT,
        "point": Point(1, 0),
        "ratio": 2.0,
        "count": 3,
        "tags": {"a"},
    }


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        ({}, "missing required argument 'a'"),
        ({"a": "1"}, "argument 'a': expected an integer"),
        ({"a": 1.5}, "argument 'a': expected an integer"),
        ({"a": True}, "argument 'a': expected an integer"),
        ({"a": 1, "c": 3}, "unexpected argument 'c'; the parameters are: a, b"),
    ],
)
async def test_invalid_arguments_raise_a_tool_error_that_says_what_is_wrong(
    args: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ToolError, match=problem):
        await FunctionTool(add).run_json(args, CancellationToken())


async def test_nested_values_are_checked_with_their_position() -> None:
    def total(values: list[int]) -> int:
        return sum(values)

    with pytest.raises(ToolError, match=r"argument 'values': \[1\]: expected an integer"):
        await FunctionTool(total).run_json({"values": [1, "x"]}, CancellationToken())


async def test_a_literal_rejects_values_outside_its_choices() -> None:
    def pick(mode: Literal["fast", "slow"]) -> str:
        return mode

    tool = FunctionTool(pick)

    assert await tool.run_json({"mode": "slow"}, CancellationToken()) == "slow"
    with pytest.raises(ToolError, match='expected one of \\["fast", "slow"\\]'):
        await tool.run_json({"mode": "medium"}, CancellationToken())


async def test_defaults_apply_when_arguments_are_left_out() -> None:
    assert await FunctionTool(add).run_json({"a": 40}, CancellationToken()) == "42"


async def test_sync_functions_run_in_a_worker_thread() -> None:
    def where() -> str:
        return threading.current_thread().name

    name = await FunctionTool(where).run_json({}, CancellationToken())

    assert name != threading.current_thread().name


async def test_the_cancellation_token_is_injected_and_hidden_from_the_schema() -> None:
    received: list[CancellationToken] = []

    async def wait(seconds: float, cancellation_token: CancellationToken) -> str:
        received.append(cancellation_token)
        return "waited"

    tool = FunctionTool(wait)
    token = CancellationToken()

    assert list(properties(tool)) == ["seconds"]
    assert tool.has_cancellation_token
    assert await tool.run_json({"seconds": 1}, token) == "waited"
    assert received == [token]


async def test_a_call_that_outlives_its_timeout_raises_timeout_error() -> None:
    async def slow() -> str:
        await asyncio.sleep(5)
        return "late"

    tool = FunctionTool(slow, timeout=0.05)

    with pytest.raises(TimeoutError, match=r"'slow' did not finish within 0\.05 seconds"):
        await tool.run_json({}, CancellationToken())


async def test_a_slow_sync_function_is_also_bounded_by_its_timeout() -> None:
    release = threading.Event()

    def blocking() -> str:
        release.wait(5)
        return "late"

    tool = FunctionTool(blocking, timeout=0.05)
    try:
        with pytest.raises(TimeoutError):
            await tool.run_json({}, CancellationToken())
    finally:
        release.set()


async def test_cancelling_the_token_stops_waiting_for_a_sync_function() -> None:
    release = threading.Event()

    def blocking() -> str:
        release.wait(5)
        return "late"

    token = CancellationToken()
    asyncio.get_running_loop().call_later(0.05, token.cancel)
    try:
        with pytest.raises(asyncio.CancelledError):
            await FunctionTool(blocking).run_json({}, token)
    finally:
        release.set()


async def test_an_already_cancelled_token_prevents_the_call() -> None:
    calls: list[int] = []

    async def count() -> int:
        calls.append(1)
        return 1

    token = CancellationToken()
    token.cancel()

    with pytest.raises(asyncio.CancelledError):
        await FunctionTool(count).run_json({}, token)
    assert calls == []


async def test_exceptions_from_the_function_propagate_unchanged() -> None:
    def broken() -> str:
        raise LookupError("no such record")

    with pytest.raises(LookupError, match="no such record"):
        await FunctionTool(broken).run_json({}, CancellationToken())


async def test_results_read_as_autogen_writes_them_str_for_data_json_for_pydantic() -> None:
    async def stats() -> dict[str, Any]:
        return {"mean": 1.5, "names": ["ä"]}

    async def where() -> Point:
        return Point(1, 2)

    async def listed() -> list[int]:
        return [1, 2]

    async def model() -> Reading:
        return Reading(value=2.5, unit="C")

    token = CancellationToken()
    assert await FunctionTool(stats).run_json({}, token) == "{'mean': 1.5, 'names': ['ä']}"
    assert await FunctionTool(where).run_json({}, token) == "Point(x=1, y=2)"
    assert await FunctionTool(listed).run_json({}, token) == "[1, 2]"
    assert await FunctionTool(model).run_json({}, token) == '{"value": 2.5, "unit": "C"}'


def test_strict_tools_need_every_parameter_required() -> None:
    with pytest.raises(ToolError, match="remove the defaults of b"):
        FunctionTool(add, strict=True)

    async def both(a: int, b: int) -> int:
        return a + b

    assert FunctionTool(both, strict=True).schema["strict"] is True


@pytest.mark.parametrize(
    ("func", "problem"),
    [
        (lambda x: x, "pass name="),
        (print, "named parameter"),
    ],
)
def test_functions_that_cannot_become_tools_are_rejected_clearly(func: Any, problem: str) -> None:
    with pytest.raises(ToolError, match=problem):
        FunctionTool(func, name=None if problem == "pass name=" else "echo")


def test_parameters_without_annotations_or_with_unsupported_types_are_rejected() -> None:
    def untyped(x):  # type: ignore[no-untyped-def]
        return x

    def odd(x: complex) -> str:
        return ""

    with pytest.raises(ToolError, match="'x' needs a type annotation"):
        FunctionTool(untyped)
    with pytest.raises(ToolError, match="cannot be described as JSON"):
        FunctionTool(odd)


def test_names_can_be_overridden_and_must_suit_providers() -> None:
    assert FunctionTool(add, name="plus").name == "plus"
    with pytest.raises(ToolError, match="must be 1-64 letters"):
        FunctionTool(add, name="add numbers")


def test_the_registry_registers_functions_and_tools_by_name() -> None:
    registry = ToolRegistry([add])

    @registry.register
    def echo(text: str) -> str:
        """Repeat the text."""
        return text

    @registry.register(name="shout", timeout=3)
    def loud(text: str) -> str:
        return text.upper()

    assert echo("x") == "x"  # the decorator keeps the function usable
    assert registry.names() == ["add", "echo", "shout"]
    assert "shout" in registry and "loud" not in registry
    assert registry.get("shout").timeout == 3
    assert [schema["name"] for schema in registry.schemas()] == ["add", "echo", "shout"]
    assert [tool.name for tool in registry] == ["add", "echo", "shout"]
    assert len(registry) == 3


def test_the_registry_refuses_duplicates_and_names_known_tools_when_one_is_missing() -> None:
    registry = ToolRegistry()
    registry.register(FunctionTool(add))

    with pytest.raises(ToolError, match="already registered"):
        registry.register(add)
    with pytest.raises(ToolError, match=r"no tool named 'sub' is registered \(known: add\)"):
        registry.get("sub")


def test_registering_a_tool_under_another_name_keeps_its_function() -> None:
    registry = ToolRegistry()
    registry.register(FunctionTool(add, description="Sum."), name="plus")

    tool = registry.get("plus")
    assert tool.func is add
    assert tool.description == "Sum."


def test_a_handoff_gets_autogen_defaults() -> None:
    handoff = Handoff("Planner")

    assert handoff.target == "Planner"
    assert handoff.name == "transfer_to_planner"
    assert handoff.description == "Handoff to Planner."
    assert handoff.message == "Transferred to Planner, adopting the role of Planner immediately."
    assert handoff.schema["parameters"]["properties"] == {}
    assert handoff.schema["strict"] is True
    assert handoff == Handoff("Planner")
    assert handoff != Handoff("Planner", message="Over to you.")


def test_a_handoff_name_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="must be a Python identifier"):
        Handoff("writer", name="hand off")


def make_tool(annotation: Any, default: Any = None, *, has_default: bool = False) -> FunctionTool:
    """A tool with one parameter ``value`` of the given annotation (echoing it back)."""

    def echo(value: Any = None) -> str:
        return repr(value)

    echo.__annotations__ = {"value": annotation, "return": str}
    if not has_default:
        echo.__defaults__ = None
    else:
        echo.__defaults__ = (default,)
    return FunctionTool(echo)


@pytest.mark.parametrize(
    ("annotation", "value", "problem"),
    [
        (str, 1, "expected a string, got 1"),
        (bool, "yes", 'expected true or false, got "yes"'),
        (float, "1.5", 'expected a number, got "1.5"'),
        (Optional[int], "x", 'expected an integer, got "x" or expected null'),  # noqa: UP045
        (list[int], "x", 'expected an array, got "x"'),
        (dict[str, int], [1], r"expected an object, got \[1\]"),
        (dict[str, int], {"k": "v"}, r"\['k'\]: expected an integer"),
        (tuple[int, str], [1], "expected an array of 2 items"),
        (Point, "p", 'expected an object, got "p"'),
        (Point, {"x": "1"}, "argument 'x': expected an integer"),
        (Unit, "k", r'expected one of \["c", "f"\]'),
        (Literal[1, "one"], 2, r'expected one of \[1, "one"\]'),
        (list[str], ["x" * 60], None),
    ],
)
async def test_each_json_type_rejects_values_of_another_type(
    annotation: Any, value: Any, problem: str | None
) -> None:
    tool = make_tool(annotation)

    if problem is None:
        await tool.run_json({"value": value}, CancellationToken())
        return
    with pytest.raises(ToolError, match=problem):
        await tool.run_json({"value": value}, CancellationToken())


async def test_any_bare_containers_and_variable_tuples_accept_json_values() -> None:
    assert make_tool(Any).schema["parameters"]["properties"]["value"] == {"description": "value"}
    assert await make_tool(Any).run_json({"value": {"a": [1]}}, CancellationToken()) == (
        "{'a': [1]}"
    )
    assert await make_tool(list).run_json({"value": [1, "a"]}, CancellationToken()) == "[1, 'a']"
    assert await make_tool(dict).run_json({"value": {"a": 1}}, CancellationToken()) == "{'a': 1}"
    assert await make_tool(tuple[int, ...]).run_json({"value": [1, 2]}, CancellationToken()) == (
        "(1, 2)"
    )
    mixed = make_tool(Literal[1, "one"]).schema["parameters"]["properties"]["value"]
    assert "type" not in mixed


def test_defaults_that_are_not_json_are_left_out_of_the_schema() -> None:
    sentinel = object()
    schema = make_tool(Any, sentinel, has_default=True).schema["parameters"]["properties"]
    tags = make_tool(set[str], {"a"}, has_default=True).schema["parameters"]["properties"]

    assert "default" not in schema["value"]
    assert tags["value"]["default"] == ["a"]


def test_unsupported_annotations_are_refused_when_the_tool_is_made() -> None:
    with pytest.raises(ToolError, match="keys are strings"):
        make_tool(dict[int, str])
    with pytest.raises(ToolError, match="cannot be described as JSON"):
        make_tool(type[int])

    def dangling(x: Undefined) -> str:  # type: ignore[name-defined]  # noqa: F821
        return ""

    with pytest.raises(ToolError, match="cannot read the signature"):
        FunctionTool(dangling)


def test_fields_excluded_from_init_are_not_part_of_an_object_schema() -> None:
    @dataclasses.dataclass
    class Tagged:
        label: str
        count: int = dataclasses.field(default=0, init=False)

    schema = make_tool(Tagged).schema["parameters"]["properties"]["value"]

    assert list(schema["properties"]) == ["label"]


async def test_partials_and_callable_objects_become_tools() -> None:
    import functools

    class Multiplier:
        async def __call__(self, x: int) -> int:
            return x * 3

    triple = FunctionTool(Multiplier(), name="triple")
    plus_ten = FunctionTool(functools.partial(add, b=10), name="plus_ten")

    assert await triple.run_json({"x": 2}, CancellationToken()) == "6"
    assert await plus_ten.run_json({"a": 1}, CancellationToken()) == "11"
    assert repr(triple) == "FunctionTool(name='triple')"


def test_bad_tool_arguments_are_refused() -> None:
    with pytest.raises(ToolError, match="needs a callable"):
        FunctionTool(42)  # type: ignore[arg-type]
    with pytest.raises(ToolError, match="timeout must be positive"):
        FunctionTool(add, timeout=0)
    with pytest.raises(ToolError, match="expected a FunctionTool or a function"):
        ToolRegistry().register(42)
    assert repr(ToolRegistry([add])) == "ToolRegistry(['add'])"


async def test_a_functions_own_timeout_error_is_not_mistaken_for_the_tool_timeout() -> None:
    async def flaky() -> str:
        raise TimeoutError("upstream timed out")

    with pytest.raises(TimeoutError, match="upstream timed out"):
        await FunctionTool(flaky, timeout=5).run_json({}, CancellationToken())


async def test_enum_and_unserialisable_results_become_plain_text() -> None:
    async def unit() -> Unit:
        return Unit.FAHRENHEIT

    async def loop() -> dict[str, Any]:
        data: dict[str, Any] = {}
        data["self"] = data
        return data

    assert await FunctionTool(unit).run_json({}, CancellationToken()) == "Unit.FAHRENHEIT"
    assert await FunctionTool(loop).run_json({}, CancellationToken()) == "{'self': {...}}"


def test_handoffs_need_a_target_and_compare_by_value() -> None:
    with pytest.raises(ValueError, match="needs a target"):
        Handoff("")
    assert Handoff("a") != "a"
    assert len({Handoff("a"), Handoff("a"), Handoff("b")}) == 2
    assert repr(Handoff("a")) == "Handoff(target='a', name='transfer_to_a')"


async def test_a_call_that_finishes_within_its_timeout_returns_its_result() -> None:
    tool = FunctionTool(add, timeout=5)

    assert await tool.run_json({"a": 1, "b": 4}, CancellationToken()) == "5"


async def test_flags_nulls_and_fixed_size_tuples_are_accepted_as_declared() -> None:
    seen: dict[str, Any] = {}

    def record(loud: bool, limit: int | None, pair: tuple[int, str]) -> str:
        seen.update(loud=loud, limit=limit, pair=pair)
        return "ok"

    tool = FunctionTool(record)

    assert (
        await tool.run_json({"loud": False, "limit": None, "pair": [2, "b"]}, CancellationToken())
        == "ok"
    )
    assert seen == {"loud": False, "limit": None, "pair": (2, "b")}
