"""Questions asked of the caseload projection: find households, and the facts a worklist is made of.

Every question is asked for an organisation, and answers only the households it is related to as this
node knows them: those it owns, and those whose network it is or was in (the owner's own, or the copy
a member keeps). An organisation asking at another's node is answered there only about households that
node owns (as the network's status is read: at one's own node or at the owner's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from coordination.domain.values import Holder, Place
from coordination.projections.caseload import CaseloadProjection, case_reference_digest
from coordination.projections.columns import from_day, from_instant
from coordination.projections.view_store import ViewStore
from coordination.projections.worklist import CaseFacts, OfferFacts

# The sort key of a household without a termination date (a member's copy knows none): after every date.
_NO_DATE = "9999-12-31"


class CaseFilter(BaseModel):
    """What a caseload is searched by; every field given must match."""

    model_config = ConfigDict(frozen=True)

    case_reference: str | None = None
    holder: str | None = None  # the holder's organisation
    responsible_person: str | None = None
    responsible_organisation: str | None = None
    phase: str | None = None
    municipality: str | None = None  # of the receiving area
    area: str | None = None
    termination_from: date | None = None
    termination_to: date | None = None


class CaseloadEntry(BaseModel):
    """A household as the caller may see it in a list: no name, no address, no case reference in clear.

    The termination date, the offers and the receiving area are known at the owner's node only; a member's
    node shows what its copy of the network says."""

    model_config = ConfigDict(frozen=True)

    household_id: UUID
    owner: str
    phase: str | None
    holder: Holder | None
    responsible_organisation: str | None
    responsible_person: str | None
    termination_date: date | None
    offer_accepted: bool | None
    receiving_area: Place | None
    moved_on: date | None
    follow_up_due: date | None
    follow_up_done: bool
    settled_at: datetime | None
    network_version: int | None
    cursor: str


class Caseload:
    """The caseload projection's questions, for one view store (and the node's case-reference key)."""

    def __init__(
        self, views: ViewStore, suffix: str = "live", case_reference_key: bytes | None = None
    ) -> None:
        self._views = views
        self._t = CaseloadProjection(suffix).table_names
        self._key = case_reference_key

    def search(
        self,
        organisation: str,
        node_organisation: str,
        found: CaseFilter | None = None,
        *,
        limit: int | None = None,
        after: str | None = None,
    ) -> list[CaseloadEntry]:
        """The households `organisation` is related to that match, by termination date (soonest first,
        those without one last), then id; the page after the cursor `after`."""
        where, params = self._visible(organisation, node_organisation)
        for condition, values in self._matching(found or CaseFilter()):
            where, params = [*where, condition], [*params, *values]
        if after is not None:
            sort_key, _, household_id = after.partition("/")
            where += ["(sort_key > ? OR (sort_key = ? AND household_id > ?))"]
            params += [sort_key, sort_key, household_id]
        sql = f"SELECT * FROM ({self._cases_sql()}) cases WHERE {' AND '.join(where)} ORDER BY sort_key, household_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_entry(row) for row in self._views.query(sql, params)]

    def cases(self, organisation: str, node_organisation: str) -> list[CaseFacts]:
        """Every household `organisation` is related to here, as the worklist's facts."""
        return [_facts(entry) for entry in self.search(organisation, node_organisation)]

    def live_offers(self, household_ids: list[UUID]) -> list[OfferFacts]:
        """The live offers of these households (known at their owner's node)."""
        if not household_ids:
            return []
        marks = ", ".join("?" * len(household_ids))
        rows = self._views.query(
            f"SELECT offer_id, household_id, expires_at FROM {self._t['cl_offers']} "
            f"WHERE status = 'live' AND household_id IN ({marks}) ORDER BY expires_at, offer_id",
            [str(h) for h in household_ids],
        )
        return [
            OfferFacts(
                offer_id=UUID(row["offer_id"]),
                household_id=UUID(row["household_id"]),
                expires_at=_at(row["expires_at"]),
            )
            for row in rows
        ]

    def permanent_rights(self, household_ids: list[UUID]) -> dict[UUID, dict[str, Any]]:
        """§ 86 stk. 3's facts of these households (known at their owner's node), as CaseFacts' fields."""
        if not household_ids:
            return {}
        marks = ", ".join("?" * len(household_ids))
        rows = self._views.query(
            f"SELECT * FROM {self._t['cl_permanent']} WHERE household_id IN ({marks})",
            [str(h) for h in household_ids],
        )
        return {
            UUID(row["household_id"]): {
                "right_to_permanent_from": from_day(row["right_from"]),
                "temporary_since": from_day(row["temporary_since"]),
                "moved_permanently": bool(row["moved_permanently"]),
            }
            for row in rows
        }

    def _cases_sql(self) -> str:
        """One row per household known here: the owner's record and the network's, side by side."""
        t = self._t
        latest_handoff = (
            f"SELECT {{column}} FROM {t['cl_handoffs']} h WHERE h.household_id = ids.household_id "
            "AND h.acknowledged_at IS NOT NULL ORDER BY h.acknowledged_at DESC LIMIT 1"
        )
        return (
            "SELECT ids.household_id AS household_id, COALESCE(c.owner, n.owner) AS owner, "
            "c.case_reference_digest AS case_reference_digest, c.termination_date AS termination_date, "
            f"COALESCE(c.termination_date, '{_NO_DATE}') AS sort_key, "
            f"COALESCE(({latest_handoff.format(column='acknowledged_org')}), c.registered_by_org) "
            "AS responsible_organisation, "
            f"COALESCE(({latest_handoff.format(column='acknowledged_person')}), c.registered_by_person) "
            "AS responsible_person, "
            "c.offer_accepted AS offer_accepted, c.municipality AS municipality, c.area AS area, "
            "COALESCE(n.moved_on, c.moved_on) AS moved_on, COALESCE(n.settled_at, c.settled_at) AS settled_at, "
            "n.network_id AS network_id, n.phase AS phase, n.holder_org AS holder_org, "
            "n.holder_role AS holder_role, n.follow_up_due AS follow_up_due, "
            "COALESCE(n.follow_up_done, 0) AS follow_up_done, n.version AS network_version "
            f"FROM (SELECT household_id FROM {t['cl_households']} "
            f"UNION SELECT household_id FROM {t['cl_networks']}) ids "
            f"LEFT JOIN {t['cl_households']} c ON c.household_id = ids.household_id "
            f"LEFT JOIN {t['cl_networks']} n ON n.household_id = ids.household_id"
        )

    def _visible(self, organisation: str, node_organisation: str) -> tuple[list[str], list[Any]]:
        """Whom a household is shown to: its owner and every organisation that is or was in its network."""
        members = self._t["cl_members"]
        member = f"SELECT 1 FROM {members} m WHERE m.network_id = cases.network_id AND m.organisation = ?"
        where = [f"(owner = ? OR EXISTS ({member}))"]
        params: list[Any] = [organisation, organisation]
        if organisation != node_organisation:
            where.append("owner = ?")
            params.append(node_organisation)
        return where, params

    def _matching(self, found: CaseFilter) -> list[tuple[str, list[Any]]]:
        conditions: list[tuple[str, list[Any]]] = []
        if found.case_reference is not None:
            if self._key is None:  # no key, no digests: no household is found by its case reference
                return [("1 = 0", [])]
            conditions.append(
                ("case_reference_digest = ?", [case_reference_digest(self._key, found.case_reference)])
            )
        columns: list[tuple[str, Callable[[CaseFilter], Any]]] = [
            ("holder_org", lambda f: f.holder),
            ("responsible_person", lambda f: f.responsible_person),
            ("responsible_organisation", lambda f: f.responsible_organisation),
            ("phase", lambda f: f.phase),
            ("municipality", lambda f: f.municipality),
            ("area", lambda f: f.area),
        ]
        for column, value in columns:
            if value(found) is not None:
                conditions.append((f"{column} = ?", [value(found)]))
        if found.termination_from is not None:
            conditions.append(("termination_date >= ?", [found.termination_from.isoformat()]))
        if found.termination_to is not None:
            conditions.append(("termination_date <= ?", [found.termination_to.isoformat()]))
        return conditions


def _at(text: str) -> datetime:
    at = from_instant(text)
    assert at is not None
    return at


def _entry(row: dict[str, Any]) -> CaseloadEntry:
    holder = None
    if row["holder_org"] is not None:
        holder = Holder(organisation=row["holder_org"], role=row["holder_role"])
    area = None
    if row["municipality"] is not None and row["area"] is not None:
        area = Place(municipality=row["municipality"], area=row["area"])
    return CaseloadEntry(
        household_id=UUID(row["household_id"]),
        owner=row["owner"],
        phase=row["phase"],
        holder=holder,
        responsible_organisation=row["responsible_organisation"],
        responsible_person=row["responsible_person"],
        termination_date=from_day(row["termination_date"]),
        offer_accepted=None if row["offer_accepted"] is None else bool(row["offer_accepted"]),
        receiving_area=area,
        moved_on=from_day(row["moved_on"]),
        follow_up_due=from_day(row["follow_up_due"]),
        follow_up_done=bool(row["follow_up_done"]),
        settled_at=from_instant(row["settled_at"]),
        network_version=row["network_version"],
        cursor=f"{row['sort_key']}/{row['household_id']}",
    )


def _facts(entry: CaseloadEntry) -> CaseFacts:
    return CaseFacts(
        household_id=entry.household_id,
        owner=entry.owner,
        holder_organisation=None if entry.holder is None else entry.holder.organisation,
        responsible_organisation=entry.responsible_organisation,
        responsible_person=entry.responsible_person,
        termination_date=entry.termination_date,
        offer_accepted=bool(entry.offer_accepted),
        moved_on=entry.moved_on,
        follow_up_due=entry.follow_up_due,
        follow_up_done=entry.follow_up_done,
        settled=entry.settled_at is not None,
    )
