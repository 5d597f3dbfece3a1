"""Receiving-area monitor: who moved in where and when, how many were vulnerable, what was overridden.

"Vulnerable" here means a household registered with any of the needs mental_health, physical_health or
financial_advice. The brief also suggested "rehoused from a transformation area", but every household in
this system is (Origin.transformation_area is required), so that clause would make the share 100 % and
the figure useless; the origin area is kept per move instead, so the monitor can be broken down by it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict

from coordination.domain.household import Household, Need
from coordination.domain.municipal_picture import SharedPlacement, last_day, suppressed
from coordination.domain.values import Place
from coordination.projections.columns import day, from_day, instant, key
from coordination.projections.definition import Projection, handles
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import Params, ViewStore

VULNERABLE_NEEDS = frozenset({Need.MENTAL_HEALTH, Need.PHYSICAL_HEALTH, Need.FINANCIAL_ADVICE})


class ReceivingAreasProjection(Projection):
    """Per receiving area: the households that moved in, and the rules overridden on offers there."""

    name = "receiving_areas"
    tables = {
        "ra_households": "household_id TEXT PRIMARY KEY, vulnerable INTEGER NOT NULL, "
        "origin_area TEXT NOT NULL",
        # One row per Moved event (its version): a temporary move may be followed by the permanent one.
        "ra_moves": "household_id TEXT NOT NULL, version INTEGER NOT NULL, municipality TEXT NOT NULL, "
        "area TEXT NOT NULL, municipality_key TEXT NOT NULL, area_key TEXT NOT NULL, moved_on TEXT NOT NULL, "
        "permanent INTEGER NOT NULL, PRIMARY KEY (household_id, version)",
        # Overrides and (from the waterbed guard) warnings recorded on offers, by rule name.
        "ra_offer_rules": "offer_id TEXT NOT NULL, kind TEXT NOT NULL, rule TEXT NOT NULL, "
        "household_id TEXT NOT NULL, municipality TEXT NOT NULL, area TEXT NOT NULL, "
        "municipality_key TEXT NOT NULL, area_key TEXT NOT NULL, at TEXT NOT NULL, "
        "PRIMARY KEY (offer_id, kind, rule)",
        # Other organisations' placements, as the municipality shares them: a month, no household. For
        # the window they count from the month's last day (`counted_on`), so a placement in the window's
        # first month counts: the guard errs towards warning.
        "ra_shared_moves": "placement_id TEXT PRIMARY KEY, reported_by TEXT NOT NULL, "
        "municipality TEXT NOT NULL, area TEXT NOT NULL, municipality_key TEXT NOT NULL, "
        "area_key TEXT NOT NULL, month TEXT NOT NULL, counted_on TEXT NOT NULL, permanent INTEGER NOT NULL, "
        "origin_area TEXT NOT NULL",
    }
    indexes = {
        "ra_moves_by_area": ("ra_moves", "municipality_key, area_key, moved_on"),
        "ra_shared_by_area": ("ra_shared_moves", "municipality_key, area_key, counted_on"),
        "ra_rules_by_area": ("ra_offer_rules", "municipality_key, area_key"),
    }

    @handles(Household.Registered)
    def registered(self, event: Household.Registered, tx: ProjectionTx) -> None:
        vulnerable = any(Need(need) in VULNERABLE_NEEDS for need in event.needs)
        tx.upsert(
            "ra_households",
            {
                "household_id": str(event.originator_id),
                "vulnerable": int(vulnerable),
                "origin_area": event.origin.transformation_area,
            },
        )

    @handles(Household.Moved)
    def moved(self, event: Household.Moved, tx: ProjectionTx) -> None:
        place = event.move.place
        tx.upsert(
            "ra_moves",
            {
                "household_id": str(event.originator_id),
                "version": event.originator_version,
                "municipality": place.municipality,
                "area": place.area,
                "municipality_key": key(place.municipality),
                "area_key": key(place.area),
                "moved_on": day(event.move.moved_on),
                "permanent": int(event.move.permanent),
            },
        )

    @handles(SharedPlacement.Recorded)
    def shared_placement(self, event: SharedPlacement.Recorded, tx: ProjectionTx) -> None:
        place, month = event.place, event.month
        tx.upsert(
            "ra_shared_moves",
            {
                "placement_id": str(event.originator_id),
                "reported_by": event.reported_by,
                "municipality": place.municipality,
                "area": place.area,
                "municipality_key": key(place.municipality),
                "area_key": key(place.area),
                "month": str(month),
                "counted_on": day(last_day(month)),
                "permanent": int(event.permanent),
                "origin_area": event.from_area,
            },
        )

    @handles(Household.OfferReceived)
    def offer_received(self, event: Household.OfferReceived, tx: ProjectionTx) -> None:
        place = event.dwelling.place
        found = [("override", o.rule) for o in event.overrides]
        found += [("warning", w.rule) for w in getattr(event, "warnings", None) or ()]
        for kind, rule in found:
            tx.upsert(
                "ra_offer_rules",
                {
                    "offer_id": str(event.offer_id),
                    "kind": kind,
                    "rule": rule,
                    "household_id": str(event.originator_id),
                    "municipality": place.municipality,
                    "area": place.area,
                    "municipality_key": key(place.municipality),
                    "area_key": key(place.area),
                    "at": instant(event.at),
                },
            )


class MoveIn(BaseModel):
    model_config = ConfigDict(frozen=True)

    household_id: str
    moved_on: date
    permanent: bool
    vulnerable: bool
    origin_area: str | None


class AreaSummary(BaseModel):
    """One receiving area in the monitor (no personal data: counts only)."""

    model_config = ConfigDict(frozen=True)

    municipality: str
    area: str
    moved_in: int  # every organisation's placements: this node's own and those the municipality shares
    vulnerable: int
    vulnerable_share: float  # of this node's own moves: other organisations do not share needs
    overrides: dict[str, int]
    warnings: dict[str, int]
    from_other_organisations: int = 0  # of `moved_in`, the placements other organisations shared


Shown = int | str  # a count, or "<5"


class ShownAreaSummary(BaseModel):
    """A receiving area as the monitor shows it over the API: a figure that holds another organisation's
    placements (or any figure, to a caller from another organisation) reads "<5" for 1-4 (small cells)."""

    model_config = ConfigDict(frozen=True)

    municipality: str
    area: str
    moved_in: Shown
    vulnerable: Shown
    vulnerable_share: float | None
    overrides: dict[str, Shown]
    warnings: dict[str, Shown]
    from_other_organisations: Shown

    @classmethod
    def of(cls, summary: AreaSummary, *, own: bool) -> ShownAreaSummary:
        """`own`: the caller is of the organisation whose node this is (its own moves, offers and rules are
        its own to see exactly; the total with others' placements is not)."""

        def shown(count: int) -> Shown:
            return count if own else suppressed(count)

        own_moves = summary.moved_in - summary.from_other_organisations
        share_shown = own or own_moves >= 5
        return cls(
            municipality=summary.municipality,
            area=summary.area,
            moved_in=summary.moved_in
            if own and not summary.from_other_organisations
            else suppressed(summary.moved_in),
            vulnerable=shown(summary.vulnerable),
            vulnerable_share=round(summary.vulnerable_share, 3) if share_shown else None,
            overrides={rule: shown(n) for rule, n in summary.overrides.items()},
            warnings={rule: shown(n) for rule, n in summary.warnings.items()},
            from_other_organisations=suppressed(summary.from_other_organisations),
        )


class ReceivingAreas:
    """Questions asked of the receiving-area monitor of one view store."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        self._t = ReceivingAreasProjection(suffix).table_names

    def _query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self._views.query(sql.format_map(self._t), params)

    def inflow(self, municipality: str, area: str, since: date) -> int:
        """Households that moved into the area on or after `since` (each move counts), this node's own and
        every other organisation's (each placement once: a node keeps only others' as shared)."""
        rows = self._query(
            "SELECT COUNT(*) AS n FROM {ra_moves} "
            "WHERE municipality_key = ? AND area_key = ? AND moved_on >= ?",
            (key(municipality), key(area), day(since)),
        )
        return int(rows[0]["n"]) + self._shared_inflow(municipality, area, since)

    def households_moved_in(self, municipality: str, area: str, since: date) -> int:
        """Distinct households that moved into the area on or after `since` (the waterbed guard's count):
        this node's own, and every placement the other organisations shared."""
        rows = self._query(
            "SELECT COUNT(DISTINCT household_id) AS n FROM {ra_moves} "
            "WHERE municipality_key = ? AND area_key = ? AND moved_on >= ?",
            (key(municipality), key(area), day(since)),
        )
        return int(rows[0]["n"]) + self._shared_inflow(municipality, area, since)

    def _shared_inflow(self, municipality: str, area: str, since: date) -> int:
        rows = self._query(
            "SELECT COUNT(*) AS n FROM {ra_shared_moves} "
            "WHERE municipality_key = ? AND area_key = ? AND counted_on >= ?",
            (key(municipality), key(area), day(since)),
        )
        return int(rows[0]["n"])

    def inflows(self, municipality: str, since: date) -> dict[str, int]:
        """Inflow since `since` of every area of a municipality that had any, by area key (case-folded):
        every organisation's placements."""
        found = self.shared_inflows(municipality, since)
        rows = self._query(
            "SELECT area_key, COUNT(*) AS n FROM {ra_moves} WHERE municipality_key = ? AND moved_on >= ? "
            "GROUP BY area_key",
            (key(municipality), day(since)),
        )
        for row in rows:
            found[row["area_key"]] = found.get(row["area_key"], 0) + int(row["n"])
        return found

    def shared_inflows(self, municipality: str, since: date) -> dict[str, int]:
        """Of the inflow, the placements other organisations shared, by area key."""
        rows = self._query(
            "SELECT area_key, COUNT(*) AS n FROM {ra_shared_moves} WHERE municipality_key = ? "
            "AND counted_on >= ? GROUP BY area_key",
            (key(municipality), day(since)),
        )
        return {row["area_key"]: int(row["n"]) for row in rows}

    def inflow_provider(self) -> Callable[[Place, date], int]:
        """The inflow as the waterbed guard asks for it: (receiving place, since) → households moved in."""
        return lambda place, since: self.inflow(place.municipality, place.area, since)

    def moves(self, municipality: str, area: str) -> list[MoveIn]:
        rows = self._query(
            "SELECT m.household_id, m.moved_on, m.permanent, h.vulnerable, h.origin_area FROM {ra_moves} m "
            "LEFT JOIN {ra_households} h ON h.household_id = m.household_id "
            "WHERE m.municipality_key = ? AND m.area_key = ? ORDER BY m.moved_on, m.household_id",
            (key(municipality), key(area)),
        )
        return [
            MoveIn(
                household_id=row["household_id"],
                moved_on=from_day(row["moved_on"]),
                permanent=bool(row["permanent"]),
                vulnerable=bool(row["vulnerable"]),
                origin_area=row["origin_area"],
            )
            for row in rows
        ]

    def monitor(self, municipality: str | None = None, since: date | None = None) -> list[AreaSummary]:
        """Every receiving area (of a municipality), with moves since `since` (all when None)."""
        where, params = ["m.moved_on >= ?"], [day(since or date.min)]
        if municipality is not None:
            where.append("m.municipality_key = ?")
            params.append(key(municipality))
        moves = self._query(
            "SELECT m.municipality_key, m.area_key, MIN(m.municipality) AS municipality, "
            "MIN(m.area) AS area, "
            "COUNT(*) AS moved_in, SUM(COALESCE(h.vulnerable, 0)) AS vulnerable FROM {ra_moves} m "
            "LEFT JOIN {ra_households} h ON h.household_id = m.household_id "
            f"WHERE {' AND '.join(where)} GROUP BY m.municipality_key, m.area_key",
            params,
        )
        shared_where = ["counted_on >= ?"] + (["municipality_key = ?"] if municipality is not None else [])
        shared = self._query(
            "SELECT municipality_key, area_key, MIN(municipality) AS municipality, MIN(area) AS area, "
            f"COUNT(*) AS n FROM {{ra_shared_moves}} WHERE {' AND '.join(shared_where)} "
            "GROUP BY municipality_key, area_key",
            params,
        )
        rule_where = "" if municipality is None else "WHERE municipality_key = ?"
        rules = self._query(
            "SELECT municipality_key, area_key, MIN(municipality) AS municipality, MIN(area) AS area, "
            f"kind, rule, COUNT(*) AS n FROM {{ra_offer_rules}} {rule_where} "
            "GROUP BY municipality_key, area_key, kind, rule",
            () if municipality is None else (key(municipality),),
        )
        areas: dict[tuple[str, str], dict[str, Any]] = {}
        for row in moves:
            areas[(row["municipality_key"], row["area_key"])] = {
                "municipality": row["municipality"],
                "area": row["area"],
                "moved_in": int(row["moved_in"]),
                "vulnerable": int(row["vulnerable"] or 0),
                "override": {},
                "warning": {},
                "shared": 0,
            }
        for row in shared:
            found = areas.setdefault(
                (row["municipality_key"], row["area_key"]),
                {
                    "municipality": row["municipality"],
                    "area": row["area"],
                    "moved_in": 0,
                    "vulnerable": 0,
                    "override": {},
                    "warning": {},
                    "shared": 0,
                },
            )
            found["shared"] = int(row["n"])
        for row in rules:
            found = areas.setdefault(
                (row["municipality_key"], row["area_key"]),
                {
                    "municipality": row["municipality"],
                    "area": row["area"],
                    "moved_in": 0,
                    "vulnerable": 0,
                    "override": {},
                    "warning": {},
                    "shared": 0,
                },
            )
            found[row["kind"]][row["rule"]] = int(row["n"])
        summaries = [
            AreaSummary(
                municipality=a["municipality"],
                area=a["area"],
                moved_in=a["moved_in"] + a["shared"],
                vulnerable=a["vulnerable"],
                vulnerable_share=a["vulnerable"] / a["moved_in"] if a["moved_in"] else 0.0,
                overrides=a["override"],
                warnings=a["warning"],
                from_other_organisations=a["shared"],
            )
            for a in areas.values()
        ]
        return sorted(summaries, key=lambda s: (key(s.municipality), key(s.area)))
