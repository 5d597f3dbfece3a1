"""/operations and the dashboard show the same handoff-latency percentiles for the same referrals."""

from __future__ import annotations

from ops.demo.reference_scenario import CIVICA
from tests.ops.conftest import SeededDemo

# The whole demo history (a period is at most ten years).
PERIOD = {"from": "2020-01-01", "to": "2029-12-01"}


def test_operations_and_the_dashboard_give_the_same_p50_for_the_same_latencies(
    seeded_demo: SeededDemo,
) -> None:
    client, operator = seeded_demo.client(), seeded_demo.operator()
    operations = client.get(f"/orgs/{CIVICA}/operations", headers=operator).json()["handoff_latency"]
    dashboard = client.get(f"/orgs/{CIVICA}/operations/dashboard", params=PERIOD, headers=operator).json()
    # /operations groups by pair and kind, the dashboard by kind: compare the kinds sent over one pair.
    pairs: dict[str, set[tuple[str, str]]] = {}
    for row in operations:
        pairs.setdefault(row["kind"], set()).add((row["from_org"], row["to_org"]))
    by_kind = {series["kind"]: series["total"] for series in dashboard["latency_by_kind"]}
    compared = {}
    for row in operations:
        if len(pairs[row["kind"]]) != 1 or not row["acknowledged"]:
            continue
        total = by_kind[row["kind"]]
        assert total["count"] == row["acknowledged"], row["kind"]
        assert (total["p50"], total["p90"]) == (
            row["p50_hours_to_acknowledgement"],
            row["p90_hours_to_acknowledgement"],
        ), row["kind"]
        compared[row["kind"]] = total["count"]
    # Worth comparing: a kind with an even number of latencies, where an interpolated median (the mean of
    # the middle two) and the nearest-rank one differ.
    assert any(count % 2 == 0 for count in compared.values()), compared
    print(f"\ncompared p50/p90 by kind (latencies): {compared}")
