"""A node process started while its database cannot be reached waits for it and says what it waits for,
instead of exiting; SIGTERM still stops it at once (issue 22: the node logs what it waits for)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from ops.devservices.tansu import free_port

ROOT = Path(__file__).resolve().parents[2]


def _logged(log: Path) -> list[dict[str, object]]:
    lines = log.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_a_node_whose_database_is_down_logs_that_it_waits_for_the_store_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COORDINATION_")},
        "PYTHONUNBUFFERED": "1",
        "COORDINATION_PROFILE": "production",
        "COORDINATION_STORE": "postgres",
        "COORDINATION_POSTGRES_HOST": "127.0.0.1",
        "COORDINATION_POSTGRES_PORT": str(free_port()),  # nothing listens there
        "COORDINATION_CIPHER_KEY": base64.b64encode(secrets.token_bytes(16)).decode(),
        "COORDINATION_CPR_SECRET": "store-wait",
        "COORDINATION_DATA_DIR": str(tmp_path / "data"),
    }
    log = tmp_path / "node.log"
    with log.open("wb") as out:
        node = subprocess.Popen(
            [sys.executable, "-m", "ops.node.serve", "--org", "civica"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        waits: list[dict[str, object]] = []
        while len(waits) < 2 and time.monotonic() < deadline and node.poll() is None:
            time.sleep(0.2)
            waits = [line for line in _logged(log) if line.get("event") == "node.store_unavailable"]
        assert node.poll() is None, log.read_text()[-2000:]
        assert len(waits) >= 2, log.read_text()[-2000:]
        assert all(line["waiting_for"] == "store" for line in waits)
        assert [line["retry_in_s"] for line in waits[:2]] == [0.5, 1.0]

        node.send_signal(signal.SIGTERM)
        assert node.wait(timeout=20) == 0
    finally:
        if node.poll() is None:
            node.kill()
            node.wait(timeout=10)
