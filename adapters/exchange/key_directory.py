"""Where a recipient obtains the exchange keys of what others sealed for it (never through Kafka), and the
opener that uses them: the owner's node in the same process, or the owner's API over HTTP (keys.py says
how the keys are made and whom each opens for)."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote
from uuid import UUID

import httpx
import structlog

from adapters.exchange.keys import (
    ExchangeKeys,
    KeyNotShared,
    KeyUnavailable,
    open_sealed,
)
from coordination.integration.events import IntegrationEvent

log = structlog.get_logger()


class KeyDirectory(Protocol):
    """Where a recipient obtains the owner's exchange key of a household: never through Kafka."""

    def key(self, owner: str, household_id: UUID, sealed_for: str | None = None) -> bytes | None:
        """The owner's key of what it sealed for `sealed_for` (None: the old scheme's one key); None when
        the owner erased the household (or has no such key). Raises KeyUnavailable when the owner cannot
        be asked now, KeyNotShared when it refuses."""
        ...

    def forget(self, household_id: UUID) -> None:
        """Drop any cached key of the household (this node erased it)."""
        ...


class _Cache:
    def __init__(self) -> None:
        self._keys: dict[tuple[str, UUID, str | None], bytes] = {}
        self._lock = threading.Lock()

    def get(
        self, owner: str, household_id: UUID, sealed_for: str | None, fetch: Callable[[], bytes | None]
    ) -> bytes | None:
        with self._lock:
            cached = self._keys.get((owner, household_id, sealed_for))
        if cached is not None:
            return cached
        key = fetch()
        if key is not None:
            with self._lock:
                self._keys[(owner, household_id, sealed_for)] = key
        return key

    def forget(self, household_id: UUID) -> None:
        with self._lock:
            for known in [k for k in self._keys if k[1] == household_id]:
                del self._keys[known]


class KeyOwners:
    """The exchange keys of the nodes running in this process, by organisation (the demo, flow tests)."""

    def __init__(self) -> None:
        self._owners: dict[str, ExchangeKeys] = {}

    def register(self, organisation: str, keys: ExchangeKeys) -> None:
        self._owners[organisation] = keys

    def unregister(self, organisation: str, keys: ExchangeKeys) -> None:
        """The node closed: its keys are not to be asked for until it runs again (not another's)."""
        if self._owners.get(organisation) is keys:
            del self._owners[organisation]

    def of(self, organisation: str) -> ExchangeKeys:
        keys = self._owners.get(organisation)
        if keys is None:
            raise KeyUnavailable(f"{organisation}'s node does not run in this process")
        return keys


class InProcessKeyDirectory:
    """Asks the owner's node in the same process, as `requester`, with the same rules as its API."""

    def __init__(self, requester: str, owners: KeyOwners) -> None:
        self.requester = requester
        self._owners = owners
        self._cache = _Cache()

    def key(self, owner: str, household_id: UUID, sealed_for: str | None = None) -> bytes | None:
        def fetch() -> bytes | None:
            keys = self._owners.of(owner)
            if sealed_for is None:
                return keys.release_legacy(household_id, self.requester)
            return keys.release(household_id, sealed_for, self.requester)

        return self._cache.get(owner, household_id, sealed_for, fetch)

    def forget(self, household_id: UUID) -> None:
        self._cache.forget(household_id)


class HttpKeyDirectory:
    """Asks the owner's API (`GET /v1/exchange-keys/{household_id}/{sealed_for}`; without `sealed_for`, the
    old scheme's `GET /v1/exchange-keys/{household_id}`) with a service token of `requester`'s.

    `peers` maps organisations to their API's base URL; `token(audience)` makes a bearer token for one.
    """

    PURPOSE = "open the personal fields of received integration events"

    def __init__(
        self,
        requester: str,
        peers: dict[str, str],
        token: Callable[[str], str],
        *,
        client: httpx.Client | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.requester = requester
        self._peers = peers
        self._token = token
        self._client = client or httpx.Client(timeout=timeout)
        self._cache = _Cache()

    def key(self, owner: str, household_id: UUID, sealed_for: str | None = None) -> bytes | None:
        return self._cache.get(
            owner, household_id, sealed_for, lambda: self._fetch(owner, household_id, sealed_for)
        )

    def forget(self, household_id: UUID) -> None:
        self._cache.forget(household_id)

    def _fetch(self, owner: str, household_id: UUID, sealed_for: str | None) -> bytes | None:
        base = self._peers.get(owner)
        if base is None:
            raise KeyNotShared(f"No API URL is configured for {owner} (COORDINATION_PEER_URLS)")
        headers = {"Authorization": f"Bearer {self._token(owner)}", "X-Purpose": self.PURPOSE}
        path = f"/v1/exchange-keys/{household_id}"
        if sealed_for is not None:
            path += f"/{quote(sealed_for, safe='')}"
        # The owner's replicas, when its URL lists several ("http://a|http://b"; usually one load balancer):
        # the first that answers.
        failed: httpx.HTTPError | None = None
        for url in base.split("|"):
            try:
                response = self._client.get(f"{url.strip().rstrip('/')}{path}", headers=headers)
                break
            except httpx.HTTPError as error:
                failed = error
        else:
            raise KeyUnavailable(f"{owner}'s API did not answer: {type(failed).__name__}") from None
        if response.status_code in (404, 410):
            return None
        if response.status_code == 403:
            raise KeyNotShared(f"{owner} does not share household {household_id}'s key with {self.requester}")
        if response.status_code != 200:
            raise KeyUnavailable(f"{owner}'s API answered {response.status_code} for an exchange key")
        return base64.b64decode(response.json()["key"])


class ExchangeOpener:
    """The Inbound's first step: opens a received event's sealed fields with the owner's key."""

    def __init__(self, directory: KeyDirectory) -> None:
        self.directory = directory

    def __call__(self, event: IntegrationEvent) -> IntegrationEvent:
        sealed = event.sealed
        if sealed is None:
            return event
        key = self.directory.key(sealed.owner, sealed.household_id, sealed.recipient)
        if key is None:
            log.info("exchange.key_erased", event_type=event.event_type, owner=sealed.owner)
        return open_sealed(event, key)


def forget_on_erasure(keys: ExchangeKeys, directory: KeyDirectory) -> Callable[[UUID], None]:
    """The erasure hook: delete this node's exchange keys of the household (of every recipient, and the old
    scheme's) and drop others' cached keys."""

    def forget(household_id: UUID) -> None:
        keys.erase(household_id)
        directory.forget(household_id)

    return forget
