"""The operator's projection commands against a node's SQLite data directory after the demo."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ops.cli.main import main


@pytest.fixture
def data_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["demo", "--data-dir", str(tmp_path), "--no-serve", "--households", "0"]) == 0
    capsys.readouterr()
    return tmp_path


def _node(data_dir: Path) -> list[str]:
    return ["--data-dir", str(data_dir), "--org", "civica"]


def test_the_demo_leaves_every_projection_caught_up(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["projections", "status", *_node(data_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines
    assert all(line.split()[2] == "0" for line in lines)


def test_status_shows_each_projections_lag_until_it_is_run(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a node that ran without its read models would leave it: no views yet.
    (data_dir / "civica.views.sqlite3").unlink()
    assert main(["projections", "status", *_node(data_dir)]) == 0
    before = capsys.readouterr().out
    assert main(["projections", "run", *_node(data_dir)]) == 0
    # CIVICA's whole log after the reference story: its steps, the notes on the family's network (the
    # members' reported steps among them: the support links) and its answers to the facts reported to it.
    assert "applied 153 events" in capsys.readouterr().out
    assert main(["projections", "status", *_node(data_dir)]) == 0
    after = capsys.readouterr().out.splitlines()

    assert "vacancy_pool" in before
    assert all(line.split()[2] != "0" for line in before.splitlines()[1:])
    assert [line.split()[2:] for line in after if line.startswith("timeline ")] == [["0", "0"]]
    assert (data_dir / "civica.views.sqlite3").exists()


def test_rebuild_compare_passes_on_a_healthy_projection_and_names_a_corrupted_row(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["projections", "run", *_node(data_dir)])
    assert main(["projections", "rebuild", "vacancy_pool", "--compare", *_node(data_dir)]) == 0
    assert "0 difference(s)" in capsys.readouterr().out

    with sqlite3.connect(data_dir / "civica.views.sqlite3") as views:
        views.execute("UPDATE pool_vacancies__live SET status = 'open'")

    assert main(["projections", "rebuild", "vacancy_pool", "--compare", *_node(data_dir)]) == 1
    out = capsys.readouterr().out
    assert "pool_vacancies" in out
    assert "different in status" in out
    assert "1 difference(s)" in out


def test_a_rebuild_shows_its_progress_against_the_head_of_the_log_on_standard_error(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["projections", "rebuild", "timeline", *_node(data_dir)]) == 0
    captured = capsys.readouterr()
    bar = captured.err.replace("\r", "\n").splitlines()[-1]

    with sqlite3.connect(data_dir / "civica.sqlite3") as store:
        head = store.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0]
    assert bar.startswith("timeline")
    assert "[" + "#" * 30 + "]" in bar
    assert bar.split()[-1] == f"{head}/{head}"
    assert "timeline rebuilt as" in captured.out
