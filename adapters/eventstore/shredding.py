"""Crypto-shredding: each household's personal event attributes encrypted under a key of its own.

The ShreddingMapper finds the household a stored event is about and encrypts only the attributes that
coordination/domain/personal_fields.py does not allow in clear, with AES-GCM under that household's key;
field names, the key id (the household id) and the nonce stay readable, and so does every other
attribute. Erasing the household deletes its key: its personal attributes then read as the stand-ins the
same module defines, and the rest of the history replays as before. Events stored before shredding
existed (plain attributes) load unchanged. The library's cipher, when configured, still encrypts the whole
stored state on top of this, and wraps the household keys kept in the node's database.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Aggregate, DomainEventProtocol, Snapshot
from eventsourcing.persistence import (
    ApplicationRecorder,
    Cipher,
    Compressor,
    Mapper,
    StoredEvent,
    Transcoder,
    Transcoding,
)
from eventsourcing.utils import get_topic

from adapters.eventstore.event_decoding import partial_domain_event
from adapters.eventstore.household_keys import HouseholdKeys
from adapters.sql.node_db import SqlDatabase, database_for
from coordination.domain.errors import HouseholdErased
from coordination.domain.household import Household
from coordination.domain.personal_fields import is_personal, redaction
from coordination.domain.vacancy import Vacancy

log = structlog.get_logger()

_HOUSEHOLD_EVENTS = frozenset(
    cls for cls in vars(Household).values() if isinstance(cls, type) and issubclass(cls, Aggregate.Event)
)
_HOUSEHOLD_TOPIC = get_topic(Household)


@dataclass(frozen=True)
class Shredded:
    """A personal attribute as stored: ciphertext under the household's key, and its non-personal part."""

    key_id: UUID
    nonce: bytes
    ciphertext: bytes
    kept: Any


class ShreddedTranscoding(Transcoding):
    type = Shredded
    name = "shredded"

    def __init__(self, transcoder: Transcoder) -> None:
        # The fast transcoder hands a typed value's data over undecoded; the kept part may hold values.
        self._walk = getattr(transcoder, "_walk", lambda value: value)

    def encode(self, obj: Shredded) -> dict[str, Any]:
        return {
            "key": obj.key_id.hex,
            "nonce": base64.b64encode(obj.nonce).decode("ascii"),
            "ciphertext": base64.b64encode(obj.ciphertext).decode("ascii"),
            "kept": obj.kept,
        }

    def decode(self, data: dict[str, Any]) -> Shredded:
        return Shredded(
            key_id=UUID(data["key"]),
            nonce=base64.b64decode(data["nonce"]),
            ciphertext=base64.b64decode(data["ciphertext"]),
            kept=self._walk(data["kept"]),
        )


class ShreddingMapper(Mapper[UUID]):
    """The library's Mapper, with each household's personal attributes under the household's own key."""

    def __init__(
        self,
        transcoder: Transcoder,
        keys: HouseholdKeys,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
    ) -> None:
        super().__init__(transcoder, compressor=compressor, cipher=cipher)
        transcoder.register(ShreddedTranscoding(transcoder))
        self.keys = keys
        # Set once the application has its recorder: finds the household of an aggregate created before
        # shredding existed, from its first stored event.
        self.recorder: ApplicationRecorder | None = None

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = vars(domain_event)
        cls = type(domain_event)
        if cls is Snapshot:
            household_id = self._household(domain_event, cls, state)
            names = ["state"] if household_id is not None else []
        else:
            names = [name for name, value in state.items() if value is not None and is_personal(cls, name)]
            household_id = self._household(domain_event, cls, state) if names else self._remember(cls, state)
        if not names:
            return super().to_stored_event(domain_event)
        if household_id is None:
            # Only an aggregate created before shredding whose first event says nothing of a household.
            log.warning(
                "shredding.no_household",
                event_class=cls.__qualname__,
                originator_id=str(domain_event.originator_id),
            )
            return super().to_stored_event(domain_event)
        key = AESGCM(self.keys.for_writing(household_id))
        shredded = dict(state)
        for name in names:
            value = state[name]
            nonce = os.urandom(12)
            plain = self.transcoder.encode({"v": value})
            ciphertext = key.encrypt(nonce, plain, _aad(domain_event, name))
            kept = None if cls is Snapshot else redaction(cls, name).keep(value)
            shredded[name] = Shredded(
                key_id=_key_id(cls, state, household_id), nonce=nonce, ciphertext=ciphertext, kept=kept
            )
        stand_in = object.__new__(cls)
        object.__setattr__(stand_in, "__dict__", shredded)
        return super().to_stored_event(stand_in)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        domain_event = super().to_domain_event(stored_event)
        state = domain_event.__dict__
        for name, value in state.items():
            if type(value) is Shredded:
                state[name] = self._open(domain_event, name, value)
        return domain_event

    def to_partial_domain_event(self, stored_event: Any, names: tuple[str, ...]) -> DomainEventProtocol[UUID]:
        """The event with only the named attributes decoded (a projection's `reads`), opened as above."""
        if self.cipher or self.compressor:
            return self.to_domain_event(stored_event)
        domain_event = partial_domain_event(self, stored_event, names)
        state = domain_event.__dict__
        for name, value in state.items():
            if type(value) is Shredded:
                state[name] = self._open(domain_event, name, value)
        return domain_event

    def _open(self, domain_event: Any, name: str, shredded: Shredded) -> Any:
        household_id: UUID | None = shredded.key_id
        if type(domain_event) is Vacancy.OfferReserved:  # named by its offer (`_key_id`)
            household_id = self.keys.household_of(shredded.key_id) or shredded.key_id
        key = self.keys.for_reading(household_id)
        if key is None:
            if type(domain_event) is Snapshot:
                # Erasure deletes the snapshots of the household's aggregates; this one was missed.
                raise HouseholdErased(
                    "A snapshot of {originator_id} is of an erased household",
                    originator_id=domain_event.originator_id,
                )
            return redaction(type(domain_event), name).erased(shredded.kept)
        try:
            plain = AESGCM(key).decrypt(shredded.nonce, shredded.ciphertext, _aad(domain_event, name))
        except InvalidTag:
            where = f"{name} of {domain_event.originator_id} v{domain_event.originator_version}"
            raise ValueError(f"{where} does not decrypt under its household's key") from None
        return self.transcoder.decode(plain)["v"]

    def _household(self, domain_event: Any, cls: type[Any], state: dict[str, Any]) -> UUID | None:
        """The household the event is about, remembering which aggregates and offers are about it."""
        originator_id: UUID = domain_event.originator_id
        if cls in _HOUSEHOLD_EVENTS or (cls is Snapshot and state.get("topic") == _HOUSEHOLD_TOPIC):
            return originator_id
        household_id = self._remember(cls, state)
        if household_id is not None:
            return household_id
        if cls is Vacancy.OfferDeclined:
            return self.keys.household_of(state["offer_id"])
        return self.keys.household_of(originator_id) or self._from_first_event(originator_id)

    def _remember(self, cls: type[Any], state: dict[str, Any]) -> UUID | None:
        """An event naming its household: what it is about (its aggregate; for a vacancy's reservation,
        the offer) is remembered as about that household, for the aggregate's later events."""
        household_id = state.get("household_id")
        if not isinstance(household_id, UUID) or cls in _HOUSEHOLD_EVENTS:
            return None
        if cls is Vacancy.OfferReserved:
            # Its key is found through the offer (`_open`): encrypted under the household every process
            # finds the offer is about, which is not the one it names when that is a stand-in.
            return self.keys.remember(state["offer_id"], household_id)
        self.keys.remember(state["originator_id"], household_id)
        return household_id

    def _from_first_event(self, originator_id: UUID) -> UUID | None:
        if self.recorder is None:
            return None
        first = self.recorder.select_events(originator_id, lte=1, limit=1)
        if not first or first[0].topic == get_topic(Snapshot):
            return None
        household_id = getattr(self.to_domain_event(first[0]), "household_id", None)
        if isinstance(household_id, UUID):
            self.keys.remember(originator_id, household_id)
            return household_id
        return None


def _key_id(cls: type[Any], state: dict[str, Any], household_id: UUID) -> UUID:
    """How a shredded attribute names the key it is under: by its household, in clear. A vacancy's
    reservation names it by the offer instead (the node's `household_subjects` maps the offer to its
    household), so the vacancy's history does not say who it was offered, or let, to."""
    return state["offer_id"] if cls is Vacancy.OfferReserved else household_id  # type: ignore[no-any-return]


def _aad(domain_event: Any, name: str) -> bytes:
    # Binds the ciphertext to its place: moved to another attribute, event or aggregate, it will not open.
    return f"{domain_event.originator_id}|{domain_event.originator_version}|{name}".encode()


def shredding_mapper(app: Any, db: SqlDatabase | None = None) -> ShreddingMapper:
    """The mapper for an application on a node's store: the library's (its transcoder, compressor and
    cipher from the app's env) with the household keys in `db`, by default the database of that store."""
    stock = app.factory.mapper(transcoder=app.construct_transcoder())
    keys = HouseholdKeys(database_for(app.env) if db is None else db, stock.cipher)
    return ShreddingMapper(stock.transcoder, keys, compressor=stock.compressor, cipher=stock.cipher)
