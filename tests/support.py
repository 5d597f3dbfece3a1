"""Test helpers shared by every level of test."""

from __future__ import annotations

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from adapters.eventstore.transcoding import register_domain_transcodings


class _MemoryApp(Application):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)


def new_memory_app() -> Application:
    """An in-memory application that stores any domain aggregate, for reload round-trips."""
    return _MemoryApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
