"""`coordination demo` on fresh stores serves at once and seeds meanwhile; a restart reuses what was stored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from ops.demo.nodes import DEMO_ROLES

ROOT = Path(__file__).resolve().parents[2]
HOUSEHOLDS = "12"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readyz(port: int, path: str = "/orgs/civica/readyz") -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _demo(data_dir: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ops.cli.main",
        "demo",
        "--data-dir",
        str(data_dir),
        "--households",
        HOUSEHOLDS,
        *options,
    ]


def test_the_first_run_prints_the_url_and_tokens_before_the_seeding_ends_and_a_restart_reuses_it(
    tmp_path: Path,
) -> None:
    port = _free_port()
    demo = subprocess.Popen(
        _demo(tmp_path, "--serve", "--port", str(port)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert demo.stdout is not None
    lines: list[str] = []
    answers: list[tuple[int, dict[str, object]]] = []
    try:
        while not any(line.startswith("Seeded the generated history") for line in lines):
            line = demo.stdout.readline()
            assert line, f"the demo ended early: {lines[-5:]}"
            lines.append(line.strip())
            if line.startswith("Serving in"):
                answers += [_readyz(port), _readyz(port, "/readyz")]
        deadline = time.monotonic() + 60
        while (answer := _readyz(port))[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert answer[0] == 200, answer
        # The demo's one readiness URL: every node's readiness, 200 once all are ready.
        while (everyone := _readyz(port, "/readyz"))[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert everyone[0] == 200, everyone
        assert everyone[1]["ready"] is True
        assert set(everyone[1]["nodes"]) == set(DEMO_ROLES)  # type: ignore[call-overload]
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(60)
    tokens = next(i for i, line in enumerate(lines) if line.startswith("Tokens"))
    seeded = next(i for i, line in enumerate(lines) if line.startswith("Seeded the generated history"))
    assert tokens < seeded
    assert any(line.startswith("Serving in") and f"127.0.0.1:{port}" in line for line in lines[:seeded])
    assert "seeding in the background" in "\n".join(lines)
    for status, body in answers:  # asked while still seeding (unless the seeding had already ended)
        assert status == 503 or body["ready"], body

    again = subprocess.run(
        _demo(tmp_path, "--no-serve"), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert "already seeded: the stores were reused" in again.stdout
