"""Webhook subscriptions of the caller's organisation at its node: made (the secret shown once), listed,
deleted; each one's delivery log, and replay of one delivery or of every event since a time."""

import re
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey
from adapters.http.pages import Cursor, Limit, Page
from adapters.http.problems import ApiProblem, responses
from adapters.webhooks import events, signing
from adapters.webhooks.store import Delivery, Subscription, WebhookStore, delivery_cursor

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
READ = responses(400, 401, 403, 404, 503)
COMMAND = responses(400, 401, 403, 404, 422, 503)
_DELIVERY_CURSOR = re.compile(r"^[0-9T:.+-]{20,40}/[0-9a-f-]{36}$")
REPLAY_LIMIT = 10_000  # events one replay request queues at most


class WebhookRequest(BaseModel):
    """Where to deliver, and which event types (exact, or a prefix ending in `*`, e.g. `dk.rehousing.*`)."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=2000)
    types: list[str] = Field(min_length=1, max_length=50)

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the url must be an http or https URL with a host")
        if parts.username or parts.password:
            raise ValueError("the url must not carry credentials; the signature authenticates the sender")
        return url

    @field_validator("types")
    @classmethod
    def _known_types(cls, types: list[str]) -> list[str]:
        for wanted in types:
            if not any(events.subscribed([wanted], known) for known in events.EVENT_TYPES):
                raise ValueError(f"{wanted!r} matches no event type; known: {', '.join(events.EVENT_TYPES)}")
        return types


class CreatedWebhook(Subscription):
    """The subscription with its signing secret: shown this once, never again."""

    secret: str


class ReplaySince(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: AwareDatetime


class Replayed(BaseModel):
    queued: int


def _store(access: Access) -> WebhookStore:
    return WebhookStore(access.node.db)


def _subscription(access: Access, webhook_id: UUID) -> Subscription:
    found = _store(access).subscription(access.principal.organisation, webhook_id)
    if found is None:
        raise ApiProblem(
            404,
            "not-found",
            "No webhook {webhook_id} of {organisation} here",
            webhook_id=webhook_id,
            organisation=access.principal.organisation,
        )
    return found


@router.post(
    "",
    operation_id="create_webhook",
    status_code=201,
    responses={201: {"model": CreatedWebhook, "description": "Subscribed"}, **COMMAND},
)
def create_webhook(
    body: WebhookRequest, key: IdempotencyKey, access: Annotated[Access, guard("create_webhook")]
) -> JSONResponse:
    """Subscribe a URL of the organisation's own systems to its node's events (CloudEvents over HTTP,
    structured mode, signed per Standard Webhooks). The answer holds the secret; it is not shown again,
    but to a repeat of the request with the same Idempotency-Key (its first answer may have been lost)."""
    store = _store(access)
    webhook_id, secret, new = store.subscribe(
        organisation=access.principal.organisation,
        url=body.url,
        types=body.types,
        secret=signing.new_secret(),
        at=access.node.clock(),
        key=key,
    )
    created = _subscription(access, webhook_id)
    if not new and (created.url, created.types) != (body.url, body.types):
        raise ApiProblem(
            422,
            "idempotency-key-reused",
            "header.Idempotency-Key: {key} was used for a different request",
            key=key,
        )
    answer = CreatedWebhook(**created.model_dump(), secret=secret)
    headers = {"Location": f"/webhooks/{webhook_id}", **({} if new else {"Idempotent-Replayed": "true"})}
    return JSONResponse(answer.model_dump(mode="json"), status_code=201, headers=headers)


@router.get("", operation_id="list_webhooks", responses=READ)
def list_webhooks(access: Annotated[Access, guard("list_webhooks")]) -> list[Subscription]:
    """The organisation's subscriptions at this node, oldest first (without their secrets)."""
    return _store(access).subscriptions(access.principal.organisation)


@router.delete("/{webhook_id}", operation_id="delete_webhook", status_code=204, responses=READ)
def delete_webhook(webhook_id: UUID, access: Annotated[Access, guard("delete_webhook")]) -> Response:
    """Stop delivering to the subscription; its pending deliveries are cancelled (the log keeps them)."""
    if not _store(access).unsubscribe(access.principal.organisation, webhook_id, access.node.clock()):
        raise ApiProblem(
            404,
            "not-found",
            "No webhook {webhook_id} of {organisation} here",
            webhook_id=webhook_id,
            organisation=access.principal.organisation,
        )
    return Response(status_code=204)


@router.get("/{webhook_id}/deliveries", operation_id="webhook_deliveries", responses=READ)
def webhook_deliveries(
    webhook_id: UUID,
    access: Annotated[Access, guard("webhook_deliveries")],
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[Delivery]:
    """The subscription's delivery log, newest first: each event's state, attempts and last answer."""
    _subscription(access, webhook_id)
    if cursor is not None and not _DELIVERY_CURSOR.match(cursor):
        raise ApiProblem(
            400, "invalid-request", "query.cursor: {cursor!r} is not a cursor of the log", cursor=cursor
        )
    found = _store(access).deliveries(webhook_id, after=cursor, limit=limit)
    last = delivery_cursor(found[-1]) if len(found) == limit else None
    return Page[Delivery](items=found, next_cursor=last)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay", operation_id="replay_webhook_delivery", responses=COMMAND
)
def replay_webhook_delivery(
    webhook_id: UUID, delivery_id: UUID, access: Annotated[Access, guard("replay_webhook_delivery")]
) -> Replayed:
    """Send one delivery again now, with the same webhook-id (a receiver that saw it ignores it)."""
    _subscription(access, webhook_id)
    if not _store(access).replay(webhook_id, delivery_id, access.node.clock()):
        raise ApiProblem(
            404,
            "not-found",
            "No delivery {delivery_id} of webhook {webhook_id}",
            delivery_id=delivery_id,
            webhook_id=webhook_id,
        )
    return Replayed(queued=1)


@router.post("/{webhook_id}/replay", operation_id="replay_webhooks", responses=COMMAND)
def replay_webhooks(
    webhook_id: UUID, body: ReplaySince, access: Annotated[Access, guard("replay_webhooks")]
) -> Replayed:
    """Queue again every subscribed event the node stored since `since` (each with its own webhook-id, as
    first sent), up to 10,000 at a time."""
    subscription = _subscription(access, webhook_id)
    app = access.node.app
    found: list[dict[str, object]] = []
    position = 0
    while len(found) < REPLAY_LIMIT:
        page = list(events.stored_events(app, after=position, limit=500))
        if not page:
            break
        position = page[-1][0]
        for _, domain_event in page:
            if domain_event.timestamp < body.since:
                continue
            event = events.cloud_event(app, domain_event)
            if event is not None and events.subscribed(subscription.types, str(event["type"])):
                found.append(event)
    queued = _store(access).replay_events(subscription, found[:REPLAY_LIMIT], access.node.clock())
    return Replayed(queued=queued)
