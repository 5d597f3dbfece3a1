"""The waterbed guard: areas just below and above each list threshold, inside and outside the margin."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from coordination.domain.errors import OverrideRequired
from coordination.domain.values import Override
from coordination.domain.waterbed import (
    DEFAULT_WATERBED_POLICY,
    INFLOW,
    LISTED_AREA,
    NEAR_THRESHOLD,
    TRANSFORMATION_AREA,
    AreaIndicators,
    AreaWarning,
    MonitoringStatus,
    WaterbedPolicy,
    assess,
    covering_overrides,
    monitoring_status,
)
from ops.bench.fixtures.household_builders import CONSULTANT

POLICY = DEFAULT_WATERBED_POLICY


def area(**figures: Any) -> AreaIndicators:
    """A calm area of 5,000 residents far from every list, with `figures` changed."""
    calm: dict[str, Any] = {
        "municipality": "Odense",
        "area": "Bolbro",
        "residents": 5000,
        "list_year": 2025,
        "source": "example",
        "share_outside_work_or_education": "20",
        "convictions_ratio": "1.0",
        "share_basic_education_only": "30",
        "income_ratio": "90",
        "share_non_western": "10",
        "is_transformation_area": False,
        "is_prevention_area": False,
    }
    return AreaIndicators.model_validate({**calm, **figures})


def rules(indicators: AreaIndicators | None, inflow: int = 0, policy: WaterbedPolicy = POLICY) -> list[str]:
    return [warning.rule for warning in assess(indicators, inflow, policy)]


def override(rule: str) -> Override:
    return Override(rule=rule, reason="No other dwelling of this size before the demolition", by=CONSULTANT)


# One criterion clearly met (so the criterion under test decides), and its neighbourhood.
OTHER_MET = {"share_basic_education_only": "70"}
OTHER_MET_FOR_BASIC = {"share_outside_work_or_education": "45"}

# criterion, met just above, at the threshold (not met, near), margin edge (near), just outside the margin
VULNERABLE_EDGES = [
    ("share_outside_work_or_education", "40.1", "40", "36", "35.9"),
    ("convictions_ratio", "3", "2.99", "2.7", "2.69"),
    ("share_basic_education_only", "60.1", "60", "54", "53.9"),
    ("income_ratio", "54.9", "55", "60.5", "60.6"),
]


def _with_other(indicator: str, value: str) -> AreaIndicators:
    other = OTHER_MET_FOR_BASIC if indicator == "share_basic_education_only" else OTHER_MET
    return area(**other, **{indicator: value})


def test_a_calm_area_is_ok_and_warns_of_nothing() -> None:
    assert rules(area()) == []
    assert monitoring_status(area(), POLICY) == "ok"


@pytest.mark.parametrize(("indicator", "above", "at", "edge", "outside"), VULNERABLE_EDGES)
def test_just_over_a_vulnerable_threshold_with_a_second_criterion_is_a_listed_area(
    indicator: str, above: str, at: str, edge: str, outside: str
) -> None:
    (warning,) = assess(_with_other(indicator, above), 0, POLICY)

    assert warning.rule == LISTED_AREA
    assert "vulnerable area (§ 61 a stk. 1)" in warning.message
    assert f" {Decimal(above)} " in warning.message
    assert monitoring_status(_with_other(indicator, above), POLICY) == "listed"


@pytest.mark.parametrize(("indicator", "above", "at", "edge", "outside"), VULNERABLE_EDGES)
def test_at_a_vulnerable_threshold_or_within_the_margin_the_area_is_near_threshold(
    indicator: str, above: str, at: str, edge: str, outside: str
) -> None:
    for value in (at, edge):
        (warning,) = assess(_with_other(indicator, value), 0, POLICY)
        assert warning.rule == NEAR_THRESHOLD
        assert "within 10 % of the list thresholds of a vulnerable area" in warning.message
        assert "Near: " in warning.message
        assert f" {Decimal(value)} " in warning.message
        assert monitoring_status(_with_other(indicator, value), POLICY) == "near threshold"


@pytest.mark.parametrize(("indicator", "above", "at", "edge", "outside"), VULNERABLE_EDGES)
def test_just_outside_the_margin_one_met_criterion_alone_is_ok(
    indicator: str, above: str, at: str, edge: str, outside: str
) -> None:
    assert rules(_with_other(indicator, outside)) == []
    assert monitoring_status(_with_other(indicator, outside), POLICY) == "ok"


def test_two_criteria_within_the_margin_and_none_met_is_near_threshold() -> None:
    near_twice = area(share_outside_work_or_education="38", income_ratio="58")
    near_once = area(share_outside_work_or_education="38")

    assert rules(near_twice) == [NEAR_THRESHOLD]
    assert "Criteria met: none" in assess(near_twice, 0, POLICY)[0].message
    assert rules(near_once) == []


def test_one_criterion_met_alone_is_not_near_a_list() -> None:
    assert rules(area(share_basic_education_only="70")) == []


def test_an_area_under_1000_residents_meeting_the_criteria_is_near_threshold_not_listed() -> None:
    small = {"share_basic_education_only": "70", "income_ratio": "40"}

    assert rules(area(residents=999, **small)) == [NEAR_THRESHOLD]
    assert "999 residents" in assess(area(residents=999, **small), 0, POLICY)[0].message
    assert rules(area(residents=1000, **small)) == [LISTED_AREA]


def test_a_vulnerable_area_over_50_percent_non_western_is_named_a_parallel_society() -> None:
    vulnerable = {"share_basic_education_only": "70", "income_ratio": "40"}
    (at_50,) = assess(area(share_non_western="50", **vulnerable), 0, POLICY)
    (over_50,) = assess(area(share_non_western="50.1", **vulnerable), 0, POLICY)

    assert "of a vulnerable area (§ 61 a stk. 1)" in at_50.message
    assert "of a parallel society (§ 61 a stk. 2)" in over_50.message
    assert "Non-Western background 50.1 % (above 50 %)" in over_50.message
    assert at_50.rule == over_50.rule == LISTED_AREA


# The prevention list's lower thresholds: > 30 % outside work, >= 2 x convictions, > 60 % basic, < 65 % income
PREVENTION = {"share_non_western": "30.1", "share_outside_work_or_education": "31", "income_ratio": "64.9"}


def test_over_30_percent_non_western_and_two_lower_thresholds_met_is_a_prevention_area() -> None:
    (warning,) = assess(area(**PREVENTION), 0, POLICY)

    assert warning.rule == LISTED_AREA
    assert "prevention area (§ 61 b)" in warning.message
    assert monitoring_status(area(**PREVENTION), POLICY) == "listed"


def test_convictions_at_twice_the_national_rate_meet_the_prevention_criterion() -> None:
    twice = {**PREVENTION, "income_ratio": "90", "convictions_ratio": "2"}
    under = {**twice, "convictions_ratio": "1.99"}

    assert rules(area(**twice)) == [LISTED_AREA]
    assert rules(area(**under)) == [NEAR_THRESHOLD]


def test_at_30_percent_non_western_the_prevention_area_is_only_near() -> None:
    (warning,) = assess(area(**{**PREVENTION, "share_non_western": "30"}), 0, POLICY)

    assert warning.rule == NEAR_THRESHOLD
    assert "prevention area (§ 61 b)" in warning.message


def test_at_the_lower_thresholds_themselves_the_prevention_area_is_only_near() -> None:
    at_limits = {**PREVENTION, "share_outside_work_or_education": "30", "income_ratio": "65"}

    assert rules(area(**at_limits)) == [NEAR_THRESHOLD]


def test_non_western_share_outside_the_margin_keeps_an_area_off_the_prevention_list() -> None:
    assert rules(area(**{**PREVENTION, "share_non_western": "26.9"})) == []
    assert rules(area(**{**PREVENTION, "share_non_western": "27"})) == [NEAR_THRESHOLD]


def test_an_area_the_official_list_names_a_prevention_area_is_listed_whatever_its_figures() -> None:
    (warning,) = assess(area(is_prevention_area=True), 0, POLICY)

    assert warning.rule == LISTED_AREA
    assert "on the official list as a prevention area" in warning.message


def test_a_transformation_area_receiver_warns_of_rehousing_nomads() -> None:
    vollsmose = area(
        area="Vollsmose",
        is_transformation_area=True,
        share_non_western="79",
        share_outside_work_or_education="48",
        income_ratio="47",
    )
    warnings = assess(vollsmose, 0, POLICY)

    assert [w.rule for w in warnings] == [TRANSFORMATION_AREA, LISTED_AREA]
    assert "Vollsmose (Odense)" in warnings[0].message
    assert "rehoused again" in warnings[0].message
    assert monitoring_status(vollsmose, POLICY) == MonitoringStatus.TRANSFORMATION_AREA


def test_an_inflow_just_under_the_limit_passes_and_one_more_household_warns() -> None:
    policy = WaterbedPolicy(inflow_limit=10)

    assert rules(area(), inflow=9, policy=policy) == []
    (warning,) = assess(area(), 10, policy)
    assert warning.rule == INFLOW
    assert "received 10 rehoused households in the last 12 months" in warning.message
    assert "would make 11, above the limit of 10" in warning.message


def test_an_area_without_indicators_is_unmonitored_and_only_its_inflow_can_warn() -> None:
    assert monitoring_status(None, POLICY) == "unmonitored"
    assert rules(None, inflow=0) == []
    assert rules(None, inflow=POLICY.inflow_limit) == [INFLOW]


def test_the_margin_is_a_policy_setting() -> None:
    near = _with_other("share_outside_work_or_education", "39")

    assert rules(near, policy=WaterbedPolicy(margin=Decimal("0"))) == []
    assert rules(near, policy=WaterbedPolicy(margin=Decimal("0.02"))) == []
    assert rules(near, policy=WaterbedPolicy(margin=Decimal("0.025"))) == [NEAR_THRESHOLD]


def test_each_warning_needs_an_override_with_its_rule() -> None:
    warnings = [AreaWarning(rule=NEAR_THRESHOLD, message="near"), AreaWarning(rule=INFLOW, message="inflow")]

    with pytest.raises(OverrideRequired) as refused:
        covering_overrides(warnings, [override(NEAR_THRESHOLD)])

    assert refused.value.rule == INFLOW
    assert "override rule 'waterbed_inflow'" in refused.value.message
    assert covering_overrides(warnings, [override(INFLOW), override(NEAR_THRESHOLD)]) == [
        override(NEAR_THRESHOLD),
        override(INFLOW),
    ]
