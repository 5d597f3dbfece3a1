"""The base of every organisation's node application: idempotent commands with receipts.

A command runs once per command id: its aggregates and a receipt (`CommandReceipt`) are saved in one
transaction, and a repeat gets the first result back. The rest of what every node application does is in
a room of its own, mixed in here: the kept-aggregate cache (kept.py, an optimisation), erasure at every
node (shredding.py), the history read from the log (history.py) and the shortcuts past the eventsourcing
library (library_patches.py). The store's technology is passed in (`NodeStorage`, storage.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Transcoder
from eventsourcing.utils import Environment, EnvType
from pydantic import BaseModel

from coordination.applications import fingerprints
from coordination.applications.answers import ReferralView, SupportLinkView
from coordination.applications.group_commit import GroupCommit
from coordination.applications.history import HistoryFromLog, HistorySource
from coordination.applications.kept import KeptAggregates
from coordination.applications.library_patches import CommitListener, LibraryShortcuts
from coordination.applications.replay import replay
from coordination.applications.shredding import ErasureHook, Shredding
from coordination.applications.storage import HouseholdKeys, NodeStorage
from coordination.domain.errors import (
    CommandIdReused,
    ConcurrencyConflict,
    InvalidInput,
    NotFound,
    VersionMismatch,
)
from coordination.domain.personal_fields import declare_not_personal
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink
from coordination.domain.values import Actor

A = TypeVar("A", bound=Aggregate)

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:rehousing-coordination")
# The versions a caller decided on (HTTP If-Match), per aggregate id, for the commands run in this context.
_expected_versions: ContextVar[dict[UUID, int] | None] = ContextVar("expected_versions", default=None)
# The ids of commands run under `noticing_repeats()` that had been handled before (each returned its first
# result and changed nothing).
_repeats: ContextVar[list[UUID] | None] = ContextVar("repeats", default=None)


def derived_id(*parts: object) -> UUID:
    """A UUID derived from its cause, so creating the same thing twice collides instead of duplicating."""
    return uuid5(_NAMESPACE, "/".join(str(part) for part in parts))


class CommandReceipt(Aggregate):
    """Proof that a command id was handled, saved in the same transaction as the command's events.

    A repeated command id therefore finds its receipt and gets the first result back; a concurrent
    repeat collides on the receipt's id in the store, and nothing is applied twice.
    """

    class Recorded(Aggregate.Created):
        command: str
        fingerprint: str
        result_id: UUID | None
        at: datetime

    @event(Recorded)
    def __init__(
        self, id: UUID, command: str, fingerprint: str, result_id: UUID | None, at: datetime
    ) -> None:
        self.command = command
        self.fingerprint = fingerprint
        self.result_id = result_id
        self.at = at


# A receipt's fingerprint is a digest of the command's arguments, not the arguments, keyed under the
# household's key when the command is about one (fingerprints.py).
declare_not_personal(CommandReceipt.Recorded, {"command", "fingerprint", "result_id"})


def require_time(at: datetime) -> datetime:
    """Time is an input, and an unzoned time is a bug waiting to happen at the DST change."""
    if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("`at` must be a timezone-aware datetime")
    return at


def _fingerprint(command: str, arguments: dict[str, Any]) -> str:
    # `at` is left out: a client retrying a request may stamp it anew, and it is still the same command.
    body = {key: _plain(value) for key, value in sorted(arguments.items()) if key != "at"}
    text = json.dumps([command, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    # At module level: a nested function calling itself is a reference cycle, garbage on every command.
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value if isinstance(value, (int, float, bool, type(None))) else str(value)


class NodeApplication(KeptAggregates, Shredding, HistoryFromLog, LibraryShortcuts):
    """Base of the applications of each organisation role; one instance per organisation's node.

    Command methods take plain values and a command id, return ids, and never hand out aggregates.
    """

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {}
    policy: RehousingPolicy

    def __init__(
        self,
        *,
        organisation: str,
        storage: NodeStorage,
        env: dict[str, str] | None = None,
        policy: RehousingPolicy = DEFAULT_POLICY,
        group_commit: bool = False,
        history_source: HistorySource | None = None,
        erasure_hooks: Sequence[ErasureHook] = (),
        after_commit: Sequence[CommitListener] = (),
    ) -> None:
        """`group_commit`: concurrent commands share store transactions (a node whose consumer applies
        messages in several lanes at once).

        The node's other parts, as the composition root (ops/node/bootstrap.py) builds them: `history_source`
        answers `history()` (the timeline projection; without one, the log is read); `erasure_hooks` forget
        an erased household in what else the node holds (views, parked messages, exchange keys);
        `after_commit` hear of each save once it committed (the relay wakes so)."""
        self.organisation = organisation
        # The store's technology (adapters/eventstore/storage.py): asked at the library's construction hooks below.
        self.storage = storage
        self.policy = policy
        self.group_commit: GroupCommit | None = None
        super().__init__(
            env=env, history_source=history_source, erasure_hooks=erasure_hooks, after_commit=after_commit
        )
        if group_commit:
            self.group_commit = GroupCommit(self)
        # Each household's key to its personal data; None when the store does not shred.
        self.household_keys: HouseholdKeys | None = storage.household_keys(self)
        if self.household_keys is not None:
            self.household_keys.on_erased_elsewhere(self._forget_erased)
            # Every process of the node forgets a household erased in another within a second, whether
            # or not it uses a key meanwhile (the README's promise).
            self.household_keys.watch()

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's env with the store's choices (on PostgreSQL, the node's events recorder)."""
        return self.storage.environment(super().construct_env(name, env))

    def construct_mapper(self) -> Mapper[UUID]:
        """The store's mapper: each household's personal attributes under its own key (crypto-shredding)."""
        return self.storage.mapper(self)

    def construct_transcoder(self) -> Transcoder:
        transcoder = self.storage.transcoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        self.storage.register_transcodings(transcoder)

    # Loading

    def _get(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        try:
            aggregate = self._load(aggregate_id)
        except AggregateNotFoundError:
            raise NotFound(
                "No {what} with id {aggregate_id} at {organisation}",
                what=what,
                aggregate_id=aggregate_id,
                organisation=self.organisation,
            ) from None
        if not isinstance(aggregate, cls):
            raise NotFound("{aggregate_id} is not a {what}", aggregate_id=aggregate_id, what=what)
        expected = (_expected_versions.get() or {}).get(aggregate_id)
        if expected is not None and aggregate.version != expected:
            raise VersionMismatch(
                "The {what} {aggregate_id} is at version {version}, not {expected}; reload it and decide again",
                what=what,
                aggregate_id=aggregate_id,
                version=aggregate.version,
                expected=expected,
            )
        return aggregate

    @contextmanager
    def expecting(self, aggregate_id: UUID, version: int) -> Iterator[None]:
        """Commands run in this block refuse to change `aggregate_id` unless it is loaded at `version`.

        Checked against the aggregate as each command loads it, so a change that lands between the
        caller's read and the command is refused (VersionMismatch), and one that races the command's own
        save is refused by the store. Not part of the command's fingerprint: a retry is the same command.
        """
        token = _expected_versions.set({**(_expected_versions.get() or {}), aggregate_id: version})
        try:
            yield
        finally:
            _expected_versions.reset(token)

    def _exists(self, aggregate_id: UUID) -> bool:
        return aggregate_id in self.repository

    def has_handled(self, command_id: UUID) -> bool:
        """Whether a command with this id took effect here (its receipt is stored with its effect)."""
        return self._receipt(derived_id("command", command_id)) is not None

    def first_result(self, command_id: UUID) -> UUID | None:
        """What the command with this id returned when it took effect here; None if it has not (or
        returned nothing). For a caller that repeats a command without its first arguments at hand."""
        receipt = self._receipt(derived_id("command", command_id))
        return None if receipt is None else receipt.result_id

    @contextmanager
    def noticing_repeats(self) -> Iterator[list[UUID]]:
        """The ids of the commands run in this block that had been handled before (each returned its first
        result): a consumer tells a redelivery this way without reading every message's receipt first."""
        found: list[UUID] = []
        token = _repeats.set(found)
        try:
            yield found
        finally:
            _repeats.reset(token)

    # Queries

    def referral(self, referral_id: UUID) -> ReferralView:
        return ReferralView.of(self._get(Referral, referral_id, "referral"))

    def support_link(self, link_id: UUID) -> SupportLinkView:
        return SupportLinkView.of(self._get(SupportLink, link_id, "support link"))

    # Idempotent commands

    def _change(
        self,
        cls: type[A],
        what: str,
        *,
        command: str,
        command_id: UUID,
        aggregate_id: UUID,
        at: datetime,
        by: Actor,
        decide: Callable[[A], object],
        **arguments: Any,
    ) -> UUID:
        """Load one aggregate, let `decide` call its command method, save it once per command id."""

        def work() -> tuple[UUID, list[Aggregate]]:
            aggregate = self._get(cls, aggregate_id, what)
            decide(aggregate)
            return aggregate.id, [aggregate]

        arguments.update(aggregate_id=aggregate_id, at=at, by=by)
        self._once(command, command_id, arguments, work)
        return aggregate_id

    def _once(
        self,
        command: str,
        command_id: UUID,
        arguments: dict[str, Any],
        work: Callable[[], tuple[UUID | None, Sequence[Aggregate]]],
    ) -> UUID | None:
        """Run `work` once per command id; save its aggregates and a receipt in one transaction.

        `work` loads, decides and returns (result id, changed aggregates); it must not save.

        Optimistic: the receipt is not looked up first (a repeat is rare, and the lookup was a round trip
        on every command). A repeat is found when it fails: its receipt collides in the store with the
        first one's, so nothing of it is written, or its decision fails on the state the first one left.
        Either way the receipt is read then, and the first result is returned.

        Aggregates this process committed are lent to `work` as they were kept (committed.py), without
        asking the store. Another process may have changed one since: a change to it is refused by the
        store (ConcurrencyConflict, as for any rival), one only read is checked before saving
        (`_check_kept`), and a refusal made on one that has moved on is decided again on what the store
        has, so no answer rests on a stale copy.
        """
        if not isinstance(command_id, UUID):
            raise InvalidInput("command_id must be a UUID, got {kind}", kind=type(command_id).__name__)
        require_time(arguments["at"])
        receipt_id = derived_id("command", command_id)
        fingerprint = _fingerprint(command, arguments)
        return self._on_kept(
            lambda: self._saved_once(command, command_id, arguments, work, receipt_id, fingerprint),
            keep=lambda aggregate: not isinstance(aggregate, CommandReceipt),
        )

    def _saved_once(
        self,
        command: str,
        command_id: UUID,
        arguments: dict[str, Any],
        work: Callable[[], tuple[UUID | None, Sequence[Aggregate]]],
        receipt_id: UUID,
        fingerprint: str,
    ) -> tuple[UUID | None, Sequence[Aggregate] | None]:
        """`_once` in the borrowing context: the result, and the aggregates saved (None for a repeat,
        which saved nothing)."""
        changed: Sequence[Aggregate] = ()
        try:
            result_id, changed = work()
            changed = [*changed, *self._also_changed(changed)]
            self._check_kept(changed)
            household_id = fingerprints.household_of(changed, arguments)
            receipt = CommandReceipt(
                id=receipt_id,
                command=command,
                fingerprint=fingerprints.kept(fingerprint, household_id, self.household_keys),
                result_id=result_id,
                at=arguments["at"],
            )
            if self.group_commit is None:
                self.save(*changed, receipt)
            else:
                self.group_commit.save(*changed, receipt)
        except IntegrityError:
            # Either the same command id was handled (return its result) or another command changed
            # one of the aggregates first (report the conflict; never overwrite).
            earlier = self._receipt(receipt_id)
            if earlier is not None:
                return self._repeated(earlier, command, fingerprint, command_id), None
            names = ", ".join(f"{type(a).__name__} {a.id}" for a in changed)
            raise ConcurrencyConflict(
                "{command} conflicted with another change to {names}; reload and try again",
                command=command,
                names=names,
            ) from None
        except Exception:
            # A refusal is the command's answer unless the command was handled before: then the state
            # it left may be what refuses the repeat (or what fails to encrypt, once erased).
            earlier = self._receipt(receipt_id)
            if earlier is not None:
                return self._repeated(earlier, command, fingerprint, command_id), None
            raise
        self._saved(changed)
        return result_id, changed

    def _also_changed(self, changed: Sequence[Aggregate]) -> list[Aggregate]:
        """What else a command's changes change, saved with them (the owner's household networks)."""
        return []

    def _receipt(self, receipt_id: UUID) -> CommandReceipt | None:
        # Every command asks, and receipts are never snapshotted: read the receipt's events directly
        # rather than through the repository, which first queries the snapshot store for nothing.
        receipt = replay(None, self.events.get(receipt_id))
        if receipt is None:
            return None
        assert isinstance(receipt, CommandReceipt)
        return receipt

    def keyed_like_receipt(self, command_id: UUID, plain: str) -> str:
        """`plain` (e.g. a digest of the HTTP request that ran the command) keyed as the command's receipt
        keeps its fingerprint: under its household's key, so erasing the household unmatches it too."""
        receipt = self._receipt(derived_id("command", command_id))
        household_id = None if receipt is None else fingerprints.household_of_fingerprint(receipt.fingerprint)
        return fingerprints.kept(plain, household_id, self.household_keys)

    def fingerprint_matches(self, stored: str, plain: str) -> bool:
        """Whether `stored` (plain, or keyed by `keyed_like_receipt`) is of what `plain` digests."""
        return fingerprints.matches(stored, plain, self.household_keys)

    def _repeated(
        self, earlier: CommandReceipt, command: str, fingerprint: str, command_id: UUID
    ) -> UUID | None:
        result = self._repeat(earlier, command, fingerprint, command_id)
        noticing = _repeats.get()
        if noticing is not None:
            noticing.append(command_id)
        return result

    def _repeat(
        self, earlier: CommandReceipt, command: str, fingerprint: str, command_id: UUID
    ) -> UUID | None:
        same = fingerprints.matches(earlier.fingerprint, fingerprint, self.household_keys)
        if earlier.command != command or not same:
            raise CommandIdReused(
                "Command id {command_id} was already used for a different {command} command",
                command_id=command_id,
                command=earlier.command,
            )
        return earlier.result_id
