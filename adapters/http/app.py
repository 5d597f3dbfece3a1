"""The app factory: one FastAPI app per node, every route behind the authorisation table."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from adapters.http import problems
from adapters.http.auth import AuthConfig
from adapters.http.bodies import BodyLimit, utf8_body
from adapters.http.document import describe
from adapters.http.metrics import node_registry
from adapters.http.node import ApiNode
from adapters.http.routers import (
    exchange_keys,
    households,
    offers,
    operations,
    queries,
    referrals,
    support_links,
    vacancies,
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
* Errors are RFC 9457 `application/problem+json` naming the problem and the field.
"""


def create_app(node: ApiNode, auth_config: AuthConfig) -> FastAPI:
    """The API of `node`, trusting the organisations' keys in `auth_config`."""
    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        dependencies=[Depends(utf8_body)],
    )
    app.add_middleware(BodyLimit)
    app.state.node = node
    app.state.auth = auth_config
    app.state.metrics = node_registry(node)
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
    ):
        app.include_router(module.router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=TITLE, version=VERSION, description=DESCRIPTION, routes=app.routes)
            schema.setdefault("components", {}).setdefault("schemas", {}).update(problems.problem_schemas())
            app.openapi_schema = describe(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
