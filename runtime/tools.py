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
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

from runtime.cancellation import CancellationToken
from runtime.components.component import Component
from runtime.errors import ConfigurationError, ToolError
from runtime.isolation import ProcessLimits, import_path, result_text, run_in_process
from runtime.llm import ToolSchema
from runtime.tool_schemas import parse_docstring, read_parameters

__all__ = ["FunctionTool", "Handoff", "ToolRegistry"]

#: what `ToolRegistry.register` takes and gives back: a function or a ready tool
F = TypeVar("F", bound="FunctionTool | Callable[..., Any]")

_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


# -- FunctionTool -------------------------------------------------------------------------


def _is_async_callable(func: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(func):
        return True
    call = getattr(func, "__call__", None)  # noqa: B004 - an async __call__ on an object
    return call is not None and inspect.iscoroutinefunction(call)


class FunctionTool(Component):
    """A typed Python function (sync or async) the model may call.

    The JSON schema comes from the signature: each parameter's type (str, int, float,
    bool, ``list[...]``, ``dict[str, ...]``, ``Optional``/unions, ``Literal``, an
    ``Enum``, a dataclass or TypedDict), its default, and its description from
    ``Annotated[T, "description"]`` or the docstring's ``Args:`` / ``:param:`` lines.
    A parameter named ``cancellation_token`` receives the caller's token and is not
    shown to the model. Sync functions run in a worker thread; ``timeout`` (seconds)
    bounds every call. With ``process_limits`` a sync function runs in a child process of
    its own instead, with those CPU and memory limits, killed when the call times out or
    is cancelled: use it for functions that may burn CPU or memory on a model's input.
    """

    __slots__ = (
        "_cancellation_param",
        "_description",
        "_func",
        "_is_async",
        "_name",
        "_params",
        "_process_limits",
        "_process_path",
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
        process_limits: ProcessLimits | None = None,
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
        summary, _ = parse_docstring(inspect.getdoc(func))
        self._func = func
        self._name = tool_name
        self._description = summary if description is None else description
        self._timeout = timeout
        self._strict = strict
        self._is_async = _is_async_callable(func)
        self._cancellation_param, self._params = read_parameters(func, f"tool {tool_name!r}")
        self._process_limits = process_limits
        self._process_path = ("", "")
        if process_limits is not None:
            if self._is_async or self._cancellation_param:
                raise ToolError(
                    f"tool {tool_name!r}: only sync functions without a cancellation_token "
                    "can run in their own process"
                )
            self._process_path = import_path(func, tool_name)
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
            return result_text(await self._call(kwargs, cancellation_token))
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
        return result_text(result)

    @property
    def process_limits(self) -> ProcessLimits | None:
        """The limits of the child process each call runs in (None: calls run in a thread)."""
        return self._process_limits

    async def _call(self, kwargs: dict[str, Any], cancellation_token: CancellationToken) -> Any:
        if self._is_async:
            return await self._func(**kwargs)
        if self._process_limits is not None:
            module, qualname = self._process_path
            call = run_in_process(module, qualname, kwargs, self._process_limits)
            task = asyncio.ensure_future(call)
            cancellation_token.link_future(task)
            return await task
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
                process_limits=tool.process_limits,
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
