"""Exchange keys: a household's personal fields in integration events, sealed so that Kafka never holds them.

Each node keeps, beside its storage keys, an exchange key per household AND recipient it sends personal
fields to (`exchange_recipient_keys`, under an id derived from both; who they are in
`exchange_sealed_for`). The sender seals each personal field with AES-GCM under the key of the message's
recipient (AAD: the event type, the field, the key's owner, household and recipient, and the id the event
is about); the message carries the ciphertext and the owner, household and recipient only. A recipient
obtains its own key outside Kafka through a KeyDirectory (the owner's API, or the owner's node in the same
process): the owner hands the key of what it sealed for X to X alone, checked against the requester's
token, so what was sent to one organisation opens for no other, even one that reads every topic.

Every message to the same recipient about the same household shares that recipient's key (not one key per
message): each was addressed to it and passed its allow-list, so the key opens nothing it was not sent; a
key per message would cost a key request per message and buy no protection between messages the same
organisation may read anyway. A recipient sent more later (a second referral) opens it with the key it has.

Before this, a node sealed all of a household's fields under ONE key (`exchange_keys`) and gave it to every
organisation it sent anything (`exchange_key_recipients`). Messages sealed so (their SealedFields name no
recipient) still open with that key for those organisations until the household is erased; no new message
is sealed under it and no new organisation is given it.

Erasing the household deletes its keys of every recipient and the old one: its messages left on the broker
stay sealed, and a message opened after that reads as erased. A recipient may cache keys in memory, and
drops them when it erases the household.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher

from adapters.eventstore.household_keys import HouseholdKeys
from adapters.sql.node_db import SqlDatabase
from coordination.domain.errors import HouseholdErased, NotPermitted
from coordination.integration.events import IntegrationEvent, SealedFields
from coordination.integration.personal import personal_fields, stand_in

log = structlog.get_logger()

_NONCE = 12
# Who a node's own requests to other nodes' APIs name as the person (an operator's service token).
NODE_PERSON = "exchange-node"


class KeyUnavailable(ConnectionError):
    """The key's owner could not be asked now (down, unreachable): retry the message later, never park it."""


class KeyNotShared(NotPermitted):
    """The owner does not share this household's exchange key with the asking organisation."""


class SealBroken(ValueError):
    """A sealed field does not open under its owner's key (tampered, or moved from another message)."""


def recipient_key_id(household_id: UUID, recipient: str) -> UUID:
    """The id of the exchange key of one household and recipient (a one-way digest of both)."""
    return uuid5(household_id, f"exchange-key:{recipient}")


class ExchangeKeys:
    """A node's own exchange keys: one per household and recipient, and the one per household of before."""

    def __init__(self, db: SqlDatabase, cipher: Cipher | None = None) -> None:
        # The old scheme's keys; its tombstones also say a household is erased, for every recipient.
        self._legacy = HouseholdKeys(db, cipher, table="exchange_keys")
        self._keys = HouseholdKeys(db, cipher, table="exchange_recipient_keys")
        self._db = db
        self._recipients: set[tuple[UUID, str]] = set()
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS exchange_key_recipients (household_id TEXT NOT NULL,"
                " organisation TEXT NOT NULL, PRIMARY KEY (household_id, organisation))"
            )
            tx.execute(
                "CREATE TABLE IF NOT EXISTS exchange_sealed_for (household_id TEXT NOT NULL,"
                " organisation TEXT NOT NULL, PRIMARY KEY (household_id, organisation))"
            )

    def for_sending(self, household_id: UUID, to: str) -> bytes | None:
        """The key to seal the household's fields for `to` with (`to`'s own), recording `to` first; None
        once the household is erased here (its fields then leave as stand-ins only)."""
        if (household_id, to) not in self._recipients:
            if self._legacy.is_erased(household_id):
                return None  # never a fresh key for a new recipient of an erased household
            with self._db.transaction() as tx:
                tx.execute(
                    "INSERT INTO exchange_sealed_for (household_id, organisation) VALUES (?, ?)"
                    " ON CONFLICT (household_id, organisation) DO NOTHING",
                    (str(household_id), to),
                )
            self._recipients.add((household_id, to))
        try:
            return self._keys.for_writing(recipient_key_id(household_id, to))
        except HouseholdErased:
            return None

    def is_recipient(self, household_id: UUID, organisation: str) -> bool:
        """Whether anything about the household was sealed for `organisation`, under either scheme."""
        if (household_id, organisation) in self._recipients:
            return True
        with self._db.transaction() as tx:
            rows = tx.execute(
                "SELECT 1 FROM exchange_sealed_for WHERE household_id = ? AND organisation = ?"
                " UNION SELECT 1 FROM exchange_key_recipients WHERE household_id = ? AND organisation = ?",
                (str(household_id), organisation, str(household_id), organisation),
            )
        return bool(rows)

    def recipients(self, household_id: UUID) -> list[str]:
        """Every organisation anything about the household was sealed for, under either scheme."""
        rows = self._db.run(
            "SELECT organisation FROM exchange_sealed_for WHERE household_id = ?"
            " UNION SELECT organisation FROM exchange_key_recipients WHERE household_id = ?",
            (str(household_id), str(household_id)),
        )
        return sorted(str(row[0]) for row in rows)

    def release(self, household_id: UUID, sealed_for: str, requester: str) -> bytes | None:
        """The key of what was sealed for `sealed_for`, to `requester` only if it is that organisation and
        something was sealed for it; None once erased. KeyNotShared for anyone else."""
        if requester != sealed_for:
            raise KeyNotShared(
                "What was sealed for {sealed_for} about household {household_id} opens for {sealed_for} alone, "
                "not for {requester}",
                sealed_for=sealed_for,
                household_id=household_id,
                requester=requester,
            )
        if not self._sealed_for(household_id, requester):
            raise KeyNotShared(
                "No personal fields of household {household_id} were sent to {requester}",
                household_id=household_id,
                requester=requester,
            )
        if self._legacy.is_erased(household_id):
            return None  # told only to a recipient: to anyone else, not even that the household was here
        return self._keys.for_reading(recipient_key_id(household_id, requester))

    def release_legacy(self, household_id: UUID, to: str) -> bytes | None:
        """The old scheme's one key of the household, for an organisation it was given to before (to open
        messages sealed then); None once erased. KeyNotShared for anyone else, and for everyone first sent
        something since."""
        with self._db.transaction() as tx:
            given = tx.execute(
                "SELECT 1 FROM exchange_key_recipients WHERE household_id = ? AND organisation = ?",
                (str(household_id), to),
            )
        if not given:
            raise KeyNotShared(
                "No personal fields of household {household_id} were sent to {to} under the old key",
                household_id=household_id,
                to=to,
            )
        return self._legacy.for_reading(household_id)

    def erase(self, household_id: UUID, at: datetime | None = None) -> None:
        """Delete the household's keys of every recipient, and the old one (its tombstone stays)."""
        when = at or datetime.now(UTC)
        self._legacy.erase(household_id, when)
        for organisation in self.recipients(household_id):
            self._keys.erase(recipient_key_id(household_id, organisation), when)
        self._recipients = {known for known in self._recipients if known[0] != household_id}

    def _sealed_for(self, household_id: UUID, organisation: str) -> bool:
        if (household_id, organisation) in self._recipients:
            return True
        rows = self._db.run(
            "SELECT 1 FROM exchange_sealed_for WHERE household_id = ? AND organisation = ?",
            (str(household_id), organisation),
        )
        return bool(rows)


def _aad(event: IntegrationEvent, name: str, owner: str, household_id: UUID, recipient: str | None) -> bytes:
    about = getattr(event, "referral_id", None) or getattr(event, "household_id", None)
    aad = f"{event.event_type}|{name}|{owner}|{household_id}|{about}"
    # The old scheme's messages named no recipient: their AAD stays as it was, so they still open.
    return (aad if recipient is None else f"{aad}|{recipient}").encode()


def seal(
    event: IntegrationEvent,
    *,
    owner: str,
    household_id: UUID,
    key: bytes | None,
    recipient: str | None = None,
) -> IntegrationEvent:
    """The event with each personal field's value replaced by its stand-in and sealed under `key`, the
    owner's key of the household for `recipient` (without a key, an erased household's: the stand-ins
    only). Without a recipient: the old scheme, one key for every recipient (tests of old messages)."""
    names = sorted(n for n in personal_fields(type(event)) if getattr(event, n) not in (None, "", []))
    if not names:
        return event
    update: dict[str, Any] = {name: stand_in(type(event), name, getattr(event, name)) for name in names}
    if key is not None:
        aes = AESGCM(key)
        values = event.model_dump(mode="json", include=set(names))
        fields = {}
        for name in names:
            nonce = os.urandom(_NONCE)
            plain = json.dumps(values[name]).encode()
            sealed = aes.encrypt(nonce, plain, _aad(event, name, owner, household_id, recipient))
            fields[name] = base64.b64encode(nonce + sealed).decode("ascii")
        update["sealed"] = SealedFields(
            owner=owner, household_id=household_id, recipient=recipient, fields=fields
        )
    return event.model_copy(update=update)


def open_sealed(event: IntegrationEvent, key: bytes | None) -> IntegrationEvent:
    """The event with its sealed fields opened under `key`; without a key (erased) the stand-ins stay."""
    sealed = event.sealed
    if sealed is None:
        return event
    if key is None:
        return event.model_copy(update={"sealed": None})
    allowed = personal_fields(type(event))
    values = event.model_dump(mode="json", exclude={"sealed"})
    aes = AESGCM(key)
    for name, text in sealed.fields.items():
        if name not in allowed:
            raise SealBroken(f"{event.event_type} has no personal field {name!r} to seal")
        raw = base64.b64decode(text)
        try:
            plain = aes.decrypt(
                raw[:_NONCE],
                raw[_NONCE:],
                _aad(event, name, sealed.owner, sealed.household_id, sealed.recipient),
            )
        except InvalidTag:
            raise SealBroken(
                f"{name} of {event.event_type} does not open under {sealed.owner}'s key"
            ) from None
        values[name] = json.loads(plain)
    return type(event).model_validate(values)


class ExchangeSealer:
    """The Outbound's last step: seals what may leave (after the allow-list) under this node's own key of
    the household for the message's one recipient."""

    def __init__(self, keys: ExchangeKeys, organisation: str) -> None:
        self.keys = keys
        self.organisation = organisation

    def __call__(self, event: IntegrationEvent, household_id: UUID, to: str) -> IntegrationEvent:
        if not personal_fields(type(event)):
            return event
        key = self.keys.for_sending(household_id, to)
        return seal(event, owner=self.organisation, household_id=household_id, key=key, recipient=to)
