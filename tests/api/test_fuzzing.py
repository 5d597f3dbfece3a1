"""Schemathesis over the API of every organisation role, with tokens for several roles: every check on, the
fuzzing and the stateful phase (following the document's links from ETags to If-Match), a fixed seed and a
bounded number of examples. No 5xx, no response outside the document, and a schema-valid request refused
only with a status its operation's description names under "Refused although schema-valid".
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ops.demo.reference_scenario import BRIDGE_BUILDER, CHILDREN_AND_YOUTH, CIVICA, KVINFO
from tests.api.conftest import ROLES, Organisations, open_organisations
from tests.api.story import dwelling, family, people, play_over_http, step

SEED = 20261206
# The budget: examples per operation in the fuzzing phase, and scenarios of linked steps in the stateful one;
# all seven runs take about two minutes here.
EXAMPLES, SCENARIOS = 3, 15
PHASES = "examples,fuzzing,stateful"
# The node of each organisation role and the roles whose tokens fuzz it.
RUNS: list[tuple[str, str]] = [
    (CIVICA, "rehousing_consultant"),
    (CIVICA, "auditor"),
    (CIVICA, "operator"),
    (BRIDGE_BUILDER, "bridge_builder"),
    (CHILDREN_AND_YOUTH, "daycare_allocator"),
    (CHILDREN_AND_YOUTH, "department_caseworker"),
    (KVINFO, "civil_actor"),
]
SCHEMA_CHECKS = (
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)
ACCEPTED_BY_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429"]  # schemathesis's, less 5xx
_REFUSED = re.compile(r"^\* (\d{3}): ", re.MULTILINE)


@dataclass
class Outcome:
    cases: int = 0
    checks: dict[str, Counter[str]] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    return server, thread, sock.getsockname()[1]


def refused_statuses(document: dict[str, Any]) -> dict[str, list[str]]:
    """Per operation id, the statuses its description says a schema-valid request may get, and why."""
    found = {}
    for methods in document["paths"].values():
        for operation in methods.values():
            _, _, refused = operation.get("description", "").partition("**Refused although schema-valid**:")
            found[operation["operationId"]] = _REFUSED.findall(refused)
    return found


def config_file(document: dict[str, Any], path: Path, ids: dict[str, str] | None = None) -> Path:
    """schemathesis.toml: the budget, the ids of aggregates that exist (so generated requests reach the
    domain rather than a 404), and positive data refused only with what each operation's description names."""
    lines = ["[parameters]", *(f'"path.{name}" = "{value}"' for name, value in (ids or {}).items()), ""]
    lines += [
        "[generation]",
        f"max-examples = {EXAMPLES}",
        "",
        "[phases.stateful.generation]",
        f"max-examples = {SCENARIOS}",
        "",
    ]
    for operation_id, statuses in sorted(refused_statuses(document).items()):
        expected = json.dumps(ACCEPTED_BY_DEFAULT + statuses)
        lines += [
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            f"checks.positive_data_acceptance.expected-statuses = {expected}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def read_events(path: Path) -> Outcome:
    outcome = Outcome()
    for line in path.read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            outcome.cases += 1
            for check in checks:
                outcome.checks.setdefault(check["name"], Counter())[check["status"]] += 1
                if check["status"] == "failure":
                    failure = check["failure_info"]["failure"]
                    outcome.failures.append(
                        f"{failure['operation']}: {check['name']}: {failure['message'][:300]}"
                    )
            response = (recorder.get("interactions", {}).get(case_id) or {}).get("response")
            if response:
                outcome.statuses[response["status_code"]] += 1
    return outcome


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Organisations, dict[str, int], dict[str, dict[str, str]]]]:
    """Every organisation's node on SQLite with the reference scenario played and a household just
    registered, each on a uvicorn server; per node, the ids of aggregates it holds."""
    keys = {org: Ed25519PrivateKey.generate() for org in ROLES}
    orgs = open_organisations("sqlite", tmp_path_factory.mktemp("fuzzing"), keys)
    story = play_over_http(orgs)
    consultant = people(orgs).consultant
    household, _ = step(consultant, "/households", family(), status=201)  # at the start of its life
    vacancy, _ = step(consultant, "/vacancies", dwelling(estate="Fuzzing", rooms=6), status=201)
    ids = {
        CIVICA: {"household_id": household, "vacancy_id": vacancy},
        BRIDGE_BUILDER: {"referral_id": story.handoff, "link_id": story.support_links[0]},
        CHILDREN_AND_YOUTH: {"referral_id": story.daycare_referral},
        KVINFO: {"link_id": story.support_links[-1]},
    }
    servers = {org: _serve(orgs.clients[org].app) for org in {node for node, _ in RUNS}}
    yield orgs, {org: port for org, (_, _, port) in servers.items()}, ids
    for server, thread, _ in servers.values():
        server.should_exit = True
        thread.join(timeout=10)
    orgs.close()


def fuzz(port: int, token: str, config: Path, events: Path) -> Outcome:
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"http://127.0.0.1:{port}/openapi.json",
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--seed",
        str(SEED),
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(events),
        "--no-color",
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=events.parent
    )
    assert events.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return read_events(events)


def test_no_role_can_make_any_node_fail_or_answer_outside_its_document(
    served: tuple[Organisations, dict[str, int], dict[str, dict[str, str]]], tmp_path: Path
) -> None:
    orgs, ports, ids = served
    document = orgs.clients[CIVICA].get("/openapi.json").json()
    total = Outcome()
    report = []
    for node, role in RUNS:
        config = config_file(document, tmp_path / f"{node}-{role}.toml", ids[node])
        token = orgs.token(node, f"fuzz-{role}", role)
        outcome = fuzz(ports[node], token, config, tmp_path / f"{node}-{role}.ndjson")
        report.append(f"{node} as {role}: {outcome.cases} cases, statuses {sorted(outcome.statuses.items())}")
        total.cases += outcome.cases
        total.statuses.update(outcome.statuses)
        total.failures += [f"{node} as {role}: {failure}" for failure in outcome.failures]
        for name, counts in outcome.checks.items():
            total.checks.setdefault(name, Counter()).update(counts)
    report.append(f"in all: {total.cases} cases")
    report += [f"  {name}: {dict(counts)}" for name, counts in sorted(total.checks.items())]
    print("\nschemathesis\n" + "\n".join(report))
    assert not [status for status in total.statuses if status >= 500], total.statuses
    assert all(total.checks[name]["success"] > 0 for name in ("not_a_server_error", *SCHEMA_CHECKS))
    assert not total.failures, "\n".join(sorted(set(total.failures)))
    assert total.cases >= 7 * 51  # every operation at least once per run
