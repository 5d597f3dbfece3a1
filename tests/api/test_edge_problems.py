"""The edge refuses what makes no sense as a problem: unknown paths and organisations, 405, 500 with an error
id that is in the log, bodies not in UTF-8, weak If-Match tags, dates a query cannot mean, oversize bodies."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import structlog
import uvicorn
from fastapi.testclient import TestClient

from adapters.http.bodies import MAX_BODY_BYTES
from ops.demo.api import ServedNodes, mounted_app
from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import Api, Organisations
from tests.api.story import dwelling, family, people, step


def _problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json", response.text
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys() and problem["status"] == status
    for word in words:
        assert word in problem["detail"], problem["detail"]
    return problem


@pytest.fixture
def consultant(memory_organisations: Organisations) -> Api:
    return people(memory_organisations).consultant


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a fault the edge has no handler for")


def test_an_unknown_route_and_a_wrong_method_are_problems(consultant: Api) -> None:
    _problem(consultant.client.get("/no-such-thing", headers=consultant.headers), 404)
    _problem(consultant.client.get("/househ%01olds", headers=consultant.headers), 404)
    response = consultant.client.delete("/households", headers=consultant.headers)
    _problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_the_served_apps_answer_an_unknown_organisation_or_a_control_character_with_a_problem(
    memory_organisations: Organisations, tmp_path: Path
) -> None:
    client = TestClient(mounted_app(ServedNodes(api=memory_organisations.nodes), tmp_path))
    for path in ("/orgs/nobody/households", "/orgs/civ%00ica/", "/%01", "/orgs/civica/no-such-thing"):
        _problem(client.get(path), 404)
    assert client.get("/").status_code == 200


def test_an_unexpected_error_is_a_500_problem_whose_error_id_is_logged_with_the_exception(
    memory_organisations: Organisations, consultant: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_organisations.nodes[CIVICA], "clock", _boom)
    with structlog.testing.capture_logs() as logs:
        response = consultant.get("/vacancy-pool", municipality="Odense")
    problem = _problem(response, 500, "error id")
    assert problem["error_id"] in problem["detail"]
    assert "Traceback" not in response.text and "RuntimeError" not in response.text
    logged = [entry for entry in logs if entry.get("error_id") == problem["error_id"]]
    assert len(logged) == 1 and logged[0]["log_level"] == "error"
    assert "RuntimeError: a fault the edge has no handler for" in logged[0]["exception"]
    assert logged[0]["path"] == "/vacancy-pool"


@pytest.fixture
def served(memory_organisations: Organisations) -> Iterator[int]:
    """CIVICA's node API on a real uvicorn server (keep-alive is the server's), on a port of its own."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = memory_organisations.clients[CIVICA].app
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield port
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


def test_the_keep_alive_connection_survives_a_500(
    memory_organisations: Organisations, served: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = memory_organisations.token(CIVICA, "gk-07", "rehousing_consultant")
    headers = {"Authorization": f"Bearer {token}"}
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    try:
        node = memory_organisations.nodes[CIVICA]
        with monkeypatch.context() as patched:
            patched.setattr(node, "clock", _boom)
            connection.request("GET", "/vacancy-pool?municipality=Odense", headers=headers)
            failed = connection.getresponse()
            body = json.loads(failed.read())
            assert failed.status == 500 and body["error_id"]
            assert failed.getheader("connection") != "close"
        sock = connection.sock
        connection.request("GET", "/vacancy-pool?municipality=Odense", headers=headers)
        again = connection.getresponse()
        assert again.status == 200 and json.loads(again.read())["items"] == []
        assert connection.sock is sock, "the server closed the connection after the 500"
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("to=0383-12-30", "query.to"),
        ("to=1000-01-01", "query.to"),
        ("to=9999-12-31", "query.to"),
        ("from=0001-01-01&to=0001-01-01", "query.from"),
        ("from=2026-01-01&to=2025-01-01", "query.from"),
        ("from=2000-01-01&to=2099-12-31", "query.from"),
    ],
)
def test_a_dashboard_period_outside_the_systems_years_is_a_400_naming_the_parameter(
    memory_organisations: Organisations, query: str, parameter: str
) -> None:
    operator = memory_organisations.api(CIVICA, role="operator", person="ops-1")
    response = operator.client.get(f"/operations/dashboard?{query}", headers=operator.headers)
    _problem(response, 400, parameter)


def test_a_dashboard_period_at_the_bounds_is_answered(memory_organisations: Organisations) -> None:
    operator = memory_organisations.api(CIVICA, role="operator", person="ops-1")
    for query in ("to=2000-01-01", "from=2090-01-01&to=2099-12-31", "from=2000-01-01&to=2009-12-31"):
        response = operator.client.get(f"/operations/dashboard?{query}", headers=operator.headers)
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/vacancy-pool", "municipality=Odense&available_by=9999-12-31", "query.available_by"),
        ("/vacancy-pool", "municipality=Odense&available_by=0001-01-01", "query.available_by"),
        ("/receiving-areas", "since=0001-01-01", "query.since"),
        ("/receiving-areas", "since=9999-12-31", "query.since"),
    ],
)
def test_other_query_dates_are_bounded_the_same_way(
    consultant: Api, path: str, query: str, parameter: str
) -> None:
    _problem(consultant.client.get(f"{path}?{query}", headers=consultant.headers), 400, parameter)


def test_a_json_body_not_in_utf_8_is_refused_naming_the_encoding(consultant: Api) -> None:
    headers = {**consultant.headers, "Idempotency-Key": str(uuid4()), "Content-Type": "application/json"}
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        body = json.dumps(dwelling()).encode(encoding)
        _problem(consultant.client.post("/vacancies", content=body, headers=headers), 400, "UTF-8")
    pool = consultant.ok(consultant.get("/vacancy-pool", municipality="Odense"))
    assert pool["items"] == []  # nothing was published


def test_a_weak_if_match_never_matches(consultant: Api) -> None:
    household, h = step(consultant, "/households", family(), status=201)
    path = f"/households/{household}/first-contact"
    _problem(consultant.post(path, if_match=f"W/{h}"), 412, "weak", "RFC 9110")
    _problem(consultant.post(path, if_match='"1'), 400, "header.If-Match")
    assert consultant.ok(consultant.get(f"/households/{household}"))["version"] == 1
    assert consultant.post(path, if_match=h).status_code == 200


def test_a_body_over_the_limit_is_a_413_problem(consultant: Api) -> None:
    big = {**dwelling(), "padding": "x" * (MAX_BODY_BYTES + 1)}
    _problem(consultant.post("/vacancies", big), 413, "at most")
    chunks = iter([b'{"padding": "', b"x" * MAX_BODY_BYTES, b'"}'])  # no Content-Length: counted as read
    headers = {**consultant.headers, "Idempotency-Key": str(uuid4()), "Content-Type": "application/json"}
    _problem(consultant.client.post("/vacancies", content=chunks, headers=headers), 413, "at most")


def test_a_header_the_http_server_cannot_parse_is_refused_before_the_api_as_the_document_says(
    memory_organisations: Organisations, served: int
) -> None:
    description = memory_organisations.clients[CIVICA].get("/openapi.json").json()["info"]["description"]
    assert "Refused before the API" in description and "Invalid HTTP request received." in description
    for request in (b"GET /livez HTTP/1.1\r\nX-Purpose: a\x00b\r\n", b"GET /livez HTTP/9\r\n"):
        with socket.create_connection(("127.0.0.1", served), timeout=10) as sock:
            sock.sendall(request + b"Host: 127.0.0.1\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"text/plain" in head.lower()
        assert body == b"Invalid HTTP request received."


@pytest.mark.parametrize("max_rent", ["5_000", "\u0665\u0660\u0660\u0660"])  # the second: Arabic-Indic 5000
def test_a_maximum_rent_in_any_other_form_than_plain_decimal_text_is_a_400(
    consultant: Api, max_rent: str
) -> None:
    answer = consultant.client.get(
        "/vacancy-pool", params={"municipality": "Odense", "max_rent": max_rent}, headers=consultant.headers
    )
    _problem(answer, 400, "query.max_rent")
