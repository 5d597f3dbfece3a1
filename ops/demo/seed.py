"""The demo's generated history: about 300 Vollsmose households rehoused over 18 months, with delays.

Deterministic from a seed: every choice comes from `random.Random(seed)` and every command id is derived
from the seed, so seeding the same stores again changes nothing. Steps whose business time lies after
`now` are not taken, so the demo ends with households at every stage and some of them overdue.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from ops.demo.household import DrawnHousehold
from ops.demo.world import (
    FAB,
    JOBCENTRE,
    Desks,
    Plan,
)

__all__ = ["FAB", "JOBCENTRE", "Desks", "Plan", "Progress", "Sync", "plan_households", "seed"]

Progress = Callable[[str, int, int], None]
Sync = Callable[[], object]


def plan_households(desks: Desks, *, households: int, seed: str) -> list[Plan]:
    """Every household's plan, drawn in order from one generator seeded with `seed`."""
    rng = random.Random(seed)
    return [DrawnHousehold(n, rng, desks, seed).plan_all() for n in range(households)]


def seed(
    desks: Desks,
    sync: Sync,
    *,
    households: int = 300,
    seed: str = "vollsmose-2025",
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> int:
    """Plays every household's plan in rounds: each round takes every household as far as it can go without
    hearing from another node, then the exchange settles. Returns the number of steps taken; stops early,
    between two steps, once `cancelled()` (seeding again later takes the remaining steps: each is
    idempotent by its command id)."""
    plans = plan_households(desks, households=households, seed=seed)
    total = sum(len(p.steps) for p in plans)
    taken = 0
    for _ in range(total + 1):  # bounded: each round takes at least one step of some household
        progressed = 0
        for plan in plans:
            first = True
            while plan.done < len(plan.steps):
                if cancelled():
                    return taken + progressed
                after_exchange, step = plan.steps[plan.done]
                if after_exchange and not first:
                    break
                step()
                plan.done += 1
                progressed += 1
                first = False
                if progress is not None and progressed % 50 == 0:
                    progress("seeding", taken + progressed, total)
        taken += progressed
        sync()
        if progress is not None:
            progress("seeding", taken, total)
        if progressed == 0 or taken == total:
            return taken
    return taken
