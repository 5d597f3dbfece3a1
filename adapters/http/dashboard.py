"""The operations dashboard's figures: aggregates of a node's read models for a period (no personal data).

Every figure is a count, a duration or a percentile; no household, child, person or address appears.
Overdue is judged at `now` (an input: the edge's clock, or a test's), so the figures are the same on replay.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel

from coordination.domain.calendar import COPENHAGEN, add_months
from coordination.domain.municipal_picture import suppressed
from coordination.percentiles import percentile
from coordination.projections.daycare_queue import QueueStatus
from coordination.projections.handoff_status import HandoffLatency, HandoffStatus
from coordination.projections.vacancy_letting import VacancyLetting

HOUR_MS = 3_600_000


class Percentiles(BaseModel):
    count: int
    p50: float | None
    p90: float | None
    p99: float | None


class LatencyPoint(Percentiles):
    month: str


class LatencySeries(BaseModel):
    """Hours from a referral's (latest) issue to its acknowledgement, by the month it was issued."""

    from_org: str | None
    to_org: str | None
    kind: str | None
    total: Percentiles
    months: list[LatencyPoint]


class Overdue(BaseModel):
    acknowledgements_overdue: int
    acknowledged_late: int
    completions_overdue: int
    follow_ups_due: int
    follow_ups_overdue: int
    follow_ups_done_late: int
    by_receiver: dict[str, int]


class Daycare(BaseModel):
    waiting: int
    place_offered: int
    started: int
    past_guarantee: int
    median_days_waiting: float | None
    max_days_waiting: int | None
    queue_by_month: list[dict[str, Any]]


class Pool(BaseModel):
    open_now: int
    published: int
    let: int
    median_days_to_let: float | None
    p90_days_to_let: float | None
    by_month: list[dict[str, Any]]


class Area(BaseModel):
    area: str
    moved_in: int | str  # "<5" for 1-4 when other organisations' placements are among them
    vulnerable_share: float
    warnings: int
    overrides: int


class Dashboard(BaseModel):
    node: str
    organisation: str | None
    period_from: date
    period_to: date
    as_of: datetime
    latency_by_pair: list[LatencySeries]
    latency_by_kind: list[LatencySeries]
    overdue: Overdue
    daycare: Daycare
    pool: Pool
    areas: list[Area]
    warnings: int
    overrides: int
    lag: dict[str, int | None]
    parked: dict[str, int]


def percentiles(values: list[float]) -> Percentiles:
    """The system's percentiles (`coordination.percentiles`: nearest rank) rounded to 0.01, as the dashboard
    and /operations show them."""
    return Percentiles(
        count=len(values),
        p50=_rounded(percentile(values, 50), 2),
        p90=_rounded(percentile(values, 90), 2),
        p99=_rounded(percentile(values, 99), 2),
    )


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def months(start: date, end: date) -> list[str]:
    found, month = [], start.replace(day=1)
    for _ in range(600):  # bounded: 50 years
        if month > end:
            break
        found.append(month.strftime("%Y-%m"))
        month = add_months(month, 1)
    return found


def _month_of_ms(ms: int) -> str:
    return _month_of(datetime.fromtimestamp(ms / 1000, UTC))


def _month_of(at: datetime) -> str:
    return at.astimezone(COPENHAGEN).strftime("%Y-%m")


def _hours(latency: HandoffLatency) -> float | None:
    """Hours from the (latest) issue to the acknowledgement, as /operations measures them."""
    ack = latency.to_acknowledgement
    return None if ack is None else ack.total_seconds() / 3600


def _series(latencies: list[HandoffLatency], key: tuple[str, ...], period: list[str]) -> list[LatencySeries]:
    groups: dict[tuple[str, ...], list[HandoffLatency]] = {}
    for latency in latencies:
        groups.setdefault(tuple(getattr(latency, k) for k in key), []).append(latency)
    series = []
    for group, found in sorted(groups.items()):
        hours = [(h, _month_of(x.issued_at)) for x in found if (h := _hours(x)) is not None]
        points = [
            LatencyPoint(month=month, **percentiles([h for h, m in hours if m == month]).model_dump())
            for month in period
        ]
        named = dict(zip(key, group, strict=True))
        series.append(
            LatencySeries(
                from_org=named.get("from_org"),
                to_org=named.get("to_org"),
                kind=named.get("kind"),
                total=percentiles([h for h, _ in hours]),
                months=points,
            )
        )
    return series


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), COPENHAGEN)


def dashboard(
    models: Any,
    *,
    node: str,
    organisation: str | None,
    period_from: date,
    period_to: date,
    now: datetime,
    exchange: dict[str, Any] | None,
) -> Dashboard:
    """The figures for referrals issued, households moved and vacancies published in [from, to]."""
    begin, end = _start(period_from), _start(period_to + timedelta(days=1))
    period = months(period_from, period_to)
    latency = models.handoffs.latencies(issued=(begin, end), organisation=organisation)
    overdue = _overdue(models.handoffs, organisation, begin, end, now)
    daycare = _daycare(models, organisation, begin, end, now, period)
    pool = _pool(models.letting, organisation, begin, end, now, period)
    areas = [
        Area(
            area=a.area,
            moved_in=suppressed(a.moved_in) if a.from_other_organisations else a.moved_in,
            vulnerable_share=round(a.vulnerable_share, 3),
            warnings=sum(a.warnings.values()),
            overrides=sum(a.overrides.values()),
        )
        for a in models.areas.monitor(None, period_from)
    ]
    status = models.status()
    lag: dict[str, int | None] = {f"projection:{name}": int(s["lag"]) for name, s in status.items()}
    lag["relay"] = None if exchange is None else exchange.get("relay_lag")
    lag["consumer"] = None if exchange is None else exchange.get("consumer_lag")
    parked = {f"projection:{name}": int(s["parked"]) for name, s in status.items()}
    parked["exchange"] = 0 if exchange is None else int(exchange.get("parked", 0))
    return Dashboard(
        node=node,
        organisation=organisation or None,
        period_from=period_from,
        period_to=period_to,
        as_of=now,
        latency_by_pair=_series(latency, ("from_org", "to_org"), period),
        latency_by_kind=_series(latency, ("kind",), period),
        overdue=overdue,
        daycare=daycare,
        pool=pool,
        areas=areas,
        warnings=sum(a.warnings for a in areas),
        overrides=sum(a.overrides for a in areas),
        lag=lag,
        parked=parked,
    )


def _overdue(
    handoffs: HandoffStatus, organisation: str | None, begin: datetime, end: datetime, now: datetime
) -> Overdue:
    referrals = handoffs.sent_between(begin, end, organisation, now)
    late = [r for r in referrals if r.acknowledgement_overdue]
    by_receiver: dict[str, int] = {}
    for referral in late:
        by_receiver[referral.receiver] = by_receiver.get(referral.receiver, 0) + 1
    policy = handoffs.policy
    today = now.astimezone(COPENHAGEN).date()
    due, overdue, done_late = 0, 0, 0
    for moved_on, visited in handoffs.moved_between(begin.date(), end.date(), organisation):
        deadline = policy.follow_up_due(moved_on)
        done = visited is not None and visited >= moved_on
        due += 1
        overdue += (not done) and today > deadline
        done_late += done and visited is not None and visited > deadline
    return Overdue(
        acknowledgements_overdue=len(late),
        acknowledged_late=sum(1 for r in referrals if r.acknowledged_late),
        completions_overdue=sum(1 for r in referrals if r.completion_overdue),
        follow_ups_due=due,
        follow_ups_overdue=overdue,
        follow_ups_done_late=done_late,
        by_receiver=by_receiver,
    )


def _median(values: list[float]) -> float | None:
    return _rounded(percentile(values, 50), 1)


def _daycare(
    models: Any, organisation: str | None, begin: datetime, end: datetime, now: datetime, period: list[str]
) -> Daycare:
    children = [
        c
        for c in models.daycare.queue(now)
        if begin <= c.sent_at < end and (not organisation or organisation in (c.referrer, c.receiver))
    ]
    waiting = [c for c in children if c.status is QueueStatus.WAITING]
    by_month = []
    for month in period:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=COPENHAGEN)
        month_end = datetime.combine(add_months(first.date(), 1), time(0), COPENHAGEN)
        cut = min(month_end, now)
        # Waiting at the month's end: referred by then and not yet offered a place (or closed) by then.
        queue = [
            c
            for c in children
            if c.sent_at < cut
            and (c.status is QueueStatus.WAITING or c.sent_at + timedelta(days=c.days_waiting) >= cut)
        ]
        by_month.append(
            {
                "month": month,
                "queue_length": len(queue),
                "referred": sum(
                    1 for c in children if c.sent_at.astimezone(COPENHAGEN).strftime("%Y-%m") == month
                ),
            }
        )
    return Daycare(
        waiting=len(waiting),
        # A place offered and not started yet: awaiting the family's answer or accepted for a later date.
        place_offered=sum(
            1 for c in children if c.status in (QueueStatus.PLACE_OFFERED, QueueStatus.PLACE_ACCEPTED)
        ),
        started=sum(1 for c in children if c.status is QueueStatus.STARTED),
        past_guarantee=sum(1 for c in children if c.overdue),
        median_days_waiting=_median([c.days_waiting for c in waiting]),
        max_days_waiting=max((c.days_waiting for c in waiting), default=None),
        queue_by_month=by_month,
    )


def _pool(
    letting: VacancyLetting,
    organisation: str | None,
    begin: datetime,
    end: datetime,
    now: datetime,
    period: list[str],
) -> Pool:
    rows = letting.published_before(min(end, now) if now > begin else end, organisation)
    begin_ms, end_ms, now_ms = (int(x.timestamp() * 1000) for x in (begin, end, now))

    def open_at(ms: int) -> int:
        return sum(
            1
            for r in rows
            if r["published_ms"] < ms
            and (r["let_ms"] is None or r["let_ms"] >= ms)
            and (r["withdrawn_ms"] is None or r["withdrawn_ms"] >= ms)
        )

    in_period = [r for r in rows if begin_ms <= r["published_ms"] < end_ms]
    days = [(r["let_ms"] - r["published_ms"]) / (24 * HOUR_MS) for r in in_period if r["let_ms"] is not None]
    by_month = []
    for month in period:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=COPENHAGEN)
        cut = min(datetime.combine(add_months(first.date(), 1), time(0), COPENHAGEN), now)
        by_month.append(
            {
                "month": month,
                "pool_size": open_at(int(cut.timestamp() * 1000)),
                "let": sum(1 for r in rows if r["let_ms"] and _month_of_ms(r["let_ms"]) == month),
            }
        )
    return Pool(
        open_now=open_at(now_ms),
        published=len(in_period),
        let=len(days),
        median_days_to_let=_median(days),
        p90_days_to_let=_rounded(percentile(days, 90), 1),
        by_month=by_month,
    )
