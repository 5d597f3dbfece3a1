"""The operator-maintained area indicators file (CSV or JSON), as a lookup by municipality and area."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from coordination.domain.values import Place
from coordination.domain.waterbed import AreaIndicators

COLUMNS: tuple[str, ...] = tuple(AreaIndicators.model_fields)
_DECIMALS = {name for name, field in AreaIndicators.model_fields.items() if field.annotation is Decimal}


class AreaIndicatorsFileError(ValueError):
    """The indicators file cannot be used; the message names the file, the line or entry and the field."""


def _key(municipality: str, area: str) -> tuple[str, str]:
    return municipality.strip().casefold(), area.strip().casefold()


class AreaIndicatorsTable:
    """Area indicators keyed by (municipality, area), compared without case: the guard's data source."""

    def __init__(self, rows: Iterable[tuple[str, AreaIndicators]] = ()) -> None:
        """`rows` pairs each area with where it was read ("line 7"), to name both places of a duplicate."""
        self._areas: dict[tuple[str, str], AreaIndicators] = {}
        where: dict[tuple[str, str], str] = {}
        for origin, indicators in rows:
            key = _key(indicators.municipality, indicators.area)
            if key in self._areas:
                raise AreaIndicatorsFileError(
                    f"{origin}: {indicators.name} is listed twice (first at {where[key]})"
                )
            self._areas[key] = indicators
            where[key] = origin

    def indicators(self, place: Place) -> AreaIndicators | None:
        return self._areas.get(_key(place.municipality, place.area))

    def __len__(self) -> int:
        return len(self._areas)

    def __iter__(self) -> Iterator[AreaIndicators]:
        return iter(self._areas.values())


def load_area_indicators(path: Path | str) -> AreaIndicatorsTable:
    """Read a `.csv` or `.json` indicators file (docs/area-indicators.md describes both)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise AreaIndicatorsFileError(f"{path}: cannot be read ({error})") from None
    if path.suffix.lower() == ".csv":
        return parse_csv(text, name=str(path))
    if path.suffix.lower() == ".json":
        return parse_json(text, name=str(path))
    raise AreaIndicatorsFileError(f"{path}: an indicators file ends in .csv or .json")


def parse_csv(text: str, *, name: str = "<csv>") -> AreaIndicatorsTable:
    """Comma-separated, one area per line under a header of the AreaIndicators field names.

    Lines starting with `#` are comments and blank lines are skipped; line numbers in errors count them.
    """
    numbered = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise AreaIndicatorsFileError(f"{name}: no header line (expected columns: {', '.join(COLUMNS)})")
    header_line, header_text = numbered[0]
    header = [column.strip() for column in next(csv.reader([header_text]))]
    missing = [column for column in COLUMNS if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        detail = "; ".join(problems) or "a column named twice"
        raise AreaIndicatorsFileError(f"{name}: line {header_line}: header has {detail}")
    rows = []
    for number, line in numbered[1:]:
        (values,) = csv.reader(io.StringIO(line))
        if len(values) != len(header):
            raise AreaIndicatorsFileError(
                f"{name}: line {number}: {len(values)} values, but the header names {len(header)} columns"
            )
        record = {column: value.strip() for column, value in zip(header, values, strict=True)}
        rows.append((f"{name}: line {number}", _indicators(record, f"{name}: line {number}")))
    return AreaIndicatorsTable(rows)


def parse_json(text: str, *, name: str = "<json>") -> AreaIndicatorsTable:
    """A list of objects with the AreaIndicators fields, or {"comment": ..., "areas": [...]}."""
    try:
        document = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise AreaIndicatorsFileError(f"{name}: not valid JSON at line {error.lineno}: {error.msg}") from None
    entries = document.get("areas") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise AreaIndicatorsFileError(f'{name}: expected a list of areas, or an object with an "areas" list')
    rows = []
    for index, entry in enumerate(entries, start=1):
        where = f"{name}: area {index}"
        if not isinstance(entry, dict):
            raise AreaIndicatorsFileError(f"{where}: expected an object with the indicator fields")
        if isinstance(entry.get("area"), str):
            where += f" ({entry['area']})"
        unknown = sorted(set(entry) - set(COLUMNS))
        if unknown:
            raise AreaIndicatorsFileError(f"{where}: unknown field {', '.join(unknown)}")
        rows.append((where, _indicators(entry, where)))
    return AreaIndicatorsTable(rows)


def _indicators(record: dict[str, Any], where: str) -> AreaIndicators:
    missing = [column for column in COLUMNS if column not in record]
    if missing:
        raise AreaIndicatorsFileError(f"{where}: missing field {', '.join(missing)}")
    # A Danish decimal comma ("43,2") is accepted in a quoted CSV value.
    cleaned = {
        key: value.replace(",", ".") if key in _DECIMALS and isinstance(value, str) else value
        for key, value in record.items()
    }
    try:
        return AreaIndicators.model_validate(cleaned)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "?"
        raise AreaIndicatorsFileError(
            f"{where}: field '{field}': {first['msg']} (got {record.get(field)!r})"
        ) from None
