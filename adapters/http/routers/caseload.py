"""The caseworker's day: the households one works with (searched, paged) and what is due about them.

Both answer only households the caller's organisation is related to, as this node knows them: it owns
them, or it is or was in their network. At another organisation's node it is answered about that node's
own households alone (coordination/projections/caseload_search.py).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from adapters.http.authorisation import Access, guard
from adapters.http.dates import day
from adapters.http.i18n import language_of
from adapters.http.i18n.texts import work_item_words
from adapters.http.pages import Cursor, Limit, Page, page_after
from adapters.http.problems import ApiProblem, responses
from coordination.applications.erasure import ErasureDesk
from coordination.domain.household import HouseholdPhase
from coordination.domain.values import NonEmpty, Role
from coordination.projections.caseload_search import CaseFilter, CaseloadEntry
from coordination.projections.worklist import ErasureFacts, WorkItem, WorkItemKind

router = APIRouter(tags=["caseload"])
READ = responses(400, 401, 403, 404, 503)
_CURSOR = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
Text = Annotated[NonEmpty | None, Query(max_length=100)]


class WorkItemWorded(WorkItem):
    """A worklist item with its label and text in the reader's language (Accept-Language; Danish by default)."""

    label: str = Field(description='What is due, e.g. "Tilbud udløber snart"')
    text: str = Field(description="The sentence for the reader, its date as the reader writes it")


def _worded(item: WorkItem, language: str) -> WorkItemWorded:
    label, text = work_item_words(
        item.kind,
        language,
        household_id=item.household_id,
        referral_id=item.referral_id,
        offer_id=item.offer_id,
        due=item.due_at or item.due_on,
        overdue=item.overdue,
    )
    return WorkItemWorded(**item.model_dump(), label=label, text=text)


def _text(description: str) -> Any:
    return Query(max_length=100, description=description)


@router.get("/households", operation_id="search_households", responses=READ)
def search_households(
    access: Annotated[Access, guard("search_households")],
    case_reference: Annotated[NonEmpty | None, Query(max_length=200, description="Exact match")] = None,
    holder: Annotated[NonEmpty | None, _text("The holder's organisation")] = None,
    responsible_person: Text = None,
    phase: HouseholdPhase | None = None,
    municipality: Annotated[NonEmpty | None, _text("The receiving area's municipality")] = None,
    area: Annotated[NonEmpty | None, _text("The receiving area")] = None,
    termination_from: Annotated[date | None, day("Lease terminated on or after this day")] = None,
    termination_to: Annotated[date | None, day("Lease terminated on or before this day")] = None,
    mine: Annotated[bool, Query(description="Only households the caller is responsible for")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[CaseloadEntry]:
    """The households the caller's organisation owns or is in the network of, by termination date (soonest
    first; a member's node knows none, and lists those last), filtered as asked. `mine`: those whose
    responsible person is the caller (the consultant who registered it, then whoever acknowledged its
    handoff)."""
    if cursor is not None and not _CURSOR.match(cursor):
        raise ApiProblem(
            400, "invalid-request", "query.cursor: {cursor!r} is not a cursor of the caseload", cursor=cursor
        )
    if termination_from and termination_to and termination_from > termination_to:
        raise ApiProblem(400, "invalid-request", "query.termination_from: after termination_to")
    caller = access.principal
    wanted = CaseFilter(
        case_reference=case_reference,
        holder=holder,
        responsible_person=caller.person if mine else responsible_person,
        responsible_organisation=caller.organisation if mine else None,
        phase=None if phase is None else phase.value,
        municipality=municipality,
        area=area,
        termination_from=termination_from,
        termination_to=termination_to,
    )
    node = access.node
    found = node.queries().caseload.search(
        caller.organisation, node.organisation, wanted, limit=limit, after=cursor
    )
    return Page[CaseloadEntry](items=found, next_cursor=found[-1].cursor if len(found) == limit else None)


@router.get("/worklist", operation_id="worklist", responses=READ)
def worklist(
    access: Annotated[Access, guard("worklist")],
    person: Annotated[
        Literal["me"] | None, Query(description="`me`: only what is due for the caller in person")
    ] = None,
    mine: Annotated[bool, Query(description="The same as person=me")] = False,
    kind: WorkItemKind | None = None,
    overdue: Annotated[bool | None, Query(description="Only overdue items (true) or not yet (false)")] = None,
    due_by: Annotated[
        date | None, day("Only items due on or before this day (e.g. the end of this week)")
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Page[WorkItemWorded]:
    """What is due and overdue for the caller's organisation (or the caller in person), soonest first:
    acknowledgements owed, stalled referrals, follow-up visits, offers expiring soon, leases ending without
    an accepted offer; for the data-protection role, the erasures proposed."""
    node, caller = access.node, access.principal
    erasures = _erasures(access) if caller.role is Role.DATA_PROTECTION else []
    items = node.queries().worklists.due(
        caller.organisation, node.organisation, node.clock(), node.app.policy, erasures
    )
    # The data-protection role's list is the erasures; everyone else's is the case work.
    is_erasure = [item.kind is WorkItemKind.ERASURE_PROPOSED for item in items]
    items = [i for i, e in zip(items, is_erasure, strict=True) if e == (caller.role is Role.DATA_PROTECTION)]
    if person == "me" or mine:
        items = [item for item in items if item.for_person == caller.person]
    if kind is not None:
        items = [item for item in items if item.kind is kind]
    if overdue is not None:
        items = [item for item in items if item.overdue is overdue]
    if due_by is not None:
        items = [item for item in items if item.due_on <= due_by]
    page = page_after(items, _key, cursor, limit)
    language = language_of(access.request.headers)
    return Page[WorkItemWorded](
        items=[_worded(item, language) for item in page.items], next_cursor=page.next_cursor
    )


def _key(item: WorkItem) -> str:
    return f"{item.kind}/{item.household_id}/{item.referral_id or item.offer_id or ''}"


def _erasures(access: Access) -> list[ErasureFacts]:
    """The erasures proposed and not yet confirmed at this node (a housing organisation's alone)."""
    app = access.node.app
    if not isinstance(app, ErasureDesk) or not access.own_node():
        return []
    return [
        ErasureFacts(
            household_id=view.household_id,
            owner=app.organisation,
            proposed_at=view.proposed_at,
            proposed_by=None if view.proposed_by is None else view.proposed_by.person,
        )
        for view in app.erasures()
        if view.state == "proposed"
    ]
