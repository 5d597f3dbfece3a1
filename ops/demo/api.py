"""Composition of the HTTP API: each node's app with its read models, the demo's keys and tokens, and serving.

`coordination serve` runs one uvicorn server on 127.0.0.1 with every demo organisation's node mounted
under /orgs/<organisation>/ (one port, one process: the embedded default), while the exchange carries
what each node publishes to the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.routing import Mount

from adapters.http import problems
from adapters.http.app import create_app
from adapters.http.auth import AuthConfig, ensure_key_pair, issue_token, public_keys_in
from adapters.http.node import ApiNode
from adapters.settings import NodeSettings, Store
from adapters.sql.node_db import database_for
from coordination.applications.base import NodeApplication
from coordination.domain.values import Actor, Role
from ops.demo.nodes import DEMO_ROLES
from ops.demo.reference_scenario import (
    CHILDREN_AND_YOUTH,
    CIVICA,
    Nodes,
    bridge_builder,
    consultant,
    daycare_allocator,
    mentor_coordinator,
    school_caseworker,
)
from ops.demo.run import Seeding, readyz_while_seeding, start_timers
from ops.node.exchange import Exchange, Node, exchange_figures, exchange_running
from ops.node.read_models import ReadModels, open_views

# The people the demo prints tokens for: the scenario's staff, and CIVICA's auditor and operator.
DEMO_PEOPLE: dict[str, Actor] = {
    "CIVICA_CONSULTANT": consultant,
    "BRIDGE_BUILDER": bridge_builder,
    "DAYCARE_ALLOCATOR": daycare_allocator,
    "SCHOOL_CASEWORKER": school_caseworker,
    "KVINFO_MENTOR_COORDINATOR": mentor_coordinator,
    "CIVICA_AUDITOR": Actor(organisation=CIVICA, person="civica-audit-1", role=Role.AUDITOR),
    "CIVICA_OPERATOR": Actor(organisation=CIVICA, person="civica-ops-1", role=Role.OPERATOR),
    # The municipality's coordinator, at the municipal node (the children and youth department's)
    "MUNICIPAL_COORDINATOR": Actor(
        organisation=CHILDREN_AND_YOUTH, person="odense-ko-1", role=Role.MUNICIPAL_COORDINATOR
    ),
}


def keys_dir(data_dir: Path) -> Path:
    return data_dir / "keys"


@dataclass
class ServedNodes:
    """The API nodes of the demo's organisations, with what must be closed when serving stops (what the
    composition root built is closed with the exchange instead)."""

    api: dict[str, ApiNode]
    closing: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closing:
            close()


def api_node(
    app: NodeApplication,
    settings: NodeSettings,
    exchange_node: Node | None = None,
    exchange: Exchange | None = None,
) -> ApiNode:
    """One node as the API serves it, for an app built elsewhere (not by `NodeParts`, which builds its
    own with `api_node()`): its application, the read models its node keeps (or a new one when it has
    none), its DB (the node's on the exchange when it has one)."""
    models = exchange_node.read_models if exchange_node is not None else None
    if exchange_node is None or models is None:
        models = ReadModels(app, open_views(settings))
    if exchange_node is None:
        return ApiNode(app=app, db=database_for(app.env), read_models=models)
    return ApiNode(
        app=app,
        db=exchange_node.db,
        read_models=models,
        exchange_figures=lambda: exchange_figures(exchange_node, exchange),
        exchange_running=lambda: exchange_running(exchange_node),
        exchange_keys=exchange_node.exchange_keys,
    )


def demo_api_nodes(nodes: Nodes, data_dir: Path, store: Store = Store.SQLITE) -> ServedNodes:
    """Each organisation's node as the API serves it: the composition root's parts where it built them
    (the demo), else from the app and its node on the exchange."""
    exchange = nodes.exchange if isinstance(nodes.exchange, Exchange) else None
    on_exchange = {n.organisation: n for n in exchange.nodes} if exchange else {}
    served = ServedNodes(api={})
    for app in nodes.all():
        parts = nodes.parts.get(app.organisation)
        if parts is not None:
            served.api[app.organisation] = parts.api_node(exchange)
            continue
        role = DEMO_ROLES[app.organisation]
        settings = NodeSettings(organisation=app.organisation, role=role, store=store, data_dir=data_dir)
        exchange_node = on_exchange.get(app.organisation)
        node = api_node(app, settings, exchange_node, exchange)
        served.api[app.organisation] = node
        if exchange_node is None or exchange_node.read_models is None:
            served.closing.append(node.read_models.views.close)
        served.closing.append(getattr(node.db, "close", lambda: None))
    return served


def demo_keys(data_dir: Path) -> dict[str, Any]:
    """A development key pair per demo organisation under `<data_dir>/keys` (made on first use)."""
    return {org: ensure_key_pair(keys_dir(data_dir), org) for org in DEMO_ROLES}


def demo_tokens(data_dir: Path, ttl: timedelta = timedelta(hours=8)) -> dict[str, str]:
    """A token per demo person, addressed to that person's own organisation's node."""
    keys = demo_keys(data_dir)
    return {
        name: issue_token(
            keys[actor.organisation],
            organisation=actor.organisation,
            person=actor.person,
            role=actor.role,
            audience=actor.organisation,
            ttl=ttl,
        )
        for name, actor in DEMO_PEOPLE.items()
    }


def mounted_app(served: ServedNodes, data_dir: Path) -> FastAPI:
    """One app: each organisation's node under /orgs/<organisation>; the root lists them, serves the node
    API's OpenAPI document (the same for every node) and the demo's one readiness URL, /readyz."""
    demo_keys(data_dir)
    public_keys = public_keys_in(keys_dir(data_dir))
    apps = {org: create_app(node, AuthConfig(org, public_keys)) for org, node in served.api.items()}
    root = FastAPI(title="Rehousing coordination demo", openapi_url=None, docs_url=None, redoc_url=None)
    problems.install(root)  # an unknown organisation or path outside every node answers problem+json too

    @root.get("/")
    def nodes() -> dict[str, Any]:
        return {
            "nodes": {org: f"/orgs/{org}/" for org in apps},
            "openapi": "/openapi.json",
            "ready": "/readyz",
        }

    @root.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Every node's readiness at once (each as its own /readyz answers it): 200 when all are ready."""
        answers = await asyncio.gather(*(app.state.health.readiness_async() for app in apps.values()))
        nodes = {
            org: {"ready": all(check["ok"] for check in checks.values()), "checks": checks}
            for org, checks in zip(apps, answers, strict=True)
        }
        ready = all(node["ready"] for node in nodes.values())
        return JSONResponse({"ready": ready, "nodes": nodes}, status_code=200 if ready else 503)

    @root.get("/openapi.json")
    def openapi() -> dict[str, Any]:
        return next(iter(apps.values())).openapi()

    for org, app in apps.items():
        root.router.routes.append(Mount(f"/orgs/{org}", app=app))
    return root


def write_tokens(data_dir: Path, tokens: dict[str, str], base_url: str) -> Path:
    """`<data_dir>/tokens.env`, for `source` in a shell (the curl session of docs/api.md uses it)."""
    path = data_dir / "tokens.env"
    lines = [f"API={base_url}"] + [f"{name}={token}" for name, token in tokens.items()]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def serve(
    nodes: Nodes,
    data_dir: Path,
    *,
    store: Store = Store.SQLITE,
    port: int = 8000,
    started: float | None = None,
    seeding: Seeding | None = None,
) -> None:
    """Serve every node on 127.0.0.1:`port` until interrupted, with the exchange running in the background;
    prints how long it took from `started` (time.monotonic() when the command began) to ready.

    With `seeding`, serves at once while the generated history is seeded on a thread of its own: /readyz
    answers "seeding" until it is done, and the exchange starts then."""
    import uvicorn

    served = demo_api_nodes(nodes, data_dir, store)
    app: Any = mounted_app(served, data_dir)
    base = f"http://127.0.0.1:{port}"
    tokens = demo_tokens(data_dir)
    path = write_tokens(data_dir, tokens, base)
    print(f"\nServing the API of every demo organisation on {base}/orgs/<organisation>/ (Ctrl-C stops):")
    for org in served.api:
        print(f"  {base}/orgs/{org}/  (OpenAPI: {base}/orgs/{org}/openapi.json; docs: .../docs)")
    print(f"\nTokens (valid 8 hours; also in {path}, `set -a; source {path}; set +a`):")
    for name, token in tokens.items():
        actor = DEMO_PEOPLE[name]
        print(f"  {name} ({actor.person}, {actor.role} at {actor.organisation}):\n    {token}")
    operator = tokens["CIVICA_OPERATOR"]
    print(
        f"\nDashboard (no personal data; the operator's token in the fragment stays in the browser):\n"
        f"  {base}/orgs/civica/dashboard#token={operator}"
    )
    print(
        f"The municipality's picture (every housing organisation's placements; counts under 5 as \"<5\"):\n"
        f"  {base}/orgs/{CHILDREN_AND_YOUTH}/municipal-dashboard#token={tokens['MUNICIPAL_COORDINATOR']}"
    )
    print(f"Readiness of every node: {base}/readyz (200 once all are ready; 503 while seeding)")
    print(f"Metrics: {base}/orgs/<organisation>/metrics; each node's health: .../livez and .../readyz")
    exchange = nodes.exchange if isinstance(nodes.exchange, Exchange) else None

    def start_exchange() -> None:
        # The exchange, then every node's timers: nothing seeded sits unexpired past its date.
        if exchange is not None:
            exchange.start()
        start_timers(nodes)

    if seeding is None:
        start_exchange()
    for node in served.api.values():
        node.queries()  # every read model caught up before the first request
    if seeding is not None:
        seeding.start(then=start_exchange)
        app = readyz_while_seeding(app, seeding)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    if seeding is not None:
        exit_asked = server.handle_exit

        def exiting(signum: int, frame: Any) -> None:
            # Ctrl-C stops the seeding after its current step now, not once the server has shut down.
            seeding.cancel()
            exit_asked(signum, frame)

        server.handle_exit = exiting  # type: ignore[method-assign]
    if started is not None:
        announce = server.startup

        async def startup(*args: Any, **kwargs: Any) -> None:
            await announce(*args, **kwargs)
            took = f"{time.monotonic() - started:.1f} s"
            if seeding is None or seeding.ready:
                print(f"\nReady in {took} on {base}", flush=True)
            else:
                print(f"\nServing in {took} on {base}; seeding continues (/readyz: seeding)", flush=True)

        server.startup = startup  # type: ignore[method-assign]
    try:
        server.run()
    finally:
        if seeding is not None:
            seeding.stop()
        if exchange is not None:
            exchange.stop()
        served.close()
