"""The ports a node application is stored through: the store's technology, and the household keys.

The application decides; how its events are recorded, encoded and encrypted is the store's. A node's
composition passes the store in (adapters/eventstore/storage.py has the one the nodes use), and the application
asks it at the library's construction hooks (`construct_env`, `construct_transcoder`, `construct_mapper`)
and when it erases a household.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import Environment


class HouseholdKeys(Protocol):
    """Each household's key to its personal data: erasing the key erases the data (crypto-shredding)."""

    def on_erased_elsewhere(self, listener: Callable[[UUID], None]) -> None: ...

    def notice_erasures(self) -> None: ...

    def watch(self) -> None: ...

    def stop_watching(self) -> None: ...

    def erase(self, household_id: UUID, at: datetime) -> bool: ...

    def for_writing(self, household_id: UUID) -> bytes: ...

    def for_reading(self, household_id: UUID) -> bytes | None: ...

    def subjects_of(self, household_id: UUID) -> list[UUID]: ...

    def is_erased(self, household_id: UUID) -> bool: ...


class NodeStorage(Protocol):
    """How a node application's events are stored: the store's side of the library's construction."""

    def environment(self, environment: Environment) -> Environment:
        """The library's env, with the store's choices added (which recorder saves the events)."""
        ...

    def transcoder(self) -> JSONTranscoder:
        """An empty transcoder: the application registers its transcodings on it."""
        ...

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        """The transcodings of the domain's values."""
        ...

    def mapper(self, application: Any) -> Mapper[UUID]:
        """The mapper of `application` (built while the library constructs it: its env and factory)."""
        ...

    def household_keys(self, application: Any) -> HouseholdKeys | None:
        """The household keys of `application`'s mapper once constructed; None if it does not shred."""
        ...

    def delete_snapshots(self, application: Any, originator_ids: list[UUID]) -> None:
        """Delete the stored snapshots of these aggregates (a snapshot holds personal state)."""
        ...
