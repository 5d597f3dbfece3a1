"""The served demo runs every node's timers, as a node's own process does: a seeded referral past its due
date (a daycare referral past its guarantee date) is expired at once instead of sitting open for ever."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.settings import Store
from coordination.applications.base import NodeApplication
from coordination.applications.timers import originators
from coordination.domain.referral import Referral, ReferralStatus
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import Nodes, play
from ops.demo.run import ensure_seeded, relax_fsync, start_timers
from ops.logging import configure
from tests.ops.conftest import HOUSEHOLDS

NOT_YET_ACCEPTED = {ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED}


def overdue(app: NodeApplication, now: datetime) -> list[Referral]:
    """The referrals `app` sent that are past their due date and still wait to be accepted."""
    found = [app.repository.get(referral_id) for referral_id in originators(app, Referral.Sent)]
    return [
        referral
        for referral in found
        if isinstance(referral, Referral)
        and referral.referrer == app.organisation
        and referral.status in NOT_YET_ACCEPTED
        and referral.complete_by <= now
    ]


def test_the_served_demo_expires_what_is_past_due_with_every_nodes_timers(tmp_path: Path) -> None:
    configure(json=False, level=logging.WARNING)
    nodes = demo_nodes(tmp_path, Store.SQLITE)
    relax_fsync(nodes)
    try:
        play(nodes)
        ensure_seeded(nodes, tmp_path, households=HOUSEHOLDS)
        now = datetime.now(UTC)
        before = [referral for app in nodes.all() for referral in overdue(app, now)]
        assert before, "the seeded history has referrals past their due date (the demo's dates are past)"

        timers = start_timers(nodes)  # as `coordination demo` / `serve` start them once the exchange runs

        assert len(timers) == len(nodes.parts)
        deadline = time.monotonic() + 120
        while any(each.runs == 0 for each in timers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert all(each.runs >= 1 for each in timers) and not any(each.failures for each in timers)
        assert [referral for app in nodes.all() for referral in overdue(app, now)] == []
        for referral in before:
            assert (
                nodes_app(nodes, referral.referrer).repository.get(referral.id).status
                is ReferralStatus.EXPIRED
            )
    finally:
        nodes.close()


def nodes_app(nodes: Nodes, organisation: str) -> NodeApplication:
    return next(app for app in nodes.all() if app.organisation == organisation)
