"""Builders for read-model tests: aggregates saved straight into a store, as a node would save them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import Application

from adapters.event_decoding import StoredEventDecoder
from coordination.domain.household import Household, Need
from coordination.domain.policy import DEFAULT_POLICY
from coordination.domain.referral import ChildFacts, Referral, ReferralDetails, ReferralKind
from coordination.domain.support_link import SupportKind, SupportLink, SupportOffer
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import (
    Accessibility,
    Actor,
    Address,
    Dwelling,
    DwellingType,
    Holder,
    Money,
    Override,
    Place,
    Role,
    YearMonth,
)
from coordination.projections.runner import ProjectionRunner
from coordination.projections.timeline import TimelineProjection
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import ViewStore
from ops.read_models import READ_MODELS
from tests import household_builders as hb

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
CIVICA = "civica"
FAB = "fab"
DEPARTMENT = "odense-boern-og-unge"
BRIDGE = "odense-brobygning"
CONSULTANT = Actor(organisation=CIVICA, person="gk-17", role=Role.REHOUSING_CONSULTANT)
FAB_CONSULTANT = Actor(organisation=FAB, person="fab-2", role=Role.REHOUSING_CONSULTANT)
ALLOCATOR = Actor(organisation=DEPARTMENT, person="pladsanvisning-3", role=Role.DAYCARE_ALLOCATOR)
BRIDGE_BUILDER = Actor(organisation=BRIDGE, person="bb-anna", role=Role.BRIDGE_BUILDER)


def at(days: float = 0) -> datetime:
    return T0 + timedelta(days=days)


def dwelling(
    area: str = "Odense C",
    *,
    rooms: int = 5,
    rent: str = "7650",
    available_from: date = date(2026, 8, 1),
    accessibility: Accessibility = Accessibility.NONE,
    dwelling_type: DwellingType = DwellingType.FAMILY,
    municipality: str = "Odense",
) -> Dwelling:
    return Dwelling(
        estate="Kochsgade",
        address=Address(street="Kochsgade 31, 2. th", postcode="5000", city="Odense C"),
        place=Place(municipality=municipality, area=area),
        rooms=rooms,
        area_m2=Decimal("112.50"),
        rent=Money(dkk=Decimal(rent)),
        available_from=available_from,
        accessibility=accessibility,
        dwelling_type=dwelling_type,
    )


def publish(app: Application, by: Actor = CONSULTANT, **facts: Any) -> Vacancy:
    vacancy = Vacancy.publish(id=uuid4(), dwelling=dwelling(**facts), at=at(), by=by)
    app.save(vacancy)
    return vacancy


def register(app: Application, *, needs: list[Need] | None = None) -> Household:
    household = hb.register(by=CONSULTANT)
    if needs:
        # The builder registers without needs; a vulnerable household is the same with needs recorded.
        household = Household.register(
            id=uuid4(),
            case_reference="CIV-1",
            cpr_digest=None,
            origin=hb.VOLLSMOSE,
            members=hb.mother_and_four_children(),
            needs=needs,
            language=None,
            rehousing=hb.permanent(),
            termination_date=date(2026, 12, 31),
            preferences=household.preferences,
            consents=[],
            at=at(),
            by=CONSULTANT,
        )
    app.save(household)
    return household


def offer(app: Application, household: Household, vacancy: Vacancy, *, days: float = 1) -> UUID:
    """Both sides of an offer, as the housing application records them (with a size override if needed)."""
    offer_id = uuid4()
    overrides = [Override(rule="suitable_size", reason="The family chose this dwelling", by=CONSULTANT)]
    household.receive_offer(
        offer_id=offer_id,
        vacancy_id=vacancy.id,
        dwelling=vacancy.dwelling,
        expires_at=at(days + 14),
        overrides=overrides,
        policy=DEFAULT_POLICY,
        at=at(days),
        by=CONSULTANT,
    )
    vacancy.reserve_for_offer(
        offer_id=offer_id, household_id=household.id, expires_at=at(days + 14), at=at(days), by=CONSULTANT
    )
    app.save(household, vacancy)
    return offer_id


def move_and_hand_off(app: Application, household: Household, *, moved_on: date, days: float) -> Referral:
    household.record_move(move=hb.a_move(moved_on=moved_on), at=at(days), by=CONSULTANT)
    handoff = send(app, household.id, ReferralKind.HANDOFF, receiver=BRIDGE, days=days, save=False)
    household.issue_handoff(
        referral_id=handoff.id,
        to=Holder(organisation=BRIDGE, role=Role.BRIDGE_BUILDER),
        at=at(days),
        by=CONSULTANT,
    )
    app.save(household, handoff)
    return handoff


def send(
    app: Application,
    household_id: UUID,
    kind: ReferralKind = ReferralKind.DAYCARE_FAST_TRACK,
    *,
    receiver: str = DEPARTMENT,
    days: float = 0,
    needed_from: date = date(2026, 8, 3),
    save: bool = True,
) -> Referral:
    daycare = kind is ReferralKind.DAYCARE_FAST_TRACK
    details = ReferralDetails(
        children=[ChildFacts(member_id="C4", birth_month=YearMonth(year=2022, month=2))] if daycare else [],
        needed_from=needed_from if daycare else None,
        place=Place(municipality="Odense", area="Odense C") if daycare else None,
    )
    referral = Referral.send(
        id=uuid4(),
        receiver=receiver,
        kind=kind,
        household_id=household_id,
        details=details,
        consent=None,
        legal_basis="Almenlejeloven § 85 and the municipality's rehousing agreement",
        policy=DEFAULT_POLICY,
        at=at(days),
        by=CONSULTANT,
    )
    if save:
        app.save(referral)
    return referral


def link(app: Application, household_id: UUID, *, days: float) -> SupportLink:
    offer_of = SupportOffer(
        provider="naboskab",
        service="Neighbour as contact",
        kind=SupportKind.CONTACT_PERSON,
        place=Place(municipality="Odense", area="Odense C"),
    )
    support = SupportLink.propose(
        id=uuid4(),
        household_id=household_id,
        offer=offer_of,
        contact_person=True,
        at=at(days),
        by=BRIDGE_BUILDER,
    )
    app.save(support)
    return support


def runners(app: Application, views: ViewStore, suffix: str = "live", batch_size: int = 7) -> dict[str, Any]:
    return {
        name: ProjectionRunner(
            app, cls(suffix), views, batch_size=batch_size, decoding=StoredEventDecoder(app.mapper)
        )
        for name, cls in READ_MODELS.items()
    }


class CountedTimeline(TimelineProjection):
    """The timeline, counting the events its stored handler took (the rest went to the ordinary one)."""

    def __init__(self, suffix: str = "live") -> None:
        super().__init__(suffix)
        self.taken = 0

    def stored_entry(self, stored: Any, state: dict[str, Any], tx: ProjectionTx) -> bool:
        taken = super().stored_entry(stored, state, tx)
        self.taken += taken
        return taken
