"""The caseworker is told: the bridge builder's inbox gets the handoff when it is issued, an unacknowledged
handoff escalates to the coordinator, and the organisation's own system receives each event once in effect
through a webhook — a real HTTP server in this test, down for a while, verifying every signature itself."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.webhooks.store import WebhookStore
from adapters.webhooks.worker import Backoff, WebhookWorker
from coordination.domain.values import Role
from ops.demo.reference_family import BRIDGE_BUILDER, CIVICA
from ops.node.timers import NodeTimers
from tests.api.conftest import Api, Organisations, open_organisations
from tests.api.story import MOVE, family, step
from tests.api.webhook_receiver import Receiver, verified


def _wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def orgs(tmp_path: Path, signing_keys: dict[str, Ed25519PrivateKey]) -> Iterator[Organisations]:
    found = open_organisations("sqlite", tmp_path, signing_keys, organisations=(CIVICA, BRIDGE_BUILDER))
    yield found
    found.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.up()
    yield found
    found.down()


def _worker(orgs: Organisations, org: str) -> WebhookWorker:
    node = orgs.nodes[org]
    return WebhookWorker(
        node.app, WebhookStore(node.db), backoff=Backoff(first_s=0.2, longest_s=0.8, attempts=30), idle_s=0.05
    )


def _handoff(orgs: Organisations) -> str:
    """The consultant registers a family and records its move, handing it to the bridge builder."""
    consultant = orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT, person="civica-gk-07")
    household, etag = step(consultant, "/households", family(), status=201)
    handoff, _ = step(
        consultant, f"/households/{household}/move", {"move": MOVE, "hand_off_to": BRIDGE_BUILDER}, etag=etag
    )
    orgs.settle()
    return handoff


def _inbox(api: Api, **params: Any) -> dict[str, Any]:
    return api.ok(api.get("/inbox", purpose=None, **params))


def test_the_bridge_builder_is_notified_when_the_handoff_is_issued_and_marks_it_read(
    orgs: Organisations,
) -> None:
    handoff = _handoff(orgs)
    anna = orgs.api(BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER, person="bb-anna")
    colleague = orgs.api(BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER, person="bb-ole")

    page = _inbox(anna)
    assert [(item["kind"], item["subject_id"], item["read"]) for item in page["items"]] == [
        ("referral_received", handoff, False)
    ]
    notification = page["items"][0]["notification_id"]
    anna.ok(anna.post(f"/inbox/{notification}/read"))

    assert _inbox(anna, unread="true")["items"] == []
    assert len(_inbox(colleague, unread="true")["items"]) == 1  # read per person
    # The consultant who issued it is told nothing at its own node.
    consultant = orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT)
    assert _inbox(consultant)["items"] == []
    refused = orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT).post(f"/inbox/{notification}/read")
    assert refused.status_code == 404  # not at the consultant's node: no such notification there


def test_an_unacknowledged_handoff_escalates_to_the_coordinator_on_the_timers_clock(
    orgs: Organisations,
) -> None:
    handoff = _handoff(orgs)
    bridge = orgs.nodes[BRIDGE_BUILDER]
    now = [bridge.clock() + timedelta(days=8)]
    timers = NodeTimers(bridge.app, interval_s=3600, clock=lambda: now[0])
    coordinator = orgs.api(BRIDGE_BUILDER, role=Role.COORDINATOR, person="bb-leder")
    anna = orgs.api(BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER, person="bb-anna")

    assert timers.run_once()["notifications_raised"] == 1  # the acknowledgement is overdue
    assert timers.run_once()["notifications_raised"] == 0
    assert [i["kind"] for i in _inbox(anna)["items"]] == ["acknowledgement_overdue", "referral_received"]
    first = _inbox(anna, limit=1)
    second = _inbox(anna, limit=1, cursor=first["next_cursor"])
    assert [p["items"][0]["kind"] for p in (first, second)] == [
        "acknowledgement_overdue",
        "referral_received",
    ]
    assert _inbox(anna, limit=1, cursor=second["next_cursor"]) == {"items": [], "next_cursor": None}
    now[0] += timedelta(days=1)
    assert timers.run_once()["notifications_escalated"] == 0  # not yet: two working days
    now[0] += timedelta(days=4)
    assert timers.run_once()["notifications_escalated"] == 1
    assert timers.run_once()["notifications_escalated"] == 0

    top = _inbox(coordinator)["items"][0]
    assert (top["kind"], top["subject_id"]) == ("escalation", handoff)
    assert "escalation" not in [i["kind"] for i in _inbox(anna)["items"]]


def test_a_webhook_receiver_gets_each_event_once_in_effect_across_an_outage_with_valid_signatures(
    orgs: Organisations, receiver: Receiver
) -> None:
    operator = orgs.api(BRIDGE_BUILDER, role=Role.OPERATOR, person="it-1")
    created = operator.ok(
        operator.post(
            "/webhooks",
            {"url": f"http://127.0.0.1:{receiver.port}/rehousing", "types": ["dk.rehousing.*"]},
        ),
        201,
    )
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert "secret" not in operator.ok(operator.get("/webhooks", purpose=None))[0]
    receiver.down()  # the department's system is down when the handoff arrives
    worker = _worker(orgs, BRIDGE_BUILDER)
    worker.start()
    try:
        handoff = _handoff(orgs)
        deliveries = f"/webhooks/{created['id']}/deliveries"

        def retried() -> bool:
            items = operator.ok(operator.get(deliveries, purpose=None))["items"]
            return len(items) == 2 and all(d["attempts"] >= 2 for d in items)

        _wait_until(retried)
        log = operator.ok(operator.get(deliveries, purpose=None))["items"]
        assert {d["event_type"] for d in log} == {
            "dk.rehousing.referral.sent",
            "dk.rehousing.notification.raised",
        }
        assert {d["state"] for d in log} == {"pending"}
        assert receiver.requests == []

        receiver.fail_first = True  # back up, but its first answers are lost
        receiver.up()
        _wait_until(
            lambda: (
                {d["state"] for d in operator.ok(operator.get(deliveries, purpose=None))["items"]}
                == {"delivered"}
            )
        )
        replayed = operator.post(f"{deliveries}/{log[0]['id']}/replay")
        assert replayed.status_code == 200, replayed.text
        _wait_until(lambda: len(receiver.requests) == 5)
    finally:
        worker.stop(timeout=5)

    # Five requests, two events: each sent again after a lost answer, one replayed — same webhook-ids.
    assert all(verified(secret, headers, body) for headers, body in receiver.requests)
    assert len({headers["webhook-id"] for headers, _ in receiver.requests}) == 2
    assert {h["content-type"] for h, _ in receiver.requests} == {
        "application/cloudevents+json; charset=utf-8"
    }
    events = {event["type"]: event for event in receiver.processed.values()}
    sent = events["dk.rehousing.referral.sent"]
    assert (sent["specversion"], sent["subject"], sent["data"]["kind"]) == ("1.0", handoff, "handoff")
    assert sent["data"]["direction"] == "received"
    assert events["dk.rehousing.notification.raised"]["data"]["kind"] == "referral_received"
    # Minimised: ids, kinds, statuses, dates; nothing of the family.
    assert set(sent["data"]) == {
        "referral_id",
        "household_id",
        "kind",
        "status",
        "referrer",
        "receiver",
        "direction",
        "acknowledge_by",
        "complete_by",
        "assignee",
    }
    family_words = json.dumps(family())
    for member in family()["members"]:
        assert member["member_id"] not in json.dumps(list(receiver.processed.values()))
    assert "cpr" not in json.dumps(list(receiver.processed.values())).lower()
    assert UUID(sent["data"]["household_id"])
    assert family_words  # the registration did carry personal data


def test_a_webhook_is_refused_a_url_that_is_not_http_and_to_anyone_but_an_operator(
    orgs: Organisations,
) -> None:
    operator = orgs.api(BRIDGE_BUILDER, role=Role.OPERATOR, person="it-1")
    for url in ("ftp://127.0.0.1/x", "file:///etc/passwd", "http://user:pw@127.0.0.1/x", "127.0.0.1"):
        answer = operator.post("/webhooks", {"url": url, "types": ["dk.rehousing.*"]})
        assert answer.status_code == 422, url
        assert answer.headers["content-type"] == "application/problem+json"
    unknown = operator.post("/webhooks", {"url": "http://127.0.0.1/x", "types": ["com.example.*"]})
    assert unknown.status_code == 422
    bridge_builder = orgs.api(BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER)
    assert (
        bridge_builder.post("/webhooks", {"url": "http://127.0.0.1/x", "types": ["dk.*"]}).status_code == 403
    )
    key = uuid4()
    made = operator.ok(
        operator.post("/webhooks", {"url": "https://127.0.0.1/x", "types": ["dk.*"]}, key=key), 201
    )
    # Its answer lost, the request repeated: the same subscription and secret, not a second one.
    again = operator.post("/webhooks", {"url": "https://127.0.0.1/x", "types": ["dk.*"]}, key=key)
    assert (again.json(), again.headers["Idempotent-Replayed"]) == (made, "true")
    other = operator.post("/webhooks", {"url": "https://127.0.0.1/y", "types": ["dk.*"]}, key=key)
    assert other.status_code == 422
    assert len(operator.ok(operator.get("/webhooks", purpose=None))) == 1
    assert operator.client.delete(f"/webhooks/{made['id']}", headers=operator.headers).status_code == 204
    assert operator.ok(operator.get("/webhooks", purpose=None)) == []


def test_a_replay_from_a_time_sends_every_subscribed_event_since_again_with_its_webhook_id(
    orgs: Organisations, receiver: Receiver
) -> None:
    operator = orgs.api(BRIDGE_BUILDER, role=Role.OPERATOR, person="it-1")
    url = f"http://127.0.0.1:{receiver.port}/notifications"
    made = operator.ok(
        operator.post("/webhooks", {"url": url, "types": ["dk.rehousing.notification.*"]}), 201
    )
    before = orgs.nodes[BRIDGE_BUILDER].clock()
    _handoff(orgs)
    worker = _worker(orgs, BRIDGE_BUILDER)
    try:
        worker.run_once()
        first = [headers["webhook-id"] for headers, _ in receiver.requests]
        assert len(first) == 1  # the notification only: the subscription asked for no referral events

        answer = operator.post(f"/webhooks/{made['id']}/replay", {"since": before.isoformat()})
        assert operator.ok(answer) == {"queued": 1}
        worker.run_once()
    finally:
        worker.stop(timeout=5)
    assert [headers["webhook-id"] for headers, _ in receiver.requests] == first * 2


def test_an_idle_worker_sleeps_long_but_sends_a_retry_when_it_is_due(
    orgs: Organisations, receiver: Receiver
) -> None:
    """The worker sleeps up to a minute when nothing is new (an idle node's CPU), yet a failed delivery is
    retried when its backoff ends, not at the end of that sleep; a new event wakes it as a commit does."""
    operator = orgs.api(BRIDGE_BUILDER, role=Role.OPERATOR, person="it-1")
    url = f"http://127.0.0.1:{receiver.port}/notifications"
    operator.ok(operator.post("/webhooks", {"url": url, "types": ["dk.rehousing.notification.*"]}), 201)
    node = orgs.nodes[BRIDGE_BUILDER]
    worker = WebhookWorker(
        node.app, WebhookStore(node.db), backoff=Backoff(first_s=0.5, longest_s=0.5, attempts=3), idle_s=60
    )
    receiver.fail_first = True
    worker.start()
    try:
        time.sleep(0.3)  # asleep now, for up to a minute
        _handoff(orgs)
        worker.wake()  # what the node's commit hook and its log listener do
        started = time.monotonic()
        _wait_until(lambda: len(receiver.processed) == 1, seconds=10)
        took = time.monotonic() - started
    finally:
        worker.stop(timeout=5)
    assert len(receiver.requests) == 2  # refused once, sent again after its backoff
    assert took < 5, f"the retry waited {took:.1f} s: the idle sleep, not its backoff"
