"""Which fields of each integration event are a household's personal data, and what they read as erased.

Decided by the domain event whose attributes each integration event carries under the same names
(coordination/domain/personal_fields.py): a field personal there is personal on the wire. The sender seals
such a field under its exchange key of the household (adapters/exchange/keys.py) and leaves in the clear
data the stand-in the store reads once a household is erased, so the message still matches its schema and
a recipient whose key is gone applies the stand-in. Ids, organisations, kinds and times are not personal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coordination.domain.household import Household
from coordination.domain.personal_fields import is_personal, redaction
from coordination.domain.referral import Referral
from coordination.domain.referral_values import ReferralDetails
from coordination.integration import household_facts as facts
from coordination.integration import network as n
from coordination.integration import referrals as r
from coordination.integration import vacancies as v
from coordination.integration.erasure import HouseholdErasureConfirmed, HouseholdErasureNotice
from coordination.integration.events import IntegrationEvent
from coordination.integration.placements import MUNICIPAL_FACTS

# The domain event each integration event carries the attributes of.
SOURCES: dict[type[IntegrationEvent], type[Any]] = {
    r.ReferralSent: Referral.Sent,
    r.ReferralAcknowledged: Referral.Acknowledged,
    r.ReferralAccepted: Referral.Accepted,
    r.ReferralStarted: Referral.Started,
    r.ReferralPutOnHold: Referral.PutOnHold,
    r.ReferralDeclined: Referral.Declined,
    r.ReferralDeclineOverridden: Referral.DeclineOverridden,
    r.ReferralRedirected: Referral.Redirected,
    r.ReferralWithdrawn: Referral.Withdrawn,
    r.ReferralCompleted: Referral.Completed,
    r.ReferralEnteredInError: Referral.EnteredInError,
    r.ReferralPlaceOffered: Referral.PlaceOffered,
    r.ReferralPlaceAccepted: Referral.PlaceAccepted,
    r.ReferralPlaceDeclined: Referral.PlaceDeclined,
    facts.ChildEnrolmentReported: Household.ChildEnrolled,
    facts.ContactPersonLinkReported: Household.ContactPersonLinked,
    facts.ContactPersonUnlinkReported: Household.ContactPersonUnlinked,
    facts.PracticalMattersReported: Household.PracticalMattersInOrder,
    facts.NoLongerAsksForHelpReported: Household.NoLongerAsksForHelp,
    facts.FollowUpVisitReported: Household.FollowUpVisitDone,
    facts.SettlementReported: Household.Settled,
    facts.ChildEnrolmentReportedV2: Household.ChildEnrolled,
    facts.ContactPersonLinkReportedV2: Household.ContactPersonLinked,
    facts.ContactPersonUnlinkReportedV2: Household.ContactPersonUnlinked,
    facts.PracticalMattersReportedV2: Household.PracticalMattersInOrder,
    facts.NoLongerAsksForHelpReportedV2: Household.NoLongerAsksForHelp,
    facts.FollowUpVisitReportedV2: Household.FollowUpVisitDone,
    facts.SettlementReportedV2: Household.Settled,
}
# Events about dwellings, offers and timers, and the erasure notice: nothing in them is about a person
# (the pool learns which organisation holds an offer, never for whom; a withdrawal's reason is the owner's).
NOTHING_PERSONAL: frozenset[type[IntegrationEvent]] = frozenset(
    {
        r.ReferralExpired,
        HouseholdErasureNotice,
        HouseholdErasureConfirmed,
        v.VacancyPublished,
        v.VacancyReserved,
        v.VacancyLet,
        v.VacancyOfferDeclined,
        v.VacancyOfferExpired,
        v.VacancyWithdrawn,
        v.OfferRequested,
        v.OfferAnswered,
        v.ReservationRefused,
        # The municipality's picture: no household, a month for a day, rule names for reasons.
        *MUNICIPAL_FACTS,
        # A household's network: organisations, kinds, states and dates only (coordination/domain/network.py).
        n.NetworkPictureSent,
        n.NetworkStepReported,
        n.NetworkReportRefused,
        facts.FactOutcome,  # organisations, kinds and the owner's reason, which names no person
    }
)
# Fields an integration event adds to its domain event's: ids (random, meaningless elsewhere) and the
# sealed part itself.
ADDED = frozenset({"referral_id", "household_id", "at", "by", "sealed", "fact_id"})


def _details(details: ReferralDetails) -> ReferralDetails:
    # The store's stand-in keeps the children's ids with "[erased]" for a birth month, which the contract's
    # schema refuses: on the wire the details keep only their non-personal part.
    return details.model_copy(update={"children": [], "needs": [], "language": None, "note": None})


_STAND_INS: dict[tuple[type[Any], str], Callable[[Any], Any]] = {(Referral.Sent, "details"): _details}


def personal_fields(cls: type[IntegrationEvent]) -> frozenset[str]:
    """The fields of `cls` that are a household's personal data (sealed on the wire)."""
    if cls in NOTHING_PERSONAL:
        return frozenset()
    source = SOURCES.get(cls)
    if source is None:
        raise LookupError(f"{cls.event_type} is not classified: add it to SOURCES or NOTHING_PERSONAL")
    return frozenset(name for name in cls.model_fields if name not in ADDED and is_personal(source, name))


def stand_in(cls: type[IntegrationEvent], name: str, value: Any) -> Any:
    """What a personal field of `cls` reads as without its key: the store's representation of it erased."""
    source = SOURCES[cls]
    special = _STAND_INS.get((source, name))
    if special is not None:
        return special(value)
    erasure = redaction(source, name)
    return erasure.erased(erasure.keep(value))


__all__ = ["ADDED", "NOTHING_PERSONAL", "SOURCES", "personal_fields", "stand_in"]
