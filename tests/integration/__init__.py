"""Integration tests: the exchange over each transport, with real stores and the real broker."""
