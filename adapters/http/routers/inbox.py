"""Each person's inbox at their own node: the notifications its timers raised for them, and marking one read."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from adapters.http.authorisation import Access, guard
from adapters.http.commands import IdempotencyKey, command_responses, run_command
from adapters.http.i18n import language_of
from adapters.http.i18n.texts import notification_words
from adapters.http.pages import Cursor, Limit, Page
from adapters.http.problems import ApiProblem, responses
from coordination.applications.notifications import NotificationDesk, NotificationView

router = APIRouter(prefix="/inbox", tags=["inbox"])
READ = responses(400, 401, 403, 404, 503)
COMMAND = responses(400, 401, 403, 404, 409, 422, 503)


class InboxItem(NotificationView):
    """A notification as its reader sees it (NotificationView), with its label and text in the reader's
    language (Accept-Language; Danish by default)."""

    label: str = Field(description='What the notification is about, e.g. "Henvisning modtaget"')
    text: str = Field(description="The sentence for the reader, its dates as the reader writes them")


def _worded(view: NotificationView, language: str) -> InboxItem:
    label, text = notification_words(
        view.kind,
        language,
        subject=view.subject,
        subject_id=view.subject_id,
        household_id=view.household_id,
        due=view.due,
    )
    return InboxItem(**view.model_dump(), label=label, text=text)


def _desk(access: Access) -> NotificationDesk:
    return access.node.serving(NotificationDesk, "notifications")


@router.get("", operation_id="inbox", responses=READ)
def inbox(
    access: Annotated[Access, guard("inbox")],
    unread: Annotated[bool, Query(description="Only the notifications the caller has not read")] = False,
    scope: Annotated[
        str,
        Query(
            pattern="^(mine|organisation)$",
            description="`mine`: addressed to the caller (in person, by role or to everyone there); "
            "`organisation`: every notification of the caller's organisation",
        ),
    ] = "mine",
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Page[InboxItem]:
    """The caller's notifications at their organisation's node, newest first: steps due for them (a referral
    received, an acknowledgement overdue, a referral stalled, a follow-up visit overdue, an offer about to
    expire) and, for coordinators, their escalations."""
    items = _desk(access).inbox(
        access.principal.actor(),
        everyone=scope == "organisation",
        unread=unread,
        after=_cursor(cursor),
        limit=limit,
    )
    last = str(items[-1].notification_id) if len(items) == limit else None
    language = language_of(access.request.headers)
    return Page[InboxItem](items=[_worded(item, language) for item in items], next_cursor=last)


def _cursor(cursor: str | None) -> UUID | None:
    if cursor is None:
        return None
    try:
        return UUID(cursor)
    except ValueError:
        raise ApiProblem(
            400, "invalid-request", "query.cursor: {cursor!r} is not a cursor of the inbox", cursor=cursor
        ) from None


@router.post(
    "/{notification_id}/read",
    operation_id="read_notification",
    responses={**command_responses(), **COMMAND},
)
def read_notification(
    notification_id: UUID, key: IdempotencyKey, access: Annotated[Access, guard("read_notification")]
) -> JSONResponse:
    """Mark a notification addressed to the caller as read (by the caller; others still see it unread)."""
    desk = _desk(access)
    return run_command(
        access,
        key,
        None,
        None,
        lambda cid, at, by: desk.mark_notification_read(
            command_id=cid, notification_id=notification_id, at=at, by=by
        ),
    )
