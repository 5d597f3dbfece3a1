"""The municipal coordinator's picture: across housing organisations, placements per receiving area and
month against the area's list indicators, offers with their overridden rules and declines by category,
rents before and after, and referral latency per receiving department (BoSocData-style monitoring).

Fed by the facts the other organisations share (coordination/domain/municipal_picture.py) and, for the
latency, by this node's own answers to referrals. Every count it shows goes beyond the organisations
that own the cases, so counts of 1-4 read "<5", and a mean or percentile over fewer than 5 is not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from coordination.domain.municipal_picture import (
    SMALL_CELL,
    SharedOfferOutcome,
    SharedPlacement,
    SharedReferralTiming,
    suppressed,
)
from coordination.domain.reasons import UNSPECIFIED
from coordination.domain.waterbed import AreaIndicators
from coordination.percentiles import percentile
from coordination.projections.columns import from_ore, key, ore
from coordination.projections.definition import Projection, handles
from coordination.projections.handoff_status import HandoffLatency
from coordination.projections.transaction import ProjectionTx
from coordination.projections.view_store import Params, ViewStore

Count = int | str  # a count, or "<5"


def _rules(rules: Iterable[str]) -> str:
    return ",".join(sorted(set(rules)))


class MunicipalPictureProjection(Projection):
    """The facts the municipality's other organisations shared with this node, one row per fact."""

    name = "municipal_picture"
    tables = {
        "mp_placements": "placement_id TEXT PRIMARY KEY, reported_by TEXT NOT NULL, "
        "municipality TEXT NOT NULL, area TEXT NOT NULL, municipality_key TEXT NOT NULL, "
        "area_key TEXT NOT NULL, month TEXT NOT NULL, permanent INTEGER NOT NULL, origin_area TEXT NOT NULL, "
        "old_rent_ore BIGINT NOT NULL, new_rent_ore BIGINT NOT NULL, overrides TEXT NOT NULL, "
        "warnings TEXT NOT NULL",
        "mp_offers": "fact_id TEXT PRIMARY KEY, reported_by TEXT NOT NULL, municipality TEXT NOT NULL, "
        "area TEXT NOT NULL, municipality_key TEXT NOT NULL, area_key TEXT NOT NULL, month TEXT NOT NULL, "
        "outcome TEXT NOT NULL, declined_by TEXT, overrides TEXT NOT NULL, warnings TEXT NOT NULL",
        "mp_timings": "fact_id TEXT PRIMARY KEY, timing_id TEXT NOT NULL, reported_by TEXT NOT NULL, "
        "from_org TEXT NOT NULL, to_org TEXT NOT NULL, kind TEXT NOT NULL, milestone TEXT NOT NULL, "
        "issued_month TEXT NOT NULL, seconds BIGINT NOT NULL",
        # A decline's coded reason: a table of its own, so a node's offers table keeps its layout.
        "mp_offer_reasons": "fact_id TEXT PRIMARY KEY, reason_code TEXT NOT NULL",
    }
    indexes = {
        "mp_placements_by_month": ("mp_placements", "municipality_key, month"),
        "mp_offers_by_month": ("mp_offers", "municipality_key, month"),
    }

    @handles(SharedPlacement.Recorded)
    def placement(self, event: SharedPlacement.Recorded, tx: ProjectionTx) -> None:
        place = event.place
        tx.upsert(
            "mp_placements",
            {
                "placement_id": str(event.originator_id),
                "reported_by": event.reported_by,
                "municipality": place.municipality,
                "area": place.area,
                "municipality_key": key(place.municipality),
                "area_key": key(place.area),
                "month": str(event.month),
                "permanent": int(event.permanent),
                "origin_area": event.from_area,
                "old_rent_ore": ore(event.old_rent.dkk),
                "new_rent_ore": ore(event.new_rent.dkk),
                "overrides": _rules(event.overrides),
                "warnings": _rules(event.warnings),
            },
        )

    @handles(SharedOfferOutcome.Recorded)
    def offer(self, event: SharedOfferOutcome.Recorded, tx: ProjectionTx) -> None:
        place = event.place
        tx.upsert(
            "mp_offers",
            {
                "fact_id": str(event.originator_id),
                "reported_by": event.reported_by,
                "municipality": place.municipality,
                "area": place.area,
                "municipality_key": key(place.municipality),
                "area_key": key(place.area),
                "month": str(event.month),
                "outcome": str(event.outcome),
                "declined_by": None if event.declined_by is None else str(event.declined_by),
                "overrides": _rules(event.overrides),
                "warnings": _rules(event.warnings),
            },
        )
        if event.reason_code is not None:
            tx.upsert(
                "mp_offer_reasons", {"fact_id": str(event.originator_id), "reason_code": event.reason_code}
            )

    @handles(SharedReferralTiming.Recorded)
    def timing(self, event: SharedReferralTiming.Recorded, tx: ProjectionTx) -> None:
        tx.upsert(
            "mp_timings",
            {
                "fact_id": str(event.originator_id),
                "timing_id": str(event.timing_id),
                "reported_by": event.reported_by,
                "from_org": event.from_org,
                "to_org": event.to_org,
                "kind": event.kind,
                "milestone": str(event.milestone),
                "issued_month": str(event.issued_month),
                "seconds": event.seconds,
            },
        )


class Picture(BaseModel):
    model_config = ConfigDict(frozen=True)


class AreaMonth(Picture):
    month: str
    placements: Count
    permanent: Count
    temporary: Count


class AreaPicture(Picture):
    """One receiving area: its list indicators and monitoring status, and what was placed there."""

    municipality: str
    area: str
    status: str
    indicators: AreaIndicators | None
    placements: Count
    by_organisation: dict[str, Count]
    by_month: list[AreaMonth]
    from_transformation_areas: dict[str, Count]
    overrides: dict[str, Count]  # of the placements, the waterbed rules their offers overrode
    old_rent_mean: Decimal | None  # shown from SMALL_CELL placements on
    new_rent_mean: Decimal | None
    rent_rises: Count


class OfferPicture(Picture):
    """Offers made into the municipality's receiving areas and their outcomes, across organisations."""

    made: Count
    accepted: Count
    declined: Count
    expired: Count
    declined_by: dict[str, Count]  # the category: the household or the provider (never the words)
    declined_for: dict[str, Count] = {}  # a decline's reason code (domain/reasons.py) → declines
    overrides: dict[str, Count]  # rule → offers made that overrode it
    warnings: dict[str, Count]


class LatencyPicture(Picture):
    """Hours a department (or bridge builder) took to acknowledge and accept referrals of one kind."""

    to_org: str
    kind: str
    referrals: Count
    p50_hours_to_acknowledgement: float | None
    p90_hours_to_acknowledgement: float | None
    p50_hours_to_acceptance: float | None


class MunicipalPicture(Picture):
    municipality: str
    period_from: str
    period_to: str
    as_of: datetime
    suppressed_below: int = SMALL_CELL
    areas: list[AreaPicture]
    offers: OfferPicture
    latency: list[LatencyPicture]


def _count_rules(rows: Iterable[dict[str, Any]], column: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in rows:
        for rule in filter(None, (row[column] or "").split(",")):
            found[rule] = found.get(rule, 0) + 1
    return found


def _shown(counts: dict[str, int]) -> dict[str, Count]:
    return {name: suppressed(n) for name, n in sorted(counts.items())}


def _mean(values: list[Decimal]) -> Decimal | None:
    if len(values) < SMALL_CELL:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


def _hours(values: list[float], p: float) -> float | None:
    if len(values) < SMALL_CELL:
        return None
    found = percentile(values, p)
    return None if found is None else round(found, 2)


def _by(rows: Iterable[dict[str, Any]], column: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for row in rows:
        found[row[column]] = found.get(row[column], 0) + 1
    return found


class MunicipalPictureQueries:
    """Questions asked of the municipal picture of one view store."""

    def __init__(self, view_store: ViewStore, suffix: str = "live") -> None:
        self._views = view_store
        self._t = MunicipalPictureProjection(suffix).table_names

    def _query(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        return self._views.query(sql.format_map(self._t), params)

    def placements(self, municipality: str, first: str, last: str) -> list[dict[str, Any]]:
        """Every shared placement into the municipality in months [first, last] ("YYYY-MM")."""
        return self._query(
            "SELECT * FROM {mp_placements} WHERE municipality_key = ? AND month >= ? AND month <= ? "
            "ORDER BY area_key, month",
            (key(municipality), first, last),
        )

    def offers(self, municipality: str, first: str, last: str) -> list[dict[str, Any]]:
        return self._query(
            "SELECT o.*, r.reason_code FROM {mp_offers} o LEFT JOIN {mp_offer_reasons} r "
            "ON r.fact_id = o.fact_id WHERE o.municipality_key = ? AND o.month >= ? AND o.month <= ?",
            (key(municipality), first, last),
        )

    def timings(self, first: str, last: str) -> list[dict[str, Any]]:
        return self._query(
            "SELECT * FROM {mp_timings} WHERE issued_month >= ? AND issued_month <= ?", (first, last)
        )

    def picture(
        self,
        municipality: str,
        first: str,
        last: str,
        *,
        now: datetime,
        indicators: Callable[[str, str], AreaIndicators | None],
        status_of: Callable[[str, str], str],
        own_latencies: Iterable[HandoffLatency] = (),
    ) -> MunicipalPicture:
        """The picture of months [first, last]; `own_latencies` are this node's own answers to referrals
        (the ones it received: it tells those to the others, not to itself)."""
        placements = self.placements(municipality, first, last)
        areas: dict[str, list[dict[str, Any]]] = {}
        for row in placements:
            areas.setdefault(row["area_key"], []).append(row)
        return MunicipalPicture(
            municipality=municipality,
            period_from=first,
            period_to=last,
            as_of=now,
            areas=[
                self._area(rows, indicators, status_of, _months(first, last))
                for _, rows in sorted(areas.items())
            ],
            offers=self._offers(self.offers(municipality, first, last)),
            latency=self._latency(self.timings(first, last), own_latencies, first, last),
        )

    @staticmethod
    def _area(
        rows: list[dict[str, Any]],
        indicators: Callable[[str, str], AreaIndicators | None],
        status_of: Callable[[str, str], str],
        months: list[str],
    ) -> AreaPicture:
        municipality, area = rows[0]["municipality"], rows[0]["area"]
        by_month = []
        for month in months:
            found = [r for r in rows if r["month"] == month]
            permanent = sum(1 for r in found if r["permanent"])
            by_month.append(
                AreaMonth(
                    month=month,
                    placements=suppressed(len(found)),
                    permanent=suppressed(permanent),
                    temporary=suppressed(len(found) - permanent),
                )
            )
        old = [from_ore(r["old_rent_ore"]) for r in rows]
        new = [from_ore(r["new_rent_ore"]) for r in rows]
        return AreaPicture(
            municipality=municipality,
            area=area,
            status=status_of(municipality, area),
            indicators=indicators(municipality, area),
            placements=suppressed(len(rows)),
            by_organisation=_shown(_by(rows, "reported_by")),
            by_month=by_month,
            from_transformation_areas=_shown(_by(rows, "origin_area")),
            overrides=_shown(_count_rules(rows, "overrides")),
            old_rent_mean=_mean(old),
            new_rent_mean=_mean(new),
            rent_rises=suppressed(sum(1 for o, n in zip(old, new, strict=True) if n > o)),
        )

    @staticmethod
    def _offers(rows: list[dict[str, Any]]) -> OfferPicture:
        outcomes = _by(rows, "outcome")
        made = [r for r in rows if r["outcome"] == "made"]
        declined = [r for r in rows if r["outcome"] == "declined" and r["declined_by"]]
        return OfferPicture(
            made=suppressed(outcomes.get("made", 0)),
            accepted=suppressed(outcomes.get("accepted", 0)),
            declined=suppressed(outcomes.get("declined", 0)),
            expired=suppressed(outcomes.get("expired", 0)),
            declined_by=_shown(_by(declined, "declined_by")),
            # Declines reported before reasons were coded have none: they count as unspecified.
            declined_for=_shown(_by([{"code": r["reason_code"] or UNSPECIFIED} for r in declined], "code")),
            overrides=_shown(_count_rules(made, "overrides")),
            warnings=_shown(_count_rules(made, "warnings")),
        )

    @staticmethod
    def _latency(
        rows: list[dict[str, Any]], own: Iterable[HandoffLatency], first: str, last: str
    ) -> list[LatencyPicture]:
        # (to_org, kind) → timing id → milestone → hours; one issue's acknowledgement and acceptance together.
        groups: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
        for row in rows:
            issue = groups.setdefault((row["to_org"], row["kind"]), {}).setdefault(row["timing_id"], {})
            issue[row["milestone"]] = int(row["seconds"]) / 3600
        for latency in own:
            month = latency.issued_at.strftime("%Y-%m")
            if not first <= month <= last:
                continue
            issue = groups.setdefault((latency.to_org, latency.kind), {}).setdefault(
                f"own:{latency.referral_id}", {}
            )
            if latency.to_acknowledgement is not None:
                issue["acknowledged"] = latency.to_acknowledgement.total_seconds() / 3600
            if latency.to_acceptance is not None:
                issue["accepted"] = latency.to_acceptance.total_seconds() / 3600
        found = []
        for (to_org, kind), issues in sorted(groups.items()):
            ack = [i["acknowledged"] for i in issues.values() if "acknowledged" in i]
            acc = [i["accepted"] for i in issues.values() if "accepted" in i]
            found.append(
                LatencyPicture(
                    to_org=to_org,
                    kind=kind,
                    referrals=suppressed(len(issues)),
                    p50_hours_to_acknowledgement=_hours(ack, 50),
                    p90_hours_to_acknowledgement=_hours(ack, 90),
                    p50_hours_to_acceptance=_hours(acc, 50),
                )
            )
        return found


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    found = []
    for _ in range(240):  # bounded: twenty years
        text = f"{year:04d}-{month:02d}"
        if text > last:
            break
        found.append(text)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found
