"""The one percentile of the system: every p50/p90/p99 and median it shows is computed here.

Nearest rank: the p-th percentile of n values is the ⌈p·n/100⌉-th smallest, so every figure is a value
that was observed (a latency that happened, not a mix of two), and the same values always give the same
figure wherever it is shown (/operations, the dashboard, the bench).
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float | None:
    """The nearest-rank `p`-th percentile (0 < p ≤ 100) of `values`: the smallest value with at least
    p % of the values at or below it; None when there are no values. The median is `percentile(v, 50)`
    (the lower middle value of an even count, never the average of the two)."""
    ordered = sorted(values)
    if not ordered:
        return None
    # p·n is exact for whole p and n, so ⌈p·n/100⌉ has no floating-point surprise at exact ranks.
    rank = math.ceil(p * len(ordered) / 100)
    return ordered[min(max(rank, 1), len(ordered)) - 1]
