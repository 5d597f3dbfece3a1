"""Offers of another organisation's vacancy, as the requesting organisation follows them: requested, then
reserved or refused by the vacancy's owner (with its reason), then accepted, declined or expired."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter

from adapters.http.authorisation import Access, guard
from adapters.http.problems import responses
from coordination.applications.answers import OfferRequestView
from coordination.applications.offer_exchange import OfferExchange

router = APIRouter(prefix="/offer-requests", tags=["offers"])


@router.get("/{request_id}", operation_id="get_offer_request", responses=responses(400, 401, 403, 404, 503))
def get_offer_request(
    request_id: UUID, access: Annotated[Access, guard("get_offer_request")]
) -> OfferRequestView:
    """The request as it stands: its state, when it reached each state, and the owner's reason when it
    refused. Its id is the offer's, so a reserved request's offer is answered on the household."""
    return access.node.serving(OfferExchange, "offer requests").offer_request(request_id)
