"""A command from a POST: idempotency key as command id, If-Match as expected version, the edge's clock."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from adapters.http.authorisation import Access, load_subject
from adapters.http.problems import ApiProblem
from adapters.http.records import StoredResponse
from coordination.applications.commands import decided_again_on_conflict
from coordination.domain.values import Actor

IdempotencyKey = Annotated[
    UUID,
    Header(
        alias="Idempotency-Key", description="A UUID per intended change; a repeat returns the first response"
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag (aggregate version) the change was decided on, e.g. "3"'),
]
_ETAG = re.compile(r'^\s*(W/)?("?)([0-9]{1,9})\2\s*$')  # [0-9], not \d: "٣" is no version of ours

# (command id, at, by) -> the id the command returns
Run = Callable[[UUID, datetime, Actor], UUID | None]
# How many times a command whose save collides with another change is decided (the first and again).
_DECISIONS = 5

log = structlog.get_logger()


class CommandResult(BaseModel):
    """What a command returns: the id of what it created or changed (None when it created nothing)."""

    id: UUID | None


@dataclass(frozen=True)
class Followed:
    """A command whose outcome another organisation decides: answered 202 Accepted, with the Location of
    the resource that follows it (`/{collection}/{id}`) and that resource as the command left it."""

    collection: str
    resource: Callable[[UUID], BaseModel]


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(if_match: str | None, access: Access) -> int | None:
    """The version the caller decided on; 428 without If-Match, 400 when it is not an ETag of ours."""
    if not access.rule.precondition:
        return None
    assert access.subject is not None
    if if_match is None:
        raise ApiProblem(
            428,
            "if-match-required",
            "header.If-Match: changing {kind} {id} needs the ETag you decided on (it is at {etag})",
            kind=access.subject.kind,
            id=access.subject.id,
            etag=etag(access.subject.version),
        )
    if if_match.strip() == "*":
        return None
    found = _ETAG.match(if_match)
    if found is None:
        raise ApiProblem(
            400, "invalid-request", 'header.If-Match: {if_match!r} is not an ETag like "3"', if_match=if_match
        )
    if found.group(1):
        # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches, whatever its number.
        raise ApiProblem(
            412,
            "precondition-failed",
            "header.If-Match: {tag} is a weak tag and If-Match never matches a weak tag (RFC 9110 §13.1.1); "
            'send the ETag as it was given, e.g. "{strong}"',
            tag=if_match.strip(),
            strong=found.group(3),
        )
    return int(found.group(3))


def _fingerprint(access: Access, payload: BaseModel | None) -> str:
    body = payload.model_dump_json() if payload is not None else ""
    text = f"{access.request.method} {access.request.url.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def run_command(
    access: Access,
    key: UUID,
    if_match: str | None,
    payload: BaseModel | None,
    run: Run,
    *,
    created: str | None = None,
    followed: Followed | None = None,
) -> JSONResponse:
    """Run the command once per idempotency key and return its first response.

    The key is the command id, so the application's receipts make a repeat have no second effect even
    when two repeats race; the first response is kept in the node's database and returned to repeats.
    `created` names the kind of aggregate a create makes (for its Location and ETag); `followed`, the
    resource a command that another organisation decides is followed at (202 and its Location).
    """
    node, organisation = access.node, access.principal.organisation
    fingerprint = _fingerprint(access, payload)
    first = node.records.first_response(organisation, key)
    if first is None:
        expected = expected_version(if_match, access)
        subject = access.subject
        scope = (
            node.app.expecting(subject.id, expected)
            if subject is not None and expected is not None
            else nullcontext()
        )
        with scope:
            at, by = node.clock(), access.principal.actor()
            result = decided_again_on_conflict(
                lambda: run(key, at, by),
                attempts=_DECISIONS,
                noted=lambda attempt: log.info(
                    "command.conflict_decided_again", command_id=str(key), attempt=attempt
                ),
            )
        status, headers = (201, {}) if created else (200, {})
        target = subject if access.rule.precondition else None
        if created and result is not None:
            root = access.request.scope.get("root_path", "")
            headers["Location"] = f"{root}/{_collection(created)}/{result}"
            headers["ETag"] = etag(load_subject(node, created, result).version)
        elif target is not None:
            headers["ETag"] = etag(load_subject(node, target.kind, target.id).version)
        body = CommandResult(id=result).model_dump(mode="json")
        if followed is not None and result is not None:
            status = 202
            root = access.request.scope.get("root_path", "")
            headers["Location"] = f"{root}/{followed.collection}/{result}"
            body = followed.resource(result).model_dump(mode="json")
        first = node.records.keep_first(
            organisation,
            key,
            # Keyed as the command's receipt is (under its household's key), so erasure unmatches it.
            StoredResponse(
                status=status,
                body=body,
                headers=headers,
                fingerprint=node.app.keyed_like_receipt(key, fingerprint),
            ),
        )
        replayed = False
    else:
        replayed = True
    if not node.app.fingerprint_matches(first.fingerprint, fingerprint):
        raise ApiProblem(
            422,
            "idempotency-key-reused",
            "header.Idempotency-Key: {key} was used for a different request",
            key=key,
        )
    headers = {**first.headers, **({"Idempotent-Replayed": "true"} if replayed else {})}
    return JSONResponse(first.body, status_code=first.status, headers=headers)


def _collection(kind: str) -> str:
    return {
        "household": "households",
        "vacancy": "vacancies",
        "referral": "referrals",
        "support_link": "support-links",
    }.get(kind, kind)


def command_responses(created: bool = False, precondition: bool = False) -> dict[int | str, Any]:
    """OpenAPI: what a command answers besides problems."""
    ok = {
        "model": CommandResult,
        "description": "Created" if created else "Done",
        "headers": {
            "ETag": {"description": "The aggregate's version after the command", "schema": {"type": "string"}}
        },
    }
    return {201 if created else 200: ok}
