"""Prometheus metrics equal the exchange's counts; liveness and readiness; the dashboard's figures."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from ops.node.exchange import Exchange
from tests.ops.conftest import SeededDemo


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_scraped_from_each_node_equal_the_messages_exchanged(seeded_demo: SeededDemo) -> None:
    exchange = seeded_demo.nodes.exchange
    assert isinstance(exchange, Exchange)
    exchange.settle()
    client = seeded_demo.client()
    published_total, applied_total = 0.0, 0.0
    for node in exchange.nodes:
        org = node.organisation
        samples = _samples(client.get(f"/orgs/{org}/metrics").text)
        labels = (("organisation", org),)
        published = samples[("coordination_events_published_total", labels)]
        applied = samples[("coordination_events_applied_total", labels)]
        assert published == sum(node.published.values())
        assert applied == node.consumer.stats.applied
        assert samples[("coordination_duplicates_suppressed_total", labels)] == node.consumer.stats.duplicates
        assert samples[("coordination_messages_parked_total", labels)] == node.consumer.stats.parked == 0
        assert samples[("coordination_lag", (("organisation", org), ("what", "relay")))] == 0
        assert samples[("coordination_lag", (("organisation", org), ("what", "consumer")))] == 0
        published_total += published
        applied_total += applied
    # Every message published was read by each subscriber; what was applied at one node came from another.
    received = sum(sum(node.received.values()) for node in exchange.nodes)
    assert (
        applied_total + sum(n.consumer.stats.duplicates + n.consumer.stats.parked for n in exchange.nodes)
        == received
    )
    assert published_total > 0
    assert applied_total > 0


def test_the_latency_histogram_counts_every_acknowledged_referral_by_pair_and_kind(
    seeded_demo: SeededDemo,
) -> None:
    client = seeded_demo.client()
    samples = _samples(client.get("/orgs/civica/metrics").text)
    counted = {k: v for k, v in samples.items() if k[0] == "coordination_handoff_latency_seconds_count"}
    figures = client.get(
        "/orgs/civica/operations/dashboard", params={"from": "2025-01-01"}, headers=seeded_demo.operator()
    ).json()
    by_pair: dict[tuple[str, str], float] = {}
    for (_, labels), value in counted.items():
        named = dict(labels)
        by_pair[(named["from_org"], named["to_org"])] = (
            by_pair.get((named["from_org"], named["to_org"]), 0) + value
        )
    assert by_pair == {(s["from_org"], s["to_org"]): s["total"]["count"] for s in figures["latency_by_pair"]}
    assert sum(by_pair.values()) > 0


def test_the_node_is_live_and_ready_only_while_its_exchange_runs(seeded_demo: SeededDemo) -> None:
    client = seeded_demo.client()
    exchange = seeded_demo.nodes.exchange
    assert isinstance(exchange, Exchange)
    assert client.get("/orgs/civica/livez").json() == {"status": "alive"}
    stopped = client.get("/orgs/civica/readyz")
    assert stopped.status_code == 503
    assert stopped.json()["checks"]["exchange"]["ok"] is False
    exchange.start()
    try:
        ready = client.get("/orgs/civica/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"]["store"]["ok"]
        assert ready.json()["checks"]["projections"]["ok"]
    finally:
        exchange.stop()


def test_the_dashboard_needs_an_operator_and_shows_no_personal_data(seeded_demo: SeededDemo) -> None:
    client = seeded_demo.client()
    assert client.get("/orgs/civica/operations/dashboard").status_code == 401
    consultant = {"Authorization": f"Bearer {seeded_demo.tokens['CIVICA_CONSULTANT']}"}
    assert client.get("/orgs/civica/operations/dashboard", headers=consultant).status_code == 403
    body = client.get("/orgs/civica/operations/dashboard", headers=seeded_demo.operator()).text
    for personal in ("household_id", "member_id", "birth_month", "case_reference", "address", "CIVICA-20"):
        assert personal not in body
    assert client.get("/orgs/civica/dashboard").headers["content-type"].startswith("text/html")
