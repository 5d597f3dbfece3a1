"""The exchange-key endpoints: a node hands its key of a household for one recipient to that recipient
alone (the old scheme's one key only to whom it was given before), never after erasure, and logs every key
it hands out."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from uuid import UUID, uuid4

import httpx
import pytest

from adapters.exchange.key_directory import HttpKeyDirectory
from adapters.exchange.keys import NODE_PERSON, KeyNotShared, KeyUnavailable
from coordination.domain.values import Actor, Role
from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import Organisations
from tests.api.story import family, step

PURPOSE = {"X-Purpose": "open received integration events"}


def _referred(orgs: Organisations) -> UUID:
    """A household at CIVICA referred to the bridge builder: its referral's details left sealed."""
    consultant = orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT)
    household, _ = step(consultant, "/households", family(), status=201)
    step(
        consultant,
        f"/households/{household}/referrals",
        {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
        status=201,
    )
    orgs.settle()
    return UUID(household)


def _ask(
    orgs: Organisations,
    household: UUID,
    org: str,
    role: Role = Role.OPERATOR,
    *,
    sealed_for: str | None = "",
) -> httpx.Response:
    """`org` asks CIVICA for the key of what it sealed for `sealed_for` (by default `org` itself; None:
    the old scheme's one key of the household)."""
    token = orgs.token(org, NODE_PERSON, role, audience=CIVICA)
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "en", **PURPOSE}  # its English details
    path = f"/v1/exchange-keys/{household}"
    if sealed_for is not None:
        path += f"/{sealed_for or org}"
    return orgs.clients[CIVICA].get(path, headers=headers)  # type: ignore[no-any-return]


def test_a_recipient_gets_the_key_and_the_read_is_in_the_access_log(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = _referred(orgs)
    response = _ask(orgs, household, BRIDGE_BUILDER)
    assert response.status_code == 200, response.text
    body = response.json()
    keys = orgs.nodes[CIVICA].exchange_keys
    assert keys is not None
    assert (body["owner"], body["household_id"]) == (CIVICA, str(household))
    assert base64.b64decode(body["key"]) == keys.release(household, BRIDGE_BUILDER, BRIDGE_BUILDER)
    auditor = orgs.api(CIVICA, role=Role.AUDITOR)
    entries = auditor.ok(auditor.get("/access-log"))["items"]
    (entry,) = [e for e in entries if e["subject"] == f"exchange_key:{household}"]
    assert (entry["organisation"], entry["operation"]) == (BRIDGE_BUILDER, "get_recipient_exchange_key")
    assert entry["purpose"] == PURPOSE["X-Purpose"]


def test_an_organisation_the_household_was_not_sent_to_is_refused(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = _referred(orgs)
    refused = _ask(orgs, household, KVINFO)
    assert refused.status_code == 403
    assert KVINFO in refused.json()["detail"]
    assert _ask(orgs, uuid4(), BRIDGE_BUILDER).status_code == 403  # nothing sent about it, to anyone
    # A person of a recipient organisation is not its node: only an operator's service token may ask.
    assert _ask(orgs, household, BRIDGE_BUILDER, Role.BRIDGE_BUILDER).status_code == 403


def test_an_organisation_asking_for_the_key_sealed_for_another_is_refused_though_it_has_its_own(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = _referred(orgs)
    keys = orgs.nodes[CIVICA].exchange_keys
    assert keys is not None
    keys.for_sending(household, CHILDREN_AND_YOUTH)  # as CIVICA seals a message for the department
    own = _ask(orgs, household, CHILDREN_AND_YOUTH)
    assert own.status_code == 200, own.text
    refused = _ask(orgs, household, CHILDREN_AND_YOUTH, sealed_for=BRIDGE_BUILDER)
    assert refused.status_code == 403
    assert f"opens for {BRIDGE_BUILDER} alone" in refused.json()["detail"]
    assert own.json()["key"] != _ask(orgs, household, BRIDGE_BUILDER).json()["key"]
    # The old scheme's one key was given to no one: nothing was sealed under it.
    assert _ask(orgs, household, BRIDGE_BUILDER, sealed_for=None).status_code == 403


def test_after_erasure_the_key_is_gone(memory_organisations: Organisations) -> None:
    orgs = memory_organisations
    household = _referred(orgs)
    assert _ask(orgs, household, BRIDGE_BUILDER).status_code == 200
    consultant = Actor(organisation=CIVICA, person="p-1", role=Role.REHOUSING_CONSULTANT)
    orgs.nodes[CIVICA].app.erase_household(  # type: ignore[attr-defined]
        command_id=uuid4(),
        household_id=household,
        legal_ground="GDPR art. 17",
        at=datetime.now(UTC),
        by=consultant,
    )
    orgs.settle()
    gone = _ask(orgs, household, BRIDGE_BUILDER)
    assert gone.status_code == 410
    assert _ask(orgs, household, KVINFO).status_code == 403


def test_the_http_directory_asks_the_owners_api_and_reads_an_erasure_as_no_key(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    household = _referred(orgs)

    client = orgs.clients[CIVICA]

    def directory(org: str) -> HttpKeyDirectory:
        def token(audience: str) -> str:
            return orgs.token(org, NODE_PERSON, Role.OPERATOR, audience=audience)

        return HttpKeyDirectory(org, {CIVICA: str(client.base_url)}, token, client=client)

    keys = orgs.nodes[CIVICA].exchange_keys
    assert keys is not None
    key = keys.release(household, BRIDGE_BUILDER, BRIDGE_BUILDER)
    assert directory(BRIDGE_BUILDER).key(CIVICA, household, BRIDGE_BUILDER) == key
    with pytest.raises(KeyNotShared):
        directory(KVINFO).key(CIVICA, household, KVINFO)
    with pytest.raises(KeyNotShared):
        directory(KVINFO).key(CIVICA, household, BRIDGE_BUILDER)
    keys.erase(household)
    assert directory(BRIDGE_BUILDER).key(CIVICA, household, BRIDGE_BUILDER) is None


def test_an_owner_whose_api_does_not_answer_is_a_transient_failure() -> None:
    directory = HttpKeyDirectory(
        BRIDGE_BUILDER, {CIVICA: "http://127.0.0.1:9"}, lambda _: "token", timeout=0.5
    )
    with pytest.raises(KeyUnavailable):
        directory.key(CIVICA, uuid4())
