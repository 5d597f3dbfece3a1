"""The municipal coordinator's picture over HTTP: every housing organisation's placements in one view at
the municipal node, counts of 1-4 as "<5", CSV export, and only the municipality's coordinator (or
auditor) at its own node may read it."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from coordination.applications.housing import HousingOrganisationApp
from coordination.domain.values import Actor, Place, Role
from ops.demo.reference_scenario import CHILDREN_AND_YOUTH, CIVICA
from tests.api.conftest import FAB, Organisations
from tests.application.builders import T0, cmd, register_family, the_move

RISING = Place(municipality="Odense", area="Rising")
BOLBRO = Place(municipality="Odense", area="Bolbro")


def _placed(orgs: Organisations, org: str, place: Place, moved_on: date, count: int) -> None:
    app = orgs.nodes[org].app
    assert isinstance(app, HousingOrganisationApp)
    by = Actor(organisation=org, person="rc-1", role=Role.REHOUSING_CONSULTANT)
    for _ in range(count):
        household_id = register_family(app)
        move = the_move().model_copy(update={"place": place, "moved_on": moved_on})
        app.record_move(command_id=cmd(), household_id=household_id, move=move, at=T0, by=by)


def test_the_coordinator_sees_every_organisations_placements_with_small_counts_suppressed(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    _placed(orgs, CIVICA, RISING, date(2026, 3, 2), 3)
    _placed(orgs, FAB, RISING, date(2026, 3, 20), 2)
    _placed(orgs, FAB, BOLBRO, date(2026, 4, 1), 1)
    orgs.settle()
    coordinator = orgs.api(CHILDREN_AND_YOUTH, role=Role.MUNICIPAL_COORDINATOR)

    picture = coordinator.ok(
        coordinator.get(
            "/municipal-picture", purpose=None, municipality="Odense", **{"from": "2026-01", "to": "2026-06"}
        )
    )

    areas = {a["area"]: a for a in picture["areas"]}
    rising, bolbro = areas["Rising"], areas["Bolbro"]
    assert rising["placements"] == 5  # 3 + 2 across organisations: shown as it is
    assert rising["by_organisation"] == {CIVICA: "<5", FAB: "<5"}
    assert {m["month"]: m["placements"] for m in rising["by_month"]}["2026-03"] == 5
    assert {m["month"]: m["placements"] for m in rising["by_month"]}["2026-04"] == 0
    assert rising["old_rent_mean"] == "6400.00" and rising["new_rent_mean"] == "7800.00"
    assert rising["from_transformation_areas"] == {"Vollsmose": 5}
    assert bolbro["placements"] == "<5" and bolbro["old_rent_mean"] is None  # a mean of one is one household
    assert picture["suppressed_below"] == 5
    assert "household_id" not in json.dumps(picture)

    exported = coordinator.client.get(
        "/municipal-picture.csv",
        headers=coordinator.headers,
        params={"municipality": "Odense", "from": "2026-03", "to": "2026-04"},
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {(r["area"], r["month"], r["placements"]) for r in rows} == {
        ("Bolbro", "2026-03", "0"),
        ("Bolbro", "2026-04", "<5"),
        ("Rising", "2026-03", "5"),
        ("Rising", "2026-04", "0"),
    }


def test_only_the_municipalitys_coordinator_or_auditor_at_its_own_node_reads_the_picture(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    query = {"municipality": "Odense"}
    for role in (Role.MUNICIPAL_COORDINATOR, Role.AUDITOR):
        api = orgs.api(CHILDREN_AND_YOUTH, role=role)
        assert api.get("/municipal-picture", purpose=None, **query).status_code == 200, role
    for role in (Role.DEPARTMENT_CASEWORKER, Role.COORDINATOR, Role.OPERATOR):
        api = orgs.api(CHILDREN_AND_YOUTH, role=role)
        assert api.get("/municipal-picture", purpose=None, **query).status_code == 403, role
    outsider = orgs.api(CHILDREN_AND_YOUTH, org=CIVICA, role=Role.MUNICIPAL_COORDINATOR)
    assert outsider.get("/municipal-picture", purpose=None, **query).status_code == 403
    at_a_housing_node = orgs.api(CIVICA, role=Role.MUNICIPAL_COORDINATOR)
    refused = at_a_housing_node.get("/municipal-picture", purpose=None, **query)
    assert refused.status_code == 404 and "not-served-here" in refused.json()["type"]
    coordinator = orgs.api(CHILDREN_AND_YOUTH, role=Role.MUNICIPAL_COORDINATOR)
    bad = coordinator.get("/municipal-picture", purpose=None, municipality="Odense", **{"from": "2026-13"})
    assert bad.status_code == 400


def test_the_municipal_dashboard_page_and_its_script_hold_no_data_and_ask_the_picture_with_the_token(
    memory_organisations: Organisations,
) -> None:
    client = memory_organisations.clients[CHILDREN_AND_YOUTH]
    page, script = client.get("/municipal-dashboard"), client.get("/municipal-dashboard.js")

    assert page.status_code == script.status_code == 200
    assert page.headers["content-type"].startswith("text/html") and "municipal-dashboard.js" in page.text
    assert "municipal-picture?" in script.text and "Authorization" in script.text
    assert "innerHTML = `" not in script.text  # text goes in through textContent only
