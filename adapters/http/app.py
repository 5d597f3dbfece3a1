"""The app factory: one FastAPI app per node, every route behind the authorisation table."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.http import docs_pages, problems
from adapters.http.auth import AuthConfig
from adapters.http.bodies import BodyLimit, utf8_body
from adapters.http.document import describe
from adapters.http.health import NodeHealth
from adapters.http.metrics import node_registry
from adapters.http.node import ApiNode
from adapters.http.routers import (
    caseload,
    daycare_places,
    erasures,
    exchange_keys,
    households,
    inbox,
    municipal,
    offer_requests,
    offers,
    operations,
    queries,
    referrals,
    support_links,
    vacancies,
    webhooks,
)

TITLE = "Rehousing coordination node API"
VERSION = "1.0.0"
DESCRIPTION = """\
One organisation's node: the commands of its organisation role and the queries of its read models.

* Authenticate with `Authorization: Bearer <token>`: an Ed25519 JWT issued by your organisation
  (claims iss = org, sub = person, role, aud = this node's organisation, exp, iat).
* Every POST needs an `Idempotency-Key` (a UUID): a repeat returns the first response and has no
  second effect. A POST that changes an existing aggregate needs `If-Match` with its `ETag` (version).
* Reads of personal data need a purpose (`X-Purpose` header) and are written to the access log.
* Errors are RFC 9457 `application/problem+json` naming the problem and the field; a 500 carries an
  `error_id` that is also in the node's log with the exception (quote it to the operator).
* Each operation names the roles that may call it (`x-roles`) and whose node and aggregate it must be
  (`x-node`), and the statuses a request the schema allows may still get, with why.
* Bodies are JSON in UTF-8 (RFC 8259 §8.1; another encoding is a 400 problem) of at most 1 MiB (a 413
  problem). Query dates are from 2000-01-01 to 2099-12-31.
* Refused before the API, so not problem+json: a request the HTTP server cannot parse (a NUL byte in a
  header, a malformed request line) is answered by the server itself (uvicorn with h11) with
  `400 text/plain` "Invalid HTTP request received." and the connection is closed.
"""


def create_app(node: ApiNode, auth_config: AuthConfig) -> FastAPI:
    """The API of `node`, trusting the organisations' keys in `auth_config`."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        dependencies=[Depends(utf8_body)],
        docs_url=None,  # served by docs_pages from installed assets, not from a CDN
        redoc_url=None,
    )
    app.add_middleware(BodyLimit)
    app.state.node = node
    app.state.auth = auth_config
    app.state.metrics = node_registry(node)
    app.state.health = NodeHealth(node)
    problems.install(app)
    for module in (
        households,
        offers,
        vacancies,
        referrals,
        support_links,
        queries,
        operations,
        exchange_keys,
        offer_requests,
        municipal,
        erasures,
        inbox,
        webhooks,
        caseload,
        daycare_places,
    ):
        app.include_router(module.router)
    docs_pages.install(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(problems.problem_schemas())
            app.openapi_schema = describe(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
