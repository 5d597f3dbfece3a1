"""An outside integrator's view of a deployment: each organisation's node over HTTP with its own tokens, the
household's status read at every node, and what the owner's answer is expected to say after each step."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
import pydantic_core

from adapters.http.auth import issue_token, load_private_key, private_key_path
from coordination.domain.values import Actor
from tests.integration.fault_support import ROOT, Deployment, NodeProcess

# Every wait is bounded: the exchange carries a step to the owner and the owner's picture back to each member
# within moments (two hops over the broker); this is the most a step may take to show everywhere.
PROPAGATION_S = 30.0
POLL_S = 0.1
T = TypeVar("T")


def as_json(value: Any) -> Any:
    """A domain value (a pydantic model, a date, a Decimal, a list of them) as the JSON an integrator sends."""
    return json.loads(pydantic_core.to_json(value))


class ServedNode(NodeProcess):
    """`coordination serve --org ORG`: the node with its whole API, as an organisation runs it in production
    (`python -m ops.node.serve` answers only its peers' exchange-key requests)."""

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, f"{self.organisation} is running"
        self.starts += 1
        with (self.logs / f"{self.organisation}-{self.starts:02d}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ops.cli.main", "serve", "--org", self.organisation],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_started(self, max_seconds: float = 60.0) -> None:
        """Until the node's API answers that it is ready (on the broker, its read models caught up)."""
        url = f"http://127.0.0.1:{self.env['COORDINATION_HTTP_PORT']}/readyz"
        deadline = time.monotonic() + max_seconds
        while _status_of(url) != 200:
            if not self.alive:
                raise AssertionError(f"{self.organisation}'s node exited; see its log in {self.logs}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.organisation}'s API was not ready within {max_seconds} s")
            time.sleep(0.1)


def _status_of(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


def serving_their_apis(deployment: Deployment, stack: ExitStack) -> None:
    """Each organisation's process serves its whole API (replaces the deployment's processes before they
    start; killed, whatever happens, when `stack` closes)."""
    for organisation, process in list(deployment.processes.items()):
        assert not process.alive
        served = ServedNode(organisation, process.env, process.logs)
        stack.callback(served.kill)
        deployment.processes[organisation] = served


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: httpx.Headers

    @property
    def etag(self) -> str:
        return self.headers["ETag"]

    def problem(self) -> str:
        """The refusal as the caller sees it: `403 forbidden: <detail>`."""
        body = self.body if isinstance(self.body, dict) else {}
        return f"{self.status} {body.get('title', '')}: {body.get('detail', self.body)}"


class Integrator:
    """Calls the nodes of a deployment as their organisations' people would: a token signed with the caller's
    organisation's key and addressed to the node called, an Idempotency-Key on every change, a purpose on
    every read."""

    def __init__(self, deployment: Deployment) -> None:
        self.urls = {
            org: f"http://127.0.0.1:{process.env['COORDINATION_HTTP_PORT']}"
            for org, process in deployment.processes.items()
        }
        self.keys: Path = deployment.logs / "keys"
        self._tokens: dict[tuple[Actor, str], str] = {}
        self.client = httpx.Client(timeout=10)
        self.calls = 0

    def close(self) -> None:
        self.client.close()

    def token(self, actor: Actor, node: str) -> str:
        if (actor, node) not in self._tokens:
            key = load_private_key(private_key_path(self.keys, actor.organisation))
            self._tokens[actor, node] = issue_token(
                key, organisation=actor.organisation, person=actor.person, role=actor.role, audience=node
            )
        return self._tokens[actor, node]

    def call(
        self,
        actor: Actor,
        method: str,
        path: str,
        *,
        at: str | None = None,
        body: Any = None,
        if_match: str | None = None,
        purpose: str = "coordinating the household's rehousing",
    ) -> Answer:
        """`actor` calls `path` at the node of `at` (its own organisation's node by default)."""
        node = at or actor.organisation
        headers = {"Authorization": f"Bearer {self.token(actor, node)}", "X-Purpose": purpose}
        if method != "GET":
            headers["Idempotency-Key"] = str(uuid4())
        if if_match is not None:
            headers["If-Match"] = if_match
        self.calls += 1
        response = self.client.request(method, self.urls[node] + path, headers=headers, json=body)
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.text
        return Answer(response.status_code, parsed, response.headers)

    def get(self, actor: Actor, path: str, *, at: str | None = None) -> Answer:
        return self.call(actor, "GET", path, at=at)

    def command(
        self, actor: Actor, path: str, body: Any = None, *, at: str | None = None, etag_of: str | None = None
    ) -> UUID | None:
        """A change that must succeed; `etag_of` is the resource whose ETag it is decided on (read first, as
        the caller would, waiting for it to arrive at that node)."""
        if_match = None
        if etag_of is not None:
            found = wait_for(
                lambda: self.get(actor, etag_of, at=at),
                lambda answer: answer.status == 200,
                f"{etag_of} readable by {actor.organisation} at {at or actor.organisation}'s node",
            )
            if_match = found.etag
        answer = self.call(actor, "POST", path, at=at, body=body, if_match=if_match)
        assert answer.status in (200, 201, 202), f"POST {path} by {actor.organisation}: {answer.problem()}"
        return UUID(answer.body["id"]) if answer.body.get("id") else None

    def status(self, actor: Actor, household: UUID, *, at: str | None = None) -> Answer:
        return self.get(actor, f"/households/{household}/status", at=at)


def wait_for(
    read: Callable[[], T], done: Callable[[T], bool], what: str, seconds: float = PROPAGATION_S
) -> T:
    """Read until `done` holds, at most `seconds`; fails with the last thing read."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s; last read {value!r}")
        time.sleep(POLL_S)


def comparable(status: dict[str, Any]) -> dict[str, Any]:
    """A status answer without what depends on the moment of the read (each open referral's age)."""
    copy = json.loads(json.dumps(status))
    for referral in copy.get("open_referrals", []):
        referral.pop("age", None)
    return copy


def open_items(status: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    """Every open item of a status answer as (kind, from, to, state): referrals, handoffs, support links."""
    referrals = {
        (r["kind"], r["referrer"], r["receiver"], r["status"]) for r in status.get("open_referrals", [])
    }
    links = {
        (link["subtype"], link["from_org"], link["to_org"], link["state"])
        for link in status.get("open_support_links", [])
    }
    return referrals | links


def members(status: dict[str, Any]) -> set[str]:
    """Every organisation that is or was in the household's network."""
    return {m["organisation"] for m in status.get("members", [])}


def holder(status: dict[str, Any]) -> str | None:
    return (status.get("holder") or {}).get("organisation")


@dataclass(frozen=True)
class Expected:
    """What the owner's status must say after a step (the owner's picture is then compared with every
    member's); None leaves a field unchecked."""

    holder: str
    open_items: set[tuple[str, str, str, str]]
    members: set[str]
    pending_handoff_to: str | None = None
    follow_up_done: bool | None = None
    gaps_present: tuple[str, ...] = ()  # words some settlement gap must contain
    gaps_absent: tuple[str, ...] = ()  # words no settlement gap may contain
    settled: bool = False

    def mismatches(self, status: dict[str, Any]) -> list[str]:
        gaps = status.get("settlement_gaps", [])
        found = {
            "holder": holder(status),
            "open items": open_items(status),
            "members": members(status),
            "pending handoff to": ((status.get("pending_handoff") or {}).get("to") or {}).get("organisation"),
            "settled": status.get("settled_at") is not None,
        }
        wanted: dict[str, Any] = {
            "holder": self.holder,
            "open items": self.open_items,
            "members": self.members,
            "pending handoff to": self.pending_handoff_to,
            "settled": self.settled,
        }
        if self.follow_up_done is not None:
            found["follow-up done"], wanted["follow-up done"] = (
                status.get("follow_up_done"),
                self.follow_up_done,
            )
        wrong = [
            f"{name}: {found[name]!r}, expected {wanted[name]!r}"
            for name in wanted
            if found[name] != wanted[name]
        ]
        wrong += [
            f"no settlement gap names {words!r} ({gaps})"
            for words in self.gaps_present
            if not _named(gaps, words)
        ]
        wrong += [
            f"a settlement gap names {words!r} ({gaps})" for words in self.gaps_absent if _named(gaps, words)
        ]
        return wrong


def _named(gaps: Iterable[str], words: str) -> bool:
    return any(words in gap for gap in gaps)


@dataclass
class Checkpoint:
    name: str
    seconds: float
    network_version: int | None
    nodes: list[str]


@dataclass
class Network:
    """Reads a household's status at the owner and at every member's node and compares them."""

    integrator: Integrator
    owner: Actor
    readers: dict[str, Actor]  # one staff person per organisation of the deployment
    household: UUID | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)

    def owners_status(self) -> dict[str, Any]:
        assert self.household is not None
        answer = self.integrator.status(self.owner, self.household)
        assert answer.status == 200, f"the owner's status: {answer.problem()}"
        return answer.body  # type: ignore[no-any-return]

    def agree(self, step: str, expected: Expected, seconds: float = PROPAGATION_S) -> dict[str, Any]:
        """Wait (at most `seconds`) until the owner's status says what `expected` says and every member reads
        the same status at its own node and at the owner's; the owner's status then."""
        assert self.household is not None
        started = time.monotonic()
        deadline = started + seconds
        while True:
            owner = self.owners_status()
            differences = expected.mismatches(owner)
            if not differences:
                differences = self._members_differ(owner)
            if not differences:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"after {step!r}, within {seconds} s: " + "; ".join(differences[:6]))
            time.sleep(POLL_S)
        took = time.monotonic() - started
        self.checkpoints.append(
            Checkpoint(
                step, took, owner.get("network_version"), sorted(members(owner) - {self.owner.organisation})
            )
        )
        return owner

    def _members_differ(self, owner: dict[str, Any]) -> list[str]:
        assert self.household is not None
        want = comparable(owner)
        differences = []
        for organisation in sorted(members(owner) - {self.owner.organisation}):
            reader = self.readers[organisation]
            for node in (organisation, self.owner.organisation):
                answer = self.integrator.status(reader, self.household, at=node)
                if answer.status != 200:
                    differences.append(f"{organisation} at {node}'s node: {answer.problem()}")
                    continue
                got = comparable(answer.body)
                if got != want:
                    fields = sorted(name for name in set(want) | set(got) if want.get(name) != got.get(name))
                    differences.append(
                        f"{organisation} at {node}'s node differs in {fields} "
                        f"(network_version {got.get('network_version')} vs {want.get('network_version')})"
                    )
        return differences

    def refused_to(self, outsider: Actor) -> list[str]:
        """The outsider's reads of the status, at its own node and at the owner's, and how they ended."""
        assert self.household is not None
        refusals = []
        for node in (outsider.organisation, self.owner.organisation):
            answer = self.integrator.status(outsider, self.household, at=node)
            assert answer.status == 403, (
                f"{outsider.organisation} read the status at {node}'s node: {answer.problem()}"
            )
            refusals.append(f"{node}: {answer.problem()}")
        return refusals

    def report(self) -> str:
        lines = [
            f"  {c.seconds:5.2f} s  v{c.network_version}  {c.name}  (members: {', '.join(c.nodes) or '-'})"
            for c in self.checkpoints
        ]
        return "\n".join(lines)
