"""A node's settings, read once from the environment (COORDINATION_*) or a .env-style file."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Store(StrEnum):
    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class Profile(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class NodeSettings(BaseSettings):
    """Everything a node needs to know about where it stores and how it protects its history."""

    model_config = SettingsConfigDict(env_prefix="COORDINATION_", env_file=None, extra="ignore")

    organisation: str = "civica"
    profile: Profile = Profile.DEVELOPMENT
    store: Store = Store.SQLITE
    data_dir: Path = Path("var/data")
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "coordination"
    postgres_password: SecretStr = SecretStr("")
    postgres_dbname: str = "coordination"
    postgres_schema: str = ""
    # AES-GCM key (base64, 16/24/32 bytes) for encryption at rest; required in production.
    cipher_key: SecretStr | None = None
    # Secret for keyed CPR digests; generated and kept in data_dir when not given (development only).
    cpr_secret: SecretStr | None = None
    snapshot_interval: int = 50
    # The waterbed guard's area indicators (docs/area-indicators.md); without it every area is unmonitored.
    area_indicators_file: Path | None = None

    @model_validator(mode="after")
    def _production_is_protected(self) -> NodeSettings:
        if self.profile is Profile.PRODUCTION:
            missing = [
                name
                for name, value in (("COORDINATION_CIPHER_KEY", self.cipher_key), ("COORDINATION_CPR_SECRET", self.cpr_secret))
                if value is None
            ]
            if missing:
                raise ValueError(f"The production profile needs {', '.join(missing)} (encryption at rest is on)")
            if self.store is not Store.POSTGRES:
                raise ValueError("The production profile stores events in PostgreSQL (COORDINATION_STORE=postgres)")
        return self

    def store_env(self) -> dict[str, str]:
        """The eventsourcing library's settings for this node's event store."""
        env: dict[str, str] = {}
        if self.store is Store.MEMORY:
            env["PERSISTENCE_MODULE"] = "eventsourcing.popo"
        elif self.store is Store.SQLITE:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
            env["SQLITE_DBNAME"] = str(self.data_dir / f"{self.organisation}.sqlite3")
        else:
            env.update(
                PERSISTENCE_MODULE="eventsourcing.postgres",
                POSTGRES_HOST=self.postgres_host,
                POSTGRES_PORT=str(self.postgres_port),
                POSTGRES_USER=self.postgres_user,
                POSTGRES_PASSWORD=self.postgres_password.get_secret_value(),
                POSTGRES_DBNAME=self.postgres_dbname,
            )
            if self.postgres_schema:
                env["POSTGRES_SCHEMA"] = self.postgres_schema
        if self.cipher_key is not None:
            # Naming the topic matters: CIPHER_KEY alone selects the slow PyCryptodome cipher.
            env["CIPHER_TOPIC"] = "eventsourcing.cryptography:AESCipher"
            env["CIPHER_KEY"] = self.cipher_key.get_secret_value()
        return env

    def cpr_secret_bytes(self) -> bytes:
        if self.cpr_secret is not None:
            return self.cpr_secret.get_secret_value().encode()
        # Development: one random secret per node, kept beside its store so digests survive restarts.
        path = self.data_dir / f"{self.organisation}.cpr-secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_hex(32))
            path.chmod(0o600)
        return path.read_text().strip().encode()
