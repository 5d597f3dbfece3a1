"""The msgids a caller can read, found in the source, and which of them a catalogue lacks.

`python -m adapters.http.i18n.missing` prints each msgid without a Danish translation as a line to paste
into adapters/http/i18n/da.py (then write the Danish). The unit test tests/unit/test_translations.py fails
while any is missing, and on any error message built as an f-string (a translator never sees those).

A msgid is the message argument of a domain error (every subclass of DomainError, wherever defined), of
ApiProblem and of the edge's helpers that build one, when it is a string constant; and the message of a
ValueError raised in the domain (its values' validators: pydantic hands the caller that text), an f-string
there taken as the template its values would fill ({member_id} for `self.member_id`), which the edge
matches a finished message against.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("coordination", "adapters", "ops")
# Where the message is among the positional arguments (0 unless named here).
POSITION = {
    "ImplausibleValue": 1,
    "OverrideRequired": 1,
    "ApiProblem": 2,
    "_unauthenticated": 0,
    "_refused": 0,
    "Sentence": 0,  # a rule's finding, raised later as an error
}


@dataclass(frozen=True)
class Message:
    msgid: str | None  # None: built as an f-string (or another expression), so not translatable
    where: str  # path:line


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            if ".venv" not in path.parts:
                yield path, ast.parse(path.read_text(), str(path))


def _error_classes(modules: list[tuple[Path, ast.Module]]) -> set[str]:
    """Names of DomainError and every class deriving from it (by name, across the sources)."""
    bases: dict[str, set[str]] = {}
    for _, module in modules:
        for node in ast.walk(module):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id for b in node.bases if isinstance(b, ast.Name)}
    found = {"DomainError"}
    while grown := {name for name, parents in bases.items() if parents & found} - found:
        found |= grown
    return found


def _placeholder(expression: ast.expr) -> str:
    if isinstance(expression, ast.Name):
        return expression.id
    if isinstance(expression, ast.Attribute):
        return expression.attr
    return "value"


def _template(text: ast.JoinedStr) -> str:
    """The template an f-string fills, each value named after its expression's last name."""
    parts = []
    for value in text.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value).replace("{", "{{").replace("}", "}}"))
        elif isinstance(value, ast.FormattedValue):
            conversion = "" if value.conversion == -1 else "!" + chr(value.conversion)
            parts.append("{" + _placeholder(value.value) + conversion + "}")
    return "".join(parts)


def _value_errors(path: Path, module: ast.Module) -> Iterator[Message]:
    """The messages of the ValueErrors a domain module raises (its validators' refusals)."""
    for node in ast.walk(module):
        if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args):
            continue
        if not (isinstance(node.exc.func, ast.Name) and node.exc.func.id == "ValueError"):
            continue
        argument, where = node.exc.args[0], f"{path.relative_to(ROOT)}:{node.lineno}"
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            yield Message(argument.value, where)
        elif isinstance(argument, ast.JoinedStr):
            yield Message(_template(argument), where)


@lru_cache(maxsize=1)
def messages() -> tuple[Message, ...]:
    """Every message argument of an error (or problem) built in the sources."""
    modules = list(_modules())
    errors = _error_classes(modules)
    positions = dict(POSITION)
    for name in errors:
        positions.setdefault(name, 0)
    found: list[Message] = []
    for path, module in modules:
        for node in ast.walk(module):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            name = node.func.id
            if name not in positions:
                continue
            position = positions[name]
            if len(node.args) <= position or isinstance(node.args[position], ast.Starred):
                continue
            argument = node.args[position]
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                found.append(Message(argument.value, where))
            elif isinstance(argument, ast.JoinedStr | ast.BinOp):  # an f-string, or sentences added up
                found.append(Message(None, where))
        if path.is_relative_to(ROOT / "coordination" / "domain"):
            found.extend(_value_errors(path, module))
    return tuple(found)


def untranslated(catalogue: Mapping[str, str]) -> dict[str, str]:
    """msgid -> where it is used, for each msgid the catalogue lacks (the dashboards' words too)."""
    from adapters.http.authorisation import POLICY
    from adapters.http.i18n.pages import PAGES, page_strings
    from adapters.http.i18n.texts import msgids

    missing = {m.msgid: m.where for m in messages() if m.msgid is not None and m.msgid not in catalogue}
    missing |= dict.fromkeys(msgids(), "adapters/http/i18n/texts.py")
    # The operation a refusal names ("A {role} may not {operation}"), as adapters/http/authorisation.py words it.
    missing |= dict.fromkeys(
        (name.replace("_", " ") for name in POLICY), "adapters/http/authorisation.py POLICY"
    )
    for script, page in PAGES.items():
        missing |= dict.fromkeys(page_strings(script), f"adapters/http/static/{page} or {script}")
    return {msgid: where for msgid, where in missing.items() if msgid not in catalogue}


def main() -> int:
    from adapters.http.i18n import da

    missing = untranslated(da.MESSAGES)
    for msgid, where in sorted(missing.items(), key=lambda item: item[1]):
        print(f"    # {where}\n    {msgid!r}: '',")
    f_strings = [m.where for m in messages() if m.msgid is None]
    for where in f_strings:
        print(
            f"# {where}: an f-string message; pass a template and named parameters instead", file=sys.stderr
        )
    return 1 if missing or f_strings else 0


if __name__ == "__main__":
    sys.exit(main())
