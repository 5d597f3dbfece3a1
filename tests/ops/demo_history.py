"""What the demo's seeding stored, per node: a count of events and a digest of them, for pinning the seed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from coordination.applications.base import CommandReceipt
from coordination.domain.network import HouseholdNetwork, NetworkCopy
from ops.demo.reference_scenario import Nodes


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return _plain(value.model_dump(mode="json"))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (UUID, datetime, date, Decimal)):
        return str(value)
    return value


def _events(app: Any) -> Iterable[Any]:
    position = 0
    while page := app.recorder.select_notifications(start=position, limit=500, inclusive_of_start=False):
        for notification in page:
            position = notification.id
            yield app.mapper.to_domain_event(notification)


def node_histories(nodes: Nodes) -> dict[str, tuple[int, str]]:
    """Per organisation: how many events its log holds, and a digest of them — every attribute of every
    event, decrypted, except `timestamp` (when it was stored: the wall clock). The digest is of the events
    in sorted order: each names its aggregate and version, and which node's messages a node applied first
    (the consumer's lanes run side by side) is not part of the history."""
    found = {}
    for app in nodes.all():
        events = list(_events(app))
        lines = sorted(
            json.dumps(
                [
                    type(event).__qualname__,
                    _plain(
                        {
                            k: _unkeyed(k, v)
                            for k, v in vars(event).items()
                            if k != "timestamp" and not (k == "originator_id" and _answer_to_a_report(event))
                        }
                    ),
                ],
                sort_keys=True,
                separators=(",", ":"),
            )
            for event in events
            if not _as_it_ends(event)
        )
        lines += sorted(
            _network(app, e.originator_id)
            for e in events
            if isinstance(e, HouseholdNetwork.Opened | NetworkCopy.Received)
        )
        digest = hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]
        found[app.organisation] = (len(lines), digest)
    return found


def _unkeyed(name: str, value: Any) -> Any:
    """A receipt's fingerprint about a household is an HMAC under that household's key, which is drawn at
    random for each store (coordination/applications/fingerprints.py): the history keeps which household it
    is keyed for, not the random part."""
    if name == "fingerprint" and isinstance(value, str) and value.startswith("hmac-sha256:"):
        return value.rsplit(":", 1)[0]
    return value


def _as_it_ends(event: Any) -> bool:
    """An event of a household's network, or of a member's copy of it, or the receipt of a picture: counted
    as the network (or copy) ends. How many pictures a member received depends on how far the owner's
    relay had got when each was sent (it sends only the newest), which an interrupted run changes."""
    if isinstance(event, HouseholdNetwork.Event | NetworkCopy.Event):
        return True
    return isinstance(event, CommandReceipt.Recorded) and event.command == "receive_network_picture"


# Commands a reporter runs on the owner's answer to its report: their ids are the answer message's, named by
# the owner's network event it was sent for, whose version depends on the order the owner's consumer lanes
# noted its members' steps in (see `_network`); the answer itself (`result_id`, `at`) does not.
_ANSWERS_TO_REPORTS = {"record_fact_outcome", "record_refused_report"}


def _answer_to_a_report(event: Any) -> bool:
    return isinstance(event, CommandReceipt.Recorded) and event.command in _ANSWERS_TO_REPORTS


def _network(app: Any, network_id: UUID) -> str:
    """A household's network as it ends (the owner's, or a member's copy of its picture), whatever order the
    owner noted its members' steps in (the consumer's lanes run side by side, so the network's own events
    and versions may interleave differently from run to run): its household, members and items, without
    version and time of change."""
    kept = app.repository.get(network_id)
    picture = kept.picture() if isinstance(kept, HouseholdNetwork) else kept.picture
    members = sorted(json.dumps(_plain(m), sort_keys=True) for m in picture.members)
    whole = _plain(picture.model_copy(update={"members": []}))
    whole = {k: v for k, v in whole.items() if k not in ("version", "changed_at")}
    return json.dumps([type(kept).__name__, whole, members], sort_keys=True, separators=(",", ":"))
