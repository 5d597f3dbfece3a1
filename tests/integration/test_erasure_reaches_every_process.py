"""An erasure in one process of a node reaches every other process of it within a second, on PostgreSQL,
whether or not that process uses a key meanwhile: it forgets the household's cached key and kept
aggregates, and runs its erasure hooks (which purge its views) without waiting for its next command.

Before, an idle process noticed only at its next use of a key: a view kept a child's birth month for
minutes after the erasure (issue 20, E5).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.housing import HousingOrganisationApp
from ops.demo.reference_scenario import CIVICA, consultant
from ops.devservices.pgcluster import PostgresServer
from tests.conftest import _fresh_schema, postgres_env
from tests.integration.flow_support import register

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SECRET = "c" * 32
# The other process: CIVICA's node erasing the household, and when (before it began, after it returned).
ERASING_PROCESS = """
import json, sys, time
from datetime import UTC, datetime
from uuid import UUID, uuid4
from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.housing import HousingOrganisationApp
from ops.demo.reference_scenario import CIVICA, consultant
env, household = json.loads(sys.argv[1]), UUID(sys.argv[2])
app = HousingOrganisationApp(storage=ShreddingStorage(), organisation=CIVICA, env=env, cpr_secret=sys.argv[3].encode())
began = time.time()
app.erase_household(
    command_id=uuid4(), household_id=household, legal_ground="GDPR art. 17(1)(a)",
    at=datetime.now(UTC), by=consultant,
)
print(json.dumps({"began": began, "returned": time.time()}), flush=True)
app.close()
"""


@pytest.fixture
def env(postgres_server: PostgresServer) -> Iterator[dict[str, str]]:
    with _fresh_schema(postgres_server) as schema:
        yield postgres_env(postgres_server, schema)


# What the serving process's erasure hook saw: each household it was told of, and when.
purged: list[tuple[UUID, float]] = []


@pytest.fixture
def serving(env: dict[str, str]) -> Iterator[HousingOrganisationApp]:
    purged.clear()
    app = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation=CIVICA,
        env=env,
        cpr_secret=SECRET.encode(),
        erasure_hooks=[lambda erased: purged.append((erased, time.time()))],
    )
    yield app
    app.close()


def test_an_idle_process_forgets_a_household_erased_by_another_within_a_second(
    env: dict[str, str], serving: HousingOrganisationApp
) -> None:
    household = register(serving, consultant, "SAG-2026-E5")
    keys = serving.mapper.keys  # type: ignore[attr-defined]
    assert keys.for_reading(household) is not None  # cached here, and the household kept

    erasing = subprocess.run(
        [sys.executable, "-c", ERASING_PROCESS, json.dumps(env), str(household), SECRET],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert erasing.returncode == 0, erasing.stderr[-2000:]
    erasure = json.loads(erasing.stdout.strip().splitlines()[-1])

    # Nothing in this process uses a key meanwhile: only its own watching can notice.
    deadline = erasure["returned"] + 1.0
    while not purged and time.time() < deadline:
        time.sleep(0.01)
    assert purged, "the serving process still held the erased household a second after the erasure"
    ((erased, at),) = purged
    assert erased == household
    print(
        f"time to forget: {at - erasure['returned']:.3f} s after the erasure returned,"
        f" {at - erasure['began']:.3f} s after it began"
    )
    assert keys._keys.get(household) is None  # the cached key is gone (read nothing to check it)
    assert serving._committed.take(household) is None  # and the kept aggregate
