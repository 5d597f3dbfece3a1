"""The housing organisation's node: its households, its vacancies, offers and the handoff at the move."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.area_guard import (
    AreaIndicatorsSource,
    InflowProvider,
    MovesIndex,
    NoAreaIndicators,
)
from coordination.applications.base import derived_id
from coordination.applications.commands import Decision, command
from coordination.applications.erasure import ErasureDesk
from coordination.applications.household_desk import HouseholdDesk
from coordination.applications.household_record import HouseholdRecordDesk
from coordination.applications.letting import LettingDesk
from coordination.applications.municipal_picture import MunicipalPictureDesk
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.network_reports import NetworkReports
from coordination.applications.notifications import NotificationDesk
from coordination.applications.offer_exchange import OfferExchange
from coordination.applications.referrals import ReferralDesk
from coordination.applications.reported_facts import ReportedFactsDesk
from coordination.domain.daycare_proposal import ProposedReferral, proposed_daycare_referrals
from coordination.domain.errors import ConsentMissing
from coordination.domain.household import Household, Move
from coordination.domain.network import ItemKind
from coordination.domain.referral import Referral, ReferralDetails, ReferralKind, ReferralStatus
from coordination.domain.referral_contact import contact_block, share_contact
from coordination.domain.sharing import PURPOSE, referral_details
from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Actor, Holder, Role
from coordination.domain.waterbed import DEFAULT_WATERBED_POLICY, WaterbedPolicy

# A child with a daycare referral in one of these states is not proposed again.
_STILL_REFERRED = frozenset(s for s in ReferralStatus if s.is_open) | {ReferralStatus.COMPLETED}


class HousingOrganisationApp(
    HouseholdDesk,
    HouseholdRecordDesk,
    LettingDesk,
    ReferralDesk,
    OfferExchange,
    ErasureDesk,
    ReportedFactsDesk,
    NetworkReports,
    NetworkCopies,
    MunicipalPictureDesk,
    NotificationDesk,
):
    """A housing organisation (boligorganisation) such as CIVICA or FAB: leases, households, dwellings.

    Its households (household_desk.py) and its lettings (letting.py) are rooms of their own; here are what
    ties them: the referrals about its households, and the move that hands a household to the bridge builder.
    """

    snapshotting_intervals: ClassVar[dict[type[Aggregate], int]] = {Household: 50, Vacancy: 50, Referral: 50}

    def __init__(
        self,
        *,
        cpr_secret: bytes,
        area_indicators: AreaIndicatorsSource | None = None,
        inflow: InflowProvider | None = None,
        waterbed_policy: WaterbedPolicy = DEFAULT_WATERBED_POLICY,
        **kwargs: object,
    ) -> None:
        """`area_indicators` and `inflow` feed the waterbed guard; without them every area is unmonitored
        and the inflow is counted from this node's own log of moves (read once, then as it grows)."""
        self._cpr_secret = cpr_secret
        self._area_indicators = NoAreaIndicators() if area_indicators is None else area_indicators
        moves = MovesIndex(self)
        self._inflow: InflowProvider = inflow or (lambda place, since: moves.moved_in_since(place, since))
        self.waterbed_policy = waterbed_policy
        super().__init__(**kwargs)  # type: ignore[arg-type]

    # Referrals about this node's households: the details are cut to what the receiver needs.

    @command(added=("urgent",))
    def refer_household(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        receiver: str,
        kind: ReferralKind,
        child_id: str | None = None,
        needed_from: date | None = None,
        note: str | None = None,
        urgent: bool = False,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID]:
        household = self._household(household_id)
        details = referral_details(
            household, kind, child_id=child_id, needed_from=needed_from, note=note, urgent=urgent
        )
        referral_id = derived_id("referral", self.organisation, command_id)
        return referral_id, [self._referral_about(household, referral_id, receiver, kind, at, by, details)]

    def _referral_about(
        self,
        household: Household,
        referral_id: UUID,
        receiver: str,
        kind: ReferralKind,
        at: datetime,
        by: Actor,
        details: ReferralDetails | None = None,
    ) -> Referral:
        """A referral sent under the household's recorded consent for that recipient and purpose."""
        consent = household.consent_for(receiver, PURPOSE[kind])
        if consent is None:
            raise ConsentMissing(
                "Household {case_reference} has no consent to share data with {receiver} for {purpose}",
                case_reference=household.case_reference,
                receiver=receiver,
                purpose=PURPOSE[kind].replace("_", " "),
            )
        referral = Referral.send(
            id=referral_id,
            receiver=receiver,
            kind=kind,
            household_id=household.id,
            details=details or referral_details(household, kind),
            consent=consent,
            legal_basis=None,
            policy=self.policy,
            at=at,
            by=by,
        )
        # Whom to call, where the household consented to let this receiver know (referral_contact.py).
        contact = contact_block(household, receiver, kind, referral.details)
        if contact is not None:
            share_contact(referral, contact, at=at, by=by)
        return referral

    def proposed_referrals(self, household_id: UUID) -> list[ProposedReferral]:
        """The fast-track daycare referrals proposed for the household (domain/daycare_proposal.py): for
        the consultant to confirm by referring it, never sent by themselves."""
        household = self._household(household_id)
        picture = self.network_picture(household_id)
        daycare = [
            item.item_id
            for item in (picture.items if picture is not None else [])
            if item.kind == ItemKind.REFERRAL and item.subtype == ReferralKind.DAYCARE_FAST_TRACK
        ]
        referred = {
            child.member_id
            for referral in (self._get(Referral, item_id, "referral") for item_id in daycare)
            if referral.status in _STILL_REFERRED
            for child in referral.details.children
        }
        return proposed_daycare_referrals(household, referred)

    def _acknowledged(self, referral: Referral, at: datetime, by: Actor) -> list[Aggregate]:
        # The bridge builder's acknowledgement of the handoff is the moment it holds the household.
        if referral.kind == ReferralKind.HANDOFF:
            household = self._household(referral.household_id)
            household.acknowledge_handoff(referral_id=referral.id, at=at, by=by)
            return [household]
        return []

    # The move, and the handoff to the bridge builder that the move starts.

    @command()
    def record_move(
        self,
        *,
        command_id: UUID,
        household_id: UUID,
        move: Move,
        hand_off_to: str | None = None,
        at: datetime,
        by: Actor,
    ) -> Decision[UUID | None]:
        """Record the move; with `hand_off_to`, hand the household to that bridge builder.

        Returns the handoff referral's id (pending until the bridge builder acknowledges it).
        """
        household = self._household(household_id)
        household.record_move(move=move, at=at, by=by)
        if hand_off_to is None:
            return None, [household]
        return self._hand_off(
            household, derived_id("handoff", self.organisation, command_id), hand_off_to, at, by
        )

    def _hand_off(
        self, household: Household, handoff_id: UUID, to: str, at: datetime, by: Actor
    ) -> Decision[UUID | None]:
        referral = self._referral_about(household, handoff_id, to, ReferralKind.HANDOFF, at, by)
        holder = Holder(organisation=to, role=Role.BRIDGE_BUILDER)
        household.issue_handoff(referral_id=handoff_id, to=holder, at=at, by=by)
        return handoff_id, [household, referral]
