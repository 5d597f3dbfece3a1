"""A node's settings, read once from the environment (COORDINATION_*) or a .env-style file."""

from __future__ import annotations

import secrets
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adapters.kafka.transport import KafkaSettings
from coordination.domain.policy import DEFAULT_POLICY, RehousingPolicy
from coordination.domain.waterbed import DEFAULT_WATERBED_POLICY, WaterbedPolicy


class Store(StrEnum):
    MEMORY = "memory"
    SQLITE = "sqlite"
    POSTGRES = "postgres"


class OrganisationRole(StrEnum):
    """Which application a node runs, and so which topics it is entitled to."""

    HOUSING_ORGANISATION = "housing_organisation"
    BRIDGE_BUILDER = "bridge_builder"
    MUNICIPAL_DEPARTMENT = "municipal_department"
    CIVIL_ACTOR = "civil_actor"


class Profile(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class NodeSettings(BaseSettings):
    """Everything a node needs to know about where it stores and how it protects its history."""

    # `__` reaches into the policies: COORDINATION_POLICY__OFFERS_FOR_PERMANENT=1.
    model_config = SettingsConfigDict(
        env_prefix="COORDINATION_", env_file=None, extra="ignore", env_nested_delimiter="__"
    )

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
    # The event store's connection pool (the library's POSTGRES_POOL_SIZE and POSTGRES_MAX_OVERFLOW);
    # the library's defaults when not given.
    postgres_pool_size: int | None = None
    postgres_max_overflow: int | None = None
    # AES-GCM key (base64, 16/24/32 bytes) for encryption at rest; required in production.
    cipher_key: SecretStr | None = None
    # Secret for keyed CPR digests; generated and kept in data_dir when not given (development only).
    cpr_secret: SecretStr | None = None
    # The exchange. Without broker addresses a node has no Kafka (the embedded demo uses the in-process one).
    role: OrganisationRole = OrganisationRole.HOUSING_ORGANISATION
    # The municipalities whose shared vacancy pool the node follows (comma-separated in the environment).
    municipalities: Annotated[list[str], NoDecode] = ["Odense"]
    kafka_bootstrap_servers: str | None = None
    # The node runs as several replicas on one PostgreSQL database (docs/operations.md): their consumers
    # share the organisation's partitions through its Kafka consumer group instead of each reading all.
    replicated: bool = False
    kafka_topic_prefix: str = ""
    kafka_client_id: str | None = None
    kafka_partitions: int = 3
    kafka_linger_ms: int = 2
    kafka_publish_timeout_s: float = 15.0
    kafka_fetch_max_wait_ms: int = 10
    # After a few seconds without a message the consumer long-polls (adapters/kafka/transport.py).
    kafka_idle_fetch_max_wait_ms: int = 1000
    kafka_request_timeout_ms: int = 10_000
    # Broker access (kafka-python's options of the same names): TLS to the brokers and SASL/SCRAM as the
    # organisation's own user, whom the cluster's ACLs let write only its own topics and read only what it
    # consumes (docs/operations.md). PLAINTEXT: no authentication (development, Tansu in the tests).
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    kafka_ssl_certfile: Path | None = None
    kafka_ssl_keyfile: Path | None = None
    kafka_ssl_check_hostname: bool = True

    @field_validator("municipalities", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @classmethod
    def from_file(cls, path: Path | str | None, **overrides: Any) -> NodeSettings:
        """Settings from a .env-style file (COORDINATION_* lines); the environment still wins over it."""
        return cls(_env_file=path, **overrides)  # type: ignore[call-arg]

    def kafka(self) -> KafkaSettings:
        """How this node reaches the broker; refuses when no broker address is configured."""
        if not self.kafka_bootstrap_servers:
            raise ValueError(
                "COORDINATION_KAFKA_BOOTSTRAP_SERVERS is not set: this node has no broker to use"
            )
        return KafkaSettings(
            bootstrap_servers=self.kafka_bootstrap_servers,
            client_id=self.kafka_client_id or f"coordination-{self.organisation}",
            partitions=self.kafka_partitions,
            linger_ms=self.kafka_linger_ms,
            publish_timeout_s=self.kafka_publish_timeout_s,
            fetch_max_wait_ms=self.kafka_fetch_max_wait_ms,
            idle_fetch_max_wait_ms=self.kafka_idle_fetch_max_wait_ms,
            request_timeout_ms=self.kafka_request_timeout_ms,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_plain_username=self.kafka_sasl_username,
            sasl_plain_password=(
                None if self.kafka_sasl_password is None else self.kafka_sasl_password.get_secret_value()
            ),
            ssl_cafile=None if self.kafka_ssl_cafile is None else str(self.kafka_ssl_cafile),
            ssl_certfile=None if self.kafka_ssl_certfile is None else str(self.kafka_ssl_certfile),
            ssl_keyfile=None if self.kafka_ssl_keyfile is None else str(self.kafka_ssl_keyfile),
            ssl_check_hostname=self.kafka_ssl_check_hostname,
        )

    @model_validator(mode="after")
    def _broker_access_is_complete(self) -> NodeSettings:
        """SASL needs its mechanism, user and password; they mean nothing without SASL (a startup error
        either way, never a node that connects with less than was meant)."""
        sasl = self.kafka_security_protocol.startswith("SASL_")
        given = {
            "COORDINATION_KAFKA_SASL_MECHANISM": self.kafka_sasl_mechanism,
            "COORDINATION_KAFKA_SASL_USERNAME": self.kafka_sasl_username,
            "COORDINATION_KAFKA_SASL_PASSWORD": self.kafka_sasl_password,
        }
        if sasl and (missing := [name for name, value in given.items() if value is None]):
            raise ValueError(f"{self.kafka_security_protocol} needs {', '.join(missing)}")
        if not sasl and (stray := [name for name, value in given.items() if value is not None]):
            raise ValueError(
                f"{', '.join(stray)} given, but COORDINATION_KAFKA_SECURITY_PROTOCOL is"
                f" {self.kafka_security_protocol}: set SASL_SSL (or SASL_PLAINTEXT) to use them"
            )
        return self

    # The waterbed guard's area indicators (docs/area-indicators.md); without it every area is unmonitored.
    area_indicators_file: Path | None = None
    # `coordination serve --org ORG`: where the node's API listens, and the directory of the organisations'
    # public keys (<org>.ed25519.pub.pem) whose tokens it trusts.
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_keys_dir: Path | None = None
    # Where recipients ask for the exchange keys that open the personal fields this node receives: each
    # sender's API ("org=url,..."). Empty: the senders run in this process (the demo). The node signs its
    # requests with its organisation's Ed25519 private key (PEM).
    peer_urls: Annotated[dict[str, str], NoDecode] = {}
    private_key_file: Path | None = None
    # How often a running node runs its timers on the wall clock (offers past expiry, referrals past due,
    # erasures past retention: ops/node/timers.py); 0 turns them off (e.g. when another process runs them).
    timers_interval_s: float = Field(default=300.0, ge=0)
    # Local practice this node follows (docs/configuration.md, "Policy"): offers per rehousing, SLA days,
    # retention, closed half-holidays; and its waterbed guard's inflow limit and window. The sources'
    # figures by default; a value out of range or a misspelt name is a startup error.
    policy: RehousingPolicy = DEFAULT_POLICY
    waterbed: WaterbedPolicy = DEFAULT_WATERBED_POLICY
    # The webhook worker (adapters/webhooks/worker.py): whether it runs, how long it may sleep when idle (new
    # events and the next retry's time wake it), and its retries (the first after `webhook_first_retry_s`,
    # doubling to at most `webhook_longest_retry_s`, `webhook_attempts` in all; then the delivery is failed
    # and may be replayed).
    webhooks_enabled: bool = True
    webhook_idle_s: float = Field(default=5.0, gt=0)
    webhook_first_retry_s: float = Field(default=5.0, gt=0)
    webhook_longest_retry_s: float = Field(default=3600.0, gt=0)
    webhook_attempts: int = Field(default=12, ge=1, le=100)

    @field_validator("peer_urls", mode="before")
    @classmethod
    def _org_equals_url(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = [item.strip() for item in value.split(",") if item.strip()]
            malformed = [pair for pair in pairs if "=" not in pair]
            if malformed:
                raise ValueError(f"peer URLs are org=url pairs, not {malformed[0]!r}")
            return dict((part.strip() for part in pair.split("=", 1)) for pair in pairs)
        return value

    @model_validator(mode="after")
    def _production_is_protected(self) -> NodeSettings:
        if self.profile is Profile.PRODUCTION:
            missing = [
                name
                for name, value in (
                    ("COORDINATION_CIPHER_KEY", self.cipher_key),
                    ("COORDINATION_CPR_SECRET", self.cpr_secret),
                )
                if value is None
            ]
            if missing:
                raise ValueError(
                    f"The production profile needs {', '.join(missing)} (encryption at rest is on)"
                )
            if self.store is not Store.POSTGRES:
                raise ValueError(
                    "The production profile stores events in PostgreSQL (COORDINATION_STORE=postgres)"
                )
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
            if self.postgres_pool_size is not None:
                env["POSTGRES_POOL_SIZE"] = str(self.postgres_pool_size)
            if self.postgres_max_overflow is not None:
                env["POSTGRES_MAX_OVERFLOW"] = str(self.postgres_max_overflow)
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


def settings_problems(error: ValidationError) -> list[str]:
    """Each refused setting as a line naming its variable (COORDINATION_POLICY__OFFERS_FOR_PERMANENT: ...),
    for the start to say instead of a traceback."""
    lines = []
    for problem in error.errors():
        names = [str(part) for part in problem["loc"] if not isinstance(part, int)]
        variable = "COORDINATION_" + "__".join(name.upper() for name in names) if names else "settings"
        lines.append(
            f"{variable}: {problem['msg']} (given {problem.get('input')!r})" if names else problem["msg"]
        )
    return lines
