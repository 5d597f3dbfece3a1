"""Audit: a household's trail (who did what, when) and state as of any moment; no personal data in logs."""
