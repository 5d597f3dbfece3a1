"""Broker access (docs/operations.md, broker access and ACLs): the node's TLS and SASL settings reach every
kafka-python client it makes, and a broker that refuses that access stops the node at start with a reason,
rather than being waited for as if it were down. Tansu enforces neither SASL nor ACLs (docs/operations.md):
what can be tested here is that the settings are used and that a refusal is a clear, bounded error."""

from __future__ import annotations

import time
from typing import Any

import pytest
from kafka.errors import KafkaError

import adapters.kafka.transport as transport
from adapters.kafka.transport import BrokerAccessRefused, KafkaSubscription, ensure_topics
from adapters.settings import NodeSettings
from ops.devservices.tansu import BrokerProcess

SCRAM = {
    "kafka_security_protocol": "SASL_SSL",
    "kafka_sasl_mechanism": "SCRAM-SHA-512",
    "kafka_sasl_username": "civica",
    "kafka_sasl_password": "s3cret",
}


def _settings(servers: str, **access: Any) -> NodeSettings:
    return NodeSettings(
        organisation="civica", kafka_bootstrap_servers=servers, kafka_request_timeout_ms=3000, **access
    )


def test_the_sasl_settings_reach_the_producer_and_the_consumer_too_each_refused_by_a_broker_without_sasl(
    kafka_broker: BrokerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(
        kafka_broker.bootstrap_servers,
        **{**SCRAM, "kafka_security_protocol": "SASL_PLAINTEXT"},
        kafka_publish_timeout_s=3,
    ).kafka()
    assert "s3cret" not in repr(settings)
    with pytest.raises(BrokerAccessRefused, match="UnsupportedSaslMechanism"):
        transport.KafkaPublisher(settings)._connected()
    # The subscription's own consumer, past the topics' check (which the test above refuses first).
    monkeypatch.setattr(transport, "ensure_topics", lambda settings, topics: None)
    with pytest.raises(BrokerAccessRefused, match="UnsupportedSaslMechanism"):
        KafkaSubscription(settings, ["access-test"], group="access-test")


def test_the_access_options_are_kafka_pythons_own() -> None:
    tls = _settings("b:9093", **SCRAM, kafka_ssl_cafile="/etc/ssl/brokers-ca.pem").kafka()
    assert tls.access() == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "civica",
        "sasl_plain_password": "s3cret",
        "ssl_check_hostname": True,
        "ssl_cafile": "/etc/ssl/brokers-ca.pem",
    }


def test_sasl_settings_that_are_incomplete_or_without_sasl_are_refused_at_start() -> None:
    with pytest.raises(ValueError, match="COORDINATION_KAFKA_SASL_PASSWORD"):
        _settings("b:9092", **{**SCRAM, "kafka_sasl_password": None})
    with pytest.raises(ValueError, match="set SASL_SSL"):
        _settings("b:9092", **{**SCRAM, "kafka_security_protocol": "SSL"})
    assert _settings("b:9092").kafka().access() == {"security_protocol": "PLAINTEXT"}


def test_sasl_against_a_broker_without_it_is_a_clear_startup_error_within_the_request_timeout(
    kafka_broker: BrokerProcess,
) -> None:
    settings = _settings(
        kafka_broker.bootstrap_servers, **{**SCRAM, "kafka_security_protocol": "SASL_PLAINTEXT"}
    ).kafka()
    started = time.monotonic()
    with pytest.raises(BrokerAccessRefused, match="refused this node's access") as refused:
        ensure_topics(settings, ["access-test"])
    assert time.monotonic() - started < 10
    assert "SCRAM-SHA-512 as 'civica'" in str(refused.value)
    assert "UnsupportedSaslMechanism" in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_tls_against_a_listener_without_it_is_a_clear_startup_error_not_a_hang(
    kafka_broker: BrokerProcess,
) -> None:
    settings = _settings(kafka_broker.bootstrap_servers, kafka_security_protocol="SSL").kafka()
    started = time.monotonic()
    with pytest.raises(BrokerAccessRefused, match="is the listener TLS"):
        ensure_topics(settings, ["access-test"])
    assert time.monotonic() - started < 10


def test_a_broker_that_is_down_is_still_waited_for_not_refused() -> None:
    settings = _settings("127.0.0.1:9", **{**SCRAM, "kafka_security_protocol": "SASL_PLAINTEXT"}).kafka()
    with pytest.raises(KafkaError):
        ensure_topics(settings, ["access-test"])
