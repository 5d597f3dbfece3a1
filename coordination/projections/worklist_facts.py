"""Where a worklist's facts are read: the caseload (households, offers) and the handoff status (referrals)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from coordination.domain.policy import RehousingPolicy
from coordination.domain.referral import ReferralStatus
from coordination.projections.caseload_search import Caseload
from coordination.projections.handoff_status import HandoffStatusProjection
from coordination.projections.view_store import ViewStore
from coordination.projections.worklist import ErasureFacts, ReferralFacts, WorkItem, due_items

_OPEN = tuple(s.value for s in ReferralStatus if s.is_open)


class Worklists:
    """The worklist of an organisation at this node, from the caseload and handoff-status projections."""

    def __init__(self, views: ViewStore, caseload: Caseload, suffix: str = "live") -> None:
        self._views = views
        self._caseload = caseload
        self._referrals = HandoffStatusProjection(suffix).table_names["hs_referrals"]

    def due(
        self,
        organisation: str,
        node_organisation: str,
        now: datetime,
        policy: RehousingPolicy,
        erasures: Sequence[ErasureFacts] = (),
    ) -> list[WorkItem]:
        """What is due for `organisation` about the households it is related to here (the referrals sent to
        it at its own node even before their household's network reached it), soonest first."""
        cases = self._caseload.cases(organisation, node_organisation)
        visible = {case.household_id for case in cases}
        rights = self._caseload.permanent_rights(sorted(visible, key=str))
        cases = [case.model_copy(update=rights.get(case.household_id, {})) for case in cases]
        offers = self._caseload.live_offers(sorted(visible, key=str))
        referrals = [
            r
            for r in self.open_referrals(organisation)
            if r.household_id in visible or organisation == node_organisation
        ]
        items = due_items(
            now,
            policy,
            cases=cases,
            offers=offers,
            referrals=referrals,
            erasures=[e for e in erasures if e.household_id in visible],
        )
        return [item for item in items if item.for_organisation == organisation]

    def open_referrals(self, organisation: str) -> list[ReferralFacts]:
        """Open referrals and handoffs the organisation sent or received, as this node records them."""
        marks = ", ".join("?" * len(_OPEN))
        rows = self._views.query(
            f"SELECT * FROM {self._referrals} WHERE (receiver = ? OR referrer = ?) AND status IN ({marks}) "
            "ORDER BY sent_at, referral_id",
            (organisation, organisation, *_OPEN),
        )
        return [
            ReferralFacts(
                referral_id=UUID(row["referral_id"]),
                household_id=UUID(row["household_id"]),
                referrer=row["referrer"],
                receiver=row["receiver"],
                status=ReferralStatus(row["status"]),
                acknowledge_by=datetime.fromisoformat(row["acknowledge_by"]),
                last_step_at=datetime.fromisoformat(row["last_step_at"]),
            )
            for row in rows
        ]
