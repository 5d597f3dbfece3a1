"""The privacy sweep (issue 20, "what must hold"): after an erasure nothing personal about the household is
left anywhere in the deployment — not in any node's database, not in any log line, not on the broker.

Production-like: CIVICA (the owner), the bridge builder, the children and youth department, the jobcentre
and KVINFO each run `coordination serve` as an OS process on a PostgreSQL schema of its own, all on one
broker, driven over HTTP with their own people's tokens. The reference family is registered (with a CPR
number), explored areas and tasks recorded, offered CIVICA's dwelling at Kochsgade (a size override with
its reason), referred for daycare (completed with an outcome) and school (with a note), moved and handed
to the bridge builder, who refers it on to the jobcentre; KVINFO links a mentor directly. Two different
data-protection people at CIVICA erase it through the API; once CIVICA shows the erasure complete with
every member confirmed, the sweep dumps

* every row of every table of every node's schema (all columns; bytes decoded as UTF-8, or decompressed
  first where they are zlib, JSON documents re-serialised compactly so a value cannot hide in spacing),
* every line every node process wrote (stdout and stderr, to one file per start),
* every file the nodes keep beside their databases (the data directory),
* every message on every topic of the deployment read from offset 0 (key, headers, value), and the sealed
  fields of each opened with every key any organisation's node token still obtains from any node's key
  endpoints, per recipient and the old scheme's one key,

and searches them for the household's personal values:

* anywhere (distinctive enough that any hit is the household's): the case reference, the CPR number
  (with and without its dash), the free texts (the override's reason, the task texts, the school
  referral's note, the daycare outcome, the mentor service), and the plain SHA-256 hex of every searched
  value and of the API's fingerprint of the bodies that carried them (registration, areas, tasks);
* in records about the household (a record naming the household's id or the id of one of its offers,
  referrals or support links), because alone these words are not the household's: the members' birth
  months, the needs, the language, the explored areas, the let dwelling's street (the vacancy keeps its
  dwelling and address: what must go is who lives there);
* the household's id in the let vacancy's records (the vacancy keeps the dwelling, not who got it).

Before the erasure the same keys are obtained and open what was sent, and the same search finds the
family in it (so a zero after the erasure is not a search that cannot find); the search is also checked
on records made up to hold each kind of leak (the second test).

Not searched: organisation ids, person ids of staff, the dwelling's and vacancy's ids, kinds of referral
and dates of steps — none of them says anything about the family; nor the estate and transformation area
the family came from (kept in clear for the municipality's counts by area, as Household.Registered's
origin always was: an estate of hundreds of homes, not an address).

    .venv/bin/python -m pytest tests/integration/test_privacy_sweep.py -s
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer, TopicPartition
from psycopg import sql

from adapters.exchange.envelope import DecodeError, decode
from adapters.exchange.keys import NODE_PERSON, SealBroken, open_sealed
from adapters.exchange.transport import IncomingMessage
from adapters.http.auth import issue_token, load_private_key, private_key_path
from adapters.http.routers.households import InspirationTour, RegisterHousehold, TasksFound
from adapters.settings import OrganisationRole
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Actor, Role
from ops.demo.reference_family import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KOCHSGADE,
    KVINFO,
    ODENSE_C,
    the_dwelling,
    the_family,
    the_move,
)
from ops.demo.reference_scenario import (
    bridge_builder,
    consultant,
    daycare_allocator,
    mentor_coordinator,
    school_caseworker,
)
from ops.devservices.pgcluster import PostgresServer
from tests.integration.conftest import BrokerProcess
from tests.integration.fault_support import Deployment
from tests.integration.network_support import Integrator, as_json, serving_their_apis, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.timeout(420)]

JOBCENTRE = "jobcentre-odense"
ROLES = {
    CIVICA: OrganisationRole.HOUSING_ORGANISATION,
    BRIDGE_BUILDER: OrganisationRole.BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH: OrganisationRole.MUNICIPAL_DEPARTMENT,
    JOBCENTRE: OrganisationRole.MUNICIPAL_DEPARTMENT,
    KVINFO: OrganisationRole.CIVIL_ACTOR,
}
MEMBERS = {BRIDGE_BUILDER, CHILDREN_AND_YOUTH, JOBCENTRE, KVINFO}
proposer = Actor(organisation=CIVICA, person="civica-dpo-1", role=Role.DATA_PROTECTION)
confirmer = Actor(organisation=CIVICA, person="civica-dpo-2", role=Role.DATA_PROTECTION)

CASE_REFERENCE = "CIV-2026-SWEEP-0412"
CPR = "070385-4411"
AREAS = ["Bolbro", "Tarup"]
TASKS = ["job search with an interpreter", "Danish lessons at Sprogcenter", "a PC for school work"]
OVERRIDE_REASON = "The mother chose this central dwelling near the schools over a larger one in Bolbro"
SCHOOL_NOTE = "The 10-year-old keeps a special-class place; no year-7 place was free"
DAYCARE_OUTCOME = "Kindergarten place offered from 2026-08-03 near the new address"
MENTOR_SERVICE = "Mentor for job search and Danish, Thursdays at Vollsmose library"
JOBCENTRE_NEEDS = ["interpreter", "financial_advice"]
REFERRAL_KINDS = {str(kind) for kind in ReferralKind}


@pytest.fixture(scope="module")
def deployment(
    postgres_server: PostgresServer, kafka_broker: BrokerProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    with ExitStack() as stack:
        deployment = Deployment(
            postgres_server,
            kafka_broker.bootstrap_servers,
            ROLES,
            tmp_path_factory.mktemp("sweep-nodes"),
            stack,
        )
        serving_their_apis(deployment, stack)
        for process in deployment.processes.values():
            process.start()
        for process in deployment.processes.values():
            process.wait_started(max_seconds=240)  # five nodes starting at once on a shared 2-core machine
        yield deployment
        for process in deployment.processes.values():
            process.stop()


@dataclass
class Played:
    """The household and the ids of everything about it, and the request bodies that carried its data."""

    household: UUID
    vacancy: UUID
    subjects: set[UUID] = field(default_factory=set)  # its offer, referrals and support link
    fingerprints: list[str] = field(default_factory=list)  # the API's plain fingerprints of its bodies


def _fingerprint(path: str, body: Any) -> str:
    """What adapters/http/commands.py fingerprinted before fingerprints were keyed: a plain SHA-256."""
    return hashlib.sha256(f"POST {path}\n{body.model_dump_json()}".encode()).hexdigest()


class Caller:
    """The integrator's commands, each tried again (at most five times) when it answers 409: a step of
    another organisation arrived meanwhile and changed what it was decided on (reload and try again)."""

    def __init__(self, integrator: Integrator) -> None:
        self.integrator = integrator

    def command(
        self, actor: Actor, path: str, body: Any = None, *, etag_of: str | None = None
    ) -> UUID | None:
        for attempt in range(5):
            try:
                return self.integrator.command(actor, path, body, etag_of=etag_of)
            except AssertionError as conflict:
                if ": 409 " not in str(conflict) or attempt == 4:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")


def _play(integrator: Integrator) -> Played:
    caller = Caller(integrator)
    family = {**as_json(the_family()), "case_reference": CASE_REFERENCE, "cpr": CPR}
    household = caller.command(consultant, "/households", family)
    assert household is not None
    path = f"/households/{household}"
    areas, tasks = {"areas": AREAS}, {"tasks": TASKS}
    played = Played(household, vacancy=UUID(int=0))
    played.fingerprints += [
        _fingerprint("/households", RegisterHousehold.model_validate(family)),
        _fingerprint(f"{path}/inspiration-tours", InspirationTour.model_validate(areas)),
        _fingerprint(f"{path}/tasks-found", TasksFound.model_validate(tasks)),
    ]
    caller.command(consultant, f"{path}/first-contact", etag_of=path)
    caller.command(consultant, f"{path}/inspiration-tours", areas, etag_of=path)
    caller.command(consultant, f"{path}/tasks-found", tasks, etag_of=path)

    vacancy = caller.command(consultant, "/vacancies", as_json(the_dwelling()))
    assert vacancy is not None
    played.vacancy = vacancy
    offer = caller.command(
        consultant,
        f"{path}/offers",
        {"vacancy_id": str(vacancy), "overrides": [{"rule": "suitable_size", "reason": OVERRIDE_REASON}]},
        etag_of=path,
    )
    assert offer is not None
    caller.command(consultant, f"{path}/offers/{offer}/acceptance", etag_of=path)

    daycare = caller.command(
        consultant,
        f"{path}/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "daycare_fast_track",
            "child_id": "C4",
            "needed_from": "2026-08-03",
        },
    )
    school = caller.command(
        consultant,
        f"{path}/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "school_change",
            "needed_from": "2026-08-10",
            "note": SCHOOL_NOTE,
        },
    )
    assert daycare is not None and school is not None
    at_daycare = f"/referrals/{daycare}"
    caller.command(daycare_allocator, f"{at_daycare}/acknowledgement", etag_of=at_daycare)
    caller.command(
        daycare_allocator, f"{at_daycare}/acceptance", {"assignee": "pladsanvisning-3"}, etag_of=at_daycare
    )
    caller.command(
        daycare_allocator, f"{at_daycare}/completion", {"outcome": DAYCARE_OUTCOME}, etag_of=at_daycare
    )
    caller.command(school_caseworker, f"/referrals/{school}/acknowledgement", etag_of=f"/referrals/{school}")

    move = {"move": as_json(the_move()), "hand_off_to": BRIDGE_BUILDER}
    handoff = caller.command(consultant, f"{path}/move", move, etag_of=path)
    assert handoff is not None
    caller.command(bridge_builder, f"/referrals/{handoff}/acknowledgement", etag_of=f"/referrals/{handoff}")
    wait_for(
        lambda: integrator.status(bridge_builder, household),
        lambda answer: answer.status == 200 and answer.body["holder"]["organisation"] == BRIDGE_BUILDER,
        "the bridge builder holds the family at its own node",
    )
    jobcentre = caller.command(
        bridge_builder,
        "/referrals",
        {
            "receiver": JOBCENTRE,
            "kind": "jobcentre",
            "household_id": str(household),
            "details": {"needs": JOBCENTRE_NEEDS, "language": "arabic", "place": as_json(ODENSE_C)},
            "consent": {"recipient": JOBCENTRE, "purpose": "jobcentre", "given_on": "2026-07-16"},
        },
    )
    link = caller.command(
        mentor_coordinator,
        "/support-links",
        {
            "household_id": str(household),
            "household_owner": CIVICA,
            "offer": {
                "provider": KVINFO,
                "service": MENTOR_SERVICE,
                "kind": "mentor",
                "place": as_json(ODENSE_C),
            },
        },
    )
    assert jobcentre is not None and link is not None
    played.subjects |= {offer, daycare, school, handoff, jobcentre, link}
    wait_for(
        lambda: integrator.status(consultant, household),
        lambda answer: {m["organisation"] for m in answer.body["members"]} >= MEMBERS | {CIVICA},
        "every organisation in the household's network at the owner",
    )
    return played


def _erase(integrator: Integrator, household: UUID) -> dict[str, Any]:
    proposed = integrator.call(
        proposer, "POST", f"/erasures/{household}", body={"legal_ground": "GDPR art. 17(1)(a)"}
    )
    assert proposed.status in (200, 202), proposed.problem()
    confirmed = integrator.call(confirmer, "POST", f"/erasures/{household}/confirmation")
    assert confirmed.status in (200, 202), confirmed.problem()
    done = wait_for(
        lambda: integrator.get(confirmer, f"/erasures/{household}"),
        lambda answer: answer.status == 200 and answer.body["state"] == "complete",
        "every member confirmed the erasure",
        seconds=90,
    )
    return dict(done.body)


# What is searched


@dataclass(frozen=True)
class Sought:
    """A personal value, where it must not be found (`anywhere`, or in records about the household)."""

    what: str
    value: str
    anywhere: bool


def _sought(played: Played) -> list[Sought]:
    family = the_family()
    anywhere = {
        "case reference": CASE_REFERENCE,
        "the needs": json.dumps([str(need) for need in family["needs"]], separators=(",", ":")),  # type: ignore[attr-defined]
        "CPR": CPR,
        "CPR without its dash": CPR.replace("-", ""),
        "override reason": OVERRIDE_REASON,
        "school note": SCHOOL_NOTE,
        "daycare outcome": DAYCARE_OUTCOME,
        "mentor service": MENTOR_SERVICE,
        **{f"task {n}": task for n, task in enumerate(TASKS)},
    }
    about = {
        "language": str(family["language"]),
        "let street": KOCHSGADE.street,
        **{f"explored area {area}": area for area in AREAS},
        # A need as the household's list holds it (a JSON string): the bare word is also a referral's
        # kind ("daycare_fast_track"), a role ("daycare_allocator") or a settlement gap's ("a new daycare").
        # A need that is also a kind of referral ("school_change") is the kind of a referral sent, in clear
        # by design (the receiver must know what it is asked); the household's whole list is sought anyway.
        **{
            f"need {need}": f'"{need}"'
            for need in [*family["needs"], *JOBCENTRE_NEEDS]  # type: ignore[attr-defined]
            if need not in REFERRAL_KINDS
        },
    }
    for member in family["members"]:  # type: ignore[attr-defined]
        if member.birth_month is not None:
            month = member.birth_month
            about[f"birth month of {member.member_id}"] = f"{month.year}-{month.month:02d}"
            about[f"birth month of {member.member_id} as JSON"] = f'"year":{month.year},"month":{month.month}'
    values = [Sought(what, value, True) for what, value in anywhere.items()]
    values += [Sought(what, value, False) for what, value in about.items()]
    digests = [
        Sought(f"SHA-256 of {s.what}", hashlib.sha256(s.value.encode()).hexdigest(), True) for s in values
    ]
    digests += [Sought("a body's plain fingerprint", digest, True) for digest in played.fingerprints]
    return values + digests


# What is dumped


@dataclass(frozen=True)
class Record:
    """One row, log line, file or message as text, and where it was found."""

    where: str
    text: str
    originator: str | None = None  # the stored event's aggregate, for a row of an events table


def _text(value: Any) -> str:
    """A cell as searchable text: bytes decoded (decompressed first when they are zlib), JSON compacted."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        with suppress(zlib.error):
            value = zlib.decompress(value)
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        value = json.dumps(value, default=str, ensure_ascii=False)
    return _compact(value)


def _compact(text: str) -> str:
    """JSON documents (whole, or embedded after a prefix) re-serialised without spaces; other text as is."""
    stripped = text.strip()
    if stripped[:1] in "{[":
        try:
            return json.dumps(json.loads(stripped), separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            pass
    return text.replace('": ', '":').replace(', "', ',"')


def _tables(deployment: Deployment) -> Iterator[Record]:
    with psycopg.connect(deployment.server.dsn, connect_timeout=10) as conn:
        for organisation, schema in deployment.schemas.items():
            tables = conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
            ).fetchall()
            assert tables, f"{organisation}'s schema {schema} has no tables"
            for (table,) in tables:
                query = sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
                cursor = conn.execute(query)
                columns = [column.name for column in cursor.description or ()]
                at = columns.index("originator_id") if "originator_id" in columns else None
                for n, row in enumerate(cursor):
                    yield Record(
                        f"{organisation} table {table} row {n}",
                        " | ".join(_text(cell) for cell in row),
                        None if at is None else str(row[at]),
                    )


def _log_lines(deployment: Deployment) -> Iterator[Record]:
    logs = sorted(deployment.logs.glob("*.log"))
    assert len(logs) >= len(ROLES)
    for path in logs:
        for n, line in enumerate(path.read_text(errors="replace").splitlines()):
            yield Record(f"log {path.name} line {n + 1}", _compact(line))


def _files(deployment: Deployment) -> Iterator[Record]:
    data = deployment.logs / "data"
    for path in sorted(data.rglob("*")) if data.exists() else ():
        if path.is_file():
            yield Record(f"file {path.relative_to(deployment.logs)}", _text(path.read_bytes()))


def _messages(deployment: Deployment) -> list[IncomingMessage]:
    consumer = KafkaConsumer(
        bootstrap_servers=deployment.bootstrap_servers, enable_auto_commit=False, consumer_timeout_ms=3000
    )
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in consumer.topics()
            if topic.startswith(deployment.prefix)
            for number in consumer.partitions_for_topic(topic) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [
            IncomingMessage(
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                key=record.key,
                value=record.value or b"",
                headers=tuple(record.headers or ()),
            )
            for record in consumer
        ]
    finally:
        consumer.close()


def _obtainable_keys(deployment: Deployment, household: UUID) -> tuple[int, list[bytes]]:
    """Every key of the household any organisation's node token obtains from any node: (asked, keys)."""
    keys_dir = deployment.logs / "keys"
    organisations = sorted(deployment.processes)
    asked, found = 0, []
    for organisation in organisations:
        for owner in organisations:
            port = deployment.processes[owner].env["COORDINATION_HTTP_PORT"]
            token = issue_token(
                load_private_key(private_key_path(keys_dir, organisation)),
                organisation=organisation,
                person=NODE_PERSON,
                role=Role.OPERATOR,
                audience=owner,
            )
            headers = {"Authorization": f"Bearer {token}", "X-Purpose": "open received integration events"}
            for sealed_for in [*(f"/{name}" for name in organisations), ""]:
                url = f"http://127.0.0.1:{port}/v1/exchange-keys/{household}{sealed_for}"
                response = httpx.get(url, headers=headers, timeout=10)
                asked += 1
                assert response.status_code < 500, f"{url} as {organisation}: {response.text}"
                if response.status_code == 200:
                    found.append(base64.b64decode(response.json()["key"]))
    return asked, found


def _message_records(messages: list[IncomingMessage], keys: list[bytes]) -> Iterator[Record]:
    for message in messages:
        where = f"message {message.topic}[{message.partition}]@{message.offset}"
        headers = " ".join(f"{name}={_text(value)}" for name, value in message.headers)
        yield Record(where, f"{_text(message.key or b'')} {headers} {_text(message.value)}")
        try:
            event = decode(message).event
        except DecodeError:
            continue
        if event.sealed is None:
            continue
        for key in keys:
            try:
                opened = open_sealed(event, key)
            except SealBroken:
                continue
            yield Record(f"{where} opened", _text(json.loads(opened.model_dump_json())))


# The search


def _hits(
    records: Iterable[Record], sought: list[Sought], tied: set[str], household: UUID, vacancy: UUID
) -> list[str]:
    """Each sought value found, and each record of the let vacancy that names the household (its own
    events name their offer's vacancy: the household's history, shredded where personal, is not the
    vacancy's)."""
    found = []
    ids = {str(household), household.hex}
    for record in records:
        text = record.text.casefold()
        about_household = any(subject in text for subject in tied)
        for s in sought:
            if (s.anywhere or about_household) and s.value.casefold() in text:
                found.append(f"{s.what} in {record.where}: …{_around(record.text, s.value)}…")
        if (
            record.originator != str(household)
            and any(v in text for v in (str(vacancy), vacancy.hex))
            and (named := [i for i in ids if i in text])
        ):
            found.append(f"who got the vacancy in {record.where}: …{_around(record.text, named[0])}…")
    return found


def _around(text: str, value: str, width: int = 80) -> str:
    at = text.casefold().find(value.casefold())
    return text[max(0, at - width) : at + len(value) + width].replace("\n", " ")


def test_after_an_erasure_no_table_log_line_or_message_of_any_node_holds_the_households_data(
    deployment: Deployment,
) -> None:
    integrator = Integrator(deployment)
    try:
        played = _play(integrator)
        sought = _sought(played)
        # Ids as the records spell them: with dashes (JSON, logs, messages) and as hex (the stored events).
        subjects = {played.household, *played.subjects}
        tied = {str(subject) for subject in subjects} | {subject.hex for subject in subjects}
        # Before the erasure the same keys open what was sent, and the same search finds the family in it:
        # the sweep's zero below is not a search that cannot find.
        _, keys_before = _obtainable_keys(deployment, played.household)
        opened_before = [
            r for r in _message_records(_messages(deployment), keys_before) if "opened" in r.where
        ]
        found_before = _hits(opened_before, sought, tied, played.household, played.vacancy)
        assert keys_before and found_before, (len(keys_before), len(opened_before))

        erasure = _erase(integrator, played.household)
        assert set(erasure["confirmed"]) == MEMBERS and erasure["not_confirmed"] == []
        asked, keys = _obtainable_keys(deployment, played.household)
    finally:
        integrator.close()
    for process in deployment.processes.values():
        assert process.alive, f"{process.organisation}'s node exited"

    tables, lines, files = list(_tables(deployment)), list(_log_lines(deployment)), list(_files(deployment))
    messages = _messages(deployment)
    opened = list(_message_records(messages, keys))
    hits = _hits([*tables, *lines, *files, *opened], sought, tied, played.household, played.vacancy)

    print(
        f"\nprivacy sweep: {len(tables)} rows of {len(deployment.schemas)} databases, {len(lines)} log lines, "
        f"{len(files)} files, {len(messages)} messages ({len(opened) - len(messages)} opened), "
        f"{asked} key requests giving {len(keys)} keys, {len(sought)} values searched: {len(hits)} hits "
        f"(before the erasure: {len(keys_before)} keys opened {len(opened_before)} messages, "
        f"{len(found_before)} hits)"
    )
    assert len(messages) > 0 and len(tables) > 0 and len(lines) > 0
    kinds: dict[str, int] = {}
    for hit in hits:
        kind = hit.split(" in ")[0] + " in " + " ".join(hit.split(" in ")[1].split()[:3])
        kinds[kind] = kinds.get(kind, 0) + 1
    assert hits == [], f"{len(hits)} hits: {kinds}\n" + "\n".join(hits[:40])


def test_the_sweeps_search_finds_a_value_left_in_a_record_about_the_household() -> None:
    """The sweep can fail: a birth month beside the household's id, a CPR anywhere, the household's id in
    the let vacancy's record, and the plain digest of a task are each found."""
    household, vacancy = UUID(int=1), UUID(int=2)
    played = Played(household, vacancy)
    sought = _sought(played)
    records = [
        Record("a row about it", f'{household} | {{"year":2022,"month":2}}'),
        Record("a row about another", f'{UUID(int=3)} | {{"year":2022,"month":2}}'),
        Record("a log line", f"registered cpr={CPR}"),
        Record("the vacancy's row", f"{vacancy} | {household.hex}", str(vacancy)),
        Record("the household's own offer", f"{household} | {vacancy}", str(household)),
        Record("a receipt", hashlib.sha256(TASKS[0].encode()).hexdigest()),
    ]
    hits = _hits(records, sought, {str(household)}, household, vacancy)
    assert [hit.split(" in ")[1].split(":")[0] for hit in hits] == [
        "a row about it",
        "a log line",
        "the vacancy's row",
        "a receipt",
    ], hits
