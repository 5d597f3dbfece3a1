"""Property: every read model fed bit by bit, with restarts and duplicate runs, equals one rebuilt afresh."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.eventstore.event_decoding import StoredEventDecoder
from adapters.sql.view_stores import SQLiteViewStore
from coordination.domain.errors import DomainError
from coordination.domain.referral import Referral, ReferralKind
from coordination.domain.values import DeclinedBy
from coordination.projections.rebuild import compare, rebuild
from coordination.projections.runner import ProjectionRunner
from ops.bench.fixtures import projection_toys as toys
from ops.bench.fixtures import read_model_support as s
from ops.node.read_models import READ_MODELS

REFERRAL_STEPS: dict[str, Callable[[Referral, float], None]] = {
    "acknowledge": lambda r, t: r.acknowledge(at=s.at(t), by=_receiver(r)),
    "accept": lambda r, t: r.accept(assignee="a-1", at=s.at(t), by=_receiver(r)),
    "complete": lambda r, t: r.complete(outcome="Place from August", at=s.at(t), by=_receiver(r)),
    "decline": lambda r, t: r.decline(
        declined_by=DeclinedBy.PROVIDER, reason="No capacity now", at=s.at(t), by=_receiver(r)
    ),
    "withdraw": lambda r, t: r.withdraw(reason="Family moved away", at=s.at(t), by=s.CONSULTANT),
}
VACANCY_STEPS = {
    "reserve": toys.reserve,
    "let": toys.accept,
    "decline_offer": toys.decline,
    "expire": toys.expire,
    "withdraw_vacancy": toys.withdraw,
}

steps = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.sampled_from(["Odense C", "Bolbro"])),
        st.tuples(st.sampled_from(sorted(VACANCY_STEPS)), st.integers(0, 5)),
        st.tuples(st.just("register"), st.integers(0, 3)),
        st.tuples(st.just("move"), st.integers(0, 5)),
        st.tuples(st.just("refer"), st.sampled_from([ReferralKind.DAYCARE_FAST_TRACK, ReferralKind.HANDOFF])),
        st.tuples(st.sampled_from(sorted(REFERRAL_STEPS)), st.integers(0, 5)),
        st.tuples(st.just("run"), st.integers(1, 6)),
        st.tuples(st.just("restart"), st.integers(1, 6)),
        st.tuples(st.just("duplicate"), st.integers(1, 6)),
    ),
    max_size=30,
)


def _receiver(referral: Referral) -> Any:
    return s.ALLOCATOR if referral.receiver == s.DEPARTMENT else s.BRIDGE_BUILDER


@settings(max_examples=25, deadline=None)
@given(steps=steps)
def test_every_read_model_fed_in_random_batches_equals_a_rebuild(steps: list[tuple[str, Any]]) -> None:
    app = toys.StoreApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "views.db"
        stores = [SQLiteViewStore(path)]

        def new_runners(batch_size: int) -> dict[str, ProjectionRunner]:
            # A restart is a new process: new store connections and new runners, same tables.
            stores.append(SQLiteViewStore(path))
            return s.runners(app, stores[-1], batch_size=batch_size)

        try:
            live = new_runners(3)
            world: dict[str, list[Any]] = {"vacancies": [], "households": [], "referrals": []}
            clock = [10.0]
            for step, arg in steps:
                clock[0] += 0.5
                if step == "run":
                    for runner in live.values():
                        runner.batch_size = arg
                        runner.run_once()
                elif step == "restart":
                    live = new_runners(arg)
                elif step == "duplicate":
                    others = new_runners(arg)
                    for name, runner in live.items():
                        _duplicate_run(runner, others[name])
                else:
                    with contextlib.suppress(DomainError, AssertionError, IndexError, ZeroDivisionError):
                        _command(app, world, step, arg, clock[0])

            for name, projection in READ_MODELS.items():
                live[name].run_until_caught_up()
                rebuilt = rebuild(
                    app, projection, stores[0], "rebuild_1", decoding=StoredEventDecoder(app.mapper)
                )
                assert compare(live[name], rebuilt) == [], name
                assert live[name].parked() == [], name
        finally:
            for store in stores:
                store.close()
            app.close()


def _command(app: Any, world: dict[str, list[Any]], step: str, arg: Any, t: float) -> None:
    """Applies one command; one the aggregate's state refuses raises and records nothing."""
    vacancies, households, referrals = world["vacancies"], world["households"], world["referrals"]
    if step == "publish":
        vacancies.append(toys.publish(app, arg))
    elif step in VACANCY_STEPS:
        VACANCY_STEPS[step](app, vacancies[arg % len(vacancies)])
    elif step == "register":
        households.append(s.register(app))
    elif step == "move":
        household = households[arg % len(households)]
        household.record_move(move=s.hb.a_move(moved_on=date(2026, 9, 1)), at=s.at(t), by=s.CONSULTANT)
        app.save(household)
    elif step == "refer":
        household = households[-1]
        receiver = s.DEPARTMENT if arg is ReferralKind.DAYCARE_FAST_TRACK else s.BRIDGE
        referrals.append(s.send(app, household.id, arg, receiver=receiver, days=t))
    else:
        referral = referrals[arg % len(referrals)]
        REFERRAL_STEPS[step](referral, t)
        app.save(referral)


def _duplicate_run(live: ProjectionRunner, other: ProjectionRunner) -> None:
    """Another runner applies a batch this one has read but not committed; this one's commit is a no-op."""
    stale = live.fetch_batch()
    applied = other.run_once()
    again = live.apply_batch(stale)
    assert again == 0 or applied == 0
    assert other.apply_batch(stale) == 0
