"""The municipality's picture: small-cell suppression, the month a shared placement counts in, and the
figures the coordinator's picture counts from the shared facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.errors import InvalidInput
from coordination.domain.municipal_picture import SUPPRESSED, last_day, suppressed
from coordination.domain.values import YearMonth
from coordination.projections.handoff_status import HandoffLatency
from coordination.projections.municipal_picture import MunicipalPictureProjection, MunicipalPictureQueries
from coordination.projections.receiving_areas import AreaSummary, ShownAreaSummary

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(("count", "shown"), [(0, 0), (1, "<5"), (4, "<5"), (5, 5), (6, 6), (1000, 1000)])
def test_counts_of_one_to_four_are_shown_as_under_five_and_zero_and_five_on_as_they_are(
    count: int, shown: int | str
) -> None:
    assert suppressed(count) == shown


def test_a_negative_count_is_refused_rather_than_shown() -> None:
    with pytest.raises(InvalidInput):
        suppressed(-1)


@pytest.mark.parametrize(
    ("month", "day"),
    [((2026, 2), date(2026, 2, 28)), ((2024, 2), date(2024, 2, 29)), ((2025, 12), date(2025, 12, 31))],
)
def test_a_shared_placement_counts_in_a_window_from_the_last_day_of_its_month(
    month: tuple[int, int], day: date
) -> None:
    assert last_day(YearMonth(year=month[0], month=month[1])) == day


@pytest.fixture
def picture() -> tuple[SQLiteViewStore, MunicipalPictureQueries]:
    views = SQLiteViewStore(":memory:")
    views.ensure_tables(MunicipalPictureProjection())
    return views, MunicipalPictureQueries(views)


def _placement(
    org: str, area: str, month: str, *, permanent: bool = True, rent: int = 7000, overrides: str = ""
) -> dict[str, object]:
    return {
        "placement_id": str(uuid4()),
        "reported_by": org,
        "municipality": "Odense",
        "area": area,
        "municipality_key": "odense",
        "area_key": area.lower(),
        "month": month,
        "permanent": int(permanent),
        "origin_area": "Vollsmose",
        "old_rent_ore": 600_000,
        "new_rent_ore": rent * 100,
        "overrides": overrides,
        "warnings": overrides,
    }


def _write(views: SQLiteViewStore, table: str, rows: list[dict[str, object]]) -> None:
    name = MunicipalPictureProjection().table_names[table]
    columns = list(rows[0])
    sql = f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    with views.transaction() as tx:
        tx.executemany(sql, [tuple(row[c] for c in columns) for row in rows])


def test_the_picture_counts_each_shared_placement_once_per_area_month_and_organisation(
    picture: tuple[SQLiteViewStore, MunicipalPictureQueries],
) -> None:
    views, queries = picture
    rows = [_placement("civica", "Rising", "2026-03") for _ in range(4)]
    rows += [_placement("fab", "Rising", "2026-03", permanent=False, rent=8000, overrides="waterbed_inflow")]
    rows += [_placement("fab", "Rising", "2026-05", rent=8000)]
    rows += [_placement("fab", "Bolbro", "2025-12")]  # before the period
    _write(views, "mp_placements", rows)

    found = queries.picture(
        "Odense", "2026-01", "2026-06", now=NOW, indicators=lambda m, a: None, status_of=lambda m, a: "ok"
    )

    [rising] = found.areas
    assert rising.placements == 6
    assert rising.by_organisation == {"civica": SUPPRESSED, "fab": SUPPRESSED}
    by_month = {m.month: (m.placements, m.permanent, m.temporary) for m in rising.by_month}
    assert by_month["2026-03"] == (5, SUPPRESSED, SUPPRESSED) and by_month["2026-04"] == (0, 0, 0)
    assert [m.month for m in rising.by_month] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
        "2026-05",
        "2026-06",
    ]
    assert rising.overrides == {"waterbed_inflow": SUPPRESSED}
    assert (str(rising.old_rent_mean), str(rising.new_rent_mean)) == ("6000.00", "7333.33")
    assert rising.rent_rises == 6


def test_a_mean_or_percentile_over_fewer_than_five_is_not_shown(
    picture: tuple[SQLiteViewStore, MunicipalPictureQueries],
) -> None:
    views, queries = picture
    _write(views, "mp_placements", [_placement("civica", "Rising", "2026-03") for _ in range(4)])
    timings = [
        {
            "fact_id": str(uuid4()),
            "timing_id": str(uuid4()),
            "reported_by": "odense-jobcenter",
            "from_org": "civica",
            "to_org": "odense-jobcenter",
            "kind": "jobcentre",
            "milestone": "acknowledged",
            "issued_month": "2026-03",
            "seconds": 3600 * hours,
        }
        for hours in (1, 2, 3, 4)
    ]
    _write(views, "mp_timings", timings)
    own = [
        HandoffLatency(
            referral_id=uuid4(),
            from_org="civica",
            to_org="odense-boern-og-unge",
            kind="daycare_fast_track",
            issued_at=NOW - timedelta(days=60),
            to_acknowledgement=timedelta(hours=h),
            to_acceptance=None,
        )
        for h in (1, 2, 3, 4, 5)
    ]

    found = queries.picture(
        "Odense",
        "2026-01",
        "2026-06",
        now=NOW,
        indicators=lambda m, a: None,
        status_of=lambda m, a: "ok",
        own_latencies=own,
    )

    assert found.areas[0].old_rent_mean is None and found.areas[0].placements == SUPPRESSED
    department, jobcentre = found.latency
    assert (jobcentre.referrals, jobcentre.p50_hours_to_acknowledgement) == (SUPPRESSED, None)
    assert (department.referrals, department.p50_hours_to_acknowledgement) == (5, 3.0)
    assert department.p50_hours_to_acceptance is None


def _area(moved_in: int, others: int, vulnerable: int = 2) -> AreaSummary:
    own = moved_in - others
    return AreaSummary(
        municipality="Odense",
        area="Rising",
        moved_in=moved_in,
        vulnerable=vulnerable,
        vulnerable_share=vulnerable / own if own else 0.0,
        overrides={"waterbed_inflow": 2},
        warnings={"waterbed_inflow": 7},
        from_other_organisations=others,
    )


def test_the_monitor_shows_its_own_organisation_its_own_figures_and_suppresses_what_holds_others() -> None:
    alone, mixed, many = (
        ShownAreaSummary.of(_area(3, 0), own=True),
        ShownAreaSummary.of(_area(4, 1), own=True),
        ShownAreaSummary.of(_area(9, 2), own=True),
    )

    assert (alone.moved_in, alone.from_other_organisations, alone.vulnerable) == (3, 0, 2)
    assert (mixed.moved_in, mixed.from_other_organisations, mixed.vulnerable) == (SUPPRESSED, SUPPRESSED, 2)
    assert (many.moved_in, many.from_other_organisations) == (9, SUPPRESSED)  # 2 others: not told exactly
    assert many.overrides == {"waterbed_inflow": 2}


def test_the_monitor_suppresses_every_small_count_for_a_caller_from_another_organisation() -> None:
    shown = ShownAreaSummary.of(_area(4, 0), own=False)

    assert (shown.moved_in, shown.vulnerable, shown.vulnerable_share) == (SUPPRESSED, SUPPRESSED, None)
    assert shown.overrides == {"waterbed_inflow": SUPPRESSED} and shown.warnings == {"waterbed_inflow": 7}
