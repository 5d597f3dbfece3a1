"""An operator lists a node's parked projection events and retries them from the CLI, as parked messages.

A trigger in the views refuses the timeline's first entry of each aggregate, so those events are parked
on their own merits; once it is dropped, `projections retry` applies each exactly once and the timeline
equals a rebuild.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from adapters.settings import NodeSettings, Store
from ops.bench.fixtures import read_model_support as s
from ops.cli.main import main
from ops.devservices.pgcluster import PostgresServer
from ops.node.bootstrap import build_app
from tests.conftest import _fresh_schema

REFUSAL = "refused by the test"


class NodeViews:
    """A node's store (SQLite or PostgreSQL) holding a few households, and a way into its views."""

    def __init__(self, store: Store, data_dir: Path, server: PostgresServer | None, schema: str = "") -> None:
        self.store, self.data_dir, self.server, self.schema = store, data_dir, server, schema

    def options(self) -> list[str]:
        return ["--org", s.CIVICA, "--store", self.store.value, "--data-dir", str(self.data_dir)]

    def execute(self, sql: str) -> None:
        if self.server is None:
            with sqlite3.connect(self.data_dir / f"{s.CIVICA}.views.sqlite3") as views:
                views.executescript(sql)
        else:
            with psycopg.connect(self.server.dsn, autocommit=True) as views:
                views.execute(f"SET search_path = {self.schema}_views")
                views.execute(sql)

    def refuse_first_entries(self) -> None:
        if self.server is None:
            self.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON timeline_entries__live WHEN NEW.version = 1 "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
        else:
            self.execute(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'check_violation'; END $$; "
                "CREATE TRIGGER refuse BEFORE INSERT ON timeline_entries__live FOR EACH ROW "
                "WHEN (NEW.version = 1) EXECUTE FUNCTION refuse()"
            )

    def accept_again(self) -> None:
        self.execute("DROP TRIGGER refuse" + ("" if self.server is None else " ON timeline_entries__live"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def node(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[NodeViews]:
    for name in [name for name in os.environ if name.startswith("COORDINATION_")]:
        monkeypatch.delenv(name)
    if request.param == "sqlite":
        views = NodeViews(Store.SQLITE, tmp_path, None)
        yield from _with_households(views)
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with _fresh_schema(server) as schema:
        for name, value in {
            "HOST": server.host,
            "PORT": str(server.port),
            "USER": server.user,
            "PASSWORD": server.password,
            "DBNAME": server.dbname,
            "SCHEMA": schema,
        }.items():
            monkeypatch.setenv(f"COORDINATION_POSTGRES_{name}", value)
        try:
            yield from _with_households(NodeViews(Store.POSTGRES, tmp_path, server, schema))
        finally:
            with psycopg.connect(server.dsn, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA IF EXISTS {schema}_views CASCADE")


def _last_line(out: str) -> str:
    """The command's own summary (a warning about a failed event is logged above it)."""
    return out.strip().splitlines()[-1]


def _with_households(views: NodeViews) -> Iterator[NodeViews]:
    app = build_app(NodeSettings(organisation=s.CIVICA, store=views.store, data_dir=views.data_dir))
    try:
        for _ in range(3):
            s.register(app)
    finally:
        app.close()
    yield views


def test_parked_projection_events_are_listed_and_retried_exactly_once_from_the_cli(
    node: NodeViews, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["projections", "status", *node.options()]) == 0  # the views' tables, nothing applied yet
    node.refuse_first_entries()
    assert main(["projections", "run", *node.options()]) == 0
    capsys.readouterr()

    assert main(["projections", "parked", "timeline", *node.options()]) == 0
    listed = capsys.readouterr().out
    node.accept_again()
    positions = [int(word.split("=")[1]) for word in listed.split() if word.startswith("position=")]
    assert main(["projections", "retry", "timeline", str(positions[0]), *node.options()]) == 0
    one = capsys.readouterr().out
    assert main(["projections", "retry", *node.options()]) == 0
    rest = capsys.readouterr().out
    assert main(["projections", "retry", *node.options()]) == 0
    again = capsys.readouterr().out
    assert main(["projections", "parked", *node.options()]) == 0
    after = capsys.readouterr().out
    assert main(["projections", "rebuild", "timeline", "--compare", *node.options()]) == 0
    compared = capsys.readouterr().out

    assert len(positions) == 3  # each household's first event
    assert f"3 parked event(s) at {s.CIVICA}" in listed
    assert REFUSAL in listed
    assert "Registered" in listed
    assert _last_line(one) == "applied 1, still parked 0"
    assert _last_line(rest) == "applied 2, still parked 0"
    assert _last_line(again) == "applied 0, still parked 0"
    assert f"0 parked event(s) at {s.CIVICA}" in after
    assert "0 difference(s)" in compared


def test_an_event_that_still_fails_stays_parked_and_the_retry_says_so(
    node: NodeViews, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["projections", "status", *node.options()]) == 0
    node.refuse_first_entries()
    assert main(["projections", "run", *node.options()]) == 0
    capsys.readouterr()

    assert main(["projections", "retry", "timeline", *node.options()]) == 1
    retried = capsys.readouterr().out
    assert main(["projections", "parked", "timeline", *node.options()]) == 0
    listed = capsys.readouterr().out

    assert _last_line(retried) == "applied 0, still parked 3"
    assert "attempts=2" in listed
