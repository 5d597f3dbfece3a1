"""The transport over the Kafka protocol (the exchange itself is adapters/exchange/, whatever carries it)."""
