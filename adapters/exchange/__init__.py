"""The exchange between organisations, whatever carries it: the transport port and the in-process transport,
the envelope, the relay, the consumer, exchange keys and the exchange's own tables."""
