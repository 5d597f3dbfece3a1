"""Two replicas of CIVICA's node on one PostgreSQL database, each behind its own API: what a client wrote
through one it reads through the other at once, whichever replica runs the projections (docs/api.md)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.http.app import create_app
from coordination.domain.values import Role
from ops.demo.reference_scenario import CIVICA
from ops.devservices.pgcluster import PostgresServer
from ops.node.bootstrap import NodeParts
from tests.api.conftest import Api, _settings, config_for
from tests.api.story import dwelling

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from adapters.http.auth import issue_token

pytestmark = pytest.mark.postgres


def test_a_vacancy_published_through_one_replica_is_in_the_pool_read_through_the_other(
    postgres_server: PostgresServer, tmp_path: Path, signing_keys: dict[str, Ed25519PrivateKey]
) -> None:
    settings = _settings(CIVICA, "postgres", tmp_path, postgres_server)
    replicas = [NodeParts(settings), NodeParts(settings)]
    try:
        token = issue_token(
            signing_keys[CIVICA],
            organisation=CIVICA,
            person="civica-gk-07",
            role=Role.REHOUSING_CONSULTANT,
            audience=CIVICA,
        )
        a, b = (
            Api(TestClient(create_app(parts.api_node(), config_for(CIVICA, signing_keys))), token)
            for parts in replicas
        )
        # Replica B reads first, so its projections are at the log's end as it was before the write.
        assert b.ok(b.get("/vacancy-pool", municipality="Odense"))["items"] == []
        created: Any = a.ok(a.post("/vacancies", dwelling()), 201)
        vacancy_id = created.get("vacancy_id") or created.get("id")
        pool = b.ok(b.get("/vacancy-pool", municipality="Odense"))["items"]
        assert [item["vacancy_id"] for item in pool] == [vacancy_id]
    finally:
        for parts in replicas:
            parts.close()
