"""The OpenAPI document tells what the server enforces: required headers, roles and node, links from ETags
to If-Match, problem responses only, and formats the responses really have."""

from __future__ import annotations

import json
import re
from typing import Any

from adapters.http.authorisation import POLICY
from ops.demo.reference_scenario import CIVICA
from ops.openapi import DOCUMENT
from tests.api.conftest import Organisations
from tests.api.story import family, people, play_over_http, step

# RFC 3339 Appendix A: dur-date / dur-time / dur-week, whole numbers only.
RFC3339_DURATION = re.compile(
    r"^P(?:(?:\d+D|\d+M(?:\d+D)?|\d+Y(?:\d+M(?:\d+D)?)?)(?:T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S))?"
    r"|T(?:\d+H(?:\d+M(?:\d+S)?)?|\d+M(?:\d+S)?|\d+S)|\d+W)$"
)


def _document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())  # type: ignore[no-any-return]


def _operations() -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for methods in _document()["paths"].values()
        for operation in methods.values()
    }


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next(
        (p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == name), None
    )


def test_if_match_and_x_purpose_are_required_where_the_server_requires_them() -> None:
    operations = _operations()
    for name, rule in POLICY.items():
        if name not in operations:
            continue
        if_match, purpose = _header(operations[name], "If-Match"), _header(operations[name], "X-Purpose")
        if rule.precondition:
            assert if_match is not None and if_match["required"], name
        if rule.personal:
            assert purpose is not None and purpose["required"] and purpose["schema"]["minLength"] == 3, name


def test_each_operation_states_its_roles_and_its_node() -> None:
    for name, operation in _operations().items():
        rule = POLICY["operations" if name == "operations_dashboard" else name]
        assert operation["x-roles"] == sorted(str(role) for role in rule.roles), name
        assert operation["x-node"] == str(rule.ownership)
        assert "**Who**: " + ", ".join(operation["x-roles"]) in operation["description"]


def test_every_error_response_documented_is_a_problem() -> None:
    document = _document()
    assert "HTTPValidationError" not in json.dumps(document)
    for operation in _operations().values():
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], operation["operationId"]


def test_responses_carrying_an_etag_link_to_the_operations_taking_if_match() -> None:
    operations = _operations()
    household_steps = {n for n, r in POLICY.items() if r.subject == "household" and r.precondition}
    for source in ("register_household", "get_household", "record_first_contact"):
        ok = operations[source]["responses"].get("201") or operations[source]["responses"]["200"]
        assert "ETag" in ok["headers"]
        targets = {name for name, link in ok["links"].items() if "header.If-Match" in link["parameters"]}
        assert targets == household_steps - {"accept_offer", "decline_offer"}, source
        assert ok["links"]["record_move"]["parameters"]["header.If-Match"] == "$response.header.ETag"
    offer = operations["make_offer"]["responses"]["200"]["links"]["accept_offer"]["parameters"]
    assert offer["path.offer_id"] == "$response.body#/id"
    referral = operations["refer_household"]["responses"]["201"]["links"]["acknowledge_referral"]
    assert referral["parameters"]["path.referral_id"] == "$response.body#/id"


def test_an_age_is_an_rfc_3339_duration(memory_organisations: Organisations) -> None:
    play_over_http(memory_organisations)
    consultant = people(memory_organisations).consultant
    household, _ = step(consultant, "/households", family(), status=201)
    step(
        consultant,
        f"/households/{household}/referrals",
        {"receiver": "odense-brobygning", "kind": "bridge_building"},
        status=201,
    )
    status = consultant.ok(consultant.get(f"/households/{household}/status"))
    ages = [referral["age"] for referral in status["open_referrals"]]
    assert ages and all(RFC3339_DURATION.match(age) for age in ages), ages
    assert not RFC3339_DURATION.match("P1Y177DT9H18M28.66S")  # what pydantic wrote before
    assert memory_organisations.clients[CIVICA].get("/openapi.json").json() == _document()


def test_rules_across_fields_are_in_the_schema_where_json_schema_can_say_them() -> None:
    schemas = _document()["components"]["schemas"]
    child, adult = schemas["Member"]["allOf"]
    assert child["if"]["properties"]["kind"]["const"] == "child" and child["then"]["required"] == [
        "birth_month"
    ]
    assert adult["then"]["properties"]["needs_daycare"]["const"] is False
    assert schemas["RehousingKind"]["then"]["properties"]["expected_months"] == {"type": "null"}
    members = schemas["RegisterHousehold"]["properties"]["members"]
    assert members["contains"]["properties"]["kind"]["const"] == "adult"
    assert "unique" in members["description"]  # what JSON Schema cannot say is in the description
