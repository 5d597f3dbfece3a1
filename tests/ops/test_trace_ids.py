"""The W3C trace id travels with each message: the publisher's log and the receiver's name the same trace."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from uuid import uuid4

import structlog
from structlog.testing import capture_logs

from adapters.settings import Store
from coordination.domain.referral import ReferralKind
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import BRIDGE_BUILDER, consultant, on, the_family
from ops.logging import configure


def test_a_referral_is_logged_with_one_trace_id_when_published_and_when_applied(tmp_path: Path) -> None:
    configure(json=True, level=logging.DEBUG)
    nodes = demo_nodes(tmp_path, Store.MEMORY)
    try:
        civica = nodes.civica
        household = civica.register_household(
            command_id=uuid4(), **the_family(), at=on(date(2026, 6, 2)), by=consultant
        )  # type: ignore[arg-type]
        civica.refer_household(
            command_id=uuid4(),
            household_id=household,
            receiver=BRIDGE_BUILDER,
            kind=ReferralKind.BRIDGE_BUILDING,
            at=on(date(2026, 6, 10)),
            by=consultant,
        )
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            nodes.sync()
    finally:
        nodes.close()
        configure(json=False, level=logging.INFO)
    published = {
        e["trace_id"] for e in logs if e["event"] == "relay.message" and e["type"].endswith(".sent.v1")
    }
    applied = {
        e.get("trace_id") for e in logs if e["event"] == "consumer.applied" and e["type"].endswith(".sent.v1")
    }
    assert len(published) == 1
    assert applied == published
