"""Each node follows its own policy (COORDINATION_POLICY__*, COORDINATION_WATERBED__*): Brabrand offers one
dwelling for permanent rehousing where the sources' default is two; the node shows what it runs with at
/operations; a setting out of range or misspelt stops the start, naming its variable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from adapters.settings import NodeSettings, settings_problems
from coordination.domain.values import Role
from ops.cli.main import main
from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import Organisations, open_organisations
from tests.api.story import dwelling, family, people, step

BRABRAND = {
    "COORDINATION_POLICY__OFFERS_FOR_PERMANENT": "1",
    "COORDINATION_POLICY__ACKNOWLEDGE_WITHIN_WORKING_DAYS": "2",
    "COORDINATION_POLICY__RETENTION_MONTHS": "36",
    "COORDINATION_POLICY__HALF_HOLIDAYS_CLOSED": "false",
    "COORDINATION_WATERBED__INFLOW_LIMIT": "4",
    "COORDINATION_WATERBED__INFLOW_WINDOW_MONTHS": "6",
}


@pytest.fixture
def brabrand(
    tmp_path: Path, signing_keys: dict[str, Ed25519PrivateKey], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Organisations]:
    for name, value in BRABRAND.items():
        monkeypatch.setenv(name, value)
    found = open_organisations("memory", tmp_path, signing_keys)
    yield found
    found.close()


def test_the_node_shows_the_policy_it_runs_with_at_operations(brabrand: Organisations) -> None:
    operator = brabrand.api(CIVICA, role=Role.OPERATOR)
    shown: dict[str, Any] = operator.ok(operator.get("/operations"))
    assert shown["organisation"] == CIVICA
    assert shown["policy"]["offers_for_permanent"] == 1
    assert shown["policy"]["offers_for_temporary"] == 1  # not set: the default
    assert shown["policy"]["acknowledge_within_working_days"] == 2
    assert shown["policy"]["retention_months"] == 36
    assert shown["policy"]["half_holidays_closed"] is False
    assert shown["waterbed"]["inflow_limit"] == 4 and shown["waterbed"]["inflow_window_months"] == 6
    app = brabrand.nodes[CIVICA].app
    assert app.policy.offers_for_permanent == 1 and app.waterbed_policy.inflow_limit == 4  # type: ignore[attr-defined]


def test_a_node_offering_one_dwelling_asks_for_an_override_before_a_second_offer(
    brabrand: Organisations,
) -> None:
    consultant = people(brabrand).consultant
    household, h = step(consultant, "/households", family(), status=201)
    first, _ = step(consultant, "/vacancies", dwelling(rooms=6), status=201)
    second, _ = step(consultant, "/vacancies", dwelling(rooms=6), status=201)
    offer, h = step(consultant, f"/households/{household}/offers", {"vacancy_id": first}, etag=h)
    _, h = step(
        consultant,
        f"/households/{household}/offers/{offer}/decline",
        {"declined_by": "household", "reason": "Too far from the children's schools"},
        etag=h,
    )
    refused = consultant.post(f"/households/{household}/offers", {"vacancy_id": second}, if_match=h)
    assert refused.status_code == 409 and refused.json()["rule"] == "offer_limit", refused.text
    assert "permanent rehousing allows 1" in refused.json()["detail"]


def test_a_consultant_cannot_read_the_operations_figures_and_policy(brabrand: Organisations) -> None:
    consultant = brabrand.api(CIVICA)
    assert consultant.get("/operations").status_code == 403


def test_a_policy_setting_out_of_range_or_misspelt_is_refused_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COORDINATION_POLICY__OFFERS_FOR_PERMANENT", "0")
    monkeypatch.setenv("COORDINATION_WATERBED__INFLOW_LIMTI", "4")
    with pytest.raises(ValidationError) as refused:
        NodeSettings()
    assert settings_problems(refused.value) == [
        "COORDINATION_POLICY__OFFERS_FOR_PERMANENT: Input should be greater than or equal to 1 (given '0')",
        "COORDINATION_WATERBED__INFLOW_LIMTI: Extra inputs are not permitted (given '4')",
    ]
    # `coordination serve --org` says so in a line per setting and exits 2, before opening anything.
    assert main(["serve", "--org", CIVICA]) == 2
    said = capsys.readouterr().err
    assert "COORDINATION_POLICY__OFFERS_FOR_PERMANENT: Input should be greater than or equal to 1" in said
    assert "Traceback" not in said
