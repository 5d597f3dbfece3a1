"""What every organisation's node application shares: stored values, idempotent commands, conflicts."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

import structlog
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent, Repository
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Recording, Transcoder
from eventsourcing.utils import Environment, EnvType
from pydantic import BaseModel

from coordination.applications.committed import CommittedAggregates
from coordination.applications.group_commit import GroupCommit
from coordination.applications.replay import NodeRepository, replay
from coordination.applications.storage import HouseholdKeys, NodeStorage
from coordination.applications.views import ReferralView, SupportLinkView
from coordination.domain.errors import (
    CommandIdReused,
    ConcurrencyConflict,
    InvalidInput,
    NotFound,
    NotPermitted,
    VersionMismatch,
)
from coordination.domain.personal_fields import declare_not_personal
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.referral import Referral
from coordination.domain.support_link import SupportLink
from coordination.domain.values import Actor
from coordination.projections.history import HistoryEntry

A = TypeVar("A", bound=Aggregate)

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:rehousing-coordination")
# The versions a caller decided on (HTTP If-Match), per aggregate id, for the commands run in this context.
_expected_versions: ContextVar[dict[UUID, int] | None] = ContextVar("expected_versions", default=None)
# The ids of commands run under `noticing_repeats()` that had been handled before (each returned its first
# result and changed nothing).
_repeats: ContextVar[list[UUID] | None] = ContextVar("repeats", default=None)
# How many aggregates' last seen versions a node keeps before it starts again (a shortcut, not a record).
_KNOWN_VERSIONS_KEPT = 100_000


@dataclass
class _Borrowing:
    """What the command running in this context (`_once`) loaded: to check, and to give back once saved."""

    from_store: bool = False  # load nothing kept: replay everything from the store
    mark: int = 0  # where the kept aggregates' forgetting stood when it began (committed.py)
    loaded: list[Aggregate] = field(default_factory=list)
    unchecked: dict[UUID, int] = field(default_factory=dict)  # kept ones, by id: the version they were


_borrowing: ContextVar[_Borrowing | None] = ContextVar("borrowing", default=None)

log = structlog.get_logger()


class _MovedOn(Exception):
    """A kept aggregate a command read had been changed by another process: the command decides again."""


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


# A receipt's fingerprint is a digest of the command's arguments, not the arguments.
declare_not_personal(CommandReceipt.Recorded, {"command", "fingerprint", "result_id"})


def _history_entry(position: int, domain_event: Any) -> HistoryEntry:
    by: Actor | None = getattr(domain_event, "by", None)
    event_class = type(domain_event)
    return HistoryEntry(
        position=position,
        aggregate=event_class.__qualname__.split(".")[0],
        aggregate_id=domain_event.originator_id,
        version=domain_event.originator_version,
        event=event_class.__name__,
        at=getattr(domain_event, "at", None),
        recorded_at=domain_event.timestamp,
        organisation=by.organisation if by else None,
        person=by.person if by else None,
        role=str(by.role) if by else None,
    )


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


class NodeApplication(Application[UUID]):
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
    ) -> None:
        self.organisation = organisation
        # The store's technology (adapters/storage.py): asked at the library's construction hooks below.
        self.storage = storage
        self.policy = policy
        # Set by the composition root when the node has read models (the timeline projection answers it).
        self.history_source: Callable[[UUID], list[HistoryEntry]] | None = None
        # Set by the composition root to share store transactions between concurrent commands.
        self.group_commit: GroupCommit | None = None
        # Set by the composition root: what else must forget an erased household (views, parked messages).
        self.erasure_hooks: list[Callable[[UUID], None]] = []
        # Runs the hooks for erasures noticed from other processes, off the thread that noticed them.
        self._hooks_elsewhere = ThreadPoolExecutor(max_workers=1, thread_name_prefix="erased-elsewhere")
        # The version this process last loaded or saved of each aggregate (ids and numbers only): one
        # younger than the first snapshot is read from its events alone (`_load`).
        self._known_versions: dict[UUID, int] = {}
        # What this process committed, lent to its commands instead of replayed (committed.py).
        self._committed = CommittedAggregates()
        # The highest notification id this process saw committed: ids commit in order (one writer at a
        # time), so every id up to it is committed and visible to any read begun after (`MovesIndex`).
        self.committed_through = 0
        super().__init__(env=env)
        intervals = self.snapshotting_intervals.values() if self.snapshots is not None else ()
        self._first_snapshot: int | None = min(intervals, default=None)
        # Each household's key to its personal data; None when the store does not shred.
        self.household_keys: HouseholdKeys | None = storage.household_keys(self)
        if self.household_keys is not None:
            self.household_keys.on_erased_elsewhere(self._forget_erased)

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        """The library's env with the store's choices (on PostgreSQL, the node's events recorder)."""
        return self.storage.environment(super().construct_env(name, env))

    def construct_mapper(self) -> Mapper[UUID]:
        """The store's mapper: each household's personal attributes under its own key (crypto-shredding)."""
        return self.storage.mapper(self)

    def construct_repository(self) -> Repository[UUID]:
        repository = super().construct_repository()
        repository.__class__ = NodeRepository  # the same repository, replaying without per-event asserts
        return repository

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save`; for aggregates alone, without its runtime Protocol checks.

        The library asks of each object whether it is a domain event by a runtime-checkable Protocol
        (about 40 µs an aggregate here, several per command). Our aggregates are `Aggregate`s: collect
        their events directly, then record, snapshot and notify as the library does.
        """
        if kwargs or not all(isinstance(obj, Aggregate) for obj in objs):
            return super().save(*objs, **kwargs)
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for aggregate in objs:
            processing.events.extend(aggregate.collect_events())
            processing.aggregates[aggregate.id] = aggregate
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, called as its save does
        return recordings

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """The library's hook after each save commits (grouped saves call it too)."""
        if recordings and recordings[-1].notification.id > self.committed_through:
            self.committed_through = recordings[-1].notification.id
        super()._notify(recordings)

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
            raise NotFound(f"No {what} with id {aggregate_id} at {self.organisation}") from None
        if not isinstance(aggregate, cls):
            raise NotFound(f"{aggregate_id} is not a {what}")
        expected = (_expected_versions.get() or {}).get(aggregate_id)
        if expected is not None and aggregate.version != expected:
            raise VersionMismatch(
                f"The {what} {aggregate_id} is at version {aggregate.version}, not {expected}; "
                "reload it and decide again"
            )
        return aggregate

    def _load(self, aggregate_id: UUID) -> Aggregate:
        """For a command, the aggregate as this process last committed it (see `_once` for how that is
        checked); otherwise, or when it is not kept, replayed from the store."""
        borrowing = _borrowing.get()
        aggregate = None
        if borrowing is not None and not borrowing.from_store:
            if self.household_keys is not None:
                self.household_keys.notice_erasures()  # what another process erased is not lent out
            aggregate = self._committed.take(aggregate_id)
            if aggregate is not None:
                borrowing.unchecked[aggregate_id] = aggregate.version
        if aggregate is None:
            aggregate = self._replay(aggregate_id)
        if borrowing is not None:
            borrowing.loaded.append(aggregate)
        return aggregate

    def _replay(self, aggregate_id: UUID) -> Aggregate:
        """The aggregate from the repository, or, when this process last saw it younger than the first
        snapshot, straight from its events: no snapshot query that would find nothing.

        Only a shortcut: if another process moved it on meanwhile, all its events give the same state.
        """
        known = self._known_versions.get(aggregate_id)
        aggregate: Aggregate | None
        if known is not None and self._first_snapshot is not None and known < self._first_snapshot:
            aggregate = replay(None, self.events.get(aggregate_id))
            if aggregate is None:
                raise AggregateNotFoundError(aggregate_id)
        else:
            aggregate = self.repository.get(aggregate_id)
        if len(self._known_versions) >= _KNOWN_VERSIONS_KEPT:
            self._known_versions.clear()
        self._known_versions[aggregate_id] = aggregate.version
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

    def history(self, household_id: UUID, page_size: int = 500) -> list[HistoryEntry]:
        """Every fact this node recorded about a household, its referrals and support links, in order.

        Answered by the timeline projection when one is attached (`history_source`); without one, by
        reading the whole log of this node.
        """
        if self.history_source is not None:
            return self.history_source(household_id)
        related = {household_id}
        entries: list[HistoryEntry] = []
        position = 0
        while page := self.recorder.select_notifications(
            start=position, limit=page_size, inclusive_of_start=False
        ):
            for notification in page:
                position = notification.id
                domain_event = self.mapper.to_domain_event(notification)
                if getattr(domain_event, "household_id", None) == household_id:
                    related.add(domain_event.originator_id)
                if domain_event.originator_id in related:
                    entries.append(_history_entry(notification.id, domain_event))
        return entries

    # Erasure (GDPR art. 17): crypto-shredding

    def shred_household(self, household_id: UUID, at: datetime) -> None:
        """Delete this node's key of the household, its aggregates' snapshots, and what the hooks hold.

        Idempotent, so a retried erasure (or a redelivered notice) completes what a crash interrupted.
        """
        if self.household_keys is None:
            raise TypeError("This application's store does not shred personal data")
        subjects = [household_id, *self.household_keys.subjects_of(household_id)]
        self.household_keys.erase(household_id, at)
        self._committed.forget(subjects)
        self.storage.delete_snapshots(self, subjects)
        for hook in self.erasure_hooks:
            hook(household_id)

    def _forget_erased(self, household_id: UUID) -> None:
        """Another process erased the household: nothing of it stays kept here (its key is forgotten), and
        the hooks run here too: they forget what this process holds (others' exchange keys of it), and
        purge again what its projections may have written from the key while it was still cached.

        Noticed on whichever thread used a key, perhaps a projection's amid a write, so the hooks run on a
        thread of their own."""
        assert self.household_keys is not None
        self._committed.forget([household_id, *self.household_keys.subjects_of(household_id)])
        if self.erasure_hooks:
            self._hooks_elsewhere.submit(self._run_erasure_hooks, household_id)

    def _run_erasure_hooks(self, household_id: UUID) -> None:
        for hook in list(self.erasure_hooks):
            try:
                hook(household_id)
            except Exception as error:  # the next still runs; the erasing process ran them all already
                log.error(
                    "erasure.hook_failed",
                    household_id=str(household_id),
                    error=type(error).__name__,
                    exc_info=error,
                )

    def close(self) -> None:
        self._hooks_elsewhere.shutdown(wait=True)
        super().close()

    def referrals_about(self, household_id: UUID) -> list[Referral]:
        """This node's referrals (sent or received copies) about a household."""
        if self.household_keys is None:
            return []
        found = []
        for subject in self.household_keys.subjects_of(household_id):
            try:
                aggregate = self.repository.get(subject)
            except AggregateNotFoundError:
                continue  # an offer id, or an aggregate whose save failed after it was named
            if isinstance(aggregate, Referral):
                found.append(aggregate)
        return found

    def forget_household(self, *, command_id: UUID, household_id: UUID, at: datetime, by: Actor) -> UUID:
        """The household's owner erased it: erase what this node holds about it (its copies, links, facts).

        Only an organisation that referred the household here may ask. The shredding comes before the
        receipt, so a crash in between leaves a notice that is applied again, not one marked done.
        """
        if not any(referral.referrer == by.organisation for referral in self.referrals_about(household_id)):
            raise NotPermitted(
                f"{by.organisation} referred no household {household_id} to {self.organisation}"
            )
        if not self.has_handled(command_id):
            self.shred_household(household_id, at)
        self._once(
            "forget_household",
            command_id,
            {"household_id": household_id, "at": at, "by": by},
            lambda: (household_id, []),
        )
        return household_id

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
            raise InvalidInput(f"command_id must be a UUID, got {type(command_id).__name__}")
        require_time(arguments["at"])
        receipt_id = derived_id("command", command_id)
        fingerprint = _fingerprint(command, arguments)
        for from_store in (False, True):
            borrowing = _Borrowing(from_store, self._committed.mark())
            token = _borrowing.set(borrowing)
            try:
                result_id, saved = self._saved_once(
                    command, command_id, arguments, work, receipt_id, fingerprint
                )
            except ConcurrencyConflict:
                raise  # reported, never decided again: the caller reloads (what it held is not kept)
            except Exception as refusal:
                if not from_store and (isinstance(refusal, _MovedOn) or self._moved_on(borrowing.unchecked)):
                    continue  # decided on what another process has since changed: again, on what it stored
                raise
            finally:
                _borrowing.reset(token)
            if saved is not None:
                # What the command loaded and changed is now what is committed.
                self._committed.give_back(
                    (a for a in (*borrowing.loaded, *saved) if not isinstance(a, CommandReceipt)),
                    since=borrowing.mark,
                )
            return result_id
        raise AssertionError("unreachable: the attempt from the store returns or raises")

    def _check_kept(self, changed: Sequence[Aggregate]) -> None:
        """Refuse to save a decision made on a kept aggregate that the command read but did not change if
        another process has moved it on since (a changed one the store refuses by itself)."""
        borrowing = _borrowing.get()
        if borrowing is None or not borrowing.unchecked:
            return
        saving = {aggregate.id for aggregate in changed}
        if self._moved_on({i: v for i, v in borrowing.unchecked.items() if i not in saving}):
            raise _MovedOn("an aggregate the command read was changed by another process")

    def _moved_on(self, kept: dict[UUID, int]) -> bool:
        """Whether the store has events of these aggregates after the versions this process kept."""
        return any(self.recorder.select_events(i, gt=version, limit=1) for i, version in kept.items())

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
            self._check_kept(changed)
            receipt = CommandReceipt(
                id=receipt_id,
                command=command,
                fingerprint=fingerprint,
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
                f"{command} conflicted with another change to {names}; reload and try again"
            ) from None
        except Exception:
            # A refusal is the command's answer unless the command was handled before: then the state
            # it left may be what refuses the repeat (or what fails to encrypt, once erased).
            earlier = self._receipt(receipt_id)
            if earlier is not None:
                return self._repeated(earlier, command, fingerprint, command_id), None
            raise
        for aggregate in changed:
            self._known_versions[aggregate.id] = aggregate.version
        return result_id, changed

    def _receipt(self, receipt_id: UUID) -> CommandReceipt | None:
        # Every command asks, and receipts are never snapshotted: read the receipt's events directly
        # rather than through the repository, which first queries the snapshot store for nothing.
        receipt = replay(None, self.events.get(receipt_id))
        if receipt is None:
            return None
        assert isinstance(receipt, CommandReceipt)
        return receipt

    def _repeated(
        self, earlier: CommandReceipt, command: str, fingerprint: str, command_id: UUID
    ) -> UUID | None:
        result = self._repeat(earlier, command, fingerprint, command_id)
        noticing = _repeats.get()
        if noticing is not None:
            noticing.append(command_id)
        return result

    @staticmethod
    def _repeat(earlier: CommandReceipt, command: str, fingerprint: str, command_id: UUID) -> UUID | None:
        if earlier.command != command or earlier.fingerprint != fingerprint:
            raise CommandIdReused(
                f"Command id {command_id} was already used for a different {earlier.command} command"
            )
        return earlier.result_id
