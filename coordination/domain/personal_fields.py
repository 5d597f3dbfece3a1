"""Which stored event attributes are a household's personal data, and what each reads as once erased.

One allow-list: per event class, the attributes that are NOT personal. Every other attribute is personal
and is stored encrypted under the household's own key (adapters/eventstore/shredding.py), so erasing the key erases
it. A personal attribute may keep a non-personal part in clear (a move keeps its receiving area, date and
rents; only the address goes), so the history of timestamps, counts and states still replays after the
erasure and the views still render, with "[erased]" where the personal data was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from coordination.domain.erasure import Erasure, ErasureDone
from coordination.domain.follow_up import FollowedHousehold, HouseholdFact
from coordination.domain.household import Household
from coordination.domain.household_values import Enrolment, Member, Preferences
from coordination.domain.municipal_picture import SharedOfferOutcome, SharedPlacement, SharedReferralTiming
from coordination.domain.network import HouseholdNetwork, NetworkCopy, RefusedReports
from coordination.domain.offer_request import OfferRequest, ReservationRefusal
from coordination.domain.referral import Referral
from coordination.domain.referral_values import ChildFacts, ReferralDetails
from coordination.domain.support_link import SupportLink, SupportOffer
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import ERASED, Address, Consent, Dwelling, Override

ERASED_ADDRESS = Address(street=ERASED, postcode="0000", city=ERASED)

# Every stored event carries these; none of them says anything about a person.
ALWAYS_CLEAR = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "at", "by"})

NOT_PERSONAL: dict[type[Any], frozenset[str]] = {
    Household.Registered: frozenset(
        {"owner", "holder", "origin", "rehousing", "termination_date", "right_to_permanent"}
    ),
    Household.FirstContactMade: frozenset(),
    Household.AreasExplored: frozenset(),
    Household.TasksFoundOutsideRehousing: frozenset(),
    Household.BridgeBuildingStarted: frozenset(),
    Household.OfferReceived: frozenset({"offer_id", "vacancy_id", "expires_at", "warnings"}),
    Household.OfferRequested: frozenset({"offer_id", "vacancy_id"}),
    Household.OfferAccepted: frozenset({"offer_id"}),
    Household.OfferDeclined: frozenset({"offer_id", "declined_by", "reason_code"}),  # a code, not the words
    Household.OfferExpired: frozenset({"offer_id"}),
    Household.Moved: frozenset(),
    Household.FollowUpVisitDone: frozenset({"visited_on"}),
    Household.Settled: frozenset(),
    Household.ConsentGiven: frozenset(),
    Household.ConsentWithdrawn: frozenset(),
    Household.HandoffIssued: frozenset({"referral_id", "to"}),
    Household.HandoffAcknowledged: frozenset({"referral_id"}),
    Household.ChildEnrolled: frozenset(),
    Household.ContactPersonLinked: frozenset({"link_id", "place"}),
    Household.ContactPersonUnlinked: frozenset({"link_id"}),
    Household.PracticalMattersInOrder: frozenset(),
    Household.NoLongerAsksForHelp: frozenset(),
    Household.ErasureProposed: frozenset({"retention_ended_on"}),
    Household.Erased: frozenset({"legal_ground", "notified"}),
    Vacancy.Published: frozenset({"owner", "dwelling"}),  # a dwelling, not a person
    # Who the dwelling was offered (and let) to goes with the household: the vacancy keeps the dwelling.
    Vacancy.OfferReserved: frozenset({"offer_id", "expires_at"}),
    Vacancy.OfferAccepted: frozenset({"offer_id"}),
    Vacancy.OfferDeclined: frozenset(
        {"offer_id", "declined_by", "reason_code"}
    ),  # the words are the household's
    Vacancy.OfferExpired: frozenset({"offer_id"}),
    Vacancy.Withdrawn: frozenset({"reason"}),  # the owner's reason about its dwelling
    Referral.Sent: frozenset(
        {"referrer", "receiver", "kind", "household_id", "legal_basis", "acknowledge_by", "complete_by"}
    ),
    Referral.Acknowledged: frozenset(),
    Referral.Accepted: frozenset(),
    Referral.Started: frozenset(),
    # A reason's code is from a list (domain/reasons.py), counted across households; its free text is personal.
    Referral.PutOnHold: frozenset({"reason_code"}),
    Referral.Declined: frozenset({"declined_by", "reason_code"}),
    Referral.DeclineOverridden: frozenset({"acknowledge_by", "reason_code"}),
    Referral.Redirected: frozenset({"to", "acknowledge_by"}),
    Referral.Withdrawn: frozenset({"reason_code"}),
    Referral.Expired: frozenset({"reason"}),  # the timer's own words
    Referral.Completed: frozenset(),
    Referral.EnteredInError: frozenset(),
    # A daycare place: which institution the child goes to is the family's; when, why and whether it counts
    # under dagtilbudsloven § 26 a are not (the department's yearly intake is counted from them).
    Referral.PlaceOffered: frozenset({"starts_on", "priority_reason", "counts_under_26a"}),
    Referral.PlaceAccepted: frozenset(),
    Referral.PlaceDeclined: frozenset({"reason_code"}),
    SupportLink.Proposed: frozenset({"owner", "household_id", "contact_person", "household_owner"}),
    SupportLink.Activated: frozenset(),
    SupportLink.Ended: frozenset(),
    FollowedHousehold.Followed: frozenset({"household_id", "owner"}),
    FollowedHousehold.FactReported: frozenset(),
    FollowedHousehold.FactApplied: frozenset({"fact_id"}),
    FollowedHousehold.FactRefused: frozenset({"fact_id"}),  # the owner's reason may quote the household
    OfferRequest.Requested: frozenset({"owner", "vacancy_id", "household_id", "expires_at"}),
    OfferRequest.Reserved: frozenset(),
    OfferRequest.Refused: frozenset({"reason"}),  # the vacancy owner's reason about its dwelling
    OfferRequest.Expired: frozenset(),
    OfferRequest.Answered: frozenset({"accepted", "declined_by"}),
    ReservationRefusal.Recorded: frozenset({"offer_id", "vacancy_id", "requester", "reason"}),
    # The municipality's picture holds no household: every attribute is clear.
    SharedPlacement.Recorded: frozenset(
        {
            "reported_by",
            "fact_id",
            "place",
            "month",
            "permanent",
            "from_area",
            "old_rent",
            "new_rent",
            "overrides",
            "warnings",
        }
    ),
    SharedOfferOutcome.Recorded: frozenset(
        {
            "reported_by",
            "fact_id",
            "place",
            "month",
            "outcome",
            "declined_by",
            "reason_code",
            "overrides",
            "warnings",
        }
    ),
    SharedReferralTiming.Recorded: frozenset(
        {
            "reported_by",
            "fact_id",
            "timing_id",
            "from_org",
            "to_org",
            "kind",
            "milestone",
            "issued_month",
            "seconds",
        }
    ),
    # The network names who worked with the family: all of it goes with the household (read as None once
    # erased, so the network replays empty); only which household it is, and whose, stay.
    HouseholdNetwork.Opened: frozenset({"household_id", "owner"}),
    HouseholdNetwork.HouseholdNoted: frozenset(),
    HouseholdNetwork.ItemNoted: frozenset(),
    HouseholdNetwork.MemberJoined: frozenset(),
    HouseholdNetwork.RelationEnded: frozenset(),
    HouseholdNetwork.FactRefused: frozenset(),
    HouseholdNetwork.FactApplied: frozenset(),
    # A member's copy of the picture, and the refusals of its reports (network_copies.py).
    NetworkCopy.Received: frozenset({"picture"}),
    NetworkCopy.Updated: frozenset({"picture"}),
    NetworkCopy.Forgotten: frozenset(),
    RefusedReports.Started: frozenset({"household_id", "owner"}),
    RefusedReports.Recorded: frozenset({"refusal"}),
    # An erasure at its owner (erasure.py): whose and who is told; the legal ground is free text.
    Erasure.Proposed: frozenset({"household_id", "owner"}),
    Erasure.Confirmed: frozenset({"awaiting"}),
    Erasure.MemberConfirmed: frozenset({"organisation"}),
    ErasureDone.Recorded: frozenset({"household_id", "owner"}),
}


@dataclass(frozen=True)
class Redaction:
    """How one personal attribute reads once erased: `keep` picks its non-personal part when it is stored
    (a storable value, or None), `erased` rebuilds a stand-in of the attribute's type from that part."""

    keep: Callable[[Any], Any]
    erased: Callable[[Any], Any]


def _constant(value: Any) -> Redaction:
    return Redaction(keep=lambda _: None, erased=lambda _: value)


_TEXT = _constant(ERASED)
# The phase depends on whether areas were explored and tasks found, not on which: the count stays.
_COUNTED_TEXTS = Redaction(keep=len, erased=lambda count: [ERASED] * int(count or 0))


def _override(override: Override) -> Override:
    return override.model_copy(update={"reason": ERASED})


def _consent(consent: Consent) -> Consent:
    return Consent(recipient=ERASED, purpose=ERASED, given_on=consent.given_on)


def _member(member: Member) -> Member:
    return member.model_copy(update={"birth_month": None})


def _enrolment(enrolment: Enrolment) -> Enrolment:
    return enrolment.model_copy(update={"institution": ERASED})


def _dwelling(dwelling: Dwelling) -> Dwelling:
    return dwelling.model_copy(update={"address": ERASED_ADDRESS})


def _details(details: ReferralDetails) -> dict[str, Any]:
    kept = details.model_copy(update={"children": [], "needs": [], "language": None, "note": None})
    return {"details": kept, "children": [child.member_id for child in details.children]}


def _erased_details(kept: dict[str, Any]) -> ReferralDetails:
    # A child's birth month is required where it is known; once erased it is "[erased]", not a guess.
    # Nothing computes with it after sending (the due dates were recorded then), so the placeholder
    # string stands where the type says YearMonth, on purpose and only for erased households.
    children = [
        ChildFacts.model_construct(member_id=m, birth_month=ERASED)  # type: ignore[arg-type]
        for m in kept["children"]
    ]
    return kept["details"].model_copy(update={"children": children})  # type: ignore[no-any-return]


def _fact(fact: HouseholdFact) -> HouseholdFact:
    enrolment = None if fact.enrolment is None else _enrolment(fact.enrolment)
    note = None if fact.note is None else ERASED
    return fact.model_copy(update={"enrolment": enrolment, "note": note})


def _kept(redact: Callable[[Any], Any]) -> Redaction:
    """The redacted value itself is stored in clear and read back as the stand-in."""
    return Redaction(keep=redact, erased=lambda kept: kept)


def _each(redact: Callable[[Any], Any]) -> Redaction:
    return Redaction(
        keep=lambda items: [redact(item) for item in items], erased=lambda kept: list(kept or [])
    )


_CONSENT = _kept(_consent)  # who and what for goes; that a consent was given, and when, stays

# Personal attributes whose stand-in is not simply "[erased]" (a text) or keeps a non-personal part.
REDACTIONS: dict[tuple[type[Any], str], Redaction] = {
    (Household.Registered, "cpr_digest"): _constant(None),
    (Household.Registered, "members"): _each(_member),
    (Household.Registered, "needs"): _constant([]),
    (Household.Registered, "language"): _constant(None),
    (Household.Registered, "preferences"): _constant(Preferences()),
    (Household.Registered, "consents"): _each(_consent),
    (Household.AreasExplored, "areas"): _COUNTED_TEXTS,
    (Household.TasksFoundOutsideRehousing, "tasks"): _COUNTED_TEXTS,
    (Household.OfferReceived, "dwelling"): _kept(_dwelling),
    (Household.OfferReceived, "overrides"): _each(_override),
    (Referral.PlaceOffered, "overrides"): _each(_override),
    (Household.Moved, "move"): _kept(lambda move: move.model_copy(update={"new_address": ERASED_ADDRESS})),
    (Household.ConsentGiven, "consent"): _CONSENT,
    (Household.ChildEnrolled, "enrolment"): _kept(_enrolment),
    (Referral.Sent, "details"): Redaction(keep=_details, erased=_erased_details),
    (Referral.Sent, "consent"): _CONSENT,
    (Referral.Redirected, "consent"): _CONSENT,
    (SupportLink.Proposed, "offer"): _kept(lambda offer: offer.model_copy(update={"service": ERASED})),
    (FollowedHousehold.FactReported, "fact"): _kept(_fact),
    (OfferRequest.Requested, "overrides"): _each(_override),
    (Vacancy.OfferReserved, "household_id"): _constant(None),  # let to nobody known: `let_to` null
    (HouseholdNetwork.HouseholdNoted, "state"): _constant(None),
    (HouseholdNetwork.ItemNoted, "item"): _constant(None),
    (HouseholdNetwork.MemberJoined, "membership"): _constant(None),
    (HouseholdNetwork.RelationEnded, "organisation"): _constant(None),
    (HouseholdNetwork.FactRefused, "refusal"): _constant(None),
}


def declare_not_personal(event_class: type[Any], names: set[str]) -> None:
    """For event classes defined outside the domain (an application's receipts): their clear attributes."""
    NOT_PERSONAL[event_class] = frozenset(names)


def is_personal(event_class: type[Any], name: str) -> bool:
    """Whether an attribute is personal: anything not on the class's allow-list (an unknown class: all)."""
    return name not in ALWAYS_CLEAR and name not in NOT_PERSONAL.get(event_class, frozenset())


def redaction(event_class: type[Any], name: str) -> Redaction:
    return REDACTIONS.get((event_class, name), _TEXT)


__all__ = [
    "ERASED",
    "NOT_PERSONAL",
    "REDACTIONS",
    "Redaction",
    "SupportOffer",
    "declare_not_personal",
    "is_personal",
    "redaction",
]
