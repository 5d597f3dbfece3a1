"""`coordination bench --quick --only f`: the national fan-out's smallest configuration (two organisation
nodes as processes on databases of their own, a tiny load) runs and prints its figures; speed is measured,
never asserted here (docs/scaling.md has the full run's figures)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]


def test_the_quick_fan_out_bench_runs_two_organisation_nodes_and_prints_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"

    done = subprocess.run(
        [sys.executable, "-m", "ops.cli.main", "bench", "--quick", "--only", "f", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["failures"] == {}
    figures = report["figures"]
    for key in (
        "f.raw_p50",
        "f.raw_p99",
        "f.n02_vacancy_p50",
        "f.n02_vacancy_p99",
        "f.n02_referral_p99",
        "f.n02_broker_messages",
        "f.n02_broker_bytes",
        "f.n02_nodes_cpu",
        "f.n02_idle_cpu_max",
        "f.n02_rss_mean",
    ):
        assert key in figures, sorted(figures)
        assert figures[key]["runs"] and figures[key]["runs"][0] == figures[key]["runs"][0], key  # not NaN
    # Two nodes: one housing organisation's vacancy reaches the department, its referral the department.
    assert figures["f.n02_deliveries"]["median"] == 2
    assert figures["f.n02_broker_messages"]["median"] >= 2
    assert figures["f.n02_vacancy_p99"]["limit"] == "f.raw_p99"
    assert "2 nodes: vacancy → each pool member's commit" in done.stdout
    assert "raw kafka-python produce → consume" in done.stdout
