"""The municipal coordinator's picture (municipal_picture.py) as CSV for a spreadsheet, one part at a time,
as the picture shows it (suppressed)."""

from __future__ import annotations

import csv
import io

from coordination.projections.municipal_picture import MunicipalPicture

CSV_PARTS = ("placements", "offers", "latency")


def picture_csv(picture: MunicipalPicture, part: str = "placements") -> str:
    """One part of the picture as it shows it (suppressed), for a spreadsheet: placements per receiving
    area and month, offer outcomes and overridden rules, or referral latency per department."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if part == "placements":
        writer.writerow(("municipality", "area", "status", "month", "placements", "permanent", "temporary"))
        for area in picture.areas:
            for m in area.by_month:
                writer.writerow(
                    (
                        area.municipality,
                        area.area,
                        area.status,
                        m.month,
                        m.placements,
                        m.permanent,
                        m.temporary,
                    )
                )
    elif part == "offers":
        offers = picture.offers
        writer.writerow(("measure", "name", "count"))
        for name in ("made", "accepted", "declined", "expired"):
            writer.writerow(("outcome", name, getattr(offers, name)))
        for measure, counts in (
            ("declined_by", offers.declined_by),
            ("override", offers.overrides),
            ("warning", offers.warnings),
        ):
            for name, count in counts.items():
                writer.writerow((measure, name, count))
    else:
        writer.writerow(
            (
                "to_org",
                "kind",
                "referrals",
                "p50_hours_to_acknowledgement",
                "p90_hours_to_acknowledgement",
                "p50_hours_to_acceptance",
            )
        )
        for x in picture.latency:
            writer.writerow(
                (
                    x.to_org,
                    x.kind,
                    x.referrals,
                    _blank(x.p50_hours_to_acknowledgement),
                    _blank(x.p90_hours_to_acknowledgement),
                    _blank(x.p50_hours_to_acceptance),
                )
            )
    return out.getvalue()


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:g}"
