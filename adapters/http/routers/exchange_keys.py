"""Exchange keys: a node hands its key of a household to the organisations it sent that household's
personal fields to, so they can open the sealed fields of its messages (the key never travels via Kafka)."""

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


class ExchangeKey(BaseModel):
    owner: str
    household_id: UUID
    key: str  # base64 of the AES-256-GCM key


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
    """This node's exchange key of a household, for an organisation it sent the household's personal fields
    to (a node's service token: an operator of that organisation). 403 for any other organisation, 410 once
    the household is erased here. Every key handed out is written to the access log."""
    node, caller = access.node, access.principal
    if node.exchange_keys is None:
        raise ApiProblem(404, "not-served-here", f"{node.organisation}'s node sends no sealed fields")
    try:
        key = node.exchange_keys.release(household_id, caller.organisation)
    except KeyNotShared as error:
        raise ApiProblem(403, "not-permitted", error.message) from None
    if key is None:
        raise ApiProblem(410, "erased", f"Household {household_id} was erased at {node.organisation}")
    node.records.log_access(
        at=node.clock(),
        organisation=caller.organisation,
        person=caller.person,
        role=str(caller.role),
        operation=OPERATION,
        subject=f"exchange_key:{household_id}",
        purpose=(x_purpose or "").strip() or "open received integration events",
    )
    return ExchangeKey(
        owner=node.organisation, household_id=household_id, key=base64.b64encode(key).decode("ascii")
    )
