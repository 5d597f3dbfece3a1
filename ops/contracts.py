"""Writes the exchange's contracts from the integration event models: a JSON Schema per event type and the
AsyncAPI 3.0 document of every topic, message, publisher and consumer (`python -m ops.contracts`)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from coordination.integration import erasure, household_facts, placements, referrals, vacancies
from coordination.integration.events import IntegrationEvent, registered_events
from coordination.integration.topics import (
    HOUSEHOLD_FACTS,
    MUNICIPAL_PICTURE,
    NETWORK,
    PLACEMENTS,
    REFERRALS,
    VACANCIES,
    VACANCY_REQUESTS,
)

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = ROOT / "docs" / "contracts"
MODULES = (referrals, vacancies, household_facts, erasure, placements)
_SCHEMA_REF = "#/components/schemas/{model}"

# Who publishes and who consumes each topic family (organisation roles, docs/design.md §4).
CHANNELS: dict[str, dict[str, Any]] = {
    REFERRALS: {
        "key": "referrals",
        "parameter": "organisation",
        "description": "Referrals sent or redirected to the organisation, and every step the other party takes "
        "on a referral it is party to. A node reads only its own topic.",
        "publishers": ["housing_organisation", "bridge_builder", "municipal_department", "civil_actor"],
        "consumers": ["housing_organisation", "bridge_builder", "municipal_department", "civil_actor"],
    },
    VACANCIES: {
        "key": "vacancies",
        "parameter": "municipality",
        "description": "The shared vacancy pool of a municipality: each vacancy's owner publishes it and every "
        "step of its single live offer; no household data.",
        "publishers": ["housing_organisation"],
        "consumers": ["housing_organisation", "municipal_department"],
    },
    VACANCY_REQUESTS: {
        "key": "vacancyRequests",
        "parameter": "organisation",
        "description": "Requests to the owner of a vacancy to reserve it for another organisation's offer and "
        "the household's answer; the owner's refusals go to the requester's topic.",
        "publishers": ["housing_organisation"],
        "consumers": ["housing_organisation"],
    },
    HOUSEHOLD_FACTS: {
        "key": "householdFacts",
        "parameter": "organisation",
        "description": "Facts others record about a household the organisation owns: enrolments, contact "
        "persons, practical matters, help no longer asked for, the follow-up visit, settling.",
        "publishers": ["bridge_builder", "municipal_department"],
        "consumers": ["housing_organisation"],
    },
    PLACEMENTS: {
        "key": "placements",
        "parameter": "municipality",
        "description": "Every housing organisation's placements into the municipality's receiving areas "
        "(area, month, permanent or temporary, from which transformation area, rents, overridden rules). No "
        "household: the subject and key are the fact's own id. Every node keeps them; its waterbed guard, "
        "pool and receiving-area monitor count them.",
        "publishers": ["housing_organisation"],
        "consumers": ["housing_organisation", "bridge_builder", "municipal_department", "civil_actor"],
    },
    MUNICIPAL_PICTURE: {
        "key": "municipalPicture",
        "parameter": "municipality",
        "description": "The rest of the municipal coordinator's picture, for the municipality's own nodes: "
        "offers' outcomes (declines by category, overridden rules) and every receiver's time to acknowledge "
        "and accept a referral. No household: the subject and key are the fact's own id.",
        "publishers": ["housing_organisation", "bridge_builder", "municipal_department", "civil_actor"],
        "consumers": ["municipal_department"],
    },
    NETWORK: {
        "key": "network",
        "parameter": "organisation",
        "description": "The networks of the households the organisation works with: each owner's picture of "
        "a household's network to every member (organisations, relations, open items and due dates; no "
        "personal data), the steps members report to the owner, and the owner's answers back (a refused "
        "report, and each reported fact applied or refused with the reason).",
        "publishers": ["housing_organisation", "bridge_builder", "municipal_department", "civil_actor"],
        "consumers": ["housing_organisation", "bridge_builder", "municipal_department", "civil_actor"],
    },
}

CLOUD_EVENT_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0, Kafka protocol binding, binary content mode; ids, names and times only.",
    "required": [
        "ce_specversion",
        "ce_id",
        "ce_source",
        "ce_type",
        "ce_subject",
        "ce_time",
        "ce_dataschema",
        "content-type",
        "traceparent",
    ],
    "properties": {
        "ce_specversion": {"const": "1.0"},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "Derived from the originating stored event: the same on every re-publish",
        },
        "ce_source": {"type": "string", "pattern": "^urn:dk:rehousing:org:[a-z0-9_.-]+$"},
        "ce_type": {
            "type": "string",
            "description": "The message's event type, e.g. dk.rehousing.referral.sent.v1",
        },
        "ce_subject": {
            "type": "string",
            "format": "uuid",
            "description": "The aggregate id (also the Kafka key); on the placements topics the fact's own "
            "id, never a household's",
        },
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_dataschema": {"type": "string", "description": "urn:dk:rehousing:schema:<type>"},
        "content-type": {"const": "application/json"},
        "traceparent": {"type": "string", "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"},
    },
}


def contract_events() -> list[type[IntegrationEvent]]:
    """The integration events of the exchange (not test doubles), in a stable order."""
    known = [cls for cls in registered_events().values() if cls.__module__ in {m.__name__ for m in MODULES}]
    return sorted(known, key=lambda cls: cls.event_type)


def schema_files() -> dict[str, str]:
    """File name → text of each event type's JSON Schema."""
    return {f"{cls.event_type}.json": _json(cls.json_schema()) for cls in contract_events()}


def asyncapi() -> dict[str, Any]:
    events = contract_events()
    _, top = models_json_schema([(cls, "validation") for cls in events], ref_template=_SCHEMA_REF)
    schemas: dict[str, Any] = {"CloudEventHeaders": CLOUD_EVENT_HEADERS, **top["$defs"]}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for family, channel in CHANNELS.items():
        mine = [cls for cls in events if cls.topic == family]
        key, parameter = channel["key"], channel["parameter"]
        channels[key] = {
            "address": f"{family}.{{{parameter}}}",
            "description": channel["description"],
            "parameters": {
                parameter: {
                    "description": f"The {parameter} the topic is addressed to (lower case, "
                    "æ ø å as ae oe aa)"
                }
            },
            "messages": {cls.__name__: {"$ref": f"#/components/messages/{cls.__name__}"} for cls in mine},
            "x-publishers": channel["publishers"],
            "x-consumers": channel["consumers"],
        }
        refs = [{"$ref": f"#/channels/{key}/messages/{cls.__name__}"} for cls in mine]
        for action, roles in (("send", channel["publishers"]), ("receive", channel["consumers"])):
            operations[f"{action}{key[0].upper()}{key[1:]}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": f"{'Published' if action == 'send' else 'Consumed'} by: {', '.join(roles)}",
                "messages": refs,
            }
        for cls in mine:
            messages[cls.__name__] = {
                "name": cls.event_type,
                "title": cls.__name__,
                "summary": _summary(cls),
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
                "payload": {"$ref": _SCHEMA_REF.format(model=cls.__name__)},
                "bindings": {
                    "kafka": {"key": {"type": "string", "format": "uuid"}, "bindingVersion": "0.5.0"}
                },
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Rehousing coordination exchange",
            "version": "1.0.0",
            "description": (
                "What crosses between organisations' nodes (docs/design.md §4): integration events as "
                "CloudEvents over Kafka. Generated by ops/contracts.py from coordination/integration/."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _summary(cls: type[IntegrationEvent]) -> str:
    doc = (cls.__doc__ or "").strip().split("\n")[0]
    return doc or cls.__name__


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def to_yaml(value: Any, indent: int = 0) -> str:
    """A small YAML writer for JSON-like data: every string is double-quoted, so nothing is read back wrongly."""
    return "\n".join(_yaml_lines(value, indent)) + "\n"


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _yaml_lines(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{_key(key)}:")
                lines.extend(_yaml_lines(item, indent + 2))
            else:
                lines.append(f"{pad}{_key(key)}: {_scalar(item)}")
    else:
        for item in value:
            if isinstance(item, (dict, list)) and item:
                nested = _yaml_lines(item, indent + 2)
                lines.append(f"{pad}- {nested[0].lstrip()}")
                lines.extend(nested[1:])
            else:
                lines.append(f"{pad}- {_scalar(item)}")
    return lines


def expected_files() -> dict[Path, str]:
    """Every generated file (path → text), as the committed contracts must be."""
    files = {CONTRACTS / "schemas" / name: text for name, text in schema_files().items()}
    files[CONTRACTS / "asyncapi.yaml"] = "# Generated by `python -m ops.contracts`; do not edit.\n" + to_yaml(
        asyncapi()
    )
    return files


def main() -> int:
    schemas = CONTRACTS / "schemas"
    schemas.mkdir(parents=True, exist_ok=True)
    expected = expected_files()
    for stale in set(schemas.glob("*.json")) - set(expected):
        stale.unlink()
    for path, text in expected.items():
        path.write_text(text, encoding="utf-8")
    print(f"wrote {len(expected)} files under {CONTRACTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
