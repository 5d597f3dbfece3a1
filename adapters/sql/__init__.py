"""SQL stores beside the event store (SQLite or PostgreSQL): the projections' view stores, the node's own
database (for the exchange's tables, keys and the audit chain), the PostgreSQL pools' reconnect back-off."""
