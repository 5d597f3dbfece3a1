"""The embedded demo: every organisation's node in one process (nodes.py), its API (api.py), the reference
story (reference_scenario.py) and the generated history it is seeded with (seed.py)."""
