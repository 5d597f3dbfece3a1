"""The API's kept first responses are keyed like the command's receipt (under the household's key): a repeat
is still replayed and a changed body under the same Idempotency-Key still refused, and once the household
is erased the stored fingerprint matches no digest of the request (issue 20, E3)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from adapters.http import commands
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import Organisations
from tests.api.story import family, people

CPR = "070385-4411"


def _stored_fingerprints(orgs: Organisations) -> list[str]:
    return [row[0] for row in orgs.nodes[CIVICA].db.run("SELECT fingerprint FROM api_idempotent_responses")]


def test_a_registrations_kept_response_is_keyed_and_unmatchable_once_the_household_is_erased(
    memory_organisations: Organisations, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The request's plain digests (what the API kept before, and what anyone can compute from a guessed body).
    plain: list[str] = []
    digest = commands._fingerprint
    monkeypatch.setattr(commands, "_fingerprint", lambda *args: plain.append(digest(*args)) or plain[-1])
    consultant = people(memory_organisations).consultant
    key, body = uuid4(), {**family(), "cpr": CPR}
    first = consultant.post("/households", body, key=key)
    assert first.status_code == 201, first.text
    household = UUID(first.json()["id"])

    repeat = consultant.post("/households", body, key=key)
    assert repeat.status_code == 201 and repeat.headers["Idempotent-Replayed"] == "true"
    assert repeat.json() == first.json()
    changed = consultant.post("/households", {**body, "case_reference": "CIV-OTHER"}, key=key)
    assert changed.status_code == 422 and "idempotency-key-reused" in changed.json()["type"]
    (stored,) = _stored_fingerprints(memory_organisations)
    assert stored.startswith(f"hmac-sha256:{household}:")

    node = memory_organisations.nodes[CIVICA]
    node.app.erase_household(  # type: ignore[attr-defined]
        command_id=uuid4(),
        household_id=household,
        legal_ground="GDPR art. 17(1)(a)",
        at=datetime.now(UTC),
        by=Actor(organisation=CIVICA, person="civica-gk-07", role=Role.REHOUSING_CONSULTANT),
    )

    digests = {*plain, *(hashlib.sha256(text.encode()).hexdigest() for text in (CPR, body["case_reference"]))}
    assert len(plain) == 3
    kept = _stored_fingerprints(memory_organisations)
    assert [fingerprint for fingerprint in kept if any(d in fingerprint for d in digests)] == []
    assert node.app.household_keys.for_reading(household) is None  # nothing left to key a guess under
    # A repeat after the erasure still gets its first response.
    assert consultant.post("/households", body, key=key).json() == first.json()
