"""The owner's side of facts others report about its households: checked against the household's network,
then applied or refused, and the answer noted on the network (whence it is sent back to the reporter).

Nothing a member reports is parked for being unwelcome: a reporter whose relation does not entitle it to
the fact, and a fact the household refuses (a visit before the move), are refused with the reason, in the
same transaction as the command's receipt, so a redelivered report changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from coordination.applications.commands import Decision, command
from coordination.applications.network import NetworkKeeper, network_id
from coordination.domain.entitlement import ENROLMENT_REFERRALS, fact_refusal
from coordination.domain.errors import DomainError
from coordination.domain.follow_up import FactKind, HouseholdFact
from coordination.domain.household import Household
from coordination.domain.network import AppliedFact, HouseholdNetwork, RefusedFact
from coordination.domain.values import Actor


def apply_fact(
    household: Household, fact: HouseholdFact, at: datetime, by: Actor, network_gaps: Sequence[str] = ()
) -> None:
    """The household's command for the fact's kind (each checks its own rules); `network_gaps`: what the
    household's network still has open, which a reported settlement may not leave behind either."""
    kind = FactKind(fact.kind)
    if kind is FactKind.CHILD_ENROLLED:
        assert fact.enrolment is not None
        household.record_enrolment(enrolment=fact.enrolment, at=at, by=by)
    elif kind is FactKind.CONTACT_PERSON_LINKED:
        assert fact.link_id is not None and fact.place is not None
        household.record_contact_person(link_id=fact.link_id, place=fact.place, at=at, by=by)
    elif kind is FactKind.CONTACT_PERSON_UNLINKED:
        assert fact.link_id is not None
        household.end_contact_person(link_id=fact.link_id, at=at, by=by)
    elif kind is FactKind.PRACTICAL_MATTERS_IN_ORDER:
        assert fact.note is not None
        household.record_practical_matters_in_order(note=fact.note, at=at, by=by)
    elif kind is FactKind.NO_LONGER_ASKS_FOR_HELP:
        household.record_no_longer_asks_for_help(at=at, by=by)
    elif kind is FactKind.FOLLOW_UP_VISIT_DONE:
        assert fact.visited_on is not None
        household.record_follow_up_visit(visited_on=fact.visited_on, at=at, by=by)
    else:
        household.settle(at=at, by=by, network_gaps=network_gaps)


class ReportedFactsDesk(NetworkKeeper):
    """Facts reported about this organisation's households (mixed into the housing organisation's app)."""

    @command()
    def take_reported_fact(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        fact: HouseholdFact,
        fact_id: UUID | None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        """Apply a reported fact if the reporter is entitled to it and the household takes it; otherwise
        refuse it with the reason. Either way the answer is noted on the household's network."""
        household = self._get(Household, household_id, "household")
        network = self._kept_network(household, at)
        child = None if fact.enrolment is None else fact.enrolment.member_id
        reason = fact_refusal(
            FactKind(fact.kind),
            by.organisation,
            network.picture(),
            child=child,
            named_children=self._named_children(household_id),
        )
        if reason is None:
            try:
                apply_fact(household, fact, at, by, network.picture().settlement_gaps())
            except DomainError as refusal:
                # The household's words, with its id for its case reference (personal: not for the network).
                reason = str(refusal).replace(household.case_reference, str(household_id))
        if reason is not None:
            network.refuse_fact(
                RefusedFact(
                    reporter=by.organisation,
                    fact_kind=str(fact.kind),
                    reason=reason,
                    reported_at=at,
                    at=at,
                    fact_id=fact_id,
                )
            )
            return household_id, [network]
        if fact_id is not None:
            applied = AppliedFact(
                reporter=by.organisation, fact_kind=str(fact.kind), fact_id=fact_id, reported_at=at, at=at
            )
            network.note_fact_applied(applied)
        return household_id, [household, network]

    def _kept_network(self, household: Household, at: datetime) -> HouseholdNetwork:
        # Not `_network_of`: NetworkKeeper's, by household id, is the owner's for its own commands.
        kept = self._loaded(HouseholdNetwork, network_id(household.id))
        return kept if kept is not None else self._opened(household, at)

    def _named_children(self, household_id: UUID) -> Mapping[UUID, list[str]]:
        """The member codes each daycare or school referral about the household names, as sent."""
        return {
            referral.id: [child.member_id for child in referral.details.children]
            for referral in self.referrals_about(household_id)
            if str(referral.kind) in ENROLMENT_REFERRALS
        }
