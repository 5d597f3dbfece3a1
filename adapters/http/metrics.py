"""A node's Prometheus metrics (a registry per node): counts and durations only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from adapters.http.node import ApiNode
from coordination.projections.handoff_status import HandoffStatusProjection

# Seconds from a referral's issue to its acknowledgement: an hour to the 3 working days (and beyond).
LATENCY_BUCKETS = (
    3600.0,
    4 * 3600.0,
    8 * 3600.0,
    86400.0,
    2 * 86400.0,
    3 * 86400.0,
    5 * 86400.0,
    7 * 86400.0,
    14 * 86400.0,
    30 * 86400.0,
)


class NodeCollector(Collector):
    """Reads the node's figures at scrape time, so the metrics always equal what the node has recorded."""

    def __init__(self, node: ApiNode) -> None:
        self.node = node

    def collect(self) -> Iterator[Metric]:
        org = self.node.organisation
        figures = self.node.exchange_figures() if self.node.exchange_figures else None
        for name, key, words in (
            ("coordination_events_published", "published", "Messages this node published to the exchange"),
            ("coordination_events_applied", "applied", "Messages received and applied (each once in effect)"),
            (
                "coordination_duplicates_suppressed",
                "duplicates",
                "Messages received again and not re-applied",
            ),
            ("coordination_messages_parked", "parked_total", "Messages this node could not apply and parked"),
        ):
            counter = CounterMetricFamily(name, words, labels=["organisation"])
            counter.add_metric([org], float(figures.get(key, 0)) if figures else 0.0)
            yield counter
        # The counter above only grows; what is parked now (less what a retry applied) is read from the table.
        parked = GaugeMetricFamily(
            "coordination_messages_parked_now", "Messages parked and not yet retried", labels=["organisation"]
        )
        parked.add_metric([org], float(figures.get("parked", 0)) if figures else 0.0)
        yield parked
        lag = GaugeMetricFamily(
            "coordination_lag",
            "How far behind: relay (stored events not yet published), "
            "consumer (messages not yet read), projection (events)",
            labels=["organisation", "what"],
        )
        for what in ("relay_lag", "consumer_lag"):
            value = figures.get(what) if figures else None
            if value is not None:
                lag.add_metric([org, what.removesuffix("_lag")], float(value))
        models = self.node.read_models
        if models is not None:
            for name, status in models.status().items():
                lag.add_metric([org, f"projection:{name}"], float(status["lag"]))
            yield self._latency(models)
        yield lag

    def _latency(self, models: Any) -> HistogramMetricFamily:
        histogram = HistogramMetricFamily(
            "coordination_handoff_latency_seconds",
            "From a referral's issue to its acknowledgement",
            labels=["organisation", "from_org", "to_org", "kind"],
        )
        table = HandoffStatusProjection(models.suffix).table_names["hs_latency"]
        rows = models.views.query(
            f"SELECT from_org, to_org, kind, issued_ms, acknowledged_ms FROM {table} "
            "WHERE acknowledged_ms IS NOT NULL"
        )
        groups: dict[tuple[str, str, str], list[float]] = {}
        for row in rows:
            key = (row["from_org"], row["to_org"], row["kind"])
            groups.setdefault(key, []).append((row["acknowledged_ms"] - row["issued_ms"]) / 1000)
        for (from_org, to_org, kind), seconds in sorted(groups.items()):
            buckets = [(repr(le), float(sum(1 for s in seconds if s <= le))) for le in LATENCY_BUCKETS]
            buckets.append(("+Inf", float(len(seconds))))
            histogram.add_metric([self.node.organisation, from_org, to_org, kind], buckets, sum(seconds))
        return histogram


def node_registry(node: ApiNode) -> CollectorRegistry:
    """A registry of the node's own: several nodes in one process never share (or clash over) metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeCollector(node))
    return registry
