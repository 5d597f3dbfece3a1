"""The end-to-end scenario runs one variant over a real Kafka-protocol broker: the integration tests' fixture."""

from tests.integration.conftest import kafka_broker  # noqa: F401
