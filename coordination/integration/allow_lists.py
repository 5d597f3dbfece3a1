"""What each recipient may receive: per integration event type and recipient, the fields allowed to leave.

Applied in one place (the Outbound, before anything is encoded): a field not on the list for the
recipient is emptied (a required one refuses the event), and a referral's details are cut to what its
kind of recipient needs (`coordination.domain.sharing` decided that when the referral was made; this is
the boundary's own check, so a mistake upstream cannot leak). Before the lists apply, `lawful_basis`
asks whether a household's data may go to the recipient at all: under the household's consent naming
that recipient and the referral's purpose, or under a legal basis recorded as such.

Recipients are named by what they are to the sender: the receiver of a referral of a kind (its
purpose), the pool of a municipality, a vacancy's owner, the requester of an offer, a household's owner.
"""

from __future__ import annotations

from typing import Any

import structlog

from coordination.domain.errors import ConsentMissing
from coordination.domain.household_values import Need
from coordination.domain.referral_values import ReferralKind
from coordination.domain.sharing import NEEDS_SHARED, PURPOSE
from coordination.integration import household_facts as facts
from coordination.integration import network as n
from coordination.integration import placements as p
from coordination.integration import referrals as r
from coordination.integration import vacancies as v
from coordination.integration.erasure import (
    ERASURE_RECIPIENT,
    HouseholdErasureConfirmed,
    HouseholdErasureNotice,
)
from coordination.integration.events import IntegrationEvent

log = structlog.get_logger()

POOL = "vacancy_pool"
VACANCY_OWNER = "vacancy_owner"
REQUESTER = "offer_requester"
HOUSEHOLD_OWNER = "household_owner"
REFERRER = "referrer"
# Every node of a municipality, for its picture (coordination/integration/placements.py): no household.
MUNICIPALITY = "municipality"
NETWORK_MEMBER = "network_member"  # an organisation that is or was in a household's network (its picture)
NETWORK_REPORTER = "network_reporter"  # a member whose reported step the owner refused
FACT_REPORTER = "fact_reporter"

_STEP = frozenset({"referral_id", "at", "by"})
_SENT = frozenset(
    {
        "referral_id",
        "referrer",
        "receiver",
        "kind",
        "household_id",
        "details",
        "consent",
        "legal_basis",
        "acknowledge_by",
        "complete_by",
        "at",
        "by",
    }
)
_FACT = frozenset({"household_id", "at", "by"})

# The details a receiver of each kind of referral may learn (docs/design.md §4, data minimisation).
DETAILS: dict[ReferralKind, frozenset[str]] = {
    ReferralKind.BRIDGE_BUILDING: frozenset(
        {"children", "needs", "needed_from", "place", "language", "household_size", "note"}
    ),
    ReferralKind.HANDOFF: frozenset(
        {"children", "needs", "needed_from", "place", "language", "household_size", "note"}
    ),
    ReferralKind.DAYCARE_FAST_TRACK: frozenset({"children", "needed_from", "place", "note"}),
    ReferralKind.SCHOOL_CHANGE: frozenset({"children", "needs", "needed_from", "place", "language", "note"}),
    ReferralKind.JOBCENTRE: frozenset({"needs", "needed_from", "place", "language", "note"}),
    ReferralKind.ELDERLY_HOUSING: frozenset({"needs", "needed_from", "place", "household_size", "note"}),
    ReferralKind.FINANCIAL_COUNSELLING: frozenset(
        {"needs", "needed_from", "place", "language", "household_size", "note"}
    ),
    ReferralKind.SOCIAL_SERVICES: frozenset(
        {"children", "needs", "needed_from", "place", "language", "household_size", "note"}
    ),
    ReferralKind.CITIZEN_SERVICE: frozenset(
        {"needs", "needed_from", "place", "language", "household_size", "note"}
    ),
    ReferralKind.HEALTH: frozenset({"needs", "needed_from", "place", "language", "note"}),
    ReferralKind.OTHER: frozenset({"needs", "needed_from", "place", "language", "note"}),
}
# Every receiver learns that a referral is urgent: its deadlines depend on it.
DETAILS = {kind: keep | {"urgent"} for kind, keep in DETAILS.items()}
# The needs each kind of receiver may learn of: the domain's table, checked again at the boundary.
NEEDS: dict[ReferralKind, frozenset[Need]] = NEEDS_SHARED

_REFERRAL_RECIPIENTS = [*(kind.value for kind in ReferralKind), REFERRER]


def _referral_fields(extra: frozenset[str] = frozenset()) -> dict[str, frozenset[str]]:
    return dict.fromkeys(_REFERRAL_RECIPIENTS, _STEP | extra)


# event type → recipient → the top-level fields it may receive.
ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    HouseholdErasureNotice.event_type: {ERASURE_RECIPIENT: frozenset({"household_id", "at", "by"})},
    r.ReferralSent.event_type: dict.fromkeys((kind.value for kind in ReferralKind), _SENT),
    r.ReferralAcknowledged.event_type: _referral_fields(),
    r.ReferralAccepted.event_type: _referral_fields(frozenset({"assignee"})),
    r.ReferralStarted.event_type: _referral_fields(),
    r.ReferralPutOnHold.event_type: _referral_fields(frozenset({"reason", "reason_code"})),
    r.ReferralDeclined.event_type: _referral_fields(frozenset({"declined_by", "reason", "reason_code"})),
    r.ReferralDeclineOverridden.event_type: _referral_fields(frozenset({"reason", "reason_code"})),
    r.ReferralRedirected.event_type: _referral_fields(frozenset({"to", "reason", "consent"})),
    r.ReferralWithdrawn.event_type: _referral_fields(frozenset({"reason", "reason_code"})),
    r.ReferralCompleted.event_type: _referral_fields(frozenset({"outcome"})),
    r.ReferralEnteredInError.event_type: _referral_fields(frozenset({"reason"})),
    r.ReferralPlaceOffered.event_type: _referral_fields(
        frozenset({"institution", "starts_on", "priority_reason", "counts_under_26a", "overrides"})
    ),
    r.ReferralPlaceAccepted.event_type: _referral_fields(),
    r.ReferralPlaceDeclined.event_type: _referral_fields(frozenset({"reason", "reason_code"})),
    r.ReferralExpired.event_type: dict.fromkeys(_REFERRAL_RECIPIENTS, frozenset({"referral_id", "at"})),
    v.VacancyPublished.event_type: {POOL: frozenset({"vacancy_id", "owner", "dwelling", "at", "by"})},
    v.VacancyReserved.event_type: {
        POOL: frozenset({"vacancy_id", "offer_id", "reserved_for", "expires_at", "at", "by"})
    },
    v.VacancyLet.event_type: {POOL: frozenset({"vacancy_id", "offer_id", "at", "by"})},
    v.VacancyOfferDeclined.event_type: {
        POOL: frozenset({"vacancy_id", "offer_id", "declined_by", "at", "by"})
    },
    v.VacancyOfferExpired.event_type: {POOL: frozenset({"vacancy_id", "offer_id", "at"})},
    v.VacancyWithdrawn.event_type: {POOL: frozenset({"vacancy_id", "reason", "at", "by"})},
    v.OfferRequested.event_type: {
        VACANCY_OWNER: frozenset({"offer_id", "vacancy_id", "expires_at", "at", "by"})
    },
    v.OfferAnswered.event_type: {
        VACANCY_OWNER: frozenset({"offer_id", "vacancy_id", "accepted", "declined_by", "at", "by"})
    },
    v.ReservationRefused.event_type: {REQUESTER: frozenset({"offer_id", "vacancy_id", "reason", "at", "by"})},
    facts.ChildEnrolmentReported.event_type: {HOUSEHOLD_OWNER: _FACT | {"enrolment"}},
    facts.ContactPersonLinkReported.event_type: {HOUSEHOLD_OWNER: _FACT | {"link_id", "place"}},
    facts.ContactPersonUnlinkReported.event_type: {HOUSEHOLD_OWNER: _FACT | {"link_id"}},
    facts.PracticalMattersReported.event_type: {HOUSEHOLD_OWNER: _FACT | {"note"}},
    facts.NoLongerAsksForHelpReported.event_type: {HOUSEHOLD_OWNER: _FACT},
    facts.FollowUpVisitReported.event_type: {HOUSEHOLD_OWNER: _FACT | {"visited_on"}},
    facts.SettlementReported.event_type: {HOUSEHOLD_OWNER: _FACT},
    # Every field of these is meant for the whole municipality; the list still names them, so a field
    # added later does not leave until someone decides it may.
    p.PlacementRecorded.event_type: {
        MUNICIPALITY: frozenset(
            {
                "fact_id",
                "reported_by",
                "place",
                "month",
                "permanent",
                "from_area",
                "old_rent",
                "new_rent",
                "overrides",
                "warnings",
                "at",
            }
        )
    },
    p.OfferOutcomeRecorded.event_type: {
        MUNICIPALITY: frozenset(
            {
                "fact_id",
                "reported_by",
                "place",
                "month",
                "outcome",
                "declined_by",
                "reason_code",
                "overrides",
                "warnings",
                "at",
            }
        )
    },
    p.ReferralTimed.event_type: {
        MUNICIPALITY: frozenset(
            {
                "fact_id",
                "timing_id",
                "reported_by",
                "from_org",
                "to_org",
                "kind",
                "milestone",
                "issued_month",
                "seconds",
                "at",
            }
        )
    },
    n.NetworkPictureSent.event_type: {NETWORK_MEMBER: frozenset({"picture"})},
    n.NetworkStepReported.event_type: {HOUSEHOLD_OWNER: _FACT | {"item", "contact_person"}},
    n.NetworkReportRefused.event_type: {NETWORK_REPORTER: _FACT | {"refusal"}},
    HouseholdErasureConfirmed.event_type: {HOUSEHOLD_OWNER: frozenset({"household_id", "at", "by"})},
    # Version 2 of each fact: the same fields and the reporter's id of the fact.
    **{
        cls.event_type: {HOUSEHOLD_OWNER: ALLOWED_V1 | {"fact_id"}}
        for cls, ALLOWED_V1 in (
            (facts.ChildEnrolmentReportedV2, _FACT | {"enrolment"}),
            (facts.ContactPersonLinkReportedV2, _FACT | {"link_id", "place"}),
            (facts.ContactPersonUnlinkReportedV2, _FACT | {"link_id"}),
            (facts.PracticalMattersReportedV2, _FACT | {"note"}),
            (facts.NoLongerAsksForHelpReportedV2, _FACT),
            (facts.FollowUpVisitReportedV2, _FACT | {"visited_on"}),
            (facts.SettlementReportedV2, _FACT),
        )
    },
    facts.FactOutcome.event_type: {
        FACT_REPORTER: frozenset({"household_id", "fact_id", "fact_kind", "applied", "reason", "at", "by"})
    },
}


class NotAllowed(ConsentMissing):
    """An integration event would carry, to this recipient, a required field it may not receive."""


def restrict(event: IntegrationEvent, recipient: str) -> IntegrationEvent:
    """The event with only the fields `recipient` may receive; raises NotAllowed for an unlisted type or
    recipient, or a required field off the list. Dropped fields are logged by name, never by value."""
    allowed = ALLOWED.get(event.event_type, {}).get(recipient)
    if allowed is None:
        raise NotAllowed(f"{event.event_type} may not go to a {recipient} (no allow-list for it)")
    values = {name: getattr(event, name) for name in type(event).model_fields}
    dropped = []
    for name, field in type(event).model_fields.items():
        if name in allowed or _empty(values[name]):
            continue
        if field.is_required() and not _nullable(field):
            raise NotAllowed(f"{event.event_type} to a {recipient} would carry {name}, which it may not get")
        values[name] = None if _nullable(field) else _blank(values[name])
        dropped.append(name)
    if isinstance(event, r.ReferralSent):
        values["details"], cut = _details(event)
        dropped += cut
    if dropped:
        log.warning(
            "allow_list.dropped", event_type=event.event_type, recipient=recipient, fields=sorted(dropped)
        )
    return type(event)(**values) if dropped else event


def _details(event: r.ReferralSent) -> tuple[Any, list[str]]:
    kind = ReferralKind(event.kind)
    details = event.details
    keep = DETAILS[kind]
    changes: dict[str, Any] = {}
    for name, field in type(details).model_fields.items():
        value = getattr(details, name)
        if name not in keep and not _empty(value):
            changes[name] = field.default_factory() if field.default_factory else field.default  # type: ignore[call-arg]
    if "needs" not in changes:
        needs = [need for need in details.needs if need in NEEDS[kind]]
        if needs != list(details.needs):
            changes["needs"] = needs
    cut = [f"details.{name}" for name in changes]
    return (details.model_copy(update=changes) if changes else details), cut


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == ""


def _nullable(field: Any) -> bool:
    return "None" in str(field.annotation)


def _blank(value: Any) -> Any:
    return [] if isinstance(value, list) else None


def lawful_basis(event: r.ReferralSent) -> bool:
    """Whether a household's data may go with this referral to its receiver: the consent it carries names
    the receiver and the referral's purpose, or a legal basis is recorded instead."""
    if event.legal_basis:
        return True
    consent = event.consent
    purpose = PURPOSE[ReferralKind(event.kind)]
    return consent is not None and (consent.recipient, consent.purpose) == (event.receiver.lower(), purpose)
