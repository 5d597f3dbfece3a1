"""Unit tests of the Vacancy aggregate: one live offer at a time, back to the pool, let and withdrawn."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from coordination.domain.calendar import COPENHAGEN
from coordination.domain.errors import (
    InvalidInput,
    NotPermitted,
    OfferNotLive,
    RuleViolated,
    VacancyAlreadyOffered,
    VacancyNotAvailable,
)
from coordination.domain.vacancy import Vacancy, VacancyStatus
from coordination.domain.values import (
    Accessibility,
    Actor,
    Address,
    DeclinedBy,
    Dwelling,
    DwellingType,
    Money,
    Place,
    Role,
)
from tests.support import new_memory_app

CIVICA = Actor(organisation="CIVICA", person="gk-17", role=Role.REHOUSING_CONSULTANT)
FAB = Actor(organisation="FAB", person="fab-2", role=Role.REHOUSING_CONSULTANT)
PUBLISHED_AT = datetime(2026, 5, 4, 9, 0, tzinfo=COPENHAGEN)
OFFERED_AT = PUBLISHED_AT + timedelta(days=1)
EXPIRES_AT = OFFERED_AT + timedelta(days=14)


def dwelling_facts(**changes: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "estate": "Ejerslykken afd. 12",
        "address": {"street": "Ejerslykken 4, 2. th.", "postcode": "5000", "city": "Odense C"},
        "place": {"municipality": "Odense", "area": "Odense C"},
        "rooms": 4,
        "area_m2": Decimal("92.5"),
        "rent": {"dkk": Decimal("7450.00")},
        "available_from": date(2026, 7, 1),
    }
    return facts | changes


DWELLING = Dwelling.model_validate(dwelling_facts())


def published() -> Vacancy:
    vacancy = Vacancy.publish(id=uuid4(), dwelling=DWELLING, at=PUBLISHED_AT, by=CIVICA)
    vacancy.collect_events()
    return vacancy


def offered(household_id: UUID | None = None) -> tuple[Vacancy, UUID]:
    vacancy, offer_id = published(), uuid4()
    vacancy.reserve_for_offer(
        offer_id=offer_id,
        household_id=household_id or uuid4(),
        expires_at=EXPIRES_AT,
        at=OFFERED_AT,
        by=CIVICA,
    )
    vacancy.collect_events()
    return vacancy, offer_id


def test_a_published_vacancy_is_open_and_owned_by_the_publishing_organisation() -> None:
    vacancy = Vacancy.publish(id=uuid4(), dwelling=DWELLING, at=PUBLISHED_AT, by=CIVICA)

    (event,) = vacancy.collect_events()
    assert isinstance(event, Vacancy.Published)
    assert (event.owner, event.dwelling, event.at, event.by) == ("CIVICA", DWELLING, PUBLISHED_AT, CIVICA)
    assert (vacancy.status, vacancy.owner, vacancy.offers_made) == (VacancyStatus.OPEN, "CIVICA", 0)
    assert vacancy.dwelling.accessibility is Accessibility.NONE
    assert vacancy.dwelling.dwelling_type is DwellingType.FAMILY


def test_an_offer_reserves_the_vacancy_for_one_household_until_it_expires() -> None:
    vacancy, offer_id, household_id = published(), uuid4(), uuid4()

    vacancy.reserve_for_offer(
        offer_id=offer_id, household_id=household_id, expires_at=EXPIRES_AT, at=OFFERED_AT, by=FAB
    )

    (event,) = vacancy.collect_events()
    assert isinstance(event, Vacancy.OfferReserved)
    assert (event.offer_id, event.household_id, event.expires_at) == (offer_id, household_id, EXPIRES_AT)
    assert (event.at, event.by) == (OFFERED_AT, FAB)
    assert vacancy.status is VacancyStatus.RESERVED
    assert (vacancy.live_offer_id, vacancy.live_household_id) == (offer_id, household_id)
    assert vacancy.offer_expires_at == EXPIRES_AT
    assert vacancy.offers_made == 1


def test_a_vacancy_cannot_be_offered_to_two_households() -> None:
    vacancy, offer_id = offered()

    with pytest.raises(VacancyAlreadyOffered, match=f"already has a live offer \\({offer_id}\\)"):
        vacancy.reserve_for_offer(
            offer_id=uuid4(), household_id=uuid4(), expires_at=EXPIRES_AT, at=OFFERED_AT, by=FAB
        )
    assert vacancy.collect_events() == []
    assert vacancy.live_offer_id == offer_id


def test_an_offer_must_expire_after_it_is_made() -> None:
    vacancy = published()
    with pytest.raises(RuleViolated, match="expire after it is made"):
        vacancy.reserve_for_offer(
            offer_id=uuid4(), household_id=uuid4(), expires_at=OFFERED_AT, at=OFFERED_AT, by=CIVICA
        )


def test_an_accepted_offer_lets_the_vacancy_to_the_household() -> None:
    household_id = uuid4()
    vacancy, offer_id = offered(household_id)

    vacancy.accept_offer(offer_id=offer_id, at=OFFERED_AT + timedelta(days=3), by=CIVICA)

    (event,) = vacancy.collect_events()
    assert isinstance(event, Vacancy.OfferAccepted)
    assert event.offer_id == offer_id
    assert (vacancy.status, vacancy.let_to) == (VacancyStatus.LET, household_id)
    assert (vacancy.live_offer_id, vacancy.live_household_id, vacancy.offer_expires_at) == (None, None, None)


def test_an_offer_cannot_be_accepted_once_it_has_expired() -> None:
    vacancy, offer_id = offered()
    with pytest.raises(OfferNotLive, match="expired at"):
        vacancy.accept_offer(offer_id=offer_id, at=EXPIRES_AT, by=CIVICA)
    assert vacancy.status is VacancyStatus.RESERVED


def test_only_the_live_offer_can_be_answered() -> None:
    vacancy, _ = offered()
    other = uuid4()
    with pytest.raises(OfferNotLive, match=f"Offer {other} is not the live offer"):
        vacancy.accept_offer(offer_id=other, at=OFFERED_AT, by=CIVICA)
    with pytest.raises(OfferNotLive):
        vacancy.decline_offer(
            offer_id=other, declined_by=DeclinedBy.HOUSEHOLD, reason="too far", at=OFFERED_AT, by=CIVICA
        )
    with pytest.raises(OfferNotLive):
        vacancy.expire_offer(offer_id=other, at=EXPIRES_AT)


@pytest.mark.parametrize("declined_by", list(DeclinedBy))
def test_a_declined_offer_puts_the_vacancy_back_in_the_pool(declined_by: DeclinedBy) -> None:
    vacancy, offer_id = offered()

    vacancy.decline_offer(
        offer_id=offer_id, declined_by=declined_by, reason="too far from the school", at=OFFERED_AT, by=CIVICA
    )

    (event,) = vacancy.collect_events()
    assert isinstance(event, Vacancy.OfferDeclined)
    assert (event.offer_id, event.declined_by, event.reason) == (
        offer_id,
        declined_by,
        "too far from the school",
    )
    assert vacancy.status is VacancyStatus.OPEN
    assert vacancy.live_offer_id is None
    vacancy.reserve_for_offer(
        offer_id=uuid4(), household_id=uuid4(), expires_at=EXPIRES_AT, at=OFFERED_AT, by=FAB
    )
    assert vacancy.offers_made == 2


def test_a_decline_needs_a_reason() -> None:
    vacancy, offer_id = offered()
    with pytest.raises(InvalidInput, match="reason"):
        vacancy.decline_offer(
            offer_id=offer_id, declined_by=DeclinedBy.HOUSEHOLD, reason="", at=OFFERED_AT, by=CIVICA
        )


def test_an_expired_offer_puts_the_vacancy_back_in_the_pool() -> None:
    vacancy, offer_id = offered()

    vacancy.expire_offer(offer_id=offer_id, at=EXPIRES_AT)

    (event,) = vacancy.collect_events()
    assert isinstance(event, Vacancy.OfferExpired)
    assert (event.offer_id, event.at) == (offer_id, EXPIRES_AT)
    assert not hasattr(event, "by")  # a timer, not a person
    assert vacancy.status is VacancyStatus.OPEN
    assert vacancy.live_offer_id is None


def test_an_offer_does_not_expire_before_its_expiry() -> None:
    vacancy, offer_id = offered()
    with pytest.raises(RuleViolated, match="does not expire before"):
        vacancy.expire_offer(offer_id=offer_id, at=EXPIRES_AT - timedelta(seconds=1))
    assert vacancy.status is VacancyStatus.RESERVED


def test_the_owner_withdraws_an_open_vacancy() -> None:
    vacancy = published()

    vacancy.withdraw(reason="water damage found", at=OFFERED_AT, by=CIVICA)

    (event,) = vacancy.collect_events()
    assert isinstance(event, Vacancy.Withdrawn)
    assert event.reason == "water damage found"
    assert vacancy.status is VacancyStatus.WITHDRAWN


def test_another_organisation_cannot_withdraw_a_vacancy() -> None:
    vacancy = published()
    with pytest.raises(NotPermitted, match="Only CIVICA may withdraw"):
        vacancy.withdraw(reason="not needed", at=OFFERED_AT, by=FAB)
    assert vacancy.status is VacancyStatus.OPEN


def test_a_vacancy_with_a_live_offer_cannot_be_withdrawn() -> None:
    vacancy, _ = offered()
    with pytest.raises(VacancyAlreadyOffered, match="answer it before withdrawing"):
        vacancy.withdraw(reason="water damage found", at=OFFERED_AT, by=CIVICA)


def test_a_withdrawal_needs_a_reason() -> None:
    vacancy = published()
    with pytest.raises(InvalidInput, match="reason"):
        vacancy.withdraw(reason=" ", at=OFFERED_AT, by=CIVICA)


def let_vacancy() -> Vacancy:
    vacancy, offer_id = offered()
    vacancy.accept_offer(offer_id=offer_id, at=OFFERED_AT, by=CIVICA)
    return vacancy


def withdrawn_vacancy() -> Vacancy:
    vacancy = published()
    vacancy.withdraw(reason="sold", at=OFFERED_AT, by=CIVICA)
    return vacancy


@pytest.mark.parametrize(("make", "status"), [(let_vacancy, "let"), (withdrawn_vacancy, "withdrawn")])
def test_a_let_or_withdrawn_vacancy_takes_no_offer_and_cannot_be_withdrawn(make: Any, status: str) -> None:
    vacancy = make()
    vacancy.collect_events()

    with pytest.raises(VacancyNotAvailable, match=f"is {status} and cannot be offered") as refused:
        vacancy.reserve_for_offer(
            offer_id=uuid4(), household_id=uuid4(), expires_at=EXPIRES_AT, at=OFFERED_AT, by=CIVICA
        )
    assert not isinstance(refused.value, VacancyAlreadyOffered)
    with pytest.raises(VacancyNotAvailable, match=f"is {status} and cannot be withdrawn"):
        vacancy.withdraw(reason="again", at=OFFERED_AT, by=CIVICA)
    assert vacancy.collect_events() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rent": {"dkk": Decimal("-1")}}, "rent.dkk"),
        ({"rooms": 0}, "rooms"),
        (
            {"address": {"street": "Ejerslykken 4", "postcode": "50000", "city": "Odense C"}},
            "address.postcode",
        ),
        (
            {"address": {"street": "Ejerslykken 4", "postcode": "5OOO", "city": "Odense C"}},
            "address.postcode",
        ),
        ({"area_m2": Decimal("0")}, "area_m2"),
    ],
)
def test_a_dwelling_with_impossible_facts_is_refused_naming_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError, match=field.replace(".", r"\.")) as refused:
        Dwelling.model_validate(dwelling_facts(**changes))
    assert [".".join(map(str, error["loc"])) for error in refused.value.errors()] == [field]


def test_the_values_themselves_refuse_a_negative_rent_and_a_bad_postcode() -> None:
    with pytest.raises(ValidationError, match="dkk"):
        Money(dkk=Decimal("-0.01"))
    with pytest.raises(ValidationError, match="postcode"):
        Address(street="Ejerslykken 4", postcode="DK-5000", city="Odense C")
    with pytest.raises(ValidationError, match="municipality"):
        Place(municipality=" ", area="Odense C")


def test_a_reloaded_vacancy_equals_the_live_one() -> None:
    vacancy, first, second = (
        Vacancy.publish(id=uuid4(), dwelling=DWELLING, at=PUBLISHED_AT, by=CIVICA),
        uuid4(),
        uuid4(),
    )
    vacancy.reserve_for_offer(
        offer_id=first, household_id=uuid4(), expires_at=EXPIRES_AT, at=OFFERED_AT, by=CIVICA
    )
    vacancy.decline_offer(
        offer_id=first,
        declined_by=DeclinedBy.PROVIDER,
        reason="household moved away",
        at=OFFERED_AT,
        by=CIVICA,
    )
    vacancy.reserve_for_offer(
        offer_id=second, household_id=uuid4(), expires_at=EXPIRES_AT, at=OFFERED_AT, by=FAB
    )
    vacancy.accept_offer(offer_id=second, at=OFFERED_AT + timedelta(hours=2), by=FAB)
    app = new_memory_app()
    app.save(vacancy)

    again = app.repository.get(vacancy.id)

    assert vars(again) == vars(vacancy)
    assert type(again.status) is VacancyStatus
    assert again.version == 5
