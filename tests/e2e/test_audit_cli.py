"""`coordination audit ...` against the SQLite stores the embedded demo leaves behind."""

from __future__ import annotations

import csv
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from adapters.eventstore.audit_chain import Anchor
from adapters.http.records import ApiRecords
from adapters.settings import Store
from adapters.sql.node_db import SqliteDatabase
from ops.cli.main import main
from ops.demo.nodes import demo_nodes
from ops.demo.reference_scenario import BRIDGE_BUILDER, CIVICA, ScenarioIds, play
from ops.node.read_models import READ_MODELS


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ScenarioIds]:
    data_dir = tmp_path_factory.mktemp("audit")
    nodes = demo_nodes(data_dir, Store.SQLITE)
    try:
        ids = play(nodes)
    finally:
        nodes.close()
    return data_dir, ids


def node_args(data_dir: Path, org: str = CIVICA, role: str = "housing_organisation") -> list[str]:
    return ["--data-dir", str(data_dir), "--org", org, "--role", role, "--store", "sqlite"]


def test_the_timeline_exports_as_json_lines_and_csv_in_order_with_who_and_when(
    played: tuple[Path, ScenarioIds], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, ids = played
    jsonl, table = tmp_path / "t.jsonl", tmp_path / "t.csv"
    args = ["audit", "timeline", str(ids.household), *node_args(data_dir)]
    assert main([*args, "--format", "jsonl", "--out", str(jsonl)]) == 0
    assert main([*args, "--format", "csv", "--out", str(table)]) == 0
    rows = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [r["position"] for r in rows] == sorted(r["position"] for r in rows)
    assert rows[0]["event"] == "Registered"
    assert (rows[0]["organisation"], rows[0]["role"], rows[0]["person"]) == (
        CIVICA,
        "rehousing_consultant",
        "civica-gk-07",
    )
    assert any(r["summary"].startswith("kind=daycare_fast_track") for r in rows)
    assert next(iter(csv.DictReader(table.open())))["event"] == "Registered"
    # Nothing personal in the export: no address, no free-text reason.
    text = jsonl.read_text()
    assert "Kochsgade 31" not in text
    assert "The mother chose" not in text
    # The demo's nodes keep their timeline read model caught up, so the export is read from it.
    assert "from the timeline read model" in capsys.readouterr().err

    # The bridge builder's node: its copies of the referrals and what it reported.
    assert (
        main(
            [
                "audit",
                "timeline",
                str(ids.household),
                "--format",
                "jsonl",
                *node_args(data_dir, BRIDGE_BUILDER, "bridge_builder"),
            ]
        )
        == 0
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {line["aggregate"] for line in lines} >= {"Referral", "FollowedHousehold", "SupportLink"}


def test_the_timeline_comes_from_the_read_model_once_it_is_caught_up(
    played: tuple[Path, ScenarioIds], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, ids = played
    assert main(["projections", "run", "--data-dir", str(data_dir), "--org", CIVICA]) == 0
    capsys.readouterr()
    assert main(["audit", "timeline", str(ids.household), *node_args(data_dir)]) == 0
    assert "from the timeline read model" in capsys.readouterr().err


def test_as_of_prints_the_household_and_its_handoff_status_then(
    played: tuple[Path, ScenarioIds], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, ids = played
    assert (
        main(
            ["audit", "as-of", str(ids.household), "--as-of", "2026-07-15T18:00+02:00", *node_args(data_dir)]
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["state"]["phase"] == "moved"
    assert answer["handoff_status"]["holder"]["organisation"] == CIVICA
    assert answer["handoff_status"]["pending_handoff"]["to"]["organisation"] == BRIDGE_BUILDER
    assert main(["audit", "as-of", str(ids.daycare_referral), "--version", "1", *node_args(data_dir)]) == 0
    assert json.loads(capsys.readouterr().out)["state"]["status"] == "sent"
    assert (
        main(
            ["audit", "as-of", str(ids.household), "--as-of", "2026-01-01T00:00+01:00", *node_args(data_dir)]
        )
        == 1
    )
    assert "did not exist yet" in capsys.readouterr().err


def test_replay_rebuilds_every_projection_and_finds_it_equal(
    played: tuple[Path, ScenarioIds], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, _ = played
    assert main(["audit", "replay", *node_args(data_dir)]) == 0
    out, err = capsys.readouterr()
    every = len(READ_MODELS)
    assert f"{every} of {every} projection(s) equal to live after replay" in out
    assert "#" * 30 in err  # the progress bar


def test_seal_anchor_and_verify_then_a_deleted_event_is_named(
    played: tuple[Path, ScenarioIds], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, _ = played
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("civica.sqlite3", "civica.cpr-secret"):
        (copy / name).write_bytes((data_dir / name).read_bytes())
    anchors = tmp_path / "anchors.jsonl"
    assert main(["audit", "seal", *node_args(copy)]) == 0
    assert main(["audit", "anchor", "--out", str(anchors), *node_args(copy)]) == 0
    anchor = Anchor.from_json(anchors.read_text())
    assert main(["audit", "verify", "--anchors", str(anchors), *node_args(copy)]) == 0
    assert f"ok: {anchor.position} sealed event(s) verify" in capsys.readouterr().out
    with sqlite3.connect(copy / "civica.sqlite3") as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid = 12")
    assert main(["audit", "verify", *node_args(copy)]) == 1
    assert "BROKEN at chain position 12" in capsys.readouterr().out


def test_the_access_log_written_by_the_api_is_listed_for_auditors(
    played: tuple[Path, ScenarioIds], capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir, ids = played
    records = ApiRecords(SqliteDatabase(str(data_dir / "civica.sqlite3")))
    records.log_access(
        at=datetime(2026, 7, 1, 9, tzinfo=UTC),
        organisation=CIVICA,
        person="civica-gk-07",
        role="rehousing_consultant",
        operation="household",
        subject=str(ids.household),
        purpose="case work",
    )
    assert (
        main(
            [
                "audit",
                "access-log",
                "--format",
                "jsonl",
                "--subject",
                str(ids.household),
                *node_args(data_dir),
            ]
        )
        == 0
    )
    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (UUID(entry["subject"]), entry["purpose"]) == (ids.household, "case work")
