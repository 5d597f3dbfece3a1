"""Exchange keys: a node hands its key of a household for one recipient to that recipient alone, so it can
open the sealed fields of the messages sent to it (the key never travels via Kafka); and the old scheme's
one key of the household to the organisations it was given to before, for messages sealed then."""

from __future__ import annotations

import base64
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header
from pydantic import BaseModel

from adapters.exchange.keys import KeyNotShared
from adapters.http.authorisation import Access, guard
from adapters.http.problems import ApiProblem, responses

router = APIRouter(tags=["exchange"])
OPERATION = "get_exchange_key"
RECIPIENT_OPERATION = "get_recipient_exchange_key"


class ExchangeKey(BaseModel):
    owner: str
    household_id: UUID
    key: str  # base64 of the AES-256-GCM key


@router.get(
    "/v1/exchange-keys/{household_id}/{recipient}",
    operation_id=RECIPIENT_OPERATION,
    responses=responses(400, 401, 403, 404, 410, 503),
)
def get_recipient_exchange_key(
    household_id: UUID,
    recipient: str,
    access: Annotated[Access, guard(RECIPIENT_OPERATION)],
    x_purpose: Annotated[str | None, Header(alias="X-Purpose", description="Why the key is read")] = None,
) -> ExchangeKey:
    """This node's exchange key of a household for `recipient`, to `recipient`'s node alone (its service
    token: an operator of that organisation) and only if something about the household was sealed for it.
    403 for any other organisation, 410 once the household is erased here. Every key handed out is written
    to the access log."""
    node, caller = access.node, access.principal
    if node.exchange_keys is None:
        raise ApiProblem(
            404,
            "not-served-here",
            "{organisation}'s node sends no sealed fields",
            organisation=node.organisation,
        )
    try:
        key = node.exchange_keys.release(household_id, recipient, caller.organisation)
    except KeyNotShared as error:
        raise ApiProblem(403, "not-permitted", error.message) from None
    return _handed_out(access, household_id, key, RECIPIENT_OPERATION, x_purpose)


@router.get(
    "/v1/exchange-keys/{household_id}",
    operation_id=OPERATION,
    responses=responses(400, 401, 403, 404, 410, 503),
)
def get_exchange_key(
    household_id: UUID,
    access: Annotated[Access, guard(OPERATION)],
    x_purpose: Annotated[str | None, Header(alias="X-Purpose", description="Why the key is read")] = None,
) -> ExchangeKey:
    """The old scheme's one exchange key of a household (messages whose sealed fields name no recipient),
    for an organisation it was given to before keys were per recipient (a node's service token: an
    operator of that organisation). 403 for any other organisation, 410 once the household is erased here.
    Every key handed out is written to the access log."""
    node, caller = access.node, access.principal
    if node.exchange_keys is None:
        raise ApiProblem(
            404,
            "not-served-here",
            "{organisation}'s node sends no sealed fields",
            organisation=node.organisation,
        )
    try:
        key = node.exchange_keys.release_legacy(household_id, caller.organisation)
    except KeyNotShared as error:
        raise ApiProblem(403, "not-permitted", error.message) from None
    return _handed_out(access, household_id, key, OPERATION, x_purpose)


def _handed_out(
    access: Access, household_id: UUID, key: bytes | None, operation: str, purpose: str | None
) -> ExchangeKey:
    """The key as the answer, written to the access log (the operation says which key: the caller's own
    or the old scheme's); 410 once erased."""
    node, caller = access.node, access.principal
    if key is None:
        raise ApiProblem(
            410,
            "erased",
            "Household {household_id} was erased at {organisation}",
            household_id=household_id,
            organisation=node.organisation,
        )
    node.records.log_access(
        at=node.clock(),
        organisation=caller.organisation,
        person=caller.person,
        role=str(caller.role),
        operation=operation,
        subject=f"exchange_key:{household_id}",
        purpose=(purpose or "").strip() or "open received integration events",
    )
    return ExchangeKey(
        owner=node.organisation, household_id=household_id, key=base64.b64encode(key).decode("ascii")
    )
