"""Audit: timelines, state as of any moment, and the views auditors read (no personal data in logs)."""
