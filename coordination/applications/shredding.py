"""Erasure at every node (GDPR art. 17), by crypto-shredding: a household's key, its aggregates'
snapshots, what this process keeps of it, and what the erasure hooks hold (views, parked messages, keys).

The owner's erasure command and retention timer are in erasure.py; this is what every node does when a
household is erased, here or in another process, and the owner's notice to forget it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError, Application

from coordination.applications.committed import CommittedAggregates
from coordination.applications.storage import HouseholdKeys, NodeStorage
from coordination.domain.erasure import ErasureDone
from coordination.domain.errors import NotPermitted
from coordination.domain.referral import Referral
from coordination.domain.values import Actor

log = structlog.get_logger()

# What else at the node must forget an erased household (its views' rows, parked messages, exchange keys).
ErasureHook = Callable[[UUID], None]


def erasure_id(household_id: UUID) -> UUID:
    """The id of a household's erasure at its owner, and of its record at each organisation told of it."""
    from coordination.applications.base import derived_id  # base imports this module

    return derived_id("erasure", household_id)


class Shredding(Application[UUID]):
    """Erasing a household at this node; `erasure_hooks` are what else must forget it."""

    organisation: str
    storage: NodeStorage
    household_keys: HouseholdKeys | None
    _committed: CommittedAggregates  # the kept aggregates (kept.py)
    # The idempotent command runner's (base.py).
    has_handled: Callable[[UUID], bool]
    _once: Callable[..., UUID | None]

    def __init__(self, *, erasure_hooks: Sequence[ErasureHook] = (), **kwargs: Any) -> None:
        # Given by the composition root: what else must forget an erased household (views, parked messages).
        self.erasure_hooks: tuple[ErasureHook, ...] = tuple(erasure_hooks)
        # Runs the hooks for erasures noticed from other processes, off the thread that noticed them.
        self._hooks_elsewhere = ThreadPoolExecutor(max_workers=1, thread_name_prefix="erased-elsewhere")
        super().__init__(**kwargs)

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
        for hook in self.erasure_hooks:
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
        keys = getattr(self, "household_keys", None)  # None too if construction failed before it was set
        if keys is not None:
            keys.stop_watching()
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
                "{sender} referred no household {household_id} to {organisation}",
                sender=by.organisation,
                household_id=household_id,
                organisation=self.organisation,
            )
        if not self.has_handled(command_id):
            self.shred_household(household_id, at)
        self._once(
            "forget_household",
            command_id,
            {"household_id": household_id, "at": at, "by": by},
            lambda: (household_id, self._erasure_done(household_id, by.organisation, at)),
        )
        return household_id

    def _erasure_done(self, household_id: UUID, owner: str, at: datetime) -> list[ErasureDone]:
        """The record of this organisation's erasure, which the relay confirms to the owner (once)."""
        try:
            self.repository.get(erasure_id(household_id))
        except AggregateNotFoundError:
            return [ErasureDone(id=erasure_id(household_id), household_id=household_id, owner=owner, at=at)]
        return []
