"""The arrows point inward: what each layer may import, read from the source's import statements (AST).

coordination/ is what the system is, adapters/ the technology, ops/ the composition roots and tools, tests/
the tests. An import from an inner ring to an outer one is a back-edge; packages that import each other are
a cycle. Both are printed when a test fails, so the fix starts from the list.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("coordination", "adapters", "ops", "tests")
# What the domain may import besides itself: the standard library and the libraries it is written in.
DOMAIN_MAY_IMPORT = frozenset({"pydantic", "eventsourcing", "holidays", "typing_extensions"})
# The technology coordination/ does not touch (it is adapters/'s): drivers, brokers, HTTP.
TECHNOLOGY = frozenset(
    {"psycopg", "sqlite3", "kafka", "fastapi", "starlette", "uvicorn", "httpx", "cloudevents"}
)
# Known and to be moved: the PostgreSQL read of the log belongs behind the projection runner's port.
TECHNOLOGY_STILL_IN_COORDINATION = frozenset({"coordination.projections.log_reads -> psycopg.sql"})
# ring: what it may not import
FORBIDDEN = {"coordination": ("adapters", "ops", "tests"), "adapters": ("ops", "tests"), "ops": ("tests",)}


def _modules() -> Iterator[tuple[str, Path]]:
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(module: str, path: Path, known: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every module named by an import statement anywhere in the file (also inside functions); `from a
    import b` names `a.b` when that is one of the `known` modules, else `a`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base


def _graph() -> dict[str, set[str]]:
    """module -> the project's modules it imports."""
    modules = dict(_modules())
    known = frozenset(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        graph[module] = {name for name in _imports(module, path, known) if name in known and name != module}
    return graph


def _unit(module: str) -> str:
    """The package a module is counted in for cycles: `coordination.applications`, `adapters.exchange`,
    `adapters.settings` (a module directly in a layer is a unit of its own), `ops.bench`."""
    return ".".join(module.split(".")[:2])


def back_edges() -> list[str]:
    found = []
    for module, imported in sorted(_graph().items()):
        ring = module.split(".")[0]
        for name in sorted(imported):
            if name.split(".")[0] in FORBIDDEN.get(ring, ()):
                found.append(f"{module} -> {name}")
    return found


def domain_imports() -> list[str]:
    found = []
    for module, path in _modules():
        if not module.startswith("coordination.domain"):
            continue
        for name in sorted(set(_imports(module, path))):
            top = name.split(".")[0]
            allowed = top in sys.stdlib_module_names or top in DOMAIN_MAY_IMPORT or top == "__future__"
            if not allowed and not name.startswith("coordination.domain"):
                found.append(f"{module} -> {name}")
    return found


def technology_in_coordination() -> list[str]:
    found = []
    for module, path in _modules():
        if module.split(".")[0] == "coordination":
            found += [
                f"{module} -> {name}"
                for name in sorted(set(_imports(module, path)))
                if name.split(".")[0] in TECHNOLOGY
            ]
    return found


def package_cycles() -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan), each listed with its edges' order."""
    units: dict[str, set[str]] = {}
    for module, imported in _graph().items():
        if module.split(".")[0] == "tests":
            continue
        units.setdefault(_unit(module), set()).update(
            _unit(name) for name in imported if _unit(name) != _unit(module)
        )
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for other in sorted(units.get(unit, ())):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == unit:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for unit in sorted(units):
        if unit not in index:
            visit(unit)
    return sorted(cycles)


def _report() -> str:
    edges, cycles, domain = back_edges(), package_cycles(), domain_imports()
    technology = technology_in_coordination()
    lines = [
        f"{len(edges)} back-edges, {len(cycles)} package cycles, {len(domain)} domain imports not allowed, "
        f"{len(technology)} technology imports in coordination"
    ]
    lines += [f"  back-edge: {edge}" for edge in edges]
    lines += [f"  cycle: {' <-> '.join(cycle)}" for cycle in cycles]
    lines += [f"  domain: {edge}" for edge in domain]
    lines += [f"  technology: {edge}" for edge in technology]
    return "\n".join(lines)


def test_coordination_imports_nothing_from_adapters_ops_or_tests() -> None:
    edges = [edge for edge in back_edges() if edge.startswith("coordination")]
    assert not edges, _report()


def test_ops_and_adapters_import_nothing_from_tests_and_adapters_nothing_from_ops() -> None:
    edges = [edge for edge in back_edges() if not edge.startswith("coordination")]
    assert not edges, _report()


def test_the_domain_imports_only_the_standard_library_pydantic_eventsourcing_holidays_and_itself() -> None:
    assert not domain_imports(), _report()


def test_coordination_imports_no_driver_broker_or_http_library_but_the_known_one_to_move() -> None:
    assert set(technology_in_coordination()) <= TECHNOLOGY_STILL_IN_COORDINATION, _report()


def test_no_two_packages_of_coordination_adapters_or_ops_import_each_other() -> None:
    assert not package_cycles(), _report()


if __name__ == "__main__":
    print(_report())
