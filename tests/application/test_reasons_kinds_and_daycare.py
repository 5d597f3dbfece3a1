"""Issue 21, points 5, 7 and 8 through the applications: coded reasons (and old free-text ones loading as
`unspecified`), the new referral kinds and urgency, a daycare place answered by the family with the § 26 a
share checked, and the fast-track referral proposed when an offer is accepted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from coordination.applications.base import NodeApplication
from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.calendar import COPENHAGEN
from coordination.domain.errors import InvalidInput, OverrideRequired, RuleViolated
from coordination.domain.policy import RehousingPolicy
from coordination.domain.reasons import CODES, LABELS, ReasonFor
from coordination.domain.referral import ReferralDetails, ReferralKind
from coordination.domain.referral_daycare import SHARE_RULE, InstitutionIntake
from coordination.domain.values import Actor, Consent, DeclinedBy, Override, Role
from tests.application.builders import (
    ALLOCATOR,
    CONSULTANT,
    DAYCARE,
    EVERY_PURPOSE,
    ODENSE_C,
    at,
    cmd,
    publish,
    register_family,
    stored_events,
)

SOCIAL = "odense-socialforvaltning"
CITIZEN = "odense-borgerservice"
HEALTH = "odense-sundhed"
OTHER_ORG = "odense-frivilligcenter"
NEW_KINDS = (
    (SOCIAL, ReferralKind.SOCIAL_SERVICES),
    (CITIZEN, ReferralKind.CITIZEN_SERVICE),
    (HEALTH, ReferralKind.HEALTH),
    (OTHER_ORG, ReferralKind.OTHER),
)
COORDINATOR = Actor(organisation="odense-kommune", person="ko-1", role=Role.COORDINATOR)
SOLSIKKEN = "Børnehuset Solsikken"


def _consents() -> list[Consent]:
    return [
        Consent(recipient=recipient, purpose=purpose, given_on=date(2026, 5, 28))
        for recipient, purpose in (*EVERY_PURPOSE, *((org, kind.value) for org, kind in NEW_KINDS))
    ]


@pytest.fixture
def civica(open_node: Callable[..., NodeApplication]) -> HousingOrganisationApp:
    return open_node(HousingOrganisationApp, "civica")


def _family_with_accepted_offer(app: HousingOrganisationApp) -> UUID:
    household_id = register_family(app, given=_consents())
    vacancy_id = publish(app)
    offer_id = app.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )
    app.accept_offer(command_id=cmd(), household_id=household_id, offer_id=offer_id, at=at(2), by=CONSULTANT)
    return household_id


def _daycare_referral(app: HousingOrganisationApp, household_id: UUID) -> UUID:
    referral_id = app.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=DAYCARE,
        kind=ReferralKind.DAYCARE_FAST_TRACK,
        child_id="C2",
        needed_from=date(2026, 8, 3),
        at=at(3),
        by=CONSULTANT,
    )
    app.acknowledge_referral(command_id=cmd(), referral_id=referral_id, at=at(4), by=ALLOCATOR)
    app.accept_referral(command_id=cmd(), referral_id=referral_id, assignee="pa-4", at=at(5), by=ALLOCATOR)
    return referral_id


# Point 5: coded reasons


def test_every_code_has_an_english_sentence_and_every_list_ends_with_other() -> None:
    for reason_for, codes in CODES.items():
        assert codes[-1] == "other", reason_for
        for code in codes:
            assert LABELS[code].endswith(".") and LABELS[code][0].isupper(), code


class DeclinedV1(Aggregate.Event):
    """Referral.Declined as it was stored before reasons were coded."""

    declined_by: DeclinedBy
    reason: str
    at: datetime
    by: Actor


def test_a_decline_stored_before_reasons_were_coded_loads_as_unspecified_with_its_words(
    civica: HousingOrganisationApp,
) -> None:
    referral_id = _daycare_referral(civica, _family_with_accepted_offer(civica))
    v1 = DeclinedV1(
        originator_id=referral_id,
        originator_version=4,
        timestamp=DeclinedV1.create_timestamp(),
        declined_by=DeclinedBy.HOUSEHOLD,
        reason="The family found a place itself",
        at=at(6),
        by=CONSULTANT,
    )
    state = civica.mapper.to_stored_event(v1).state
    topic = "coordination.domain.referral:Referral.Declined"
    civica.recorder.insert_events(
        [StoredEvent(originator_id=referral_id, originator_version=4, topic=topic, state=state)]
    )

    view = civica.referral(referral_id)

    assert view.status == "declined_by_household"
    assert [(r.code, r.text) for r in view.reasons] == [("unspecified", "The family found a place itself")]
    assert stored_events(civica, referral_id)[-1].reason_code == "unspecified"


def test_each_step_with_a_reason_records_its_code_and_the_words_beside_it(
    civica: HousingOrganisationApp,
) -> None:
    household_id = _family_with_accepted_offer(civica)
    referral_id = _daycare_referral(civica, household_id)

    civica.put_referral_on_hold(
        command_id=cmd(), referral_id=referral_id, reason_code="waiting_for_documents", at=at(6), by=ALLOCATOR
    )
    civica.decline_referral(
        command_id=cmd(),
        referral_id=referral_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason_code="has_other_housing",
        reason="The family moves to the grandmother",
        at=at(7),
        by=CONSULTANT,
    )
    civica.override_referral_decline(
        command_id=cmd(),
        referral_id=referral_id,
        reason_code="household_changed_mind",
        at=at(8),
        by=COORDINATOR,
    )
    civica.withdraw_referral(
        command_id=cmd(), referral_id=referral_id, reason="Not needed any more", at=at(9), by=CONSULTANT
    )

    reasons = [(r.status, r.code, r.text) for r in civica.referral(referral_id).reasons]
    assert reasons == [
        ("on_hold", "waiting_for_documents", None),
        ("declined_by_household", "has_other_housing", "The family moves to the grandmother"),
        ("sent", "household_changed_mind", None),
        ("withdrawn", "other", "Not needed any more"),  # words alone are `other`
    ]
    history = civica.history(household_id)
    assert [e.reason_code for e in history if e.reason_code] == [
        "waiting_for_documents",
        "has_other_housing",
        "household_changed_mind",
        "other",
    ]


@pytest.mark.parametrize(
    ("declined_by", "code"),
    [
        (DeclinedBy.HOUSEHOLD, "no_capacity"),
        (DeclinedBy.PROVIDER, "rent_too_high"),
        (DeclinedBy.HOUSEHOLD, "other"),
    ],
)
def test_a_decline_needs_a_code_of_its_own_list_and_other_needs_words(
    civica: HousingOrganisationApp, declined_by: DeclinedBy, code: str
) -> None:
    household_id = register_family(civica)
    offer_id = civica.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=publish(civica), at=at(1), by=CONSULTANT
    )

    with pytest.raises(InvalidInput):
        civica.decline_offer(
            command_id=cmd(),
            household_id=household_id,
            offer_id=offer_id,
            declined_by=declined_by,
            reason_code=code,
            at=at(2),
            by=CONSULTANT,
        )
    assert code in CODES[ReasonFor.HOUSEHOLD_DECLINE] + CODES[ReasonFor.PROVIDER_DECLINE]


def test_an_offer_declined_with_a_code_shows_it_in_the_households_offers(
    civica: HousingOrganisationApp,
) -> None:
    household_id = register_family(civica)
    offer_id = civica.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=publish(civica), at=at(1), by=CONSULTANT
    )

    civica.decline_offer(
        command_id=cmd(),
        household_id=household_id,
        offer_id=offer_id,
        declined_by=DeclinedBy.HOUSEHOLD,
        reason_code="rent_too_high",
        at=at(2),
        by=CONSULTANT,
    )

    [offer] = civica.household(household_id, today=date(2026, 6, 3)).offers
    assert (offer.status, offer.reason_code, offer.reason) == ("declined_by_household", "rent_too_high", None)


# Point 7: more kinds, urgency


@pytest.mark.parametrize(("receiver", "kind"), NEW_KINDS, ids=[kind.value for _, kind in NEW_KINDS])
def test_the_new_kinds_are_sent_under_the_households_consent_for_them(
    civica: HousingOrganisationApp, receiver: str, kind: ReferralKind
) -> None:
    household_id = _family_with_accepted_offer(civica)
    note = "Help to fill in the moving forms" if kind is ReferralKind.OTHER else None

    referral_id = civica.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=receiver,
        kind=kind,
        note=note,
        at=at(3),
        by=CONSULTANT,
    )

    view = civica.referral(referral_id)
    assert (view.kind, view.receiver, view.consent and view.consent.purpose) == (kind, receiver, kind.value)
    if kind is ReferralKind.HEALTH:  # health needs go to the health services under consent, not elsewhere
        assert view.details.needs == ["mental_health", "interpreter"]
    if kind is ReferralKind.CITIZEN_SERVICE:
        assert (view.details.needs, view.details.household_size) == (["interpreter"], 3)


def test_a_referral_of_kind_other_needs_a_description(civica: HousingOrganisationApp) -> None:
    household_id = _family_with_accepted_offer(civica)

    with pytest.raises(InvalidInput, match="description"):
        civica.refer_household(
            command_id=cmd(),
            household_id=household_id,
            receiver=OTHER_ORG,
            kind=ReferralKind.OTHER,
            at=at(3),
            by=CONSULTANT,
        )


@pytest.mark.parametrize(
    ("urgent", "policy", "acknowledge_days", "complete_days"),
    [
        (False, RehousingPolicy(), 3, 30),
        (True, RehousingPolicy(), 1, 8),
        (
            True,
            RehousingPolicy(urgent_acknowledge_within_working_days=0, urgent_complete_within_days=5),
            0,
            5,
        ),
    ],
    ids=["ordinary", "urgent", "urgent-by-local-policy"],
)
def test_an_urgent_referral_is_due_sooner_by_the_policy(
    open_node: Callable[..., NodeApplication],
    urgent: bool,
    policy: RehousingPolicy,
    acknowledge_days: int,
    complete_days: int,
) -> None:
    app = open_node(HousingOrganisationApp, "civica", policy=policy)
    household_id = _family_with_accepted_offer(app)
    sent_at = datetime(2026, 6, 8, 10, 0, tzinfo=COPENHAGEN)  # a Monday: working days are days

    referral_id = app.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=SOCIAL,
        kind=ReferralKind.SOCIAL_SERVICES,
        urgent=urgent,
        at=sent_at,
        by=CONSULTANT,
    )

    view = app.referral(referral_id)
    assert view.details.urgent is urgent
    assert view.acknowledge_by - sent_at == timedelta(days=acknowledge_days)
    assert view.complete_by - sent_at == timedelta(days=complete_days)


def test_details_that_are_not_urgent_are_written_without_the_flag() -> None:
    details = ReferralDetails(place=ODENSE_C)
    assert "urgent" not in details.model_dump()
    assert ReferralDetails(place=ODENSE_C, urgent=True).model_dump()["urgent"] is True
    assert ReferralDetails.model_validate(details.model_dump()) == details


# Point 8: daycare done right


def _offer(app: HousingOrganisationApp, referral_id: UUID, intake: InstitutionIntake, **extra: Any) -> None:
    app.offer_daycare_place(
        command_id=cmd(),
        referral_id=referral_id,
        institution=intake.institution,
        starts_on=date(2026, 8, 3),
        intake=intake,
        at=at(10),
        by=ALLOCATOR,
        **extra,
    )


@pytest.mark.parametrize(
    ("counted", "refused"),
    [(1, False), (2, False), (3, True)],
    ids=["20-percent", "30-percent", "40-percent"],
)
def test_the_26a_share_of_an_institutions_yearly_intake_warns_past_30_percent(
    civica: HousingOrganisationApp, counted: int, refused: bool
) -> None:
    referral_id = _daycare_referral(civica, _family_with_accepted_offer(civica))
    # 10 children planned for 2026, `counted` of those admitted so far from the listed areas; this one is too.
    intake = InstitutionIntake(institution=SOLSIKKEN, year=2026, admitted=4, counted=counted, planned=10)

    if refused:
        with pytest.raises(OverrideRequired, match="40 %") as raised:
            _offer(civica, referral_id, intake, counts_under_26a=True)
        assert raised.value.rule == SHARE_RULE
        override = Override(
            rule=SHARE_RULE, reason="The only institution with room this summer", by=ALLOCATOR
        )
        _offer(civica, referral_id, intake, counts_under_26a=True, overrides=[override])
        assert stored_events(civica, referral_id)[-1].overrides == [override]
    else:
        _offer(civica, referral_id, intake, counts_under_26a=True)
    place = civica.referral(referral_id).daycare_place
    assert place is not None and (place.institution, place.priority_reason) == (SOLSIKKEN, "rehousing")


def test_a_child_from_outside_the_listed_areas_never_needs_the_26a_override(
    civica: HousingOrganisationApp,
) -> None:
    referral_id = _daycare_referral(civica, _family_with_accepted_offer(civica))
    full = InstitutionIntake(institution=SOLSIKKEN, year=2026, admitted=9, counted=9, planned=10)

    _offer(civica, referral_id, full, counts_under_26a=False)

    assert civica.referral(referral_id).daycare_place is not None


def test_the_family_declines_a_place_with_a_reason_and_accepts_the_next_one(
    civica: HousingOrganisationApp,
) -> None:
    referral_id = _daycare_referral(civica, _family_with_accepted_offer(civica))
    _offer(civica, referral_id, InstitutionIntake(institution=SOLSIKKEN, year=2026))
    with pytest.raises(RuleViolated, match="already offered"):
        _offer(civica, referral_id, InstitutionIntake(institution="Vuggestuen Mælkebøtten", year=2026))

    civica.decline_daycare_place(
        command_id=cmd(), referral_id=referral_id, reason_code="too_far_from_work", at=at(11), by=CONSULTANT
    )
    declined = civica.referral(referral_id).daycare_place
    assert declined is not None and (declined.answer, declined.reason_code) == (
        "declined",
        "too_far_from_work",
    )
    with pytest.raises(RuleViolated, match="no place offered"):
        civica.accept_daycare_place(command_id=cmd(), referral_id=referral_id, at=at(12), by=CONSULTANT)

    civica.offer_daycare_place(
        command_id=cmd(),
        referral_id=referral_id,
        institution="Vuggestuen Mælkebøtten",
        starts_on=date(2026, 8, 17),
        priority_reason="rehousing",
        intake=InstitutionIntake(institution="Vuggestuen Mælkebøtten", year=2026),
        at=at(12),
        by=ALLOCATOR,
    )
    civica.accept_daycare_place(command_id=cmd(), referral_id=referral_id, at=at(13), by=ALLOCATOR)

    place = civica.referral(referral_id).daycare_place
    assert place is not None and (place.institution, place.starts_on, place.answer) == (
        "Vuggestuen Mælkebøtten",
        date(2026, 8, 17),
        "accepted",
    )
    referral = civica.repository.get(referral_id)
    assert not referral.child_started(datetime(2026, 8, 16, 23, 0, tzinfo=COPENHAGEN))
    assert referral.child_started(datetime(2026, 8, 17, 0, 30, tzinfo=COPENHAGEN))


def test_only_a_daycare_referral_is_offered_a_place(civica: HousingOrganisationApp) -> None:
    household_id = _family_with_accepted_offer(civica)
    referral_id = civica.refer_household(
        command_id=cmd(),
        household_id=household_id,
        receiver=SOCIAL,
        kind=ReferralKind.SOCIAL_SERVICES,
        at=at(3),
        by=CONSULTANT,
    )

    with pytest.raises(InvalidInput, match="no daycare referral"):
        _offer(civica, referral_id, InstitutionIntake(institution=SOLSIKKEN, year=2026))


def test_an_accepted_offer_proposes_a_fast_track_daycare_referral_until_the_consultant_sends_it(
    civica: HousingOrganisationApp,
) -> None:
    household_id = register_family(civica)
    assert civica.proposed_referrals(household_id) == []  # no offer accepted yet
    vacancy_id = publish(civica)
    offer_id = civica.make_offer(
        command_id=cmd(), household_id=household_id, vacancy_id=vacancy_id, at=at(1), by=CONSULTANT
    )
    civica.accept_offer(
        command_id=cmd(), household_id=household_id, offer_id=offer_id, at=at(2), by=CONSULTANT
    )

    [proposal] = civica.proposed_referrals(household_id)

    assert (proposal.kind, proposal.child_id, proposal.receiver) == (
        ReferralKind.DAYCARE_FAST_TRACK,
        "C2",
        DAYCARE,
    )
    assert proposal.needed_from == civica.vacancy(vacancy_id).dwelling.available_from
    assert [type(e).__name__ for e in stored_events(civica, household_id)][
        -1
    ] == "OfferAccepted"  # nothing sent
    _daycare_referral(civica, household_id)
    assert civica.proposed_referrals(household_id) == []
