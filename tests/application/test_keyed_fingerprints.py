"""A receipt of a command about a household keeps its fingerprint keyed under the household's key: repeats
still compare, a receipt stored before keying still answers its repeat, and once the household is erased no
stored receipt matches a digest of anything the household's commands carried (issue 20, E3)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications import fingerprints
from coordination.applications.base import derived_id
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, MunicipalDepartmentApp
from coordination.domain.errors import CommandIdReused
from tests.application.builders import (
    BRIDGE,
    CASE_REFERENCE,
    CIVICA,
    CONSULTANT,
    CPR,
    DAYCARE,
    at,
    cmd,
    register_family,
)
from tests.application.test_command_fingerprints import PINNED, _story, command_id

MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
# The story's commands about no household (a vacancy's): their receipts keep the plain digest.
ABOUT_NO_HOUSEHOLD = ("publish_", "withdraw_vacancy", "mirror_")


@pytest.fixture
def housing() -> Iterator[HousingOrganisationApp]:
    app = HousingOrganisationApp(
        storage=ShreddingStorage(), organisation=CIVICA, env=MEMORY, cpr_secret=b"k" * 32
    )
    yield app
    app.close()


def _fingerprint(app: HousingOrganisationApp, command: object) -> str:
    receipt = app._receipt(derived_id("command", command))
    assert receipt is not None
    return receipt.fingerprint


def test_a_repeat_of_a_command_about_a_household_compares_its_keyed_fingerprint(
    housing: HousingOrganisationApp,
) -> None:
    command = cmd()
    household = register_family(housing, command_id=command, cpr=CPR)

    assert _fingerprint(housing, command).startswith(f"hmac-sha256:{household}:")
    assert register_family(housing, command_id=command, cpr=CPR) == household
    with pytest.raises(CommandIdReused):
        register_family(housing, command_id=command, cpr="010203-1234")


def test_a_receipt_stored_before_fingerprints_were_keyed_still_answers_its_repeat(
    housing: HousingOrganisationApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = cmd()
    with monkeypatch.context() as before_keying:
        before_keying.setattr(fingerprints, "kept", lambda plain, household_id, keys: plain)
        household = register_family(housing, command_id=command, cpr=CPR)
    assert ":" not in _fingerprint(housing, command)  # the plain digest

    assert register_family(housing, command_id=command, cpr=CPR) == household
    with pytest.raises(CommandIdReused):
        register_family(housing, command_id=command, case_reference="CIVICA-2026-0043")


def test_after_the_erasure_a_repeat_gets_its_first_result_though_nothing_is_left_to_compare(
    housing: HousingOrganisationApp,
) -> None:
    command = cmd()
    household = register_family(housing, command_id=command, cpr=CPR)
    housing.erase_household(
        command_id=cmd(), household_id=household, legal_ground="art. 17(1)(a)", at=at(2), by=CONSULTANT
    )

    assert register_family(housing, command_id=command, cpr=CPR) == household


def test_after_the_erasure_no_stored_receipt_matches_a_digest_of_the_households_commands_or_values(
    housing: HousingOrganisationApp,
) -> None:
    bridge = BridgeBuilderApp(storage=ShreddingStorage(), organisation=BRIDGE, env=MEMORY)
    department = MunicipalDepartmentApp(storage=ShreddingStorage(), organisation=DAYCARE, env=MEMORY)
    try:
        _story(housing, bridge, department)  # ends with the household's erasure at CIVICA
    finally:
        bridge.close()
        department.close()
    stored = [
        notification.state.decode()
        for notification in housing.recorder.select_notifications(start=1, limit=100_000)
    ]
    # The digests of the household's commands (what receipts stored before keying), and of its values.
    digests = {
        fingerprint
        for name, (_, fingerprint) in PINNED.items()
        if not name.startswith(ABOUT_NO_HOUSEHOLD)
        and housing._receipt(derived_id("command", command_id(name))) is not None  # CIVICA's commands
    }
    values = [CPR, CASE_REFERENCE, "Odense C", "Bolbro", "gardening", "soon", "bills paid", "too far"]
    digests |= {hashlib.sha256(value.encode()).hexdigest() for value in values}

    assert len(digests) > 30
    assert [digest for digest in digests if any(digest in state for state in stored)] == []
