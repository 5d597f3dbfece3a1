"""Every message of the reference scenario delivered a second time changes nothing at any node."""

from __future__ import annotations

from adapters.exchange.consumer import Consumer
from adapters.exchange.inprocess import InProcessBroker
from adapters.exchange.tables import ParkedMessages
from coordination.integration.inbound import Inbound
from ops.demo.reference_scenario import play
from tests.exchange_support import reference_nodes


def test_redelivering_every_message_to_every_node_is_suppressed_as_a_duplicate() -> None:
    broker = InProcessBroker()
    nodes = reference_nodes(broker)
    try:
        play(nodes)
        assert nodes.exchange is not None
        before = [app.recorder.max_notification_id() for app in nodes.all()]
        for node in nodes.exchange.nodes:  # type: ignore[attr-defined]
            applied_first_time = node.consumer.stats.applied
            again = Consumer(
                broker.subscribe(node.subscribed, group=f"redelivery-{node.organisation}"),
                Inbound(node.app),
                ParkedMessages(node.db),
                name="redelivery",
            )
            while again.run_once(0):
                pass
            own = sum(
                node.published[t] for t in node.subscribed
            )  # its own pool messages: skipped, not applied
            assert (again.stats.duplicates, again.stats.parked) == (applied_first_time - own, 0)
        assert [app.recorder.max_notification_id() for app in nodes.all()] == before
    finally:
        nodes.close()
