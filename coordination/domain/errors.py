"""Domain errors: nouns a caseworker can read, grouped by what the caller should do next."""

from __future__ import annotations

from datetime import date


def _plain(value: object) -> object:
    """A value as the English log message shows it: dates and times in ISO 8601, a list of sentences (each
    translated on its own at the edge) joined by semicolons."""
    if isinstance(value, list | tuple):
        return "; ".join(str(_plain(item)) for item in value)
    return value.isoformat() if isinstance(value, date) else value


class DomainError(Exception):
    """Base of every error the domain raises on purpose. The message names the problem.

    The message is a whole English sentence with named placeholders (`template`, e.g. "Offer {offer_id}
    has expired") and the values for them (`params`): `str(error)` and `message` are the English text for
    logs, and the HTTP edge renders the template in the reader's language (adapters/http/i18n), formatting
    dates as its readers write them. Never build a message from fragments: a translator sees the template.
    """

    def __init__(self, template: str, /, **params: object) -> None:
        message = (
            template.format(**{name: _plain(value) for name, value in params.items()}) if params else template
        )
        super().__init__(message)
        self.message = message
        self.template = template
        self.params = params


class Sentence:
    """A sentence for a caseworker not raised at once (a rule's finding): its template and values, to raise
    as a DomainError later (`raise SomeError(sentence.template, **sentence.params)`)."""

    def __init__(self, template: str, /, **params: object) -> None:
        self.template, self.params = template, params

    def __str__(self) -> str:
        return DomainError(self.template, **self.params).message

    def __repr__(self) -> str:
        return f"Sentence({str(self)!r})"


class InvalidInput(DomainError):
    """The command's input is malformed (a bad CPR number, a negative rent, ...)."""


class ImplausibleValue(InvalidInput):
    """A value is well-formed but cannot be meant (a move in the year 9999, a consent given next year).

    `field` names the input, as the command's arguments spell it (e.g. `move.moved_on`), so the edge can
    point at it.
    """

    def __init__(self, field: str, template: str, /, **params: object) -> None:
        super().__init__(template, **params)
        self.field = field


class NotFound(DomainError):
    """The aggregate the command refers to does not exist in this node's store."""


class NotPermitted(DomainError):
    """The actor's role may not take this step (e.g. a referrer acknowledging its own referral)."""


class RuleViolated(DomainError):
    """A business rule forbids the command in the aggregate's current state."""


class ConcurrencyConflict(DomainError):
    """Another command changed the same aggregate first; reload and decide again."""


class OverrideRequired(RuleViolated):
    """A rule a caseworker may overrule was broken and no override with a reason was given."""

    def __init__(self, rule: str, template: str, /, **params: object) -> None:
        # The hint is a sentence of its own, so the problem's template stays translatable as it is.
        super().__init__(template, **params)
        self.message = f"{self.message} (override rule '{rule}' with a reason to proceed)"
        self.args = (self.message,)
        self.rule = rule


# Vacancy
class VacancyNotAvailable(RuleViolated):
    """The vacancy is reserved, let or withdrawn and cannot take an offer."""


class VacancyAlreadyOffered(VacancyNotAvailable):
    """The vacancy already has a live offer: at most one live offer per vacancy, ever."""


class OfferNotLive(RuleViolated):
    """The offer named is not the live offer (already answered, expired or unknown)."""


# Household
class HouseholdHasLiveOffer(RuleViolated):
    """The household already has a live offer and must answer it first."""


class HouseholdNotMoved(RuleViolated):
    """The step needs the household to have moved first."""


class HouseholdAlreadyMoved(RuleViolated):
    """The household has moved; the step belongs to the time before the move."""


class NotSettled(RuleViolated):
    """The bridge does not hold yet: one or more settlement criteria are unmet."""


# Referral
class ReferralNotOpen(RuleViolated):
    """The referral is in a state that does not allow this step."""


class ConsentMissing(RuleViolated):
    """No recorded consent covers sharing the household's data with this recipient and purpose."""


class CommandIdReused(InvalidInput):
    """A command id was used before for a different command."""


# Household (handoff, contact persons)
class HandoffNotPending(RuleViolated):
    """No handoff with this referral is waiting for acknowledgement (never issued, or already acknowledged)."""


class ContactPersonNotLinked(RuleViolated):
    """The household has no active contact person under this link."""


# SupportLink
class SupportLinkNotProposed(RuleViolated):
    """Only a proposed support link can be activated."""


class SupportLinkEnded(RuleViolated):
    """The support link has ended; nothing more can happen to it."""


class ReferralNotDue(RuleViolated):
    """A timer step (expiry) was asked for before the referral's due date."""


# Any aggregate: optimistic concurrency asked for by the caller (HTTP If-Match).
class VersionMismatch(ConcurrencyConflict):
    """The aggregate is no longer at the version the caller decided on; reload it and decide again."""


# Offers across organisations
class VacancyOfAnotherOrganisation(NotPermitted):
    """The vacancy is another organisation's, mirrored here: only its owner reserves, lets or expires it."""


# Erasure (GDPR art. 17)
class HouseholdErased(RuleViolated):
    """The household's personal data was erased; nothing more can be recorded about it."""
