"""What the OpenAPI document says beyond FastAPI's generation: what the authorisation table and the edge enforce.

Each operation states its roles and its node (`x-roles`, `x-node` and a line of its description, from
POLICY), the headers the edge requires are marked required (`If-Match` where a change needs the version,
`X-Purpose` where personal data is read), each response carrying an `ETag` links to the operations that
take it as `If-Match`, and the statuses a schema-valid request can still get are named with their reasons.
"""

from __future__ import annotations

from typing import Any

from adapters.http.authorisation import POLICY, SUBJECTS, Ownership, Rule
from adapters.http.problems import responses as problem_responses

IF_MATCH_PATTERN = r'^(\*|"[0-9]{1,9}")$'
# X-Purpose: at least three characters once trimmed (authorisation.py refuses shorter).
PURPOSE_PATTERN = r"^\s*\S.+\S\s*$"

# The operations that create an aggregate (their 201 carries its ETag) and the reads that answer one's ETag.
CREATES = {
    "register_household": "household",
    "publish_vacancy": "vacancy",
    "refer_household": "referral",
    "send_referral": "referral",
    "propose_support_link": "support_link",
}
# Operations guarded by another operation's rule.
GUARDED_AS = {"operations_dashboard": "operations"}
ETAG_READS = frozenset({"get_household", "get_vacancy", "get_referral", "get_support_link"})

_NODE = {
    Ownership.NODE: "only the organisation running this node, on its own node",
    Ownership.OWNER: "only the organisation running this node, on an aggregate it owns",
    Ownership.RECEIVER: "only the organisation running this node, on a referral addressed to it",
    Ownership.REFERRER: "only the organisation running this node, on a referral it sent",
    Ownership.PARTY: "only the organisation running this node, on a referral it sent or received",
    Ownership.PARTY_ANYWHERE: "any organisation that sent or received the referral",
    Ownership.ANY: "any organisation this node trusts",
    Ownership.MEMBER: (
        "any organisation that is or was in the household's network as this node knows it, at its own node"
        " or at the household's owner's"
    ),
}

# Why a request the schema allows may still be refused (the statuses an operation documents; 401 and 428
# answer what the schema already requires: a token, an If-Match).
_WHY = {
    400: "a header or query parameter the edge checks beyond the schema (a cursor not of this list, "
    "a period of more than ten years or `from` after `to`)",
    403: "the caller's role or organisation may not do this here (see Who)",
    404: "no such aggregate here, or this node's organisation role keeps no such thing",
    409: "a rule of the aggregate's life cycle or of the offer rules forbids it now (the problem names the "
    "rule; an overridable rule names it in `rule`)",
    410: "the household was erased",
    412: "`If-Match` is not the aggregate's current ETag (or is a weak tag)",
    422: "a value the domain finds implausible or a rule across fields (e.g. dates relative to the "
    "command's time, a consent's purpose that is no referral kind), or an Idempotency-Key used for "
    "another request",
}


def _who(rule: Rule) -> str:
    roles = ", ".join(sorted(str(role) for role in rule.roles))
    return f"**Who**: {roles}; {_NODE[rule.ownership]}."


def _refused(statuses: list[int]) -> str:
    lines = [f"* {status}: {_WHY[status]}" for status in statuses if status in _WHY]
    return "**Refused although schema-valid**:\n" + "\n".join(lines) if lines else ""


def _header(operation: dict[str, Any], name: str) -> dict[str, Any] | None:
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "header" and parameter["name"] == name:
            return parameter  # type: ignore[no-any-return]
    return None


def _require(parameter: dict[str, Any], pattern: str, min_length: int | None = None) -> None:
    parameter["required"] = True
    schema: dict[str, Any] = {"type": "string", "pattern": pattern}
    if min_length is not None:
        schema["minLength"] = min_length
    if "description" in parameter:
        schema["description"] = parameter["description"]
    parameter["schema"] = schema


def _etag_header() -> dict[str, Any]:
    return {
        "description": "The aggregate's version: send it as If-Match to change it",
        "schema": {"type": "string", "pattern": r'^"[0-9]+"$'},
    }


def _operations(schema: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if "operationId" in operation:
                found[operation["operationId"]] = (path, method, operation)
    return found


def _links(
    name: str, rule: Rule, created: str | None, operations: dict[str, tuple[str, str, dict[str, Any]]]
) -> dict[str, Any]:
    """Links from a response of `name` (carrying the ETag of a `kind` aggregate) to the operations taking it."""
    kind = created or rule.subject
    if kind is None:
        return {}
    param = SUBJECTS[kind][0]
    id_from = "$response.body#/id" if created else f"$request.path.{param}"
    links: dict[str, Any] = {}
    for target, target_rule in POLICY.items():
        if target_rule.subject != kind or target not in operations:
            continue
        parameters: dict[str, str] = {f"path.{param}": id_from}
        if target_rule.precondition:
            parameters["header.If-Match"] = "$response.header.ETag"
        elif operations[target][1] != "get":
            continue
        if name == "make_offer" and target in ("accept_offer", "decline_offer"):
            parameters["path.offer_id"] = "$response.body#/id"
        elif "{offer_id}" in operations[target][0]:
            continue  # an offer's id comes from the offer made
        links[target] = {"operationId": target, "parameters": parameters}
    return links


def _validation_problems(operation: dict[str, Any]) -> None:
    """FastAPI documents a 422 of its own shape on every operation with parameters; here an invalid
    parameter is a 400 problem and only an invalid body a 422 problem (problems.py)."""
    responses = operation.get("responses", {})
    default = responses.get("422", {}).get("content", {}).get("application/json")
    if default is None:
        return
    if "requestBody" in operation:
        responses["422"] = problem_responses(422)[422]
    else:
        del responses["422"]


# Rules across fields the domain checks (household_values.Member, Household.register) that JSON Schema can say.
_ADULT = {"type": "object", "properties": {"kind": {"const": "adult"}}, "required": ["kind"]}
_CROSS_FIELD: dict[str, dict[str, Any]] = {
    "Member": {
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": "child"}}, "required": ["kind"]},
                "then": {"required": ["birth_month"], "properties": {"birth_month": {"type": "string"}}},
            },
            {
                "if": _ADULT,
                "then": {"properties": {"needs_school": {"const": False}, "needs_daycare": {"const": False}}},
            },
        ],
        "description": "A child has a birth month; an adult needs neither school nor daycare.",
    },
    "RehousingKind": {
        "if": {"properties": {"permanence": {"const": "permanent"}}, "required": ["permanence"]},
        "then": {"properties": {"expected_months": {"type": "null"}}},
        "description": "Only temporary rehousing has expected_months.",
    },
}


def _cross_field(schema: dict[str, Any]) -> None:
    components = schema.get("components", {}).get("schemas", {})
    for name, rules in _CROSS_FIELD.items():
        if name in components:
            description = components[name].get("description", "")
            components[name].update(rules)
            components[name]["description"] = f"{description} {rules['description']}".strip()
    register = components.get("RegisterHousehold", {}).get("properties", {}).get("members")
    if register is not None:
        register["contains"] = _ADULT
        register["description"] = "At least one adult; member ids unique within the household"


def describe(schema: dict[str, Any]) -> dict[str, Any]:
    """The document FastAPI generated, told what the authorisation table and the edge enforce."""
    _cross_field(schema)
    operations = _operations(schema)
    for name, (_, _, operation) in operations.items():
        _validation_problems(operation)
        rule = POLICY.get(GUARDED_AS.get(name, name))
        if rule is None:
            continue
        operation["x-roles"] = sorted(str(role) for role in rule.roles)
        operation["x-node"] = str(rule.ownership)
        if_match = _header(operation, "If-Match")
        if if_match is not None and rule.precondition:
            _require(if_match, IF_MATCH_PATTERN)
        purpose = _header(operation, "X-Purpose")
        if purpose is not None and rule.personal:
            _require(purpose, PURPOSE_PATTERN, min_length=3)
            purpose["description"] = (
                "Why personal data is read (3 or more characters; written to the access log)"
            )
            operation["parameters"] = [p for p in operation["parameters"] if p is not purpose] + [purpose]
        responses = operation.get("responses", {})
        created = CREATES.get(name)
        ok = responses.get("201") or responses.get("200")
        if ok is not None and (created or rule.precondition or name in ETAG_READS):
            ok.setdefault("headers", {})["ETag"] = _etag_header()
            links = _links(name, rule, created, operations)
            if links:
                ok["links"] = links
        statuses = sorted(int(status) for status in responses if status.isdigit() and int(status) >= 400)
        text = [operation.get("description", "").strip(), _who(rule), _refused(statuses)]
        operation["description"] = "\n\n".join(part for part in text if part)
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    return schema
