"""Exchange keys: personal fields of integration events sealed under the sender's key, opened by recipients."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.eventstore.shredding import HouseholdKeys
from adapters.exchange.envelope import encode
from adapters.exchange.key_directory import ExchangeOpener, InProcessKeyDirectory, KeyOwners
from adapters.exchange.keys import (
    ExchangeKeys,
    ExchangeSealer,
    KeyNotShared,
    KeyUnavailable,
    SealBroken,
    open_sealed,
    seal,
)
from adapters.sql.node_db import SqliteDatabase
from coordination.domain.personal_fields import ERASED
from coordination.domain.referral_values import ChildFacts, ReferralDetails, ReferralKind
from coordination.domain.values import Actor, Consent, Role, YearMonth
from coordination.integration import household_facts as facts
from coordination.integration import referrals as r
from coordination.integration.personal import personal_fields
from ops.contracts import contract_events

AT = datetime(2026, 6, 4, 12, tzinfo=UTC)
BRIDGE = Actor(organisation="odense-brobygning", person="bb-1", role=Role.BRIDGE_BUILDER)
CIVICA = Actor(organisation="civica", person="gk-1", role=Role.REHOUSING_CONSULTANT)
ASSIGNEE = "bb-anne-marie-oestergaard"
KEY = bytes(range(32))


def accepted() -> r.ReferralAccepted:
    return r.ReferralAccepted(referral_id=uuid4(), at=AT, by=BRIDGE, assignee=ASSIGNEE)


def sent() -> r.ReferralSent:
    return r.ReferralSent(
        referral_id=uuid4(),
        referrer="civica",
        receiver="odense-brobygning",
        kind=ReferralKind.BRIDGE_BUILDING,
        household_id=uuid4(),
        details=ReferralDetails(
            children=[ChildFacts(member_id="C4", birth_month=YearMonth(year=2022, month=2))],
            needs=["interpreter"],
            language="arabic",
            household_size=5,
            note="Prefers mornings",
        ),
        consent=Consent(recipient="odense-brobygning", purpose="bridge_building", given_on=date(2026, 6, 1)),
        legal_basis=None,
        acknowledge_by=AT,
        complete_by=AT,
        at=AT,
        by=CIVICA,
    )


def test_every_integration_event_is_classified_and_the_personal_fields_are_the_expected_ones() -> None:
    found = {cls.event_type: personal_fields(cls) for cls in contract_events() if personal_fields(cls)}
    assert found == {
        "dk.rehousing.referral.sent.v1": {"details", "consent"},
        "dk.rehousing.referral.accepted.v1": {"assignee"},
        "dk.rehousing.referral.put_on_hold.v1": {"reason"},
        "dk.rehousing.referral.declined.v1": {"reason"},
        "dk.rehousing.referral.decline_overridden.v1": {"reason"},
        "dk.rehousing.referral.redirected.v1": {"reason", "consent"},
        "dk.rehousing.referral.withdrawn.v1": {"reason"},
        "dk.rehousing.referral.completed.v1": {"outcome"},
        "dk.rehousing.referral.entered_in_error.v1": {"reason"},
        # The institution a child goes to, and the family's words, are theirs; a reason's code is not.
        "dk.rehousing.referral.place_offered.v1": {"institution", "overrides"},
        "dk.rehousing.referral.place_declined.v1": {"reason"},
        "dk.rehousing.household.child_enrolled.v1": {"enrolment"},
        "dk.rehousing.household.practical_matters_in_order.v1": {"note"},
        "dk.rehousing.household.child_enrolled.v2": {"enrolment"},
        "dk.rehousing.household.practical_matters_in_order.v2": {"note"},
    }


def test_a_sealed_field_travels_as_its_stand_in_and_opens_to_its_value_under_the_key() -> None:
    event = accepted()
    household_id = uuid4()
    sealed = seal(event, owner="odense-brobygning", household_id=household_id, key=KEY)
    assert sealed.assignee == ERASED
    assert sealed.sealed is not None and set(sealed.sealed.fields) == {"assignee"}
    assert (sealed.sealed.owner, sealed.sealed.household_id) == ("odense-brobygning", household_id)
    message = encode(sealed, source="urn:x", originator_id=uuid4(), originator_version=1, index=0, time=AT)
    assert ASSIGNEE.encode() not in message.value
    assert open_sealed(sealed, KEY) == event


def test_a_referral_sent_keeps_only_its_non_personal_details_in_clear_and_still_matches_its_schema() -> None:
    event = sent()
    sealed = seal(event, owner="civica", household_id=event.household_id, key=KEY)
    # The fields in clear; the ciphertexts are base64, in which short texts like "C4" occur by chance.
    data = json.dumps(sealed.model_dump(mode="json", exclude={"sealed"}))
    for personal in ("arabic", "interpreter", "Prefers mornings", "2022", "C4"):
        assert personal not in data
    assert sealed.sealed is not None and set(sealed.sealed.fields) == {"details", "consent"}
    assert sealed.details.household_size == 5
    assert type(sealed).model_validate_json(sealed.model_dump_json()) == sealed
    assert open_sealed(type(sealed).model_validate_json(sealed.model_dump_json()), KEY) == event


def test_a_sealed_field_moved_to_another_message_does_not_open() -> None:
    sealed = seal(accepted(), owner="odense-brobygning", household_id=uuid4(), key=KEY)
    moved = accepted().model_copy(update={"assignee": ERASED, "sealed": sealed.sealed})
    with pytest.raises(SealBroken, match="assignee"):
        open_sealed(moved, KEY)
    with pytest.raises(SealBroken):
        open_sealed(sealed, bytes(32))


def test_without_the_key_the_fields_are_applied_as_erased() -> None:
    sealed = seal(accepted(), owner="odense-brobygning", household_id=uuid4(), key=KEY)
    opened = open_sealed(sealed, None)
    assert (opened.assignee, opened.sealed) == (ERASED, None)


def test_an_event_without_personal_fields_is_left_as_it_is() -> None:
    event = facts.SettlementReported(household_id=uuid4(), at=AT, by=BRIDGE)
    assert seal(event, owner="x", household_id=event.household_id, key=KEY) is event


def test_the_owner_hands_each_recipients_key_to_that_recipient_alone_and_not_after_erasure(
    tmp_path: Path,
) -> None:
    keys = ExchangeKeys(SqliteDatabase(str(tmp_path / "node.sqlite3")))
    household_id = uuid4()
    for_civica = keys.for_sending(household_id, "civica")
    for_fab = keys.for_sending(household_id, "fab")
    assert for_civica is not None and for_fab is not None and for_civica != for_fab
    assert keys.release(household_id, "civica", "civica") == for_civica
    assert keys.release(household_id, "fab", "fab") == for_fab
    with pytest.raises(KeyNotShared):
        keys.release(household_id, "fab", "civica")  # asking for another's key, by name
    with pytest.raises(KeyNotShared):
        keys.release(household_id, "kvinfo", "kvinfo")  # nothing was sealed for it
    with pytest.raises(KeyNotShared):
        keys.release_legacy(household_id, "civica")  # the old key is given to no new recipient
    keys.erase(household_id)
    assert keys.release(household_id, "civica", "civica") is None
    with pytest.raises(KeyNotShared):  # to a stranger, not even that the household was erased here
        keys.release(household_id, "kvinfo", "kvinfo")
    assert keys.for_sending(household_id, "civica") is None
    assert keys.for_sending(household_id, "kvinfo") is None  # no fresh key for a new recipient either
    again = ExchangeKeys(SqliteDatabase(str(tmp_path / "node.sqlite3")))
    assert again.release(household_id, "fab", "fab") is None
    assert again.for_sending(household_id, "kvinfo") is None


def _old_scheme_key(db: SqliteDatabase, household_id: UUID, *recipients: str) -> bytes:
    """What a node of the old scheme kept: one key of the household, and whom it sent fields sealed so."""
    key = HouseholdKeys(db, table="exchange_keys").for_writing(household_id)
    for recipient in recipients:
        db.run(
            "INSERT INTO exchange_key_recipients (household_id, organisation) VALUES (?, ?)",
            (str(household_id), recipient),
        )
    return key


def test_a_message_sealed_under_the_old_one_key_still_opens_for_its_recipient_until_erased(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(str(tmp_path / "bridge.sqlite3"))
    bridge_keys = ExchangeKeys(db)
    household_id = uuid4()
    old_key = _old_scheme_key(db, household_id, "civica")
    event = r.ReferralCompleted(referral_id=uuid4(), at=AT, by=BRIDGE, outcome="Mentor found")
    old = seal(event, owner="odense-brobygning", household_id=household_id, key=old_key)
    assert old.sealed is not None and old.sealed.recipient is None
    # As a message of then arrives: its JSON names no recipient.
    old = type(old).model_validate_json(old.model_dump_json(exclude={"sealed": {"recipient"}}))
    owners = KeyOwners()
    owners.register("odense-brobygning", bridge_keys)
    assert ExchangeOpener(InProcessKeyDirectory("civica", owners))(old) == event
    with pytest.raises(KeyNotShared):
        ExchangeOpener(InProcessKeyDirectory("fab", owners))(old)
    # A new message to the same recipient is sealed under its own key, not the old one.
    new = ExchangeSealer(bridge_keys, "odense-brobygning")(event, household_id, "civica")
    assert new.sealed is not None and new.sealed.recipient == "civica"
    with pytest.raises(SealBroken):
        open_sealed(new, old_key)
    bridge_keys.erase(household_id)
    assert ExchangeOpener(InProcessKeyDirectory("civica", owners))(old).outcome == ERASED


def test_what_was_sealed_for_one_recipient_opens_for_no_other_even_one_sent_the_same_household(
    tmp_path: Path,
) -> None:
    owners = KeyOwners()
    civica_keys = ExchangeKeys(SqliteDatabase(str(tmp_path / "civica.sqlite3")))
    owners.register("civica", civica_keys)
    sealer = ExchangeSealer(civica_keys, "civica")
    event = sent()
    to_bridge = sealer(event, event.household_id, "odense-brobygning")
    to_jobcentre = sealer(event, event.household_id, "jobcenter-odense")
    jobcentre = InProcessKeyDirectory("jobcenter-odense", owners)
    assert ExchangeOpener(jobcentre)(to_jobcentre) == event
    # Neither by the message's own naming, nor by asking for the bridge builder's key, nor with its own.
    with pytest.raises(KeyNotShared):
        ExchangeOpener(jobcentre)(to_bridge)
    with pytest.raises(SealBroken):
        open_sealed(to_bridge, jobcentre.key("civica", event.household_id, "jobcenter-odense"))
    # Relabelled as its own: its key does not open it (and the AAD names the recipient sealed for).
    assert to_bridge.sealed is not None
    relabelled = to_bridge.sealed.model_copy(update={"recipient": "jobcenter-odense"})
    with pytest.raises(SealBroken):
        ExchangeOpener(jobcentre)(to_bridge.model_copy(update={"sealed": relabelled}))


def test_a_recipient_opens_with_the_owners_key_and_reads_erased_once_the_owner_erased(tmp_path: Path) -> None:
    owners = KeyOwners()
    bridge_keys = ExchangeKeys(SqliteDatabase(str(tmp_path / "bridge.sqlite3")))
    owners.register("odense-brobygning", bridge_keys)
    household_id = uuid4()
    event = r.ReferralCompleted(referral_id=uuid4(), at=AT, by=BRIDGE, outcome="Mentor found")
    sealed = ExchangeSealer(bridge_keys, "odense-brobygning")(event, household_id, "civica")
    civica = ExchangeOpener(InProcessKeyDirectory("civica", owners))
    assert civica(sealed) == event
    with pytest.raises(KeyNotShared):
        ExchangeOpener(InProcessKeyDirectory("fab", owners))(sealed)
    bridge_keys.erase(household_id)
    assert civica(sealed) == event  # cached in memory until civica itself erases the household
    civica.directory.forget(household_id)
    assert civica(sealed).outcome == ERASED
    owners.unregister("odense-brobygning", bridge_keys)  # its node closed: ask again later
    with pytest.raises(KeyUnavailable):
        civica(sealed)


def test_an_owner_that_cannot_be_asked_is_a_transient_failure() -> None:
    sealed = seal(accepted(), owner="odense-brobygning", household_id=uuid4(), key=KEY)
    with pytest.raises(KeyUnavailable):
        ExchangeOpener(InProcessKeyDirectory("civica", KeyOwners()))(sealed)
    assert issubclass(KeyUnavailable, ConnectionError)  # the consumer retries these, never parks
