"""Who may do what, in one table: operation, role and ownership rule, and whether it reads personal data.

Every route depends on `guard(operation)`, which authenticates the caller, checks the table, loads the
aggregate the path names (to judge ownership and to know its version) and, for reads of personal data,
requires a purpose and writes the read to the access log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Header, Request

from adapters.http.auth import Principal, authenticated
from adapters.http.node import ApiNode
from adapters.http.problems import ApiProblem
from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.network_copies import NetworkCopies
from coordination.applications.offer_exchange import OfferExchange
from coordination.applications.support import SupportDesk
from coordination.applications.vacancy_mirror import VacancyMirror
from coordination.domain.values import Role


class Ownership(StrEnum):
    """Whose the target must be, relative to the caller's organisation."""

    NODE = "node"  # the caller's organisation runs this node (every command)
    OWNER = "owner"  # ... and owns the aggregate (a mirror of another's vacancy is not owned)
    RECEIVER = "receiver"  # ... and the referral is addressed to it
    REFERRER = "referrer"  # ... and it sent the referral
    PARTY = "party"  # ... and it sent or received the referral
    PARTY_ANYWHERE = "party_anywhere"  # any organisation that sent or received the referral (reads)
    ANY = "any"  # any organisation this node trusts (reads of data without persons in it)
    # ... is or was in the household's network as this node knows it (its own as the owner, or its copy),
    # reading at its own node or at the owner's
    MEMBER = "member"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    ownership: Ownership
    subject: str | None = None  # the kind of aggregate the path's id names
    personal: bool = False  # a read of personal data: needs a purpose and is logged
    precondition: bool = False  # changes the subject: If-Match with its version is required


R = Role
CONSULTANT, COORDINATOR, AUDITOR = R.REHOUSING_CONSULTANT, R.COORDINATOR, R.AUDITOR
HOUSING_WRITERS = frozenset({CONSULTANT, COORDINATOR})
HOUSING_READERS = HOUSING_WRITERS | {AUDITOR}
SUPPORTERS = frozenset({R.BRIDGE_BUILDER, R.CIVIL_ACTOR})
DEPARTMENT = frozenset({R.DAYCARE_ALLOCATOR, R.DEPARTMENT_CASEWORKER})
REFERRAL_PARTIES = frozenset({CONSULTANT, COORDINATOR, *SUPPORTERS, *DEPARTMENT})
STAFF_READERS = REFERRAL_PARTIES | {AUDITOR}
INBOX_READERS = REFERRAL_PARTIES | {R.MUNICIPAL_COORDINATOR, R.DATA_PROTECTION}


def _household_step() -> Rule:
    return Rule(HOUSING_WRITERS, Ownership.OWNER, "household", precondition=True)


def _referral_step(roles: frozenset[Role], ownership: Ownership) -> Rule:
    return Rule(roles, ownership, "referral", precondition=True)


POLICY: dict[str, Rule] = {
    # Households (housing organisations' nodes)
    "register_household": Rule(HOUSING_WRITERS, Ownership.NODE),
    "get_household": Rule(HOUSING_READERS, Ownership.OWNER, "household", personal=True),
    "household_timeline": Rule(HOUSING_READERS, Ownership.OWNER, "household", personal=True),
    "household_status": Rule(STAFF_READERS, Ownership.MEMBER, "network", personal=True),
    # What the owner refused of this node's own reports about a household (organisations and reasons).
    "refused_reports": Rule(STAFF_READERS, Ownership.NODE),
    "suitable_vacancies": Rule(HOUSING_WRITERS, Ownership.OWNER, "household", personal=True),
    **{
        name: _household_step()
        for name in (
            "record_first_contact",
            "record_inspiration_tour",
            "record_tasks_found",
            "start_bridge_building",
            "give_consent",
            "withdraw_consent",
            "record_enrolment",
            "record_contact_person",
            "end_contact_person",
            "record_practical_matters_in_order",
            "record_no_longer_asks_for_help",
            "record_follow_up_visit",
            "settle_household",
            "record_move",
            "make_offer",
            "accept_offer",
            "decline_offer",
            # The record kept true (household_record.py)
            "amend_members",
            "amend_needs",
            "amend_preferences",
            "record_contact_details",
            "make_rehousing_permanent",
            "reopen_household",
            "record_follow_up_visit_declined",
        )
    },
    # A referral about a household is a new aggregate; the household itself does not change.
    "refer_household": Rule(HOUSING_WRITERS, Ownership.OWNER, "household"),
    "proposed_referrals": Rule(HOUSING_READERS, Ownership.OWNER, "household", personal=True),
    # Vacancies
    "publish_vacancy": Rule(HOUSING_WRITERS, Ownership.NODE),
    "withdraw_vacancy": Rule(HOUSING_WRITERS, Ownership.OWNER, "vacancy", precondition=True),
    "get_vacancy": Rule(HOUSING_READERS, Ownership.ANY, "vacancy"),
    "search_vacancy_pool": Rule(HOUSING_READERS, Ownership.ANY),
    # Referrals
    "send_referral": Rule(SUPPORTERS | DEPARTMENT | {COORDINATOR}, Ownership.NODE),
    "get_referral": Rule(STAFF_READERS, Ownership.PARTY_ANYWHERE, "referral", personal=True),
    "referrals_owed": Rule(STAFF_READERS, Ownership.ANY, personal=True),
    "acknowledge_referral": _referral_step(REFERRAL_PARTIES, Ownership.RECEIVER),
    "accept_referral": _referral_step(REFERRAL_PARTIES, Ownership.RECEIVER),
    "start_referral": _referral_step(REFERRAL_PARTIES, Ownership.RECEIVER),
    "put_referral_on_hold": _referral_step(REFERRAL_PARTIES, Ownership.RECEIVER),
    "decline_referral": _referral_step(REFERRAL_PARTIES, Ownership.PARTY),
    "redirect_referral": _referral_step(REFERRAL_PARTIES, Ownership.RECEIVER),
    "complete_referral": _referral_step(REFERRAL_PARTIES, Ownership.RECEIVER),
    "withdraw_referral": _referral_step(REFERRAL_PARTIES, Ownership.REFERRER),
    "mark_referral_entered_in_error": _referral_step(REFERRAL_PARTIES, Ownership.REFERRER),
    "override_referral_decline": _referral_step(frozenset({COORDINATOR}), Ownership.PARTY),
    # A daycare referral's place: offered by the department receiving it, answered for the family by a party.
    "offer_daycare_place": _referral_step(frozenset(DEPARTMENT), Ownership.RECEIVER),
    "accept_daycare_place": _referral_step(REFERRAL_PARTIES, Ownership.PARTY),
    "decline_daycare_place": _referral_step(REFERRAL_PARTIES, Ownership.PARTY),
    # Support links and what the followers of a household learn about it
    "propose_support_link": Rule(SUPPORTERS, Ownership.NODE),
    "activate_support_link": Rule(SUPPORTERS, Ownership.OWNER, "support_link", precondition=True),
    "end_support_link": Rule(SUPPORTERS, Ownership.OWNER, "support_link", precondition=True),
    "get_support_link": Rule(SUPPORTERS | {AUDITOR}, Ownership.OWNER, "support_link", personal=True),
    "report_household_fact": Rule(frozenset({R.BRIDGE_BUILDER, *DEPARTMENT}), Ownership.NODE),
    "reported_household_facts": Rule(frozenset({R.BRIDGE_BUILDER, *DEPARTMENT, AUDITOR}), Ownership.NODE),
    # Read models
    "daycare_queue": Rule(frozenset({R.DAYCARE_ALLOCATOR, *HOUSING_READERS}), Ownership.ANY, personal=True),
    "receiving_areas": Rule(HOUSING_READERS | {R.BRIDGE_BUILDER}, Ownership.ANY),
    # The municipality's picture across housing organisations: no household in it, counts suppressed
    # under 5; the municipality's own coordinator (and auditor) at its own node.
    "municipal_picture": Rule(frozenset({R.MUNICIPAL_COORDINATOR, AUDITOR}), Ownership.NODE),
    "municipal_picture_csv": Rule(frozenset({R.MUNICIPAL_COORDINATOR, AUDITOR}), Ownership.NODE),
    # Operations figures carry no personal data; the access log is for auditors only.
    "operations": Rule(frozenset({R.OPERATOR, AUDITOR}), Ownership.NODE),
    "access_log": Rule(frozenset({AUDITOR}), Ownership.NODE),
    # A node's service token (an operator of its organisation) asking for an exchange key; the route lets
    # only the organisations the key's household was sent to have it, and logs every key handed out.
    "get_exchange_key": Rule(frozenset({R.OPERATOR}), Ownership.ANY),
    # The same for a key sealed for one recipient: the route hands it to that recipient's node alone.
    "get_recipient_exchange_key": Rule(frozenset({R.OPERATOR}), Ownership.ANY),
    # An offer of another organisation's vacancy, followed by the organisation that asked for it (the
    # owner of the household; the vacancy's owner keeps its own record and never this one).
    "get_offer_request": Rule(HOUSING_READERS, Ownership.OWNER, "offer_request", personal=True),
    # Erasure as an operation: the owner's data-protection role only (two people; routers/erasures.py).
    "propose_household_erasure": Rule(frozenset({R.DATA_PROTECTION}), Ownership.OWNER, "household"),
    "confirm_household_erasure": Rule(frozenset({R.DATA_PROTECTION}), Ownership.OWNER, "household"),
    "list_erasures": Rule(frozenset({R.DATA_PROTECTION}), Ownership.NODE, personal=True),
    "get_erasure": Rule(frozenset({R.DATA_PROTECTION}), Ownership.NODE, personal=True),
    # Each person's inbox at their own node (notifications carry ids, kinds and dates, no personal data);
    # the application admits a person only to the notifications addressed to them.
    "inbox": Rule(INBOX_READERS, Ownership.NODE),
    "read_notification": Rule(INBOX_READERS, Ownership.NODE),
    # Webhook subscriptions: the organisation's operator connects its own systems to its node.
    **{
        name: Rule(frozenset({R.OPERATOR}), Ownership.NODE)
        for name in (
            "create_webhook",
            "list_webhooks",
            "delete_webhook",
            "webhook_deliveries",
            "replay_webhook_delivery",
            "replay_webhooks",
        )
    },
    # The caseload and the worklist: any organisation this node trusts asks, and is answered only about
    # the households it is related to by their networks (routers/caseload.py).
    "search_households": Rule(STAFF_READERS, Ownership.ANY, personal=True),
    "worklist": Rule(STAFF_READERS | {R.DATA_PROTECTION}, Ownership.ANY, personal=True),
}


@dataclass(frozen=True)
class Subject:
    """The aggregate a request is about, as far as authorisation and preconditions need to know it."""

    kind: str
    id: UUID
    version: int
    owner: str | None = None
    referrer: str | None = None
    receiver: str | None = None
    members: frozenset[str] = frozenset()  # a household's network: every organisation that is or was in it


def _household(node: ApiNode, id: UUID) -> Subject:
    view = node.serving(HousingOrganisationApp, "households").household(id, today=node.clock().date())
    return Subject("household", id, view.version, owner=view.owner)


def _vacancy(node: ApiNode, id: UUID) -> Subject:
    view = node.serving(VacancyMirror, "vacancies").vacancy(id)
    return Subject("vacancy", id, view.version, owner=view.owner)


def _referral(node: ApiNode, id: UUID) -> Subject:
    view = node.app.referral(id)
    return Subject("referral", id, view.version, referrer=view.referrer, receiver=view.receiver)


def _support_link(node: ApiNode, id: UUID) -> Subject:
    view = node.serving(SupportDesk, "support links").support_link(id)
    return Subject("support_link", id, view.version, owner=view.owner)


def _offer_request(node: ApiNode, id: UUID) -> Subject:
    view = node.serving(OfferExchange, "offer requests").offer_request(id)
    return Subject("offer_request", id, view.version, owner=view.requested_by)


def _network(node: ApiNode, id: UUID) -> Subject:
    """The household's network as this node knows it; a node that knows none has no members to admit: 403
    for everyone, at a housing organisation's node too (a non-member's read of the status is refused
    wherever it asks; a household this node owns always has a network to answer from)."""
    picture = node.app.known_network(id) if isinstance(node.app, NetworkCopies) else None
    if picture is None or len(picture.organisations()) == 1:  # none, or emptied by an erasure (or new)
        _gone_if_erased(node, id, None if picture is None else picture.owner)
    if picture is None:
        return Subject("household", id, 0)
    members = frozenset(picture.organisations())
    return Subject("household", id, picture.version, owner=picture.owner, members=members)


def _gone_if_erased(node: ApiNode, id: UUID, owner: str | None) -> None:
    """410 naming the erasure for a household erased at this node: its records read as erased, not as
    someone else's (403) or as never known (404)."""
    keys = getattr(node.app, "household_keys", None)
    if keys is not None and keys.is_erased(id):
        if owner:
            raise ApiProblem(
                410,
                "household-erased",
                "Household {id} was erased at {organisation} (its owner {owner} keeps the record at /erasures/{id})",
                id=id,
                organisation=node.organisation,
                owner=owner,
            )
        raise ApiProblem(
            410,
            "household-erased",
            "Household {id} was erased at {organisation} (its owner keeps the record at /erasures/{id})",
            id=id,
            organisation=node.organisation,
        )


SUBJECTS: dict[str, tuple[str, Callable[[ApiNode, UUID], Subject]]] = {
    "network": ("household_id", _network),
    "household": ("household_id", _household),
    "vacancy": ("vacancy_id", _vacancy),
    "referral": ("referral_id", _referral),
    "support_link": ("link_id", _support_link),
    "offer_request": ("request_id", _offer_request),
}


def load_subject(node: ApiNode, kind: str, id: UUID) -> Subject:
    return SUBJECTS[kind][1](node, id)


def _refused(template: str, **params: object) -> ApiProblem:
    return ApiProblem(403, "not-permitted", template, **params)


def permitted(
    rule: Rule, principal: Principal, node_organisation: str, subject: Subject | None
) -> ApiProblem | None:
    """None if the rule lets the principal act; otherwise the 403 saying why not, in a sentence."""
    org = principal.organisation
    if principal.role not in rule.roles:
        return _refused("A {role} may not do this", role=principal.role)
    if rule.ownership is Ownership.ANY:
        return None
    if rule.ownership is Ownership.MEMBER:
        assert subject is not None
        if org not in subject.members:
            return _refused(
                "{organisation} is not in the network of household {household_id} as {node}'s node knows it",
                organisation=org,
                household_id=subject.id,
                node=node_organisation,
            )
        if org != node_organisation and node_organisation != subject.owner:
            return _refused(
                "{organisation} reads household {household_id}'s network at its own node or its owner's, not here",
                organisation=org,
                household_id=subject.id,
            )
        return None
    if rule.ownership is Ownership.PARTY_ANYWHERE:
        assert subject is not None
        if org in (subject.referrer, subject.receiver):
            return None
        return _refused(
            "{organisation} neither sent nor received {kind} {id}",
            organisation=org,
            kind=subject.kind,
            id=subject.id,
        )
    if org != node_organisation:
        return _refused(
            "Only {node} changes or reads this on its own node, not {organisation}",
            node=node_organisation,
            organisation=org,
        )
    if rule.ownership is Ownership.NODE:
        return None
    assert subject is not None
    wanted = {
        Ownership.OWNER: (subject.owner,),
        Ownership.RECEIVER: (subject.receiver,),
        Ownership.REFERRER: (subject.referrer,),
        Ownership.PARTY: (subject.referrer, subject.receiver),
    }[rule.ownership]
    if org in wanted:
        return None
    whose = subject.owner or subject.referrer
    return _refused(
        "{organisation} is not the {ownership} of {kind} {id} ({whose}'s)",
        organisation=org,
        ownership=str(rule.ownership),
        kind=subject.kind,
        id=subject.id,
        whose=whose,
    )


@dataclass(frozen=True)
class Access:
    """An authorised request: the node, the caller, the operation, its subject and purpose."""

    node: ApiNode
    principal: Principal
    operation: str
    rule: Rule
    subject: Subject | None
    purpose: str | None
    request: Request

    def own_node(self) -> bool:
        return self.principal.organisation == self.node.organisation


def _subject_id(request: Request, kind: str) -> UUID:
    param = SUBJECTS[kind][0]
    try:
        return UUID(request.path_params[param])
    except (KeyError, ValueError):
        raise ApiProblem(400, "invalid-request", "path.{param}: not a UUID", param=param) from None


def _authorise(operation: str, request: Request, principal: Principal, purpose: str | None) -> Access:
    node: ApiNode = request.app.state.node
    rule = POLICY[operation]
    if principal.role not in rule.roles:  # before any load: a role that may never do this learns nothing
        raise ApiProblem(
            403,
            "not-permitted",
            "A {role} may not {operation}",
            role=principal.role,
            operation=operation.replace("_", " "),
        )
    subject = (
        None if rule.subject is None else load_subject(node, rule.subject, _subject_id(request, rule.subject))
    )
    refusal = permitted(rule, principal, node.organisation, subject)
    if refusal is not None:
        raise refusal
    if rule.personal:
        if purpose is None or len(purpose.strip()) < 3:
            raise ApiProblem(
                400,
                "purpose-required",
                "header.X-Purpose: reading personal data needs a purpose of 3 or more characters",
            )
        node.records.log_access(
            at=node.clock(),
            organisation=principal.organisation,
            person=principal.person,
            role=str(principal.role),
            operation=operation,
            subject=f"{subject.kind}:{subject.id}" if subject else operation,
            purpose=purpose.strip(),
        )
    return Access(node, principal, operation, rule, subject, purpose, request)


def guard(operation: str) -> Any:
    """The FastAPI dependency that authorises `operation` (a purpose header only where data is personal)."""
    if operation not in POLICY:
        raise KeyError(f"{operation} has no rule in POLICY")
    if POLICY[operation].personal:

        def personal(
            request: Request,
            principal: Annotated[Principal, Depends(authenticated)],
            x_purpose: Annotated[
                str | None, Header(alias="X-Purpose", description="Why personal data is read")
            ] = None,
        ) -> Access:
            return _authorise(operation, request, principal, x_purpose)

        return Depends(personal)

    def other(request: Request, principal: Annotated[Principal, Depends(authenticated)]) -> Access:
        return _authorise(operation, request, principal, None)

    return Depends(other)
