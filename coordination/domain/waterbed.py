"""The re-concentration (waterbed) guard: warnings for offers into areas at or near the § 61 a/b lists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from coordination.domain.errors import OverrideRequired
from coordination.domain.values import NonEmpty, Override, Value

Percent = Decimal  # 0-100, as the ministry publishes the list figures

LISTED_AREA = "waterbed_listed_area"
NEAR_THRESHOLD = "waterbed_near_threshold"
INFLOW = "waterbed_inflow"
TRANSFORMATION_AREA = "waterbed_transformation_area"
RULES = (TRANSFORMATION_AREA, LISTED_AREA, NEAR_THRESHOLD, INFLOW)


class AreaIndicators(Value):
    """A receiving area's list indicators (almenboligloven § 61 a/b), as maintained by an operator."""

    municipality: NonEmpty
    area: NonEmpty
    residents: int = Field(ge=0)
    share_outside_work_or_education: Percent = Field(ge=0, le=100)  # of 18-64-year-olds
    convictions_ratio: Decimal = Field(ge=0)  # multiple of the national rate
    share_basic_education_only: Percent = Field(ge=0, le=100)  # of 30-59-year-olds
    income_ratio: Percent = Field(ge=0)  # mean gross income 15-64 in % of the regional mean
    share_non_western: Percent = Field(ge=0, le=100)
    is_transformation_area: bool
    is_prevention_area: bool
    list_year: int = Field(ge=1990, le=2200)
    source: NonEmpty

    @property
    def name(self) -> str:
        return f"{self.area} ({self.municipality})"


Indicator = Literal[
    "share_outside_work_or_education", "convictions_ratio", "share_basic_education_only", "income_ratio"
]


class ListCriterion(Value):
    """One list criterion: an indicator, its limit, and which side of the limit meets it."""

    indicator: Indicator
    limit: Decimal
    side: Literal["above", "at least", "below"]
    words: NonEmpty

    def met(self, value: Decimal) -> bool:
        if self.side == "above":
            return value > self.limit
        return value >= self.limit if self.side == "at least" else value < self.limit

    def near(self, value: Decimal, margin: Decimal) -> bool:
        """Not met, but within `margin` (a share of the limit itself) of meeting it."""
        if self.met(value):
            return False
        if self.side == "below":
            return value <= self.limit * (1 + margin)
        return value >= self.limit * (1 - margin)

    def describe(self, value: Decimal) -> str:
        unit = "x" if self.indicator == "convictions_ratio" else "%"
        return f"{self.words} {value} {unit} ({self.side} {self.limit} {unit})"


def _criteria(outside: str, convictions: str, basic: str, income: str) -> list[ListCriterion]:
    return [
        ListCriterion(
            indicator="share_outside_work_or_education",
            limit=Decimal(outside),
            side="above",
            words="share of 18-64-year-olds outside work or education",
        ),
        ListCriterion(
            indicator="convictions_ratio",
            limit=Decimal(convictions),
            side="at least",
            words="convictions relative to the national rate",
        ),
        ListCriterion(
            indicator="share_basic_education_only",
            limit=Decimal(basic),
            side="above",
            words="share of 30-59-year-olds with only basic education",
        ),
        ListCriterion(
            indicator="income_ratio",
            limit=Decimal(income),
            side="below",
            words="mean gross income of 15-64-year-olds relative to the region",
        ),
    ]


class WaterbedPolicy(Value):
    """The guard's settings: thresholds from the law (§ 61 a stk. 1-3, § 61 b), the rest local practice."""

    # "Near" = within this share of the limit itself: 0.1 makes 36-40 % near the 40 % criterion.
    margin: Decimal = Field(default=Decimal("0.1"), ge=0, lt=1)
    inflow_window_months: int = Field(default=12, ge=1)
    # Local practice, not law: no statute caps how many rehoused households one area may receive.
    inflow_limit: int = Field(default=10, ge=1)
    min_residents: int = Field(default=1000, ge=0)  # § 61 a stk. 3, which § 61 b refers to
    criteria_needed: int = Field(default=2, ge=1)
    vulnerable: list[ListCriterion] = _criteria("40", "3", "60", "55")  # § 61 a stk. 1
    parallel_society_non_western_above: Percent = Decimal("50")  # § 61 a stk. 2
    prevention: list[ListCriterion] = _criteria("30", "2", "60", "65")  # § 61 b
    prevention_non_western_above: Percent = Decimal("30")  # § 61 b


DEFAULT_WATERBED_POLICY = WaterbedPolicy()


class AreaWarning(Value):
    """Why an offer into a receiving area needs an override: the rule, and the figures in words."""

    rule: Literal[
        "waterbed_listed_area", "waterbed_near_threshold", "waterbed_inflow", "waterbed_transformation_area"
    ]
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]


class MonitoringStatus(StrEnum):
    UNMONITORED = "unmonitored"  # no indicators for the area: the guard can only count inflow
    TRANSFORMATION_AREA = "transformation area"
    LISTED = "listed"
    NEAR_THRESHOLD = "near threshold"
    OK = "ok"


@dataclass(frozen=True)
class ListTest:
    """An area held against one list: which criteria it meets, which it is near, and its gates."""

    name: str
    law: str
    met: list[str]
    near: list[str]
    gate: str | None  # the non-Western condition, when the list has one
    gate_met: bool
    gate_near: bool
    large_enough: bool
    needed: int

    @property
    def listed(self) -> bool:
        return self.large_enough and self.gate_met and len(self.met) >= self.needed

    @property
    def close(self) -> bool:
        """Not listed, but the gate is met or near and met + near criteria reach the number needed.

        Size is not a condition: a small area that meets the criteria is a small concentration area,
        which the 2020 article recommends avoiding too.
        """
        reachable = len(self.met) + len(self.near) >= self.needed
        return not self.listed and (self.gate_met or self.gate_near) and reachable

    def figures(self) -> str:
        parts = [f"Criteria met: {'; '.join(self.met) or 'none'}"]
        if self.near:
            parts.append(f"Near: {'; '.join(self.near)}")
        if self.gate:
            parts.append(self.gate)
        return ". ".join(parts)


def _test(
    indicators: AreaIndicators,
    policy: WaterbedPolicy,
    name: str,
    law: str,
    criteria: Sequence[ListCriterion],
    non_western_above: Percent | None,
) -> ListTest:
    values = [(criterion, getattr(indicators, criterion.indicator)) for criterion in criteria]
    met = [c.describe(value) for c, value in values if c.met(value)]
    near = [c.describe(value) for c, value in values if c.near(value, policy.margin)]
    share = indicators.share_non_western
    gate = None
    if non_western_above is not None:
        gate = f"Non-Western background {share} % (above {non_western_above} %)"
    return ListTest(
        name=name,
        law=law,
        met=met,
        near=near,
        gate=gate,
        gate_met=non_western_above is None or share > non_western_above,
        gate_near=non_western_above is not None and share >= non_western_above * (1 - policy.margin),
        large_enough=indicators.residents >= policy.min_residents,
        needed=policy.criteria_needed,
    )


def list_tests(indicators: AreaIndicators, policy: WaterbedPolicy) -> tuple[ListTest, ListTest, ListTest]:
    """The area held against the vulnerable-area, parallel-society and prevention-area lists."""
    return (
        _test(indicators, policy, "vulnerable area", "§ 61 a stk. 1", policy.vulnerable, None),
        _test(
            indicators,
            policy,
            "parallel society",
            "§ 61 a stk. 2",
            policy.vulnerable,
            policy.parallel_society_non_western_above,
        ),
        _test(
            indicators,
            policy,
            "prevention area",
            "§ 61 b",
            policy.prevention,
            policy.prevention_non_western_above,
        ),
    )


def monitoring_status(indicators: AreaIndicators | None, policy: WaterbedPolicy) -> MonitoringStatus:
    if indicators is None:
        return MonitoringStatus.UNMONITORED
    if indicators.is_transformation_area:
        return MonitoringStatus.TRANSFORMATION_AREA
    tests = list_tests(indicators, policy)
    if indicators.is_prevention_area or any(test.listed for test in tests):
        return MonitoringStatus.LISTED
    if any(test.close for test in tests):
        return MonitoringStatus.NEAR_THRESHOLD
    return MonitoringStatus.OK


def assess(indicators: AreaIndicators | None, inflow: int, policy: WaterbedPolicy) -> list[AreaWarning]:
    """The warnings an offer into this area carries, in the order of RULES.

    `inflow` is the number of rehoused households that moved into the area within the policy's window,
    not counting this one. Without indicators the area is unmonitored: only the inflow can warn.
    """
    warnings: list[AreaWarning] = []
    if indicators is not None:
        warnings.extend(_area_warnings(indicators, policy))
    if inflow + 1 > policy.inflow_limit:
        where = "the area" if indicators is None else indicators.name
        warnings.append(
            AreaWarning(
                rule=INFLOW,
                message=(
                    f"{where} received {inflow} rehoused households in the last {policy.inflow_window_months} "
                    f"months; this offer would make {inflow + 1}, above the limit of {policy.inflow_limit}"
                ),
            )
        )
    return warnings


def _area_warnings(indicators: AreaIndicators, policy: WaterbedPolicy) -> list[AreaWarning]:
    warnings: list[AreaWarning] = []
    where = (
        f"{indicators.name}, {indicators.residents} residents (list year {indicators.list_year}, "
        f"{indicators.source})"
    )
    if indicators.is_transformation_area:
        warnings.append(
            AreaWarning(
                rule=TRANSFORMATION_AREA,
                message=(
                    f"{where} is itself a transformation area (§ 61 a stk. 4): a household placed there may have "
                    "to be rehoused again"
                ),
            )
        )
    vulnerable, parallel, prevention = list_tests(indicators, policy)
    # The lists nest (a parallel society is a vulnerable area, which mostly meets the lower prevention
    # thresholds too): naming the strictest list the area is on is enough.
    listed = next((t for t in (parallel, vulnerable, prevention) if t.listed), None)
    if listed is not None:
        warnings.append(
            AreaWarning(
                rule=LISTED_AREA,
                message=(
                    f"{where} meets the list criteria of a {listed.name} ({listed.law}). {listed.figures()}"
                ),
            )
        )
        return warnings
    if indicators.is_prevention_area:
        warnings.append(
            AreaWarning(
                rule=LISTED_AREA,
                message=(
                    f"{where} is on the official list as a prevention area (§ 61 b). {prevention.figures()}"
                ),
            )
        )
        return warnings
    close = [t for t in (vulnerable, prevention) if t.close]
    if close:
        margin = f"{float(policy.margin) * 100:g} %"
        why = [f"of a {t.name} ({t.law}). {t.figures()}." for t in close]
        warnings.append(
            AreaWarning(
                rule=NEAR_THRESHOLD,
                message=(f"{where} is within {margin} of the list thresholds " + " And ".join(why)),
            )
        )
    return warnings


def covering_overrides(warnings: Sequence[AreaWarning], overrides: Sequence[Override]) -> list[Override]:
    """The caseworker's override for each warning, in warning order; the first uncovered one is refused."""
    used: list[Override] = []
    for warning in warnings:
        override = next((o for o in overrides if o.rule == warning.rule), None)
        if override is None:
            raise OverrideRequired(warning.rule, warning.message)
        if override not in used:
            used.append(override)
    return used
