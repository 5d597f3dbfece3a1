"""The reference scenario (docs/design.md §6) through the organisations' HTTP APIs: every command is a request."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from coordination.applications.network import network_id
from coordination.domain.network import NetworkCopy
from coordination.domain.values import Role
from ops.demo import reference_family as reference
from ops.demo.reference_family import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    KVINFO,
    the_dwelling,
    the_family,
)
from tests.api.conftest import Api, Organisations


def plain(value: Any) -> Any:
    """A Python value of the scenario as the JSON a client would send."""
    return json.loads(
        json.dumps(value, default=lambda v: v.model_dump(mode="json") if hasattr(v, "model_dump") else str(v))
    )


def family() -> dict[str, Any]:
    return plain(the_family())


def dwelling(**changes: Any) -> dict[str, Any]:
    return {**plain(the_dwelling()), **changes}


MOVE = plain(reference.the_move())
ODENSE_C = plain(reference.ODENSE_C)


@dataclass
class People:
    consultant: Api
    bridge_builder: Api
    daycare: Api
    school: Api
    mentor: Api


def people(orgs: Organisations) -> People:
    return People(
        consultant=orgs.api(CIVICA, role=Role.REHOUSING_CONSULTANT, person="civica-gk-07"),
        bridge_builder=orgs.api(BRIDGE_BUILDER, role=Role.BRIDGE_BUILDER, person="bb-anna"),
        daycare=orgs.api(CHILDREN_AND_YOUTH, role=Role.DAYCARE_ALLOCATOR, person="pladsanvisning-3"),
        school=orgs.api(CHILDREN_AND_YOUTH, role=Role.DEPARTMENT_CASEWORKER, person="skole-12"),
        mentor=orgs.api(KVINFO, role=Role.CIVIL_ACTOR, person="kvinfo-odense-2"),
    )


@dataclass
class StoryIds:
    household: str = ""
    vacancy: str = ""
    offer: str = ""
    bridge_referral: str = ""
    daycare_referral: str = ""
    handoff: str = ""
    support_links: list[str] = field(default_factory=list)
    etags: dict[str, str] = field(default_factory=dict)


def etag_of(api: Api, path: str) -> str:
    """The ETag (version) of the aggregate at `path`, as a client reads it before changing it."""
    response = api.get(path)
    assert response.status_code == 200, f"{path}: {response.text}"
    return str(response.headers["ETag"])


def step(
    api: Api, path: str, body: Any = None, *, etag: str | None = None, status: int = 200
) -> tuple[str, str]:
    """POST a command; (the id it returns, the ETag after it)."""
    response = api.post(path, body, if_match=etag)
    assert response.status_code == status, f"{path}: {response.text}"
    return response.json()["id"], response.headers.get("ETag", "")


def copy_network(orgs: Organisations, household: str, to: str) -> None:
    """`to` gets the owner's picture of the household's network, unless the exchange brought it already (a
    stand-in where the owner does not yet send pictures to members)."""
    picture = orgs.nodes[CIVICA].app.network_picture(UUID(household))  # type: ignore[attr-defined]
    app = orgs.nodes[to].app
    copy_id = network_id(UUID(household))
    if copy_id in app.repository:
        copy = app.repository.get(copy_id)
        copy.update(picture)
    else:
        copy = NetworkCopy.receive(id=copy_id, picture=picture)
    app.save(copy)


# The household's contact details as the consultant records them (the adult reached in Arabic).
PHONE = "+45 20 30 40 50"
CONTACT = {
    "adult_name": "Amal Hassan",
    "phone": PHONE,
    "language": "ar",
    "interpreter_needed": True,
    "consultant_name": "Gitte Kjær",
    "consultant_phone": "+45 70 11 22 33",
}


def through_bridge_building(
    orgs: Organisations, p: People, household: str, etag: str, areas: tuple[str, ...] = ("Odense C",)
) -> tuple[str, str]:
    """A registered household taken through first contact, an inspiration tour of `areas`, tasks found and
    the bridge builder's accepted referral to bridge building: that referral's id, and the household's ETag
    after it."""
    path = f"/households/{household}"
    _, etag = step(p.consultant, f"{path}/first-contact", etag=etag)
    _, etag = step(p.consultant, f"{path}/inspiration-tours", {"areas": list(areas)}, etag=etag)
    _, etag = step(p.consultant, f"{path}/tasks-found", {"tasks": ["job search"]}, etag=etag)
    bridge, _ = step(
        p.consultant, f"{path}/referrals", {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"}, status=201
    )
    orgs.settle()
    # The bridge builder's copy has arrived over the exchange; it acts on its own node.
    e = etag_of(p.bridge_builder, f"/referrals/{bridge}")
    _, e = step(p.bridge_builder, f"/referrals/{bridge}/acknowledgement", etag=e)
    step(p.bridge_builder, f"/referrals/{bridge}/acceptance", {"assignee": "bb-anna"}, etag=e)
    orgs.settle()
    _, etag = step(p.consultant, f"{path}/bridge-building", etag=etag)
    return bridge, etag


def play_over_http(orgs: Organisations) -> StoryIds:
    """The story until the bridge holds, each organisation acting on its own node through its API."""
    p, ids = people(orgs), StoryIds()
    household, h = step(p.consultant, "/households", family(), status=201)
    ids.household = household
    ids.bridge_referral, h = through_bridge_building(orgs, p, household, h, areas=("Odense C", "Bolbro"))

    ids.vacancy, _ = step(p.consultant, "/vacancies", dwelling(), status=201)
    override = {"rule": "suitable_size", "reason": "The mother chose this central dwelling near the schools"}
    ids.offer, h = step(
        p.consultant,
        f"/households/{household}/offers",
        {"vacancy_id": ids.vacancy, "overrides": [override]},
        etag=h,
    )
    _, h = step(p.consultant, f"/households/{household}/offers/{ids.offer}/acceptance", etag=h)
    ids.daycare_referral, _ = step(
        p.consultant,
        f"/households/{household}/referrals",
        {
            "receiver": CHILDREN_AND_YOUTH,
            "kind": "daycare_fast_track",
            "child_id": "C4",
            "needed_from": "2026-08-03",
        },
        status=201,
    )
    orgs.settle()
    e = etag_of(p.daycare, f"/referrals/{ids.daycare_referral}")
    _, e = step(p.daycare, f"/referrals/{ids.daycare_referral}/acknowledgement", etag=e)
    _, e = step(
        p.daycare, f"/referrals/{ids.daycare_referral}/acceptance", {"assignee": "pladsanvisning-3"}, etag=e
    )
    _, e = step(p.daycare, f"/referrals/{ids.daycare_referral}/start", etag=e)
    step(
        p.daycare,
        f"/referrals/{ids.daycare_referral}/completion",
        {"outcome": "Kindergarten place offered"},
        etag=e,
    )
    orgs.settle()

    ids.handoff, h = step(
        p.consultant, f"/households/{household}/move", {"move": MOVE, "hand_off_to": BRIDGE_BUILDER}, etag=h
    )
    orgs.settle()
    step(
        p.bridge_builder,
        f"/referrals/{ids.handoff}/acknowledgement",
        etag=etag_of(p.bridge_builder, f"/referrals/{ids.handoff}"),
    )
    orgs.settle()

    copy_network(orgs, household, BRIDGE_BUILDER)  # it reports as the household's holder now
    fact = {"kind": "follow_up_visit_done", "visited_on": "2026-07-24"}
    step(p.bridge_builder, "/household-facts", {"household_id": household, "owner": CIVICA, "fact": fact})
    enrolment = {
        "member_id": "C4",
        "institution_kind": "daycare",
        "institution": "Børnehuset Banegården",
        "starts_on": "2026-08-03",
    }
    step(
        p.bridge_builder,
        "/household-facts",
        {
            "household_id": household,
            "owner": CIVICA,
            "fact": {"kind": "child_enrolled", "enrolment": enrolment},
        },
    )
    for provider, kind, contact, api in (
        ("naboskab-kochsgade", "contact_person", True, p.bridge_builder),
        (KVINFO, "mentor", False, p.mentor),
    ):
        offer = {"provider": provider, "service": f"{kind} for the family", "kind": kind, "place": ODENSE_C}
        link, e = step(
            api,
            "/support-links",
            # The household's owner: the link's steps are reported to it (KVINFO has no copy of the
            # household's network yet to find it in).
            {"household_id": household, "offer": offer, "contact_person": contact, "household_owner": CIVICA},
            status=201,
        )
        step(api, f"/support-links/{link}/activation", etag=e)
        ids.support_links.append(link)
    orgs.settle()
    return ids
