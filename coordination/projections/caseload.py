"""Caseload: the households this node knows, with what a caseworker searches them by.

Two sources, joined when asked: the owner's own record of a household (case reference as a keyed digest,
termination date, the offers, the receiving area moved to), and the household's network (its owner's own,
or the copy a member keeps): phase, holder, the move, the follow-up visit, and every organisation that is
or was in it — which is whom a household is shown to (caseload_search.py).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from coordination.domain.household import Household, OfferStatus
from coordination.domain.network import HouseholdNetwork, NetworkCopy, NetworkPicture
from coordination.domain.referral import Referral, ReferralKind
from coordination.projections.columns import day, instant
from coordination.projections.definition import Projection, handles
from coordination.projections.transaction import ProjectionTx


def case_reference_digest(key: bytes, case_reference: str) -> str:
    """The keyed digest a case reference is found by: its text is the household's personal data, so the
    views keep only this (a plain hash would confirm a guessed reference offline)."""
    normalised = " ".join(case_reference.split()).casefold()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


class CaseloadProjection(Projection):
    """Households as their owner records them (`cl_households`, at the owner's node only), their networks
    as this node keeps them (`cl_networks`, `cl_members`: the owner's own or a member's copy), their offers
    and the handoffs whose acknowledgement makes a person responsible for them.

    Without a `case_reference_key` the digest column stays empty (and no household is found by its case
    reference): a node's read models are given its key (ops/node/read_models.py).
    """

    name = "caseload"
    tables = {
        "cl_households": "household_id TEXT PRIMARY KEY, owner TEXT NOT NULL, case_reference_digest TEXT, "
        "termination_date TEXT, registered_by_org TEXT, registered_by_person TEXT, "
        "offer_accepted INTEGER NOT NULL, municipality TEXT, area TEXT, moved_on TEXT, settled_at TEXT",
        "cl_networks": "network_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, owner TEXT NOT NULL, "
        "is_copy INTEGER NOT NULL, phase TEXT, holder_org TEXT, holder_role TEXT, moved_on TEXT, "
        "follow_up_due TEXT, follow_up_done INTEGER NOT NULL, settled_at TEXT, version BIGINT NOT NULL",
        "cl_members": "network_id TEXT NOT NULL, organisation TEXT NOT NULL, PRIMARY KEY (network_id, organisation)",
        "cl_offers": "offer_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, expires_at TEXT NOT NULL, "
        "status TEXT NOT NULL, municipality TEXT, area TEXT",
        "cl_handoffs": "referral_id TEXT PRIMARY KEY, household_id TEXT NOT NULL, receiver TEXT NOT NULL, "
        "acknowledged_org TEXT, acknowledged_person TEXT, acknowledged_at TEXT",
        # § 86 stk. 3 at the owner: the right known at registration, the first temporary move, a permanent one.
        "cl_permanent": "household_id TEXT PRIMARY KEY, right_from TEXT, temporary_since TEXT, "
        "moved_permanently INTEGER NOT NULL",
    }
    indexes = {
        "cl_households_by_digest": ("cl_households", "case_reference_digest"),
        "cl_households_by_termination": ("cl_households", "termination_date, household_id"),
        "cl_networks_by_household": ("cl_networks", "household_id"),
        "cl_members_by_organisation": ("cl_members", "organisation"),
        "cl_offers_by_household": ("cl_offers", "household_id, status"),
        "cl_handoffs_by_household": ("cl_handoffs", "household_id"),
    }

    def __init__(self, suffix: str = "live", case_reference_key: bytes | None = None) -> None:
        super().__init__(suffix)
        self._key = case_reference_key

    # The owner's record of its households.

    @handles(Household.Registered)
    def registered(self, event: Household.Registered, tx: ProjectionTx) -> None:
        digest = None if self._key is None else case_reference_digest(self._key, event.case_reference)
        tx.upsert(
            "cl_households",
            {
                "household_id": str(event.originator_id),
                "owner": event.owner,
                "case_reference_digest": digest,
                "termination_date": day(event.termination_date),
                "registered_by_org": event.by.organisation,
                "registered_by_person": event.by.person,
                "offer_accepted": 0,
                "municipality": None,
                "area": None,
                "moved_on": None,
                "settled_at": None,
            },
        )
        tx.upsert(
            "cl_permanent",
            {
                "household_id": str(event.originator_id),
                "right_from": day(event.at.date()) if event.right_to_permanent else None,
                "temporary_since": None,
                "moved_permanently": 0,
            },
        )

    @handles(Household.OfferReceived, reads=("offer_id", "expires_at", "dwelling"))
    def offer_received(self, event: Household.OfferReceived, tx: ProjectionTx) -> None:
        place = event.dwelling.place
        tx.upsert(
            "cl_offers",
            {
                "offer_id": str(event.offer_id),
                "household_id": str(event.originator_id),
                "expires_at": instant(event.expires_at),
                "status": OfferStatus.LIVE.value,
                "municipality": place.municipality,
                "area": place.area,
            },
        )

    @handles(Household.OfferAccepted)
    def offer_accepted(self, event: Household.OfferAccepted, tx: ProjectionTx) -> None:
        tx.update("cl_offers", (str(event.offer_id),), status=OfferStatus.ACCEPTED.value)
        tx.update("cl_households", (str(event.originator_id),), offer_accepted=1)
        # The receiving area is the accepted dwelling's until the move says where the family went.
        tx.execute(
            "UPDATE {cl_households} SET "
            "municipality = (SELECT municipality FROM {cl_offers} WHERE offer_id = ?), "
            "area = (SELECT area FROM {cl_offers} WHERE offer_id = ?) "
            "WHERE household_id = ? AND moved_on IS NULL",
            (str(event.offer_id), str(event.offer_id), str(event.originator_id)),
        )

    @handles(Household.OfferDeclined)
    def offer_declined(self, event: Household.OfferDeclined, tx: ProjectionTx) -> None:
        tx.update("cl_offers", (str(event.offer_id),), status="declined")

    @handles(Household.OfferExpired)
    def offer_expired(self, event: Household.OfferExpired, tx: ProjectionTx) -> None:
        tx.update("cl_offers", (str(event.offer_id),), status=OfferStatus.EXPIRED.value)

    @handles(Household.Moved)
    def moved(self, event: Household.Moved, tx: ProjectionTx) -> None:
        place = event.move.place
        tx.update(
            "cl_households",
            (str(event.originator_id),),
            municipality=place.municipality,
            area=place.area,
            moved_on=day(event.move.moved_on),
        )
        if event.move.permanent:
            tx.update("cl_permanent", (str(event.originator_id),), moved_permanently=1)
        else:  # the first temporary move counts (household_record.py `right_to_permanent_since`)
            tx.execute(
                "UPDATE {cl_permanent} SET temporary_since = ? WHERE household_id = ? AND temporary_since IS NULL",
                (day(event.move.moved_on), str(event.originator_id)),
            )

    @handles(Household.Settled)
    def settled(self, event: Household.Settled, tx: ProjectionTx) -> None:
        tx.update("cl_households", (str(event.originator_id),), settled_at=instant(event.at))

    @handles(Household.Reopened)
    def reopened(self, event: Household.Reopened, tx: ProjectionTx) -> None:
        tx.update("cl_households", (str(event.originator_id),), settled_at=None)

    @handles(Household.Erased)
    def erased(self, event: Household.Erased, tx: ProjectionTx) -> None:
        self._forget(tx, str(event.originator_id))

    # The household's network: the owner's own.

    @handles(HouseholdNetwork.Opened)
    def network_opened(self, event: HouseholdNetwork.Opened, tx: ProjectionTx) -> None:
        network_id = str(event.originator_id)
        tx.upsert(
            "cl_networks",
            {
                "network_id": network_id,
                "household_id": str(event.household_id),
                "owner": event.owner,
                "is_copy": 0,
                "phase": None,
                "holder_org": None,
                "holder_role": None,
                "moved_on": None,
                "follow_up_due": None,
                "follow_up_done": 0,
                "settled_at": None,
                "version": event.originator_version,
            },
        )
        tx.upsert("cl_members", {"network_id": network_id, "organisation": event.owner})

    @handles(HouseholdNetwork.HouseholdNoted)
    def household_noted(self, event: HouseholdNetwork.HouseholdNoted, tx: ProjectionTx) -> None:
        state = event.state
        if state is None:  # noted before the household was erased: nothing of it is left to show
            return
        tx.update(
            "cl_networks",
            (str(event.originator_id),),
            phase=state.phase,
            holder_org=state.holder.organisation,
            holder_role=str(state.holder.role),
            moved_on=None if state.moved_on is None else day(state.moved_on),
            follow_up_due=None if state.follow_up_due is None else day(state.follow_up_due),
            follow_up_done=int(state.follow_up_done),
            settled_at=None if state.settled_at is None else instant(state.settled_at),
            version=event.originator_version,
        )

    @handles(HouseholdNetwork.MemberJoined)
    def member_joined(self, event: HouseholdNetwork.MemberJoined, tx: ProjectionTx) -> None:
        if event.membership is not None:
            tx.upsert(
                "cl_members",
                {"network_id": str(event.originator_id), "organisation": event.membership.organisation},
            )

    # The household's network: a member's copy of the owner's picture.

    @handles(NetworkCopy.Received, NetworkCopy.Updated)
    def copy_received(self, event: Any, tx: ProjectionTx) -> None:
        picture: NetworkPicture = event.picture
        network_id, household = str(event.originator_id), picture.household
        tx.upsert(
            "cl_networks",
            {
                "network_id": network_id,
                "household_id": str(picture.household_id),
                "owner": picture.owner,
                "is_copy": 1,
                "phase": None if household is None else household.phase,
                "holder_org": None if household is None else household.holder.organisation,
                "holder_role": None if household is None else str(household.holder.role),
                "moved_on": None
                if household is None or household.moved_on is None
                else day(household.moved_on),
                "follow_up_due": None
                if household is None or household.follow_up_due is None
                else day(household.follow_up_due),
                "follow_up_done": int(household is not None and household.follow_up_done),
                "settled_at": None
                if household is None or household.settled_at is None
                else instant(household.settled_at),
                "version": picture.version,
            },
        )
        for organisation in picture.organisations():
            tx.upsert("cl_members", {"network_id": network_id, "organisation": organisation})

    @handles(NetworkCopy.Forgotten)
    def copy_forgotten(self, event: NetworkCopy.Forgotten, tx: ProjectionTx) -> None:
        tx.execute(
            "DELETE FROM {cl_members} WHERE network_id = ?",
            (str(event.originator_id),),
        )
        tx.execute(
            "DELETE FROM {cl_handoffs} WHERE household_id IN "
            "(SELECT household_id FROM {cl_networks} WHERE network_id = ?)",
            (str(event.originator_id),),
        )
        tx.delete("cl_networks", (str(event.originator_id),))

    # Handoffs: whoever acknowledges one becomes the person responsible for the household.

    @handles(Referral.Sent, reads=("kind", "household_id", "receiver"))
    def referral_sent(self, event: Referral.Sent, tx: ProjectionTx) -> None:
        if ReferralKind(event.kind) is ReferralKind.HANDOFF:
            tx.upsert(
                "cl_handoffs",
                {
                    "referral_id": str(event.originator_id),
                    "household_id": str(event.household_id),
                    "receiver": event.receiver,
                    "acknowledged_org": None,
                    "acknowledged_person": None,
                    "acknowledged_at": None,
                },
            )

    @handles(Referral.Acknowledged)
    def referral_acknowledged(self, event: Referral.Acknowledged, tx: ProjectionTx) -> None:
        # A referral that is not a handoff has no row here: nothing changes.
        tx.update(
            "cl_handoffs",
            (str(event.originator_id),),
            acknowledged_org=event.by.organisation,
            acknowledged_person=event.by.person,
            acknowledged_at=instant(event.at),
        )

    @staticmethod
    def _forget(tx: ProjectionTx, household_id: str) -> None:
        """The household was erased: nothing of it stays in the caseload."""
        for table in ("cl_offers", "cl_handoffs", "cl_permanent"):
            tx.execute(f"DELETE FROM {{{table}}} WHERE household_id = ?", (household_id,))
        tx.execute(
            "DELETE FROM {cl_members} WHERE network_id IN "
            "(SELECT network_id FROM {cl_networks} WHERE household_id = ?)",
            (household_id,),
        )
        tx.execute("DELETE FROM {cl_networks} WHERE household_id = ?", (household_id,))
        tx.delete("cl_households", (household_id,))
