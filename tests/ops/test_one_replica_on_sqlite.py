"""A node on SQLite runs as one process: a second replica of it refuses to start, saying why."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.settings import NodeSettings
from ops.node.replicas import AnotherReplicaRunning, hold_the_store

ROOT = Path(__file__).resolve().parents[2]


def _settings(data_dir: Path) -> NodeSettings:
    return NodeSettings(organisation="civica", store="sqlite", data_dir=data_dir)


def test_a_second_replica_on_the_same_sqlite_store_is_refused_until_the_first_is_gone(tmp_path: Path) -> None:
    first = hold_the_store(_settings(tmp_path))
    assert first is not None
    with pytest.raises(AnotherReplicaRunning, match=r"already runs on the SQLite store.*PostgreSQL"):
        hold_the_store(_settings(tmp_path))
    first.close()
    again = hold_the_store(_settings(tmp_path))
    assert again is not None
    again.close()


def test_another_organisation_beside_it_on_sqlite_starts(tmp_path: Path) -> None:
    civica = hold_the_store(_settings(tmp_path))
    fab = hold_the_store(NodeSettings(organisation="fab", store="sqlite", data_dir=tmp_path))
    assert civica is not None and fab is not None
    civica.close()
    fab.close()


def test_the_node_process_of_a_second_replica_exits_with_the_reason(tmp_path: Path) -> None:
    held = hold_the_store(_settings(tmp_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COORDINATION_")}
    env |= {"COORDINATION_STORE": "sqlite", "COORDINATION_DATA_DIR": str(tmp_path)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "ops.node.serve", "--org", "civica"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        assert held is not None
        held.close()
    assert done.returncode == 1
    assert f"process {os.getpid()} holds civica.sqlite3.lock" in done.stderr
    assert "run replicas on PostgreSQL" in done.stderr
