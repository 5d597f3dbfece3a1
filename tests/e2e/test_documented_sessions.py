"""The shell sessions the README and docs/ show (blocks fenced as ```bash session) run as written against a
freshly seeded demo, from a directory laid out as the repository's root: `var/demo` and `.venv`."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SESSION = re.compile(r"^```bash session\n(.*?)^```", re.MULTILINE | re.DOTALL)
PROBLEM_STATUS = re.compile(r'"status": ?(\d{3})')  # a problem's status, as curl or `show` prints it
# The problems each document's session shows on purpose (in order); any other is a step that failed.
DOCUMENTS = {"README.md": [], "docs/api.md": [403, 403, 403, 412]}


def sessions(document: str) -> str:
    return "\n".join(SESSION.findall((ROOT / document).read_text()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def test_every_document_with_a_session_is_checked_here() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    with_sessions = {str(d.relative_to(ROOT)) for d in documents if SESSION.search(d.read_text())}
    assert with_sessions == set(DOCUMENTS)


def test_the_documented_sessions_run_as_written_on_a_fresh_demo_that_ctrl_c_then_stops(
    tmp_path: Path,
) -> None:
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    port, data_dir = _free_port(), tmp_path / "var" / "demo"
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ops.cli.main",
            "demo",
            "--serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        # The demo's one readiness URL: 200 once the history is seeded and every node is ready.
        deadline = time.monotonic() + 240
        while _status(f"http://127.0.0.1:{port}/readyz") != 200:
            assert demo.poll() is None, "the demo ended before it was ready"
            assert time.monotonic() < deadline, "the demo was not ready within 240 s"
            time.sleep(0.5)
        for document, problems in DOCUMENTS.items():
            script = sessions(document)
            assert script.strip(), f"{document} has no ```bash session block"
            ran = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert ran.returncode == 0, f"{document}: exit {ran.returncode}\n{ran.stdout[-3000:]}{ran.stderr}"
            print(f"--- {document}\n{ran.stdout}")  # shown with pytest -s
            shown = [int(status) for status in PROBLEM_STATUS.findall(ran.stdout)]
            assert shown == problems, f"{document}: problems {shown}\n{ran.stdout[-3000:]}"
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            demo.wait(60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(10)
            pytest.fail("Ctrl-C did not stop the demo within 60 s")
        finally:
            log.close()
    stderr = (tmp_path / "demo.log").read_text()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert demo.returncode == 130, (demo.returncode, stderr[-3000:])  # as a shell reports Ctrl-C
    assert "Stopped (Ctrl-C)." in stderr
