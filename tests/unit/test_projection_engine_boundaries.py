"""The projection engine stays inside coordination/: given its adapters, using libraries by their public names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECTIONS = ROOT / "coordination" / "projections"


def _imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) for each name a module imports, at any depth ("" as the name of a plain import)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
    return found


def test_no_projection_module_imports_an_adapter_or_an_operator_tool() -> None:
    outward = [
        (path.name, module)
        for path in sorted(PROJECTIONS.glob("*.py"))
        for module, _ in _imports(path)
        if module.split(".")[0] in ("adapters", "ops")
    ]
    assert outward == []


def test_nothing_in_coordination_imports_a_private_name_of_a_library() -> None:
    private = [
        (str(path.relative_to(ROOT)), f"{module}.{name}")
        for path in sorted((ROOT / "coordination").rglob("*.py"))
        for module, name in _imports(path)
        if module.split(".")[0] not in ("coordination", "adapters", "ops", "tests", "__future__")
        and (name.startswith("_") or any(part.startswith("_") for part in module.split(".")))
    ]
    assert private == []


def test_every_module_of_the_projection_engine_is_under_400_lines() -> None:
    engine = ("applying", "batch", "decoding", "definition", "handling", "parking", "runner", "tables")
    engine += ("transaction", "view_store")
    lengths = {name: len((PROJECTIONS / f"{name}.py").read_text().splitlines()) for name in engine}
    assert {name: n for name, n in lengths.items() if n > 400} == {}
