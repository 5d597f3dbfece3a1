"""The OpenAPI 3.1 document: served, committed, and honoured (schemathesis against a live node)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ops.openapi import DOCUMENT, text
from ops.reference_scenario import CIVICA
from tests.api.conftest import Organisations, open_organisations
from tests.api.story import play_over_http

EXAMPLES = 3  # per operation: bounded, so the suite stays fast


def test_the_committed_document_equals_the_generated_one() -> None:
    assert DOCUMENT.read_text() == text(), "docs/api/openapi.json is stale: run `python -m ops.openapi`"


def test_each_node_serves_the_openapi_3_1_document(memory_organisations: Organisations) -> None:
    served = memory_organisations.clients[CIVICA].get("/openapi.json").json()
    assert served["openapi"].startswith("3.1")
    assert served == json.loads(DOCUMENT.read_text())


@pytest.fixture(scope="module")
def story_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Organisations, str]]:
    keys = {
        org: Ed25519PrivateKey.generate()
        for org in ("civica", "fab", "odense-brobygning", "odense-boern-og-unge", "kvinfo-mentornetvaerk")
    }
    orgs = open_organisations("sqlite", tmp_path_factory.mktemp("schemathesis"), keys)
    play_over_http(orgs)
    yield orgs, orgs.token(CIVICA, "civica-gk-07", "rehousing_consultant")
    orgs.close()


def test_no_request_makes_the_node_fail_and_every_response_matches_the_document(
    story_node: tuple[Organisations, str],
) -> None:
    """Generated requests for every operation (a few each), with a consultant's token and a purpose."""
    orgs, token = story_node
    schema = schemathesis.openapi.from_asgi("/openapi.json", orgs.clients[CIVICA].app)
    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
    ]
    headers = {"Authorization": f"Bearer {token}", "X-Purpose": "schema test"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case: Any) -> None:
            response = case.call_and_validate(headers=headers, checks=checks)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        try:
            call()
        except Exception as error:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {str(error)[:500]}")
    assert operations == len(json.loads(DOCUMENT.read_text())["paths"]) or operations > 40
    assert not failures, "\n\n".join(failures)
    print(f"\nschemathesis: {operations} operations, responses by status {sorted(statuses.items())}")
    assert sum(statuses.values()) >= operations
