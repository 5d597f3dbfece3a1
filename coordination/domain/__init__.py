"""The domain: aggregates, values, policies and rules. No I/O, no wall clock."""
