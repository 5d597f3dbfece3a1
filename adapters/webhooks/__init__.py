"""Webhooks: an organisation's own systems told of its node's events over HTTP (CloudEvents, signed)."""
