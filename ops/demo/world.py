"""The demo's world: its organisations beside the reference scenario's, the estates its households leave and
the areas they move to, the day its history ends, and the plan each household's steps are collected in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from coordination.applications.housing import HousingOrganisationApp
from coordination.applications.referrals import ReferralDesk
from coordination.domain.calendar import COPENHAGEN
from coordination.domain.values import (
    Actor,
    Role,
)

FAB = "fab"
JOBCENTRE = "jobcentre-odense"
DEMO_NOW = datetime(2026, 11, 20, 16, 0, tzinfo=COPENHAGEN)  # the seeded history ends here
FIRST_START = date(2025, 5, 26)  # 18 months before DEMO_NOW
ESTATES = {"civica": ["Bøgeparken", "Egeparken", "Birkeparken"], FAB: ["Lindeparken", "Granparken"]}
RECEIVING_AREAS = [
    "Odense C",
    "Bolbro",
    "Korsløkken",
    "Højstrup",
    "Rising",
    "Tarup",
    "Dalum",
    "Hjallese",
    "Bellinge",
]
STREETS = {
    "Odense C": "Kochsgade",
    "Bolbro": "Stadionvej",
    "Korsløkken": "Korsløkkevej",
    "Højstrup": "Højstrupvej",
    "Rising": "Risingsvej",
    "Tarup": "Tarupvej",
    "Dalum": "Dalumvej",
    "Hjallese": "Hjallesevej",
    "Bellinge": "Bellinge Bygade",
}
POSTCODES = {
    "Odense C": "5000",
    "Bolbro": "5200",
    "Korsløkken": "5220",
    "Højstrup": "5200",
    "Rising": "5000",
    "Tarup": "5210",
    "Dalum": "5250",
    "Hjallese": "5260",
    "Bellinge": "5250",
}

Step = Callable[[], object]


@dataclass
class Desks:
    """The organisations the generated history involves, by their organisation name."""

    housing: dict[str, HousingOrganisationApp]
    bridge_builder: ReferralDesk
    children_and_youth: ReferralDesk
    jobcentre: ReferralDesk

    def actor(self, organisation: str, role: Role, person: str) -> Actor:
        return Actor(organisation=organisation, person=person, role=role)


@dataclass
class Plan:
    """One household's steps in order, each marked when it needs what another node published first."""

    steps: list[tuple[bool, Step]] = field(default_factory=list)
    done: int = 0

    def add(self, at: datetime, step: Step, *, after_exchange: bool = False) -> bool:
        """Adds the step if its time has come by DEMO_NOW; False (and nothing more is planned) otherwise."""
        if at > DEMO_NOW:
            return False
        self.steps.append((after_exchange, step))
        return True


def at_hour(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), COPENHAGEN)
