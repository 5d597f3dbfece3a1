"""The deployment example (ops/deploy) checked against the code: Docker is not run, its settings are."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from adapters.settings import NodeSettings, OrganisationRole, Profile, Store
from ops.demo.nodes import DEMO_ROLES

DEPLOY = Path(__file__).resolve().parents[2] / "ops" / "deploy"
VARIABLE = re.compile(r"\$\{(\w+):\?[^}]*\}")


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _env_file(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def _nodes() -> dict[str, dict[str, Any]]:
    return {name: s for name, s in _compose()["services"].items() if "serve" in s.get("command", [])}


def _settings_of(service: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for env_file in service["env_file"]:
        values |= _env_file(DEPLOY / env_file)
    # Secrets come from the shell: a stand-in of the right shape for each required one.
    for name, value in service.get("environment", {}).items():
        values[name] = VARIABLE.sub("c2VjcmV0LWtleS0xNi1ieXRlcw==", str(value))
    return values


def test_every_coordination_variable_in_the_example_is_a_node_setting() -> None:
    fields = {f"COORDINATION_{name.upper()}" for name in NodeSettings.model_fields}
    for service in _nodes().values():
        unknown = {name for name in _settings_of(service) if name.startswith("COORDINATION_")} - fields
        assert not unknown, f"not in NodeSettings: {sorted(unknown)}"


def test_one_node_per_demo_organisation_with_its_role_and_production_settings() -> None:
    nodes = _nodes()
    assert set(nodes) == set(DEMO_ROLES)
    for name, service in nodes.items():
        values = _settings_of(service)
        assert service["command"] == ["coordination", "serve", "--org", name]
        settings = NodeSettings(
            **{key.removeprefix("COORDINATION_").lower(): value for key, value in values.items()}
        )
        assert settings.organisation == name
        assert settings.role is DEMO_ROLES[name]
        assert isinstance(settings.role, OrganisationRole)
        assert settings.profile is Profile.PRODUCTION
        assert settings.store is Store.POSTGRES
        assert settings.cipher_key is not None
        assert settings.cpr_secret is not None
        assert settings.public_keys_dir == Path("/keys")
        assert any(volume.endswith(":/keys:ro") for volume in service["volumes"])


def test_every_node_reaches_the_same_broker_and_postgres_and_has_a_database_and_port_of_its_own() -> None:
    compose = _compose()
    kafka = compose["services"]["kafka"]["environment"]
    advertised = kafka["KAFKA_ADVERTISED_LISTENERS"].split("//", 1)[1]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller", "KRaft mode: no ZooKeeper"
    created = set(re.findall(r"CREATE DATABASE (\w+)", (DEPLOY / "postgres-init.sql").read_text()))
    settings = [_settings_of(s) for s in _nodes().values()]
    assert {s["COORDINATION_KAFKA_BOOTSTRAP_SERVERS"] for s in settings} == {advertised}
    assert len({s["COORDINATION_KAFKA_TOPIC_PREFIX"] for s in settings}) == 1
    assert {s["COORDINATION_POSTGRES_HOST"] for s in settings} == {"postgres"}
    databases = [s["COORDINATION_POSTGRES_DBNAME"] for s in settings]
    assert len(set(databases)) == len(databases)
    assert set(databases) == created
    ports = [s["ports"][0] for s in _nodes().values()]
    assert len(set(ports)) == len(ports)
    for service, values in zip(_nodes().values(), settings, strict=True):
        assert service["ports"][0].endswith(f":{values['COORDINATION_HTTP_PORT']}")
        assert f":{values['COORDINATION_HTTP_PORT']}/readyz" in " ".join(service["healthcheck"]["test"])


def test_every_node_can_ask_every_other_for_exchange_keys_with_a_signing_key_of_its_own() -> None:
    nodes = _nodes()
    for name, service in nodes.items():
        values = _settings_of(service)
        settings = NodeSettings(
            **{key.removeprefix("COORDINATION_").lower(): value for key, value in values.items()}
        )
        # Every organisation's API, by its service name, at the port the node listens on in its container.
        assert settings.peer_urls == {
            org: f"http://{org}:{values['COORDINATION_HTTP_PORT']}" for org in nodes
        }
        assert settings.private_key_file is not None
        mounted = [v for v in service["volumes"] if v.endswith(f":{settings.private_key_file}:ro")]
        assert mounted == [f"./private/{name}.ed25519.pem:{settings.private_key_file}:ro"], name


def test_every_node_runs_as_two_replicas_on_its_postgres_database_sharing_its_consumer_group() -> None:
    for name, service in _nodes().items():
        assert service["deploy"]["replicas"] == 2, name
        first, last = service["ports"][0].split(":")[1].split("-")
        assert int(last) - int(first) + 1 == 2, f"{name} publishes a port per replica"
        settings = NodeSettings(
            **{k.removeprefix("COORDINATION_").lower(): v for k, v in _settings_of(service).items()}
        )
        assert settings.replicated and settings.store is Store.POSTGRES
