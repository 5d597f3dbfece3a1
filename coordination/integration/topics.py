"""Topic names of the exchange: one family per kind of traffic, addressed by organisation or municipality.

Names carry organisation and municipality names only, never anything about a household.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REFERRALS = "rehousing.referrals"
VACANCIES = "rehousing.vacancies"
VACANCY_REQUESTS = "rehousing.vacancy-requests"
HOUSEHOLD_FACTS = "rehousing.household-facts"
PLACEMENTS = "rehousing.placements"
MUNICIPAL_PICTURE = "rehousing.municipal-picture"
NETWORK = "rehousing.network"

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa"})
_NOT_ALLOWED = re.compile(r"[^a-z0-9_.-]+")


def slug(name: str) -> str:
    """A topic-safe form of an organisation or municipality name: "Høje-Taastrup" → "hoeje-taastrup"."""
    text = _NOT_ALLOWED.sub("-", name.strip().lower().translate(_DANISH)).strip("-")
    if not text:
        raise ValueError(f"{name!r} gives no topic name")
    return text


def org_source(organisation: str) -> str:
    """The CloudEvents `source` of everything an organisation's node publishes."""
    return f"urn:dk:rehousing:org:{slug(organisation)}"


@dataclass(frozen=True)
class Topics:
    """The topic names of one deployment; `prefix` separates deployments (or tests) sharing a broker."""

    prefix: str = ""

    def referrals(self, organisation: str) -> str:
        """Referrals sent to `organisation`, and the other side's steps on referrals it is party to."""
        return f"{self.prefix}{REFERRALS}.{slug(organisation)}"

    def vacancies(self, municipality: str) -> str:
        """The shared vacancy pool of a municipality: every housing organisation's vacancies there."""
        return f"{self.prefix}{VACANCIES}.{slug(municipality)}"

    def vacancy_requests(self, organisation: str) -> str:
        """Requests to the owner of vacancies (reserve, answer an offer) and its refusals back."""
        return f"{self.prefix}{VACANCY_REQUESTS}.{slug(organisation)}"

    def household_facts(self, organisation: str) -> str:
        """Facts others record about households `organisation` owns (enrolments, contact persons, ...)."""
        return f"{self.prefix}{HOUSEHOLD_FACTS}.{slug(organisation)}"

    def placements(self, municipality: str) -> str:
        """Every housing organisation's placements into the municipality's receiving areas, for every node
        of the municipality (each waterbed guard counts them); no household in them."""
        return f"{self.prefix}{PLACEMENTS}.{slug(municipality)}"

    def municipal_picture(self, municipality: str) -> str:
        """The rest of the coordinator's picture, for the municipality's own nodes only: offers' outcomes
        and referral timings (coordination/integration/placements.py); no household in them."""
        return f"{self.prefix}{MUNICIPAL_PICTURE}.{slug(municipality)}"

    def network(self, organisation: str) -> str:
        """The networks of households: pictures from their owners to `organisation` as a member, steps its
        members report to `organisation` as an owner, the owner's refusals back to a reporter,
        and the answers to the household facts `organisation` reported."""
        return f"{self.prefix}{NETWORK}.{slug(organisation)}"
