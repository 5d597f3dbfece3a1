"""Production mode: one organisation's node per process, on PostgreSQL and Kafka, its API served or not.

`python -m ops.node.serve --org civica` (`coordination node`) runs one node without its full API (settings
from COORDINATION_* and an optional .env-style file) until SIGTERM; with peers it still answers their
exchange-key requests.

`coordination serve --org civica [--config node.env]` reads NodeSettings (COORDINATION_* from the
environment or the file), waits for the broker, starts the node's relay, consumer and read models, and
serves the API (with /dashboard, /metrics, /livez and /readyz) on COORDINATION_HTTP_HOST:HTTP_PORT.
"""

# ruff: noqa: E402 (the imports follow gc.disable())
from __future__ import annotations

# No garbage collection while the node's modules are imported: the imports create tens of thousands of
# classes and objects that live as long as the process, and collecting meanwhile cost ~15 % of a start's
# CPU (docs/performance.md, restart after SIGKILL). Enabled again below, once they are imported.
import gc

gc.disable()

import argparse
import signal
import sys
import threading
from pathlib import Path

import structlog
from pydantic import ValidationError

from adapters.settings import NodeSettings, Profile, settings_problems
from coordination.transient import is_transient
from ops.logging import configure
from ops.node.bootstrap import NodeParts
from ops.node.interpreter import process_age_s, tune_for_a_node
from ops.node.replicas import AnotherReplicaRunning, hold_the_store, starting_alone

gc.enable()


def open_store(settings: NodeSettings, stopping: threading.Event) -> NodeParts | None:
    """The node's parts on its store, waited for while the database cannot be reached (a restart, a
    failover), saying so each time; None when asked to stop meanwhile."""
    log = structlog.get_logger()
    backoff = 0.5
    while True:
        try:
            with starting_alone(settings):  # another replica building the same tables meanwhile fails
                return NodeParts(settings)
        except Exception as error:
            if not is_transient(error):
                raise
            log.warning(
                "node.store_unavailable",
                waiting_for="store",
                error=type(error).__name__,
                retry_in_s=backoff,
                process_age_s=process_age_s(),
            )
            if stopping.wait(backoff):
                return None
            backoff = min(backoff * 2, 5.0)


def serve_one(settings: NodeSettings, *, host: str | None = None, port: int | None = None) -> int:
    """Serve one node until SIGTERM or SIGINT; 1 when its configuration is incomplete."""
    configure(json=settings.profile is Profile.PRODUCTION)
    structlog.contextvars.bind_contextvars(organisation=settings.organisation)
    log = structlog.get_logger()
    if settings.public_keys_dir is None or not settings.public_keys_dir.is_dir():
        log.error("serve.no_public_keys", setting="COORDINATION_PUBLIC_KEYS_DIR")
        return 1
    log.info("node.starting", process_age_s=process_age_s(), waiting_for="store")
    try:
        store_lock = hold_the_store(settings)
    except AnotherReplicaRunning as refused:
        log.error("node.refused", reason=str(refused))
        print(refused, file=sys.stderr)
        return 1
    parts = open_store(settings, threading.Event())
    assert parts is not None  # only None when asked to stop while waiting, and nobody asks here
    try:
        log.info("node.store_open", process_age_s=process_age_s(), waiting_for="broker")
        with starting_alone(settings):
            node = parts.on_the_broker(threading.Event())
        assert node is not None  # only None when asked to stop while waiting, and nobody asks here
        parts.start_node()
        log.info("node.consuming", process_age_s=process_age_s(), waiting_for="api")
        # The API (FastAPI, its routers: ~0.5 s of CPU) is imported once the node consumes, not before:
        # a restarted node catches up meanwhile (docs/performance.md, restart after SIGKILL).
        gc.disable()  # as for the imports above
        try:
            from adapters.http.app import create_app
            from adapters.http.auth import AuthConfig, public_keys_in
            from adapters.http.quiet_server import serve
        finally:
            gc.enable()
        public_keys = public_keys_in(settings.public_keys_dir)
        with starting_alone(settings):  # the API's tables, as another replica may be building them
            api = parts.api_node()
        log.info("node.started", subscribed=len(node.subscribed), process_age_s=process_age_s())
        log.info(
            "node.serving",
            host=host or settings.http_host,
            port=port or settings.http_port,
            trusted=sorted(public_keys),
        )
        serve(
            create_app(api, AuthConfig(settings.organisation, public_keys)),
            host=host or settings.http_host,
            port=port or settings.http_port,
        ).run()
    finally:
        parts.close()
        if store_lock is not None:
            store_lock.close()
    return 0


def run_node(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.node.serve", description="Run one organisation's node"
    )
    parser.add_argument("--org", help="the organisation (default: COORDINATION_ORGANISATION)")
    parser.add_argument("--config", type=Path, help="a .env-style file of COORDINATION_* settings")
    args = parser.parse_args(argv)
    tune_for_a_node()
    overrides = {"organisation": args.org} if args.org else {}
    try:
        settings = NodeSettings.from_file(args.config, **overrides)
    except ValidationError as error:
        print("ops.node.serve: the node's settings are invalid:", file=sys.stderr)
        for line in settings_problems(error):
            print(f"  {line}", file=sys.stderr)
        return 2
    configure(json=settings.profile.value == "production")
    structlog.contextvars.bind_contextvars(organisation=settings.organisation)
    log = structlog.get_logger()
    # What the start waits for, as it waits: the interpreter's imports done, then the store, then the broker.
    log.info("node.starting", process_age_s=process_age_s(), waiting_for="store")
    try:
        store_lock = hold_the_store(settings)
    except AnotherReplicaRunning as refused:
        log.error("node.refused", reason=str(refused))
        print(refused, file=sys.stderr)
        return 1
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    parts = open_store(settings, stopping)
    if parts is None:
        return 0
    log.info("node.store_open", process_age_s=process_age_s(), waiting_for="broker")
    try:
        with starting_alone(settings):
            node = parts.on_the_broker(stopping)
        if node is None:
            return 0
        parts.start_node()
        waiting = {"waiting_for": "key server"} if settings.peer_urls else {}
        log.info("node.consuming", process_age_s=process_age_s(), **waiting)
        # Peers in other processes ask this node's API for the keys that open its sealed fields.
        with starting_alone(settings):  # its API's tables, as another replica may be building them
            parts.serve_exchange_keys()
        log.info("node.started", subscribed=len(node.subscribed), process_age_s=process_age_s())
        stopping.wait()
    finally:
        parts.close()
        if store_lock is not None:
            store_lock.close()
    return 0


if __name__ == "__main__":
    sys.exit(run_node())
