"""A bounded, seeded load on the exchange: what caseworkers at CIVICA, FAB, the bridge builder and the children
and youth department do in a busy week, issued as commands at each organisation's own node."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from random import Random
from typing import Any
from uuid import UUID, uuid4

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.roles import BridgeBuilderApp, MunicipalDepartmentApp
from coordination.domain.errors import ConcurrencyConflict, NotFound
from coordination.domain.household import Move
from coordination.domain.offer_request import OfferRequest, OfferRequestStatus
from coordination.domain.referral import ReferralKind
from coordination.domain.values import Actor, DeclinedBy, Override, Role
from ops.demo.reference_family import the_move
from ops.demo.reference_scenario import (
    BRIDGE_BUILDER,
    CHILDREN_AND_YOUTH,
    CIVICA,
    on,
    the_dwelling,
    the_family,
)

FAB = "fab"
HOUSING = (CIVICA, FAB)
Wait = Callable[[Callable[[], bool], str], None]


def consultant(organisation: str) -> Actor:
    return Actor(organisation=organisation, person=f"{organisation}-gk-01", role=Role.REHOUSING_CONSULTANT)


BRIDGE = Actor(organisation=BRIDGE_BUILDER, person="bb-anna", role=Role.BRIDGE_BUILDER)
SCHOOLS = Actor(organisation=CHILDREN_AND_YOUTH, person="skole-12", role=Role.DEPARTMENT_CASEWORKER)


def overrides(organisation: str) -> list[Override]:
    """The family chose these dwellings; rehousing into central Odense is the plan (inflow included)."""
    by = consultant(organisation)
    return [
        Override(rule=rule, by=by, reason="The family chose this dwelling near the schools")
        for rule in ("suitable_size", "waterbed_inflow")
    ]


@dataclass
class Wave:
    """What one wave created, for the scenario's checks."""

    name: str
    households: dict[str, list[UUID]] = field(default_factory=dict)
    vacancies: dict[str, list[UUID]] = field(default_factory=dict)
    referrals: list[tuple[str, UUID]] = field(default_factory=list)  # (receiver, referral id)
    requests: dict[str, list[UUID]] = field(default_factory=dict)  # requester -> offer ids
    handoffs: list[UUID] = field(default_factory=list)
    commands: int = 0


class Load:
    """Drives the organisations' own applications (the test's instances on each node's store).

    Steps that need another organisation's answer wait for it (bounded): the exchange must carry it.
    """

    def __init__(self, apps: dict[str, Any], wait: Wait, *, seed: int) -> None:
        self.apps = apps
        self.wait = wait
        self.rng = Random(seed)
        self._clock = on(date(2026, 6, 2), 8)  # the day the reference family gives its consents
        self.conflicts_retried = 0

    @property
    def bridge(self) -> BridgeBuilderApp:
        return self.apps[BRIDGE_BUILDER]  # type: ignore[no-any-return]

    @property
    def department(self) -> MunicipalDepartmentApp:
        return self.apps[CHILDREN_AND_YOUTH]  # type: ignore[no-any-return]

    def housing(self, organisation: str) -> HousingOrganisationApp:
        return self.apps[organisation]  # type: ignore[no-any-return]

    def now(self) -> datetime:
        self._clock += timedelta(minutes=7)
        return self._clock

    def run(self, wave: Wave, command: Callable[..., Any], **arguments: Any) -> Any:
        """One command with its own id, retried with the same id when the node process changed the same
        aggregate at the same moment (the receipt makes the retry safe)."""
        arguments.setdefault("command_id", uuid4())
        for attempt in range(20):
            try:
                result = command(**arguments)
            except ConcurrencyConflict:
                self.conflicts_retried += 1
                time.sleep(0.05 * (attempt + 1))
                continue
            wave.commands += 1
            return result
        raise AssertionError(f"{command.__name__} kept conflicting")

    def wave(self, name: str, *, households: int = 6, vacancies: int = 8) -> Wave:
        wave = Wave(name)
        self._publish_and_register(wave, households, vacancies)
        self._answer_referrals(wave)
        self._request_across(wave)
        self._move_and_hand_off(wave)
        return wave

    def _publish_and_register(self, wave: Wave, households: int, vacancies: int) -> None:
        for org in HOUSING:
            app, by = self.housing(org), consultant(org)
            dwelling = the_dwelling()
            wave.vacancies[org] = [
                self.run(
                    wave,
                    app.publish_vacancy,
                    at=self.now(),
                    by=by,
                    dwelling=dwelling.model_copy(
                        update={"estate": f"{org}-{wave.name}-{i}", "rooms": self.rng.choice([5, 6])}
                    ),
                )
                for i in range(vacancies)
            ]
            family = the_family()
            wave.households[org] = [
                self.run(
                    wave,
                    app.register_household,
                    at=self.now(),
                    by=by,
                    **{**family, "case_reference": f"{org.upper()}-{wave.name}-{i:03d}"},
                )
                for i in range(households)
            ]
            for i, household in enumerate(wave.households[org]):
                referral = self.run(
                    wave,
                    app.refer_household,
                    household_id=household,
                    receiver=BRIDGE_BUILDER,
                    kind=ReferralKind.BRIDGE_BUILDING,
                    at=self.now(),
                    by=by,
                )
                wave.referrals.append((BRIDGE_BUILDER, referral))
                if i % 2 == 0:
                    referral = self.run(
                        wave,
                        app.refer_household,
                        household_id=household,
                        receiver=CHILDREN_AND_YOUTH,
                        kind=ReferralKind.SCHOOL_CHANGE,
                        at=self.now(),
                        by=by,
                    )
                    wave.referrals.append((CHILDREN_AND_YOUTH, referral))
            # A third of the households get an offer of one of their own organisation's vacancies.
            for household, vacancy in zip(
                wave.households[org][: households // 3], wave.vacancies[org], strict=False
            ):
                offer = self.run(
                    wave,
                    app.make_offer,
                    household_id=household,
                    vacancy_id=vacancy,
                    overrides=overrides(org),
                    at=self.now(),
                    by=by,
                )
                if self.rng.random() < 0.6:
                    self.run(
                        wave, app.accept_offer, household_id=household, offer_id=offer, at=self.now(), by=by
                    )
                else:
                    self.run(
                        wave,
                        app.decline_offer,
                        household_id=household,
                        offer_id=offer,
                        at=self.now(),
                        by=by,
                        declined_by=DeclinedBy.HOUSEHOLD,
                        reason="Too far from the children's school",
                    )

    def _answer_referrals(self, wave: Wave) -> None:
        def arrived() -> bool:
            return all(self._has(self.apps[receiver], referral) for receiver, referral in wave.referrals)

        self.wait(arrived, f"wave {wave.name}: referrals reached their receivers")
        for receiver, referral in wave.referrals:
            app = self.apps[receiver]
            by = BRIDGE if receiver == BRIDGE_BUILDER else SCHOOLS
            self.run(wave, app.acknowledge_referral, referral_id=referral, at=self.now(), by=by)
            if self.rng.random() < 0.15:
                self.run(
                    wave,
                    app.decline_referral,
                    referral_id=referral,
                    declined_by=DeclinedBy.PROVIDER,
                    reason="No capacity in the household's new district",
                    at=self.now(),
                    by=by,
                )
                continue
            self.run(
                wave, app.accept_referral, referral_id=referral, assignee=by.person, at=self.now(), by=by
            )
            self.run(wave, app.start_referral, referral_id=referral, at=self.now(), by=by)
            if receiver == CHILDREN_AND_YOUTH:
                self.run(
                    wave,
                    app.complete_referral,
                    referral_id=referral,
                    at=self.now(),
                    by=by,
                    outcome="Place at the district school from August",
                )

    def _request_across(self, wave: Wave) -> None:
        """Households of each organisation ask the other organisation for one of its vacancies."""
        for org, other in ((CIVICA, FAB), (FAB, CIVICA)):
            app, by = self.housing(org), consultant(org)
            theirs = wave.vacancies[other][len(wave.households[other]) // 3 :]
            self.wait(
                lambda app=app, theirs=theirs: all(self._has(app, v) for v in theirs),
                f"wave {wave.name}: {other}'s vacancies mirrored at {org}",
            )
            askers = wave.households[org][len(wave.households[org]) // 3 : 2 * len(wave.households[org]) // 3]
            wave.requests[org] = [
                self.run(
                    wave,
                    app.request_offer,
                    household_id=household,
                    vacancy_id=vacancy,
                    overrides=overrides(org),
                    at=self.now(),
                    by=by,
                )
                for household, vacancy in zip(askers, theirs, strict=False)
            ]
        for org, offers in wave.requests.items():
            app, by = self.housing(org), consultant(org)
            self.wait(
                lambda app=app, offers=offers: all(
                    self._request(app, o).status != OfferRequestStatus.REQUESTED for o in offers
                ),
                f"wave {wave.name}: the owners answered {org}'s requests",
            )
            for offer in offers:
                request = self._request(app, offer)
                if request.status != OfferRequestStatus.RESERVED:
                    continue
                if self.rng.random() < 0.6:
                    self.run(
                        wave,
                        app.accept_requested_offer,
                        household_id=request.household_id,
                        offer_id=offer,
                        at=self.now(),
                        by=by,
                    )
                else:
                    self.run(
                        wave,
                        app.decline_requested_offer,
                        household_id=request.household_id,
                        offer_id=offer,
                        declined_by=DeclinedBy.HOUSEHOLD,
                        reason="The rent is too high for the family",
                        at=self.now(),
                        by=by,
                    )

    def _move_and_hand_off(self, wave: Wave) -> None:
        for org in HOUSING:
            app, by = self.housing(org), consultant(org)
            for household in wave.households[org]:
                view = app.household(household, today=date(2026, 9, 1))
                if not any(offer.status == "accepted" for offer in view.offers):
                    continue
                handoff = self.run(
                    wave,
                    app.record_move,
                    household_id=household,
                    move=_move(),
                    at=self.now(),
                    by=by,
                    hand_off_to=BRIDGE_BUILDER,
                )
                wave.handoffs.append(handoff)
        self.wait(
            lambda: all(self._has(self.bridge, h) for h in wave.handoffs),
            f"wave {wave.name}: handoffs reached the bridge builder",
        )
        for handoff in wave.handoffs:
            self.run(wave, self.bridge.acknowledge_referral, referral_id=handoff, at=self.now(), by=BRIDGE)

    @staticmethod
    def _has(app: Any, aggregate_id: UUID) -> bool:
        return aggregate_id in app.repository

    @staticmethod
    def _request(app: HousingOrganisationApp, offer_id: UUID) -> OfferRequest:
        try:
            request = app.repository.get(offer_id)
        except Exception as error:
            raise NotFound(str(error)) from error
        assert isinstance(request, OfferRequest)
        return request


def _move() -> Move:
    return the_move().model_copy(update={"moved_on": date(2026, 8, 1)})
