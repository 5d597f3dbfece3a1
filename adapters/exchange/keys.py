"""Exchange keys: a household's personal fields in integration events, sealed so that Kafka never holds them.

Each node keeps, beside its storage keys, an exchange key per household it sends personal fields about
(`exchange_keys`), and which organisations it sent them to (`exchange_key_recipients`). The sender seals
each personal field with AES-GCM under its key (AAD: the event type, the field, the key's owner and
household, and the id the event is about); the message carries the ciphertext and the owner and household
ids only. A recipient obtains the key outside Kafka through a KeyDirectory (the owner's API, or the owner's
node in the same process), opens the fields on receipt and stores them under its own storage key. Erasing
the household deletes the key: its messages left on the broker stay sealed, and a message opened after
that reads as erased. A recipient may cache keys in memory, and drops them when it erases the household.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import httpx
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


class ExchangeKeys:
    """A node's own exchange keys (one per household it sent personal fields about) and their recipients."""

    def __init__(self, db: SqlDatabase, cipher: Cipher | None = None) -> None:
        self._keys = HouseholdKeys(db, cipher, table="exchange_keys")
        self._db = db
        self._recipients: set[tuple[UUID, str]] = set()
        with db.transaction() as tx:
            tx.execute(
                "CREATE TABLE IF NOT EXISTS exchange_key_recipients (household_id TEXT NOT NULL,"
                " organisation TEXT NOT NULL, PRIMARY KEY (household_id, organisation))"
            )

    def for_sending(self, household_id: UUID, to: str) -> bytes | None:
        """The key to seal the household's fields for `to` with, recording `to` as a recipient first; None
        once the household is erased here (its fields then leave as stand-ins only)."""
        if (household_id, to) not in self._recipients:
            with self._db.transaction() as tx:
                tx.execute(
                    "INSERT INTO exchange_key_recipients (household_id, organisation) VALUES (?, ?)"
                    " ON CONFLICT (household_id, organisation) DO NOTHING",
                    (str(household_id), to),
                )
            self._recipients.add((household_id, to))
        try:
            return self._keys.for_writing(household_id)
        except HouseholdErased:
            return None

    def is_recipient(self, household_id: UUID, organisation: str) -> bool:
        if (household_id, organisation) in self._recipients:
            return True
        with self._db.transaction() as tx:
            rows = tx.execute(
                "SELECT 1 FROM exchange_key_recipients WHERE household_id = ? AND organisation = ?",
                (str(household_id), organisation),
            )
        return bool(rows)

    def release(self, household_id: UUID, to: str) -> bytes | None:
        """The key for a recorded recipient; None once erased. KeyNotShared for anyone else."""
        if not self.is_recipient(household_id, to):
            raise KeyNotShared(f"No personal fields of household {household_id} were sent to {to}")
        return self._keys.for_reading(household_id)

    def erase(self, household_id: UUID, at: datetime | None = None) -> None:
        self._keys.erase(household_id, at or datetime.now(UTC))


def _aad(event: IntegrationEvent, name: str, owner: str, household_id: UUID) -> bytes:
    about = getattr(event, "referral_id", None) or getattr(event, "household_id", None)
    return f"{event.event_type}|{name}|{owner}|{household_id}|{about}".encode()


def seal(event: IntegrationEvent, *, owner: str, household_id: UUID, key: bytes | None) -> IntegrationEvent:
    """The event with each personal field's value replaced by its stand-in and sealed under `key`
    (without a key, an erased household's: the stand-ins only)."""
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
            sealed = aes.encrypt(nonce, plain, _aad(event, name, owner, household_id))
            fields[name] = base64.b64encode(nonce + sealed).decode("ascii")
        update["sealed"] = SealedFields(owner=owner, household_id=household_id, fields=fields)
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
                raw[:_NONCE], raw[_NONCE:], _aad(event, name, sealed.owner, sealed.household_id)
            )
        except InvalidTag:
            raise SealBroken(
                f"{name} of {event.event_type} does not open under {sealed.owner}'s key"
            ) from None
        values[name] = json.loads(plain)
    return type(event).model_validate(values)


class ExchangeSealer:
    """The Outbound's last step: seals what may leave (after the allow-list) under this node's own key."""

    def __init__(self, keys: ExchangeKeys, organisation: str) -> None:
        self.keys = keys
        self.organisation = organisation

    def __call__(self, event: IntegrationEvent, household_id: UUID, to: str) -> IntegrationEvent:
        if not personal_fields(type(event)):
            return event
        key = self.keys.for_sending(household_id, to)
        return seal(event, owner=self.organisation, household_id=household_id, key=key)


class KeyDirectory(Protocol):
    """Where a recipient obtains the owner's exchange key of a household: never through Kafka."""

    def key(self, owner: str, household_id: UUID) -> bytes | None:
        """The key; None when the owner erased the household (or has no such key). Raises KeyUnavailable
        when the owner cannot be asked now, KeyNotShared when it refuses."""
        ...

    def forget(self, household_id: UUID) -> None:
        """Drop any cached key of the household (this node erased it)."""
        ...


class _Cache:
    def __init__(self) -> None:
        self._keys: dict[tuple[str, UUID], bytes] = {}
        self._lock = threading.Lock()

    def get(self, owner: str, household_id: UUID, fetch: Callable[[], bytes | None]) -> bytes | None:
        with self._lock:
            cached = self._keys.get((owner, household_id))
        if cached is not None:
            return cached
        key = fetch()
        if key is not None:
            with self._lock:
                self._keys[(owner, household_id)] = key
        return key

    def forget(self, household_id: UUID) -> None:
        with self._lock:
            for known in [k for k in self._keys if k[1] == household_id]:
                del self._keys[known]


class KeyOwners:
    """The exchange keys of the nodes running in this process, by organisation (the demo, flow tests)."""

    def __init__(self) -> None:
        self._owners: dict[str, ExchangeKeys] = {}

    def register(self, organisation: str, keys: ExchangeKeys) -> None:
        self._owners[organisation] = keys

    def unregister(self, organisation: str, keys: ExchangeKeys) -> None:
        """The node closed: its keys are not to be asked for until it runs again (not another's)."""
        if self._owners.get(organisation) is keys:
            del self._owners[organisation]

    def of(self, organisation: str) -> ExchangeKeys:
        keys = self._owners.get(organisation)
        if keys is None:
            raise KeyUnavailable(f"{organisation}'s node does not run in this process")
        return keys


class InProcessKeyDirectory:
    """Asks the owner's node in the same process, as `requester`, with the same rules as its API."""

    def __init__(self, requester: str, owners: KeyOwners) -> None:
        self.requester = requester
        self._owners = owners
        self._cache = _Cache()

    def key(self, owner: str, household_id: UUID) -> bytes | None:
        return self._cache.get(
            owner, household_id, lambda: self._owners.of(owner).release(household_id, self.requester)
        )

    def forget(self, household_id: UUID) -> None:
        self._cache.forget(household_id)


class HttpKeyDirectory:
    """Asks the owner's API (`GET /v1/exchange-keys/{household_id}`) with a service token of `requester`'s.

    `peers` maps organisations to their API's base URL; `token(audience)` makes a bearer token for one.
    """

    PURPOSE = "open the personal fields of received integration events"

    def __init__(
        self,
        requester: str,
        peers: dict[str, str],
        token: Callable[[str], str],
        *,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.requester = requester
        self._peers = peers
        self._token = token
        self._client = client or httpx.Client(timeout=timeout)
        self._cache = _Cache()

    def key(self, owner: str, household_id: UUID) -> bytes | None:
        return self._cache.get(owner, household_id, lambda: self._fetch(owner, household_id))

    def forget(self, household_id: UUID) -> None:
        self._cache.forget(household_id)

    def _fetch(self, owner: str, household_id: UUID) -> bytes | None:
        base = self._peers.get(owner)
        if base is None:
            raise KeyNotShared(f"No API URL is configured for {owner} (COORDINATION_PEER_URLS)")
        headers = {"Authorization": f"Bearer {self._token(owner)}", "X-Purpose": self.PURPOSE}
        try:
            response = self._client.get(
                f"{base.rstrip('/')}/v1/exchange-keys/{household_id}", headers=headers
            )
        except httpx.HTTPError as error:
            raise KeyUnavailable(f"{owner}'s API did not answer: {type(error).__name__}") from None
        if response.status_code in (404, 410):
            return None
        if response.status_code == 403:
            raise KeyNotShared(f"{owner} does not share household {household_id}'s key with {self.requester}")
        if response.status_code != 200:
            raise KeyUnavailable(f"{owner}'s API answered {response.status_code} for an exchange key")
        return base64.b64decode(response.json()["key"])


class ExchangeOpener:
    """The Inbound's first step: opens a received event's sealed fields with the owner's key."""

    def __init__(self, directory: KeyDirectory) -> None:
        self.directory = directory

    def __call__(self, event: IntegrationEvent) -> IntegrationEvent:
        sealed = event.sealed
        if sealed is None:
            return event
        key = self.directory.key(sealed.owner, sealed.household_id)
        if key is None:
            log.info("exchange.key_erased", event_type=event.event_type, owner=sealed.owner)
        return open_sealed(event, key)


def forget_on_erasure(keys: ExchangeKeys, directory: KeyDirectory) -> Callable[[UUID], None]:
    """The erasure hook: delete this node's exchange key of the household and drop others' cached keys."""

    def forget(household_id: UUID) -> None:
        keys.erase(household_id)
        directory.forget(household_id)

    return forget
