"""The exchange between organisations over the Kafka protocol: envelope, relay, consumer, transport."""
