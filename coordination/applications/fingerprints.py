"""What a command's receipt keeps of its fingerprint: keyed under the household's key, so erasure unmatches it.

A plain digest of a command's arguments gives them back to anyone who can guess them (a CPR number, the
areas a household explored, a task's text: each is confirmed offline by hashing the guess). A receipt of
a command about a household therefore keeps `hmac-sha256:<household id>:<HMAC of the digest under a key
derived from the household's key>`: a repeat still compares (the digest of its arguments, keyed alike),
and once the household's key is erased the stored value matches nothing at all. Such a repeat is then
answered with its first result without comparing: nothing can be compared, or written, about the
household any more. A command about no household keeps the plain digest, as every receipt did before
(those stored receipts still compare as they did: a value without the prefix is a plain digest).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.storage import HouseholdKeys
from coordination.domain.errors import HouseholdErased
from coordination.domain.household import Household

KEYED = "hmac-sha256:"


def household_of(changed: Sequence[Aggregate], arguments: Mapping[str, Any]) -> UUID | None:
    """The household a command is about: a household it changed, the household an aggregate it changed is
    about, or the household its arguments name (a command that changed nothing, e.g. an erasure notice)."""
    for aggregate in changed:
        if isinstance(aggregate, Household):
            return aggregate.id
    for aggregate in changed:
        household_id = getattr(aggregate, "household_id", None)
        if isinstance(household_id, UUID):
            return household_id
    named = arguments.get("household_id")
    return named if isinstance(named, UUID) else None


def kept(plain: str, household_id: UUID | None, keys: HouseholdKeys | None) -> str:
    """What a receipt keeps of the fingerprint `plain` of a command about `household_id`."""
    if household_id is None or keys is None:
        return plain
    try:
        key = keys.for_writing(household_id)
    except HouseholdErased:
        return f"{KEYED}{household_id}:"  # erased already (a notice to forget it): nothing to key it under
    return f"{KEYED}{household_id}:{_keyed(key, plain)}"


def matches(stored: str, plain: str, keys: HouseholdKeys | None) -> bool:
    """Whether a receipt's stored fingerprint is of a command whose plain fingerprint is `plain`; True for
    a household erased since (nothing is left to compare)."""
    household_id = household_of_fingerprint(stored)
    if household_id is None:
        return hmac.compare_digest(stored, plain)
    key = None if keys is None else keys.for_reading(household_id)
    if key is None:
        return True
    return hmac.compare_digest(stored, f"{KEYED}{household_id}:{_keyed(key, plain)}")


def household_of_fingerprint(stored: str) -> UUID | None:
    """The household a stored fingerprint is keyed under; None for a plain digest."""
    if not stored.startswith(KEYED):
        return None
    return UUID(stored[len(KEYED) :].split(":", 1)[0])


def _keyed(household_key: bytes, plain: str) -> str:
    # A key of its own for fingerprints, derived from the household's (which encrypts its personal fields).
    fingerprint_key = hmac.new(household_key, b"rehousing command fingerprint", hashlib.sha256).digest()
    return hmac.new(fingerprint_key, plain.encode(), hashlib.sha256).hexdigest()
