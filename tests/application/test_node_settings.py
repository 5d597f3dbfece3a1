"""A node's settings: the production profile is protected, and each store gets the library's env for it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from eventsourcing.cryptography import AESCipher
from pydantic import ValidationError

from adapters.eventstore.storage import ShreddingStorage
from adapters.settings import NodeSettings, Profile, Store
from coordination.applications.housing import HousingOrganisationApp
from tests.application.builders import CASE_REFERENCE, T0, register_family

KEY = AESCipher.create_key(16)


@pytest.fixture(autouse=True)
def _no_settings_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("COORDINATION_"):
            monkeypatch.delenv(name)


def production(**changes: object) -> NodeSettings:
    settings: dict[str, object] = {
        "profile": Profile.PRODUCTION,
        "store": Store.POSTGRES,
        "cipher_key": KEY,
        "cpr_secret": "s" * 32,
    }
    settings.update(changes)
    return NodeSettings(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("missing", "named"),
    [("cipher_key", "COORDINATION_CIPHER_KEY"), ("cpr_secret", "COORDINATION_CPR_SECRET")],
)
def test_the_production_profile_refuses_to_start_without_its_secrets(missing: str, named: str) -> None:
    with pytest.raises(ValidationError, match=f"production profile needs {named}"):
        production(**{missing: None})


@pytest.mark.parametrize("store", [Store.SQLITE, Store.MEMORY])
def test_the_production_profile_refuses_to_start_without_postgres(store: Store) -> None:
    with pytest.raises(ValidationError, match="COORDINATION_STORE=postgres"):
        production(store=store)


def test_the_production_profile_turns_encryption_at_rest_on() -> None:
    env = production(postgres_schema="civica").store_env()

    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["CIPHER_TOPIC"], env["CIPHER_KEY"]) == ("eventsourcing.cryptography:AESCipher", KEY)
    assert env["POSTGRES_SCHEMA"] == "civica"


def test_development_keeps_events_in_memory_or_in_a_sqlite_file_per_organisation(tmp_path: Path) -> None:
    assert NodeSettings(store=Store.MEMORY).store_env() == {"PERSISTENCE_MODULE": "eventsourcing.popo"}

    env = NodeSettings(organisation="fab", store=Store.SQLITE, data_dir=tmp_path / "data").store_env()

    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "data" / "fab.sqlite3"),
    }
    assert (tmp_path / "data").is_dir()


def test_postgres_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "STORE": "postgres",
        "POSTGRES_HOST": "db.civica.internal",
        "POSTGRES_PORT": "6432",
        "POSTGRES_USER": "node",
        "POSTGRES_PASSWORD": "pw",
        "POSTGRES_DBNAME": "rehousing",
    }.items():
        monkeypatch.setenv(f"COORDINATION_{name}", value)

    env = NodeSettings().store_env()

    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_HOST": "db.civica.internal",
        "POSTGRES_PORT": "6432",
        "POSTGRES_USER": "node",
        "POSTGRES_PASSWORD": "pw",
        "POSTGRES_DBNAME": "rehousing",
    }
    assert "pw" not in repr(NodeSettings())


def test_a_development_cpr_secret_is_made_once_and_kept_beside_the_store(tmp_path: Path) -> None:
    settings = NodeSettings(data_dir=tmp_path)

    first, again = settings.cpr_secret_bytes(), NodeSettings(data_dir=tmp_path).cpr_secret_bytes()

    assert first == again
    assert len(first) == 64
    assert stat.S_IMODE((tmp_path / "civica.cpr-secret").stat().st_mode) == 0o600
    assert NodeSettings(data_dir=tmp_path, cpr_secret="given").cpr_secret_bytes() == b"given"


def test_a_node_opened_from_its_settings_stores_encrypted_and_reads_back(tmp_path: Path) -> None:
    settings = NodeSettings(data_dir=tmp_path, cipher_key=KEY)
    app = HousingOrganisationApp(
        storage=ShreddingStorage(),
        organisation=settings.organisation,
        env=settings.store_env(),
        cpr_secret=settings.cpr_secret_bytes(),
    )
    try:
        household_id = register_family(app)
        assert app.household(household_id, today=T0.date()).case_reference == CASE_REFERENCE
    finally:
        app.close()

    assert CASE_REFERENCE.encode() not in (tmp_path / "civica.sqlite3").read_bytes()


def test_peer_urls_come_from_the_environment_as_org_equals_url_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COORDINATION_PEER_URLS", "civica=http://civica:8000, fab=http://fab:8000/ ")
    monkeypatch.setenv("COORDINATION_PRIVATE_KEY_FILE", "/run/secrets/signing-key.pem")
    settings = NodeSettings()
    assert settings.peer_urls == {"civica": "http://civica:8000", "fab": "http://fab:8000/"}
    assert settings.private_key_file == Path("/run/secrets/signing-key.pem")
    monkeypatch.setenv("COORDINATION_PEER_URLS", "civica http://civica:8000")
    with pytest.raises(ValidationError, match="org=url"):
        NodeSettings()
