"""The figures a benchmark run produces, the table printed from them and the JSON written for them."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class Target:
    """An issue 8 target: at least (or at most) `value` of the figure's unit."""

    value: float
    at_least: bool

    def met_by(self, measured: float) -> bool:
        return measured >= self.value if self.at_least else measured <= self.value

    def __str__(self) -> str:
        return f"{'≥' if self.at_least else '≤'} {self.value:,.0f}"


def at_least(value: float) -> Target:
    return Target(value, at_least=True)


def at_most(value: float) -> Target:
    return Target(value, at_least=False)


@dataclass
class Figure:
    """One measured quantity, one value per repeat; `limit` names the raw figure it is compared with."""

    scenario: str
    key: str
    label: str
    unit: str
    runs: list[float] = field(default_factory=list)
    target: Target | None = None
    limit: str | None = None
    notes: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def met(self) -> bool | None:
        return None if self.target is None or not self.runs else self.target.met_by(self.median)


class Results:
    """Figures collected across scenarios, in the order they were first measured."""

    def __init__(self) -> None:
        self.figures: dict[str, Figure] = {}
        self.failures: dict[str, str] = {}

    def figure(self, scenario: str, key: str, label: str, unit: str, **kwargs: Any) -> Figure:
        """The figure under `scenario.key`, created on first use (each repeat adds a run to it)."""
        full = f"{scenario}.{key}"
        if full not in self.figures:
            limit = kwargs.pop("limit", None)
            self.figures[full] = Figure(
                scenario, full, label, unit, limit=limit and f"{scenario}.{limit}", **kwargs
            )
        return self.figures[full]

    def add(self, scenario: str, key: str, label: str, unit: str, value: float | None, **kwargs: Any) -> None:
        """One run's `value` of the figure; None (a percentile of no latencies) is recorded as NaN."""
        self.figure(scenario, key, label, unit, **kwargs).runs.append(
            float("nan") if value is None else value
        )

    def table(self) -> str:
        columns = f"{'median':>10}{'min':>10}{'max':>10}  {'unit':<11}{'raw limit':>11}  target"
        head = f"{'':2}{'measure':<68}{columns}"
        lines = [head, "-" * len(head)]
        scenario = None
        for figure in self.figures.values():
            if figure.scenario != scenario:
                scenario = figure.scenario
                lines.append(f"{scenario}.")
            limit = self.figures.get(figure.limit) if figure.limit else None
            raw = _number(limit.median) if limit else ""
            verdict = "" if figure.met is None else ("  met" if figure.met else "  MISSED")
            target = f"{figure.target}{verdict}" if figure.target else ""
            runs = figure.runs or [float("nan")]
            lines.append(
                f"{'':2}{figure.label[:67]:<68}{_number(figure.median):>10}{_number(min(runs)):>10}"
                f"{_number(max(runs)):>10}  {figure.unit:<11}{raw:>11}  {target}"
            )
        for name, reason in self.failures.items():
            lines.append(f"{name}. FAILED: {reason}")
        return "\n".join(lines)

    def as_json(self, settings: dict[str, Any]) -> dict[str, Any]:
        figures = {
            key: {
                "scenario": f.scenario,
                "label": f.label,
                "unit": f.unit,
                "median": f.median if f.runs else None,
                "min": min(f.runs) if f.runs else None,
                "max": max(f.runs) if f.runs else None,
                "runs": f.runs,
                "target": None
                if f.target is None
                else {"value": f.target.value, "at_least": f.target.at_least},
                "met": f.met,
                "limit": f.limit,
                "limit_median": self.figures[f.limit].median
                if f.limit in self.figures and self.figures[f.limit].runs
                else None,
                "notes": f.notes,
            }
            for key, f in self.figures.items()
        }
        return {
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "settings": settings,
            "machine": machine(),
            "figures": figures,
            "failures": self.failures,
        }

    def write(self, path: Path, settings: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(settings), indent=2, default=str))


def _number(value: float) -> str:
    if value != value:  # NaN: not measured
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, memory, CPU model and the versions that matter."""
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory_kb = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    try:
        postgres = subprocess.run(
            ["psql", "--version"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        postgres = "not installed"
    return {
        "nproc": os.cpu_count(),
        "memory_mb": memory_kb // 1024,
        "cpu": cpu,
        "python": platform.python_version(),
        "postgresql_client": postgres,
        "kernel": platform.release(),
    }


def python_speed(seconds: float = 1.0) -> float:
    """Thousands of rounds per second of a fixed pure-Python workload (dicts, JSON, UUIDs) on one thread.

    This virtual machine's speed drifts (108 to 146 in six consecutive seconds on a quiet machine here,
    and by a third within an hour); measured before and after each scenario, this shows how fast the
    machine was while the scenario's figures were taken.
    """
    rounds = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for i in range(100):
            record = {"id": str(UUID(int=i)), "rooms": i % 7, "tags": [str(i), "odense"]}
            json.loads(json.dumps(record))
        rounds += 100
    return rounds / (time.perf_counter() - started) / 1000
