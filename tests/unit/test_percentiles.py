"""The one percentile of the system (nearest rank): every figure is one of the values observed."""

from __future__ import annotations

from coordination.percentiles import percentile


def test_a_percentile_of_no_values_is_none() -> None:
    assert percentile([], 50) is None


def test_a_percentile_is_the_nearest_rank_value_never_a_mix_of_two() -> None:
    hours = [4.0, 1.0, 3.0, 2.0]  # unordered on purpose
    assert percentile(hours, 50) == 2.0  # the 2nd of 4, not the interpolated 2.5
    assert percentile(hours, 90) == 4.0
    assert percentile(hours, 25) == 1.0
    assert percentile(hours, 100) == 4.0


def test_an_exact_rank_is_not_pushed_up_by_floating_point() -> None:
    ten = [float(i) for i in range(1, 11)]
    assert percentile(ten, 90) == 9.0  # 0.9 · 10 is 9.000000000000002 in floating point
    assert percentile(ten, 10) == 1.0


def test_one_value_is_every_percentile() -> None:
    assert {percentile([7.5], p) for p in (1, 50, 99)} == {7.5}
