"""The OpenAPI 3.1 document: served and committed (test_fuzzing.py holds every node to it)."""

from __future__ import annotations

import json

from ops.demo.reference_scenario import CIVICA
from ops.openapi import DOCUMENT, text
from tests.api.conftest import Organisations


def test_the_committed_document_equals_the_generated_one() -> None:
    assert DOCUMENT.read_text() == text(), "docs/api/openapi.json is stale: run `python -m ops.openapi`"


def test_each_node_serves_the_openapi_3_1_document(memory_organisations: Organisations) -> None:
    served = memory_organisations.clients[CIVICA].get("/openapi.json").json()
    assert served["openapi"].startswith("3.1")
    assert served == json.loads(DOCUMENT.read_text())
