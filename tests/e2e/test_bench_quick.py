"""`coordination bench --quick` runs and writes its JSON; speed is measured, never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_the_quick_bench_of_commands_and_queries_writes_every_figure_with_its_runs(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"

    done = subprocess.run(
        [sys.executable, "-m", "ops.cli.main", "bench", "--quick", "--only", "a,d", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["failures"] == {}
    assert {"nproc", "memory_mb", "cpu", "python"} <= set(report["machine"])
    assert report["settings"]["quick"] is True
    figures = report["figures"]
    for key in (
        "a.sqlite_raw",
        "a.postgres_raw_1",
        "a.sqlite_single_rate",
        "a.postgres_grouped_rate",
        "a.postgres_grouped_p99",
        "a.postgres_grouped_group",
        "a.postgres_offered_500_p99",
        "a.postgres_offered_1000_rate",
        "d.pool_search_p99",
        "d.handoff_p99",
        "d.as_of_p99",
    ):
        assert key in figures, sorted(figures)
    for key, figure in figures.items():
        assert {"median", "min", "max", "runs", "unit", "target", "met", "limit"} <= set(figure), key
        # One run each; the machine's speed is taken before and after each scenario.
        assert len(figure["runs"]) == (2 if key.endswith(".python_speed") else 1), key
        assert figure["min"] <= figure["median"] <= figure["max"], key
    assert figures["a.postgres_grouped_rate"]["limit"] == "a.postgres_raw_4"
    assert figures["a.postgres_grouped_rate"]["target"] == {"value": 1000, "at_least": True}
    assert figures["a.postgres_offered_1000_p99"]["target"] == {"value": 10, "at_least": False}
    assert "PostgreSQL commands, 4 clients, group commit" in done.stdout
