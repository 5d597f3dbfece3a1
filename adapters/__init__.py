"""Technology adapters: stores, transports, settings."""
