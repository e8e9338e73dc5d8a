"""The import rules of DESIGN.md, checked on the source: imports flow one way, and the
runtime's public API is one sorted, complete ``__all__``."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import runtime

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_RUNTIME = ("django", "celery", "channels", "redis", "studio", "ninja", "daphne")
#: Modules the studio may import names from; runtime.testing holds the shipped fakes.
STUDIO_ENTRY_POINTS = ("runtime", "runtime.testing")


def python_files(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no Python files under {folder}/"
    return files


def imported_modules(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Every absolute module an AST imports, also by ``importlib.import_module("...")``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno
        elif (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (isinstance(node.func, ast.Name) and node.func.id == "__import__")
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value, node.lineno


def is_within(module: str, roots: tuple[str, ...]) -> bool:
    return any(module == root or module.startswith(f"{root}.") for root in roots)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", python_files("runtime"), ids=relative)
def test_the_runtime_imports_nothing_from_the_web_stack(path: Path) -> None:
    offending = [
        f"{relative(path)}:{line} imports {module}"
        for module, line in imported_modules(parse(path))
        if is_within(module, FORBIDDEN_IN_RUNTIME)
    ]

    assert not offending, "runtime must stay a pure asyncio library:\n" + "\n".join(offending)


@pytest.mark.parametrize("path", python_files("tests/runtime"), ids=relative)
def test_runtime_tests_run_without_django(path: Path) -> None:
    offending = [
        f"{relative(path)}:{line} imports {module}"
        for module, line in imported_modules(parse(path))
        if is_within(module, FORBIDDEN_IN_RUNTIME)
    ]

    assert not offending, "\n".join(offending)


def public_names(module_name: str) -> set[str]:
    return module_surface(importlib.import_module(module_name))


def studio_runtime_uses(tree: ast.Module) -> Iterator[str]:
    """Problems with how one studio module reaches the runtime."""
    exported = {name: public_names(name) for name in STUDIO_ENTRY_POINTS}
    bound_as_module: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if not is_within(node.module, ("runtime",)):
                continue
            if node.module not in exported:
                yield f"line {node.lineno}: imports from {node.module}; use `from runtime import`"
                continue
            for alias in node.names:
                if alias.name not in exported[node.module]:
                    yield f"line {node.lineno}: {alias.name} is not in {node.module}.__all__"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "runtime":
                    bound_as_module.add(alias.asname or "runtime")
                elif is_within(alias.name, ("runtime",)):
                    yield f"line {node.lineno}: imports {alias.name}; use `from runtime import`"
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in bound_as_module
            and node.attr not in exported["runtime"] | {"__all__"}
        ):
            yield f"line {node.lineno}: runtime.{node.attr} is not in runtime.__all__"


@pytest.mark.parametrize("path", python_files("studio"), ids=relative)
def test_the_studio_uses_only_the_runtimes_public_api(path: Path) -> None:
    problems = list(studio_runtime_uses(parse(path)))

    assert not problems, f"{relative(path)}:\n" + "\n".join(problems)


def export_order(name: str) -> tuple[int, list[int | str]]:
    """The order ruff keeps ``__all__`` in: CONSTANTS, then Classes, then functions,
    each group in natural order (digit runs compare as numbers)."""
    if name.upper() == name:
        group = 0
    elif name[:1].isupper():
        group = 1
    else:
        group = 2
    parts = re.split(r"(\d+)", name)
    return group, [int(part) if part.isdigit() else part for part in parts]


def test_the_public_api_is_sorted_without_duplicates() -> None:
    names = list(runtime.__all__)

    assert names == sorted(names, key=export_order)
    assert len(names) == len(set(names))


def test_every_exported_name_exists() -> None:
    missing = [name for name in runtime.__all__ if not hasattr(runtime, name)]

    assert not missing


def runtime_modules() -> list[ModuleType]:
    """Every module inside the runtime package except the package itself and its fakes."""
    modules = []
    for info in pkgutil.walk_packages(runtime.__path__, prefix="runtime."):
        if info.name == "runtime.testing" or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        modules.append(importlib.import_module(info.name))
    return modules


def module_surface(module: ModuleType) -> set[str]:
    """A module's public names: its ``__all__``, or else the public classes it defines."""
    declared = getattr(module, "__all__", None)
    if declared is not None:
        return set(declared)
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and inspect.isclass(value)
        and value.__module__ == module.__name__
    }


def test_the_public_api_exports_every_public_name_of_the_runtime_modules() -> None:
    exported = set(runtime.__all__)
    missing = {
        f"{module.__name__}.{name}"
        for module in runtime_modules()
        for name in module_surface(module) - exported
    }

    assert not missing, "add these to runtime/__init__.py or make them private:\n" + "\n".join(
        sorted(missing)
    )


def test_the_runtime_package_does_not_import_the_provider_sdks_until_asked() -> None:
    # The OpenAI and Anthropic SDKs cost tens of megabytes; a process that only runs
    # scripted or already-built teams should not pay for them.
    code = (
        "import sys, runtime; print(sorted(m for m in ('openai', 'anthropic') if m in sys.modules))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )

    assert completed.stdout.strip() == "[]"


# --- No import cycles inside the studio (nor the runtime) ---


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside ``if TYPE_CHECKING:`` blocks: those imports never run."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def import_graph(package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports, wherever the import sits (a function's
    import closes a cycle as surely as a module-level one), migrations left out."""
    files = [path for path in python_files(package) if "migrations" not in path.parts]
    modules = {module_name(path): path for path in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = parse(path)
        skipped = type_checking_lines(tree)
        targets: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", 0) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", ["studio", "runtime"])
def test_no_module_imports_a_module_that_imports_it_back(package: str) -> None:
    assert cycles(import_graph(package)) == []


def test_the_cycle_check_finds_a_planted_cycle() -> None:
    graph = import_graph("studio")
    graph["studio.teams.models"] = graph["studio.teams.models"] | {"studio.teams.services"}
    assert any("studio.teams.models" in group for group in cycles(graph))
